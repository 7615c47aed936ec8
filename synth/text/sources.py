"""Where text comes from: trdg's word lists, random strings over a charset, digit patterns,
a user word list, or a Faker provider. Every draw comes from the `rng` passed in."""
from __future__ import annotations

import hashlib
import os
import random
import string
from functools import lru_cache
from typing import Callable, Literal

import numpy as np
from pydantic import Field

from synth.text.trdg_shim import trdg_package_dir
from synth.errors import SynthError, did_you_mean
from synth.core.scene import SceneParams

DEFAULT_CHARSET = string.ascii_letters + string.digits


class TextSource(SceneParams):
    """What text to render; `kind` picks the source, the other fields configure it."""

    kind: Literal["dictionary", "random", "number", "wordlist", "faker", "literal"] = Field(
        "dictionary", description="dictionary: words of a trdg language; random: strings over `charset`; "
        "number: `number_format` with '#' as a digit; wordlist: lines of a user file; faker: a Faker provider; "
        "literal: the `literal` text itself (e.g. {cycle: ['0', ..., '9']} for exactly balanced classes)")
    literal: str = Field("", description="The text, when kind is literal.")
    words: int = Field(1, ge=1, le=64, description="Words (or Faker calls, or numbers) per line.")
    language: str = Field("en", description="trdg dictionary language code (trdg/dicts/<code>.txt).")
    charset: str = Field(DEFAULT_CHARSET, min_length=1, description="Characters of random strings.")
    min_chars: int = Field(3, ge=1, le=64, description="Shortest random string.")
    max_chars: int = Field(10, ge=1, le=64, description="Longest random string.")
    number_format: str = Field("#####", min_length=1, description="Pattern for numbers: '#' is a random digit, "
                               "anything else is literal, e.g. '##/##/####' or '#' for single digits.")
    wordlist: str = Field("", description="Path of a UTF-8 file with one word or phrase per line.")
    faker_provider: str = Field("word", description="Faker provider method, e.g. name, city, date, iban.")
    faker_locale: str = Field("en_US", description="Faker locale.")
    faker_weighted: bool = Field(False, description="Use Faker's real-world frequency weights (names, "
                                 "cities): closer to census counts, about 4x slower, fewer rare values.")


def trdg_languages() -> list[str]:
    folder = os.path.join(trdg_package_dir(), "dicts")
    return sorted(os.path.splitext(n)[0] for n in os.listdir(folder) if n.endswith(".txt"))


@lru_cache(maxsize=8)
def _dictionary(language: str) -> tuple[str, ...]:
    languages = trdg_languages()
    if language not in languages:
        raise SynthError(f"unknown language '{language}'{did_you_mean(language, languages)}; trdg ships "
                         f"dictionaries for: {', '.join(languages)}", field="text.language")
    path = os.path.join(trdg_package_dir(), "dicts", f"{language}.txt")
    with open(path, encoding="utf8", errors="ignore") as handle:
        return tuple(w for w in handle.read().splitlines() if w.strip())


@lru_cache(maxsize=32)
def _wordlist(path: str) -> tuple[str, ...]:
    if not path:
        raise SynthError("text.kind is 'wordlist' but no file is given", field="text.wordlist")
    if not os.path.isfile(path):
        raise SynthError(f"word list '{path}' does not exist", field="text.wordlist")
    with open(path, encoding="utf8") as handle:
        words = tuple(w.strip() for w in handle.read().splitlines() if w.strip())
    if not words:
        raise SynthError(f"word list '{path}' is empty (no non-blank lines)", field="text.wordlist")
    return words


