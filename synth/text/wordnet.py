"""Synonyms from Debian's `wordnet-base` files (WordNet 3.0 database format), read without NLTK.

nlpaug's own WordNet model goes through NLTK, which downloads its corpus and a POS-tagger model at
run time; we may not download, and Debian ships the WordNet database itself in /usr/share/wordnet.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache

from synth.errors import SynthError

POS_FILES = ("noun", "verb", "adj", "adv")
ADJ_MARKER = re.compile(r"\((a|p|ip)\)$")


def wordnet_dir() -> str:
    return os.environ.get("SYNTH_WORDNET_DIR", "/usr/share/wordnet")


def require_wordnet() -> str:
    folder = wordnet_dir()
    missing = [f"{kind}.{pos}" for pos in POS_FILES for kind in ("index", "data")
               if not os.path.isfile(os.path.join(folder, f"{kind}.{pos}"))]
    if missing:
        raise SynthError(f"noise augmenter 'synonym' needs the WordNet database, which is not in {folder} "
                         f"(missing {', '.join(missing[:3])}...); install the Debian package wordnet-base "
                         f"(apt-get install wordnet-base) or set SYNTH_WORDNET_DIR", field="noise.augmenters")
    return folder


class DebianWordNet:
    """The model object nlpaug's SynonymAug expects: `predict(word, pos)` and `pos_tag(tokens)`."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def predict(self, word: str, pos: str | None = None) -> list[str]:
        return list(synonyms(self.folder, word.lower()))

    @staticmethod
    def pos_tag(tokens: list[str]) -> list[tuple[str, str]]:
        # no tagger model offline: an empty tag makes nlpaug consider synonyms of every part of speech
        return [(t, "") for t in tokens]


@lru_cache(maxsize=4)
def _index(folder: str) -> dict[str, tuple[tuple[str, int], ...]]:
    found: dict[str, list[tuple[str, int]]] = {}
    for pos in POS_FILES:
        with open(os.path.join(folder, f"index.{pos}"), encoding="latin-1") as handle:
            for line in handle:
                if line.startswith(" "):
                    continue  # licence header
                parts = line.split()
                synset_count, pointer_count = int(parts[2]), int(parts[3])
                offsets = parts[6 + pointer_count:6 + pointer_count + synset_count]
                found.setdefault(parts[0], []).extend((pos, int(o)) for o in offsets)
    return {k: tuple(v) for k, v in found.items()}


@lru_cache(maxsize=20000)
def synonyms(folder: str, word: str) -> tuple[str, ...]:
    """Lemmas sharing a synset with `word`, in WordNet's order, without `word` itself."""
    out: list[str] = []
    for pos, offset in _index(folder).get(word.replace(" ", "_"), ()):
        with open(os.path.join(folder, f"data.{pos}"), "rb") as handle:
            handle.seek(offset)
            fields = handle.readline().decode("latin-1").split()
        count = int(fields[3], 16)
        for k in range(count):
            lemma = ADJ_MARKER.sub("", fields[4 + 2 * k])
            if lemma.lower() != word and lemma not in out:
                out.append(lemma)
    return tuple(out)
