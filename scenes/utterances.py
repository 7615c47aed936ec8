"""Scene `utterances`: intent/entity examples from a template grammar, with nlpaug noise that keeps
every entity span exact (spans cover exactly the noised entity text)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from pydantic import Field, field_validator, model_validator

from synth.errors import SynthError, did_you_mean
from synth import Sample, text_payload
from synth import Scene, SceneParams
from synth import seed_global_state
from synth.text.grammar import Entity, Literal, TemplateError, entities, expand, parse, pick
from synth.text.noise import AUGMENTERS, apply_chain
from synth.text.sources import faker_call, faker_pool
from synth.text.spans import Ambiguous, assemble_tokens, noise_sentence, tokenize


class Slot(SceneParams):
    """Where an entity's value comes from: exactly one of `faker`, `values`, `file`."""

    faker: str = Field("", description="Faker provider method, e.g. city, date, name.")
    locale: str = Field("en_US", description="Faker locale.")
    weighted: bool = Field(False, description="Use Faker's real-world frequency weights (names, cities): "
                           "closer to census counts, about 4x slower, fewer rare values.")
    pool: int = Field(0, ge=0, le=1_000_000, description="0: call Faker for every value; N: draw from N values "
                      "made once per worker (same in every worker; much faster, at most N distinct values).")
    values: list[str] = Field(default_factory=list, description="Inline list of values.")
    file: str = Field("", description="UTF-8 file with one value per line.")

    @model_validator(mode="after")
    def _one_source(self) -> Slot:
        given = [k for k in ("faker", "values", "file") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(f"a slot needs exactly one of faker, values, file (got {given or 'none'})")
        return self


class Noise(SceneParams):
    augmenters: list[str] = Field(default_factory=list, description=f"nlpaug chain, in order: {', '.join(AUGMENTERS)}.")
    word_p: float = Field(0.2, ge=0, le=1, description="Fraction of words an augmenter touches.")
    char_p: float = Field(0.2, ge=0, le=1, description="Fraction of characters in a touched word (char augmenters).")
    entities: bool = Field(True, description="Also noise entity values (their spans follow).")

    @field_validator("augmenters")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        for name in names:
            if name not in AUGMENTERS:
                raise ValueError(f"unknown augmenter '{name}'{did_you_mean(name, AUGMENTERS)}; allowed: {', '.join(AUGMENTERS)}")
        return names


class UtterancesParams(SceneParams):
    intents: dict[str, list[str]] = Field(default_factory=lambda: {"greet": ["(hello|hi) [there]"]},
                                          description="Intent name -> templates: {label:slot}, [optional], (a|b).")
    slots: dict[str, Slot] = Field(default_factory=dict, description="Slot name -> value source.")
    intent: str = Field("any", description="Intent to produce, or 'any' for a uniform draw over `intents`.")
    noise: Noise = Field(default_factory=Noise, description="Noise applied to this sample.")
    lowercase: bool = Field(False, description="Lowercase the clean text before noise.")

    @field_validator("intents")
    @classmethod
    def _templates_parse(cls, intents: dict[str, list[str]]) -> dict[str, list[str]]:
        for intent, templates in intents.items():
            for k, template in enumerate(templates):
                try:
                    parse(template)
                except TemplateError as err:
                    raise ValueError(f"intents.{intent}[{k}]: {err}") from None
        return intents

    @model_validator(mode="after")
    def _grammar(self) -> UtterancesParams:
        if not self.intents:
            raise ValueError("intents is empty")
        for intent, templates in self.intents.items():
            if not templates:
                raise ValueError(f"intent '{intent}' has no templates")
            for k, template in enumerate(templates):
                for ent in entities(parse(template)):
                    if ent.slot not in self.slots:
                        raise ValueError(f"intents.{intent}[{k}]: template uses undefined slot '{ent.slot}'"
                                         f"{did_you_mean(ent.slot, self.slots)}; defined slots: "
                                         f"{', '.join(sorted(self.slots)) or 'none'}")
        if self.intent != "any" and self.intent not in self.intents:
            raise ValueError(f"intent '{self.intent}'{did_you_mean(self.intent, self.intents)} is not in intents")
        return self


class UtterancesScene(Scene):
    name = "utterances"
    version = "1"
    modality = "text"
    Params = UtterancesParams

    def check(self, params: UtterancesParams) -> None:
        probe = np.random.default_rng(0)
        for name, slot in params.slots.items():
            _slot_value(name, slot.model_copy(update={"pool": 0}), probe)  # bad provider or file fails here
        if "synonym" in params.noise.augmenters:
            from synth.text.wordnet import require_wordnet
            require_wordnet()

    def render(self, params: UtterancesParams, rng: np.random.Generator) -> Sample:
        names = sorted(params.intents)
        intent = params.intent if params.intent != "any" else names[pick(rng, len(names))]
        templates = params.intents[intent]
        template = templates[pick(rng, len(templates))]
        items: list[object] = []
        expand(parse(template), rng, items)
        pieces = [_piece(item, params, rng) for item in items]
        clean, clean_spans = assemble(pieces)
        text, spans = _noised(clean, clean_spans, pieces, params.noise, rng) if params.noise.augmenters \
            else (clean, clean_spans)
        labels: dict[str, Any] = {"intent": intent, "text": text, "spans": spans, "template": template,
                                  "clean_text": clean, "clean_spans": clean_spans,
                                  "noise": list(params.noise.augmenters)}
        return Sample(payloads={"text": text_payload(text)}, labels=labels)


# a piece is (space_before, core text, space_after, entity label or None)
Piece = tuple[bool, str, bool, "str | None"]


def _piece(item: object, params: UtterancesParams, rng: np.random.Generator) -> Piece:
    if isinstance(item, Entity):
        value = " ".join(_slot_value(item.slot, params.slots[item.slot], rng).split())
        return False, value.lower() if params.lowercase else value, False, item.label
    assert isinstance(item, Literal)
    return _literal(item, params.lowercase)


@lru_cache(maxsize=4096)
def _literal(item: Literal, lowercase: bool) -> Piece:
    core = " ".join(item.text.split())
    return item.text[:1].isspace(), core.lower() if lowercase else core, item.text[-1:].isspace(), None


def _noised(clean: str, clean_spans: list[list[Any]], pieces: list[Piece], noise: Noise,
            rng: np.random.Generator) -> tuple[str, list[list[Any]]]:
    """One nlpaug call per augmenter on the whole sentence (as a user would call nlpaug). A draw that
    cannot be mapped back to exact spans (an edit right on an entity boundary, a keyboard slip that
    types a space) is redrawn up to twice, then the sentence is noised piece by piece (slow, exact)."""
    labels = [label for _s, _e, label in clean_spans]
    try:
        tokens = tokenize(clean, clean_spans)
    except Ambiguous:
        tokens = None
    for _attempt in range(3 if tokens is not None else 0):
        seed_global_state(rng)  # nlpaug draws from global random / numpy.random
        try:
            return assemble_tokens(noise_sentence(tokens, noise.augmenters, noise.word_p, noise.char_p,
                                                  noise.entities), labels)
        except Ambiguous:
            continue
    return assemble([_noise(p, noise, rng) for p in pieces])


def _noise(piece: Piece, noise: Noise, rng: np.random.Generator) -> Piece:
    before, core, after, label = piece
    if not core or (label is not None and not noise.entities):
        return piece
    seed_global_state(rng)  # nlpaug draws from global random / numpy.random
    if label is not None:
        noised = apply_chain(core, tuple(noise.augmenters), noise.word_p, noise.char_p)
        return before, noised or core, after, label  # an entity never disappears: its label would dangle
    # text glued to a neighbouring entity (the ',' of "{city}, please", the '$' of "${amount}") stays
    # put: moved or deleted, it would glue other words to the entity or leave a lone ','
    tokens = core.split(" ")
    head = tokens.pop(0) if not before and tokens else ""
    tail = tokens.pop() if not after and tokens else ""
    middle = apply_chain(" ".join(tokens), tuple(noise.augmenters), noise.word_p, noise.char_p)
    return before, " ".join(t for t in (head, middle, tail) if t), after, label


def assemble(pieces: list[Piece]) -> tuple[str, list[list[Any]]]:
    """Join pieces with single spaces where the template had whitespace; spans index the result."""
    out, spans, pending_space = "", [], False
    for before, core, after, label in pieces:
        if not core:
            pending_space = pending_space or before or after
            continue
        if out and (pending_space or before):
            out += " "
        if label is not None:
            spans.append([len(out), len(out) + len(core), label])
        out += core
        pending_space = after
    return out, spans


def _slot_value(name: str, slot: Slot, rng: np.random.Generator) -> str:
    if slot.faker and not slot.pool:
        return faker_call(slot.faker, slot.locale, rng, field=f"slots.{name}.faker", weighted=slot.weighted)
    if slot.faker:
        values = faker_pool(slot.faker, slot.locale, slot.weighted, slot.pool, f"slots.{name}.faker")
    else:
        values = slot.values or _file_values(name, slot.file)
    return values[pick(rng, len(values))]


@lru_cache(maxsize=64)
def _file_values(name: str, path: str) -> tuple[str, ...]:
    try:
        with open(path, encoding="utf8") as handle:
            values = tuple(v.strip() for v in handle if v.strip())
    except OSError as err:
        raise SynthError(f"cannot read slot file '{path}': {err.strerror}", field=f"slots.{name}.file") from None
    if not values:
        raise SynthError(f"slot file '{path}' is empty", field=f"slots.{name}.file")
    return values