class StreamRandom(random.Random):
    """A `random.Random` drawing from a sample's numpy stream, handed to Faker for one call: no global
    state, and no reseeding (Faker's seed_instance costs as much as a cheap provider call)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng, self._bits = rng, rng.bit_generator
        super().__init__()

    def seed(self, *args: object, **kwargs: object) -> None:
        """Every draw comes from the stream; there is nothing to seed."""

    def random(self) -> float:
        return float(self._rng.random())

    def getrandbits(self, k: int) -> int:
        if k <= 64:
            return int(self._bits.random_raw()) >> (64 - k)
        return int.from_bytes(self._rng.bytes((k + 7) // 8), "little") >> (-k % 8)


@lru_cache(maxsize=8)
def _faker(locale: str, weighted: bool):
    from faker import Faker
    from faker.config import AVAILABLE_LOCALES
    if locale not in AVAILABLE_LOCALES:
        raise SynthError(f"unknown Faker locale '{locale}'{did_you_mean(locale, AVAILABLE_LOCALES)}",
                         field="faker_locale")
    return Faker(locale, use_weighting=weighted)


@lru_cache(maxsize=256)
def _provider(provider: str, locale: str, weighted: bool, field: str) -> tuple[object, Callable[[], object]]:
    fake = _faker(locale, weighted)
    method = getattr(fake, provider, None) if not provider.startswith("_") else None
    if method is None or not callable(method):
        raise SynthError(f"unknown Faker provider '{provider}'{did_you_mean(provider, dir(fake))}; "
                         f"see https://faker.readthedocs.io/en/master/providers.html", field=field)
    return fake, method


def faker_call(provider: str, locale: str, rng: np.random.Generator, field: str = "faker_provider",
               weighted: bool = False) -> str:
    """One value of a Faker provider, every draw taken from `rng` (a cached Faker, no global state)."""
    fake, method = _provider(provider, locale, weighted, field)
    fake.random = StreamRandom(rng)
    return " ".join(str(method()).split())  # addresses carry newlines; a line image cannot


@lru_cache(maxsize=64)
def faker_pool(provider: str, locale: str, weighted: bool, size: int, field: str) -> tuple[str, ...]:
    """`size` values of a provider, made once per process from a seed of the arguments alone, so every
    worker holds the same pool (and a larger pool starts with the values of a smaller one)."""
    key = hashlib.sha256(f"{provider}|{locale}|{weighted}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(key[:8], "little"))
    return tuple(faker_call(provider, locale, rng, field, weighted) for _ in range(size))


def check_source(source: TextSource) -> None:
    """Fail early on a source that can never produce text."""
    if source.kind == "dictionary":
        _dictionary(source.language)
    elif source.kind == "wordlist":
        _wordlist(source.wordlist)
    elif source.kind == "faker":
        faker_call(source.faker_provider, source.faker_locale, np.random.default_rng(0), "text.faker_provider",
                   source.faker_weighted)
    elif source.kind == "random" and source.min_chars > source.max_chars:
        raise SynthError(f"text.min_chars ({source.min_chars}) is above text.max_chars ({source.max_chars})",
                         field="text.min_chars")
    elif source.kind == "literal" and not source.literal.strip():
        raise SynthError("text.kind is 'literal' but text.literal is empty", field="text.literal")
    elif source.kind == "number" and "#" not in source.number_format:
        raise SynthError(f"text.number_format '{source.number_format}' has no '#' digit placeholder",
                         field="text.number_format")


def generate_text(source: TextSource, rng: np.random.Generator) -> str:
    check_source(source)
    return " ".join(_one_word(source, rng) for _ in range(source.words))


def _one_word(source: TextSource, rng: np.random.Generator) -> str:
    if source.kind == "dictionary":
        words = _dictionary(source.language)
        return words[int(rng.integers(len(words)))]
    if source.kind == "wordlist":
        words = _wordlist(source.wordlist)
        return words[int(rng.integers(len(words)))]
    if source.kind == "faker":
        return faker_call(source.faker_provider, source.faker_locale, rng, "text.faker_provider",
                          source.faker_weighted)
    if source.kind == "literal":
        return source.literal
    if source.kind == "number":
        return "".join(str(int(rng.integers(10))) if c == "#" else c for c in source.number_format)
    length = int(rng.integers(source.min_chars, source.max_chars + 1))
    chars = list(source.charset)
    return "".join(chars[i] for i in rng.integers(len(chars), size=length))
