"""A small template grammar for utterances: literal text, entities `{label:slot}` (or `{slot}`),
optional parts `[...]` and alternatives `(a|b|c)`; a backslash escapes the next character."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SPECIAL = "{}[]()|"


@dataclass(frozen=True)
class Literal:
    text: str


@dataclass(frozen=True)
class Entity:
    label: str
    slot: str


@dataclass(frozen=True)
class Optional:
    body: "Alternatives"


@dataclass(frozen=True)
class Alternatives:
    options: tuple[tuple[object, ...], ...]


class TemplateError(ValueError):
    """A template that does not parse; the message names the column."""


class _Parser:
    def __init__(self, template: str) -> None:
        self.s, self.i = template, 0

    def fail(self, message: str) -> TemplateError:
        return TemplateError(f"{message} at column {self.i + 1} of template {self.s!r}")

    def alternatives(self, closer: str | None) -> Alternatives:
        options = [self.sequence()]
        while self.i < len(self.s) and self.s[self.i] == "|":
            self.i += 1
            options.append(self.sequence())
        if closer is None and self.i < len(self.s):
            raise self.fail(f"unbalanced '{self.s[self.i]}'")
        if closer is not None:
            if self.i >= len(self.s):
                raise self.fail(f"missing '{closer}'")
            if self.s[self.i] != closer:
                raise self.fail(f"expected '{closer}' but found '{self.s[self.i]}'")
            self.i += 1
        return Alternatives(tuple(options))

    def sequence(self) -> tuple[object, ...]:
        items: list[object] = []
        while self.i < len(self.s) and self.s[self.i] not in "|)]}":
            ch = self.s[self.i]
            if ch == "{":
                items.append(self.entity())
            elif ch in "[(":
                self.i += 1
                body = self.alternatives("]" if ch == "[" else ")")
                items.append(Optional(body) if ch == "[" else body)
            else:
                items.append(Literal(self.literal()))
        return tuple(items)

    def literal(self) -> str:
        out = []
        while self.i < len(self.s) and self.s[self.i] not in SPECIAL:
            if self.s[self.i] == "\\" and self.i + 1 < len(self.s):
                self.i += 1
            out.append(self.s[self.i])
            self.i += 1
        return "".join(out)

    def entity(self) -> Entity:
        end = self.s.find("}", self.i)
        if end < 0:
            raise self.fail("'{' is never closed")
        inner = self.s[self.i + 1:end]
        if any(c in inner for c in SPECIAL):
            raise self.fail(f"'{{{inner}' is not closed before the next bracket")
        label, _, slot = inner.partition(":")
        label, slot = label.strip(), (slot or label).strip()
        if not label or not slot:
            raise self.fail("empty entity: write {label:slot} or {slot}")
        self.i = end + 1
        return Entity(label, slot)


def pick(rng: np.random.Generator, n: int) -> int:
    """A uniform index below n (a float draw: 4x cheaper than Generator.integers for one scalar)."""
    return min(int(rng.random() * n), n - 1)


@lru_cache(maxsize=1024)
def parse(template: str) -> Alternatives:
    if not template.strip():
        raise TemplateError("empty template")
    return _Parser(template).alternatives(None)


def entities(node: object) -> list[Entity]:
    """Every entity a template can produce (to check slots before any sample is drawn)."""
    if isinstance(node, Entity):
        return [node]
    if isinstance(node, Optional):
        return entities(node.body)
    if isinstance(node, Alternatives):
        return [e for option in node.options for item in option for e in entities(item)]
    return []


def expand(node: object, rng: np.random.Generator, out: list[object]) -> None:
    """Flatten one random expansion into Literal and Entity items (optional parts kept half the time)."""
    if isinstance(node, (Literal, Entity)):
        out.append(node)
    elif isinstance(node, Optional):
        if rng.random() < 0.5:
            expand(node.body, rng, out)
    elif isinstance(node, Alternatives):
        for item in node.options[pick(rng, len(node.options))]:
            expand(item, rng, out)
