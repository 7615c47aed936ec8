"""Noise a whole sentence with one nlpaug call per augmenter and carry entity ownership through it.

A sentence is a list of whitespace tokens; a token is `(text, runs)`, runs being `(text, owner)` pairs,
owner the entity's index or -1 for template text ("Paris," is `("Paris,", (("Paris", 0), (",", -1)))`). Two ways through an
augmenter, both checked after the call; anything they cannot account for raises `Ambiguous` and the
caller falls back to noising piece by piece:
- open: character augmenters keep the token count, so tokens align by position; inside a token that
  mixes owners, difflib maps the run boundaries (an edit exactly on a boundary is ambiguous);
- protected: each entity (its words joined, glued punctuation included) becomes one token carrying
  MARK, which the augmenters' stopword rule skips; word swaps may move it, nothing may change it.
"""
from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any, Sequence

from synth.text.noise import MARK, WORD_LEVEL, augmenter

JOIN = "\ue001"  # stands for a space inside a protected entity token
Run = tuple[str, int]
Token = tuple[str, tuple[Run, ...]]


class Ambiguous(Exception):
    """The noised sentence cannot be mapped back to exact entity spans."""


def tokenize(text: str, spans: Sequence[Sequence[Any]]) -> list[Token]:
    """Whitespace tokens of a clean sentence (single spaces) with the owner of every character."""
    if MARK in text or JOIN in text:
        raise Ambiguous("text holds a private-use marker")
    segments, position = [], 0
    for k, (start, stop, _label) in enumerate(spans):
        segments += [(text[position:start], -1), (text[start:stop], k)]
        position = stop
    segments.append((text[position:], -1))
    runs: list[list[Run]] = [[]]
    for segment, owner in segments:
        for n, part in enumerate(segment.split(" ")):
            if n:
                runs.append([])
            if part:
                runs[-1].append((part, owner))
    return [("".join(t for t, _ in r), tuple(r)) for r in runs if r]


def noise_sentence(tokens: list[Token], chain: Sequence[str], word_p: float, char_p: float,
                   noise_entities: bool) -> list[Token]:
    """Run the chain over the whole sentence; the caller seeds the global RNGs once before."""
    for name in chain:
        if not tokens:
            break
        aug = augmenter(name, word_p, char_p)
        if name in WORD_LEVEL or not noise_entities:
            tokens = _through_protected(tokens, aug)
        else:
            tokens = _through_open(tokens, aug)
    return tokens


def assemble_tokens(tokens: list[Token], labels: Sequence[str]) -> tuple[str, list[list[Any]]]:
    """The sentence and one `[start, end, label]` per entity, in entity order; checks each entity is
    present, in one piece and in its original order."""
    spans: list[list[Any]] = []
    position, last = 0, -1
    for text, runs in tokens:
        for run, owner in runs:
            if owner >= 0:
                if owner == last:
                    spans[-1][1] = position + len(run)
                elif owner == len(spans):
                    spans.append([position, position + len(run), labels[owner]])
                else:
                    raise Ambiguous("an entity was split, dropped or moved past another")
            last = owner
            position += len(run)
        position += 1
    if len(spans) != len(labels):
        raise Ambiguous("an entity was dropped")
    return " ".join(text for text, _ in tokens), spans


def _augment(aug: Any, text: str) -> list[str]:
    """One nlpaug call; the caller seeds the global RNGs (nlpaug reads them)."""
    result = aug.augment(text)
    if isinstance(result, list):
        result = result[0] if result else text
    return result.split()


def _through_open(tokens: list[Token], aug: object) -> list[Token]:
    after = _augment(aug, " ".join(text for text, _ in tokens))
    if len(after) != len(tokens):
        raise Ambiguous("a character augmenter changed the token count")
    out = []
    for token, new in zip(tokens, after):
        text, runs = token
        if new == text:
            out.append(token)
        elif len(runs) == 1:
            out.append((new, ((new, runs[0][1]),)))
        else:
            out.append((new, _realign(runs, text, new)))
    return out


def _realign(runs: tuple[Run, ...], old: str, new: str) -> tuple[Run, ...]:
    """Map the run boundaries of a mixed token through the character edits difflib finds."""
    ops = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    cuts, start = [0], 0
    for text, _owner in runs[:-1]:
        start += len(text)
        cuts.append(_map_offset(ops, start))
    cuts.append(len(new))
    out = []
    for (_text, owner), a, b in zip(runs, cuts, cuts[1:]):
        if a == b and owner >= 0:
            raise Ambiguous("an entity lost all its characters")
        if a < b:
            out.append((new[a:b], owner))
    return tuple(out)


def _map_offset(ops: list[tuple[str, int, int, int, int]], offset: int) -> int:
    for tag, i1, i2, j1, _j2 in ops:
        if i1 == offset:
            if tag == "insert":
                raise Ambiguous("characters inserted on an entity boundary")
            return j1
        if i1 < offset < i2:
            if tag != "equal":
                raise Ambiguous("an edit straddles an entity boundary")
            return j1 + offset - i1
    raise Ambiguous("offset outside the token")  # unreachable for 0 < offset < len(old)


def _through_protected(tokens: list[Token], aug: object) -> list[Token]:
    """Entities (with the words they span and glued punctuation) go in as one marked token each."""
    words: list[str] = []
    units: list[tuple[str, list[Token]]] = []
    previous = -1  # owner of the last run of the previous token: an entity continuing over a space
    for token in tokens:
        runs = token[1]
        if previous >= 0 and runs[0][1] == previous:
            units[-1][1].append(token)
            words[-1] += JOIN + token[0]
            units[-1] = (words[-1], units[-1][1])
        elif len(runs) > 1 or runs[0][1] >= 0:
            words.append(MARK + token[0])
            units.append((words[-1], [token]))
        else:
            words.append(token[0])
        previous = runs[-1][1]
    out: list[Token] = []
    waiting = iter(units)
    for word in _augment(aug, " ".join(words)):
        if MARK not in word:
            out.append((word, ((word, -1),)))
            continue
        expected, unit = next(waiting, ("", []))
        if word != expected:
            raise Ambiguous("a protected entity token was changed")
        out.extend(unit)
    if next(waiting, None) is not None:
        raise Ambiguous("a protected entity token was dropped")
    return out
