"""nlpaug noise for utterances, applied to one piece of text at a time (a literal segment or an entity
value), so entity spans can be rebuilt exactly; whitespace tokenisation avoids "It ' s" artefacts."""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Callable

from ..errors import SynthError
from .wordnet import DebianWordNet, require_wordnet

SPELLING_DICT = os.path.join(os.path.dirname(__file__), "..", "data", "spelling_en.txt")
AUGMENTERS = ("keyboard", "ocr", "char_insert", "char_substitute", "char_swap", "char_delete",
              "word_swap", "word_delete", "spelling", "synonym")


def _split(text: str) -> list[str]:
    return text.split()


def _join(tokens: list[str]) -> str:
    return " ".join(t for t in tokens if t)


def _synonym_class():
    import nlpaug.augmenter.word as naw

    class WordNetSynonymAug(naw.SynonymAug):
        """nlpaug's SynonymAug with Debian's WordNet files as its dictionary (no NLTK downloads)."""

        @classmethod
        def get_model(cls, aug_src, lang, dict_path, force_reload):
            return DebianWordNet(require_wordnet())

    return WordNetSynonymAug


@lru_cache(maxsize=64)
def augmenter(name: str, word_p: float, char_p: float):
    """A configured nlpaug augmenter (cached: they hold only configuration and dictionaries)."""
    import nlpaug.augmenter.char as nac
    import nlpaug.augmenter.word as naw
    tok = dict(tokenizer=_split, reverse_tokenizer=_join)
    char = dict(aug_char_p=char_p, aug_word_p=word_p, **tok)
    makers: dict[str, Callable[[], object]] = {
        "keyboard": lambda: nac.KeyboardAug(min_char=2, **char),
        "ocr": lambda: nac.OcrAug(**char),
        "char_insert": lambda: nac.RandomCharAug(action="insert", min_char=2, **char),
        "char_substitute": lambda: nac.RandomCharAug(action="substitute", min_char=2, **char),
        "char_swap": lambda: nac.RandomCharAug(action="swap", min_char=2, **char),
        "char_delete": lambda: nac.RandomCharAug(action="delete", min_char=2, **char),
        "word_swap": lambda: naw.RandomWordAug(action="swap", aug_p=word_p, **tok),
        "word_delete": lambda: naw.RandomWordAug(action="delete", aug_p=word_p, **tok),
        "spelling": lambda: naw.SpellingAug(dict_path=os.path.normpath(SPELLING_DICT), aug_p=word_p, **tok),
        "synonym": lambda: _synonym_class()(aug_p=word_p, **tok),
    }
    if name not in makers:
        raise SynthError(f"unknown noise augmenter '{name}'; allowed: {', '.join(AUGMENTERS)}",
                         field="noise.augmenters")
    return makers[name]()


def apply_chain(text: str, chain: tuple[str, ...], word_p: float, char_p: float) -> str:
    """Run the chain on one piece; the caller seeds the global RNGs right before (nlpaug reads them)."""
    for name in chain:
        if not text:
            break
        result = augmenter(name, word_p, char_p).augment(text)
        text = result[0] if isinstance(result, list) else result
        text = " ".join(text.split())
    return text
