"""nlpaug augmenters for utterances, configured once: whitespace tokenisation (no "It ' s" artefacts)
and a stopword rule that leaves tokens carrying the entity mark alone (see synth/text/spans.py)."""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Callable

from synth.errors import SynthError
from synth.text.wordnet import DebianWordNet, require_wordnet

SPELLING_DICT = os.path.join(os.path.dirname(__file__), "..", "data", "spelling_en.txt")
AUGMENTERS = ("keyboard", "ocr", "char_insert", "char_substitute", "char_swap", "char_delete",
              "word_swap", "word_delete", "spelling", "synonym")
WORD_LEVEL = frozenset({"word_swap", "word_delete", "spelling", "synonym"})
MARK = "\ue000"  # private-use character: no template, keyboard map, OCR table or dictionary holds it


class _Marked:
    """nlpaug's stopword test is `token in stopwords`; this answers it for every marked token, so a
    protected entity is never picked (4 regex matches per token via stopwords_regex cost more)."""

    def __contains__(self, token: object) -> bool:
        return isinstance(token, str) and MARK in token


PROTECTED = _Marked()


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
    tok = dict(tokenizer=_split, reverse_tokenizer=_join, stopwords=PROTECTED)
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


def augment(aug: object, text: str) -> str:
    """One nlpaug call, whitespace normalised; the caller seeds the global RNGs (nlpaug reads them)."""
    if not text:
        return text
    result = aug.augment(text)  # type: ignore[attr-defined]
    if isinstance(result, list):
        result = result[0] if result else text
    return " ".join(result.split())


def apply_chain(text: str, chain: tuple[str, ...], word_p: float, char_p: float) -> str:
    """Run the chain on one piece of text (the per-piece path of the utterances scene)."""
    for name in chain:
        text = augment(augmenter(name, word_p, char_p), text)
    return text
