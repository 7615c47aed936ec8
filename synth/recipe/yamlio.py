"""Safe YAML loading that keeps the line of every key, so errors can say file:line.

Recipes are data: only the standard scalar, mapping and sequence tags are accepted; any explicit
tag (`!!python/object`, `!custom`) is refused before anything is constructed. Every input is bounded
(file size, values after alias expansion, nesting depth), each limit raisable by an environment variable."""
from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from synth.errors import RecipeError, SynthError

_STD = "tag:yaml.org,2002:"
_ALLOWED = {_STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}

# limits: (environment variable, default); documented in docs_limits_recipes.md
MAX_RECIPE_BYTES = ("SYNTH_MAX_RECIPE_BYTES", 1 << 20)
MAX_RECIPE_NODES = ("SYNTH_MAX_RECIPE_NODES", 200_000)
MAX_RECIPE_DEPTH = ("SYNTH_MAX_RECIPE_DEPTH", 64)
_MAX_INT_DIGITS = 4000  # Python refuses int<->str past 4300 digits; no recipe number comes near this

Lines = dict[tuple[str, ...], int]


def limit(spec: tuple[str, int]) -> int:
    """The value of a limit: its environment variable when set (a positive integer), else its default."""
    name, default = spec
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise SynthError(f"{name} must be a positive integer, got {raw[:40]!r}", field=name)
    return value


def load(path: str | Path) -> tuple[Any, Lines]:
    """Parse a YAML file into plain Python values and a map from key path to 1-based line."""
    path = Path(path)
    return loads(read_text(path), str(path))


def read_text(path: Path) -> str:
    """The text of a regular file of at most MAX_RECIPE_BYTES, read without following it into a device or
    a FIFO (`/dev/zero` would never end). Errors never quote the file's content."""
    max_bytes = limit(MAX_RECIPE_BYTES)
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise RecipeError("not a regular file; a recipe is a .yaml file", file=str(path))
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise RecipeError("file not found", file=str(path)) from None
    except IsADirectoryError:
        raise RecipeError("is a directory, not a recipe file", file=str(path)) from None
    except OSError as exc:
        raise RecipeError(f"cannot read: {exc.strerror or type(exc).__name__}", file=str(path)) from None
    if len(raw) > max_bytes:
        raise RecipeError(f"larger than {max_bytes:,} bytes, the recipe size limit "
                          f"(raise it with {MAX_RECIPE_BYTES[0]})", file=str(path))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # the position only: the bytes may be a secret
        raise RecipeError(f"not UTF-8 text (byte {exc.start}); a recipe is a YAML text file",
                          file=str(path)) from None


def loads(text: str, filename: str = "<string>") -> tuple[Any, Lines]:
    yaml = YAML(typ="rt", pure=True)
    try:
        node = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise RecipeError(f"YAML syntax error: {exc.problem or exc.context}", file=filename, line=line) from None
    except YAMLError as exc:
        raise RecipeError(f"YAML error: {type(exc).__name__}", file=filename) from None
    except RecursionError:  # the composer recurses per level: [[[[...]]]] deep enough overflows it
        raise RecipeError(f"nested too deeply (the limit is {limit(MAX_RECIPE_DEPTH)} levels)",
                          file=filename) from None
    if node is None:
        raise RecipeError("the file is empty; a recipe needs at least 'name', 'scene' and 'count'", file=filename)
    lines: Lines = {}
    budget = _Budget(filename, limit(MAX_RECIPE_NODES), limit(MAX_RECIPE_DEPTH))
    return _build(node, (), lines, filename, budget), lines


class _Budget:
    """Counts the values built while aliases are expanded: a 'billion laughs' file is a few hundred bytes
    whose aliases expand to 10^9 values, so the count, not the file size, must stop it."""

    def __init__(self, filename: str, max_nodes: int, max_depth: int) -> None:
        self.filename, self.max_nodes, self.max_depth = filename, max_nodes, max_depth
        self.nodes = 0
        self.open: set[int] = set()  # ids of the collections being built: an alias to one is a cycle

    def enter(self, node: Node, path: tuple[str, ...]) -> None:
        line = node.start_mark.line + 1
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise RecipeError(f"expands to more than {self.max_nodes:,} YAML values (aliases '*' repeat what their "
                              f"anchor holds); raise the limit with {MAX_RECIPE_NODES[0]}", file=self.filename,
                              line=line, field=".".join(path) or None)
        if len(path) > self.max_depth:
            raise RecipeError(f"nested more than {self.max_depth} levels deep (raise the limit with "
                              f"{MAX_RECIPE_DEPTH[0]})", file=self.filename, line=line, field=None)
        if id(node) in self.open:
            raise RecipeError("an alias refers to a value that contains it (a recursive alias)", file=self.filename,
                              line=line, field=".".join(path) or None)


def _build(node: Any, path: tuple[str, ...], lines: Lines, filename: str, budget: _Budget) -> Any:
    line = node.start_mark.line + 1
    lines.setdefault(path, line)
    budget.enter(node, path)
    if node.tag not in _ALLOWED:
        raise RecipeError(f"YAML tag '{node.tag.replace(_STD, '!!')}' is not allowed: recipes are plain data "
                          "(mappings, lists, strings, numbers, booleans)", file=filename, line=line,
                          field=".".join(path) or None)
    if isinstance(node, MappingNode):
        budget.open.add(id(node))
        out = _mapping(node, path, lines, filename, budget)
        budget.open.discard(id(node))
        return out
    if isinstance(node, SequenceNode):
        budget.open.add(id(node))
        out_list = [_build(v, (*path, str(i)), lines, filename, budget) for i, v in enumerate(node.value)]
        budget.open.discard(id(node))
        return out_list
    return _scalar(node, filename, path)


def _mapping(node: MappingNode, path: tuple[str, ...], lines: Lines, filename: str,
             budget: _Budget) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == _STD + "merge":
            raise RecipeError("YAML merge keys ('<<') are not supported; use 'extends'", file=filename,
                              line=key_node.start_mark.line + 1)
        key = str(_scalar(key_node, filename, path))
        if key in out:
            raise RecipeError(f"duplicate key '{key}'", file=filename, line=key_node.start_mark.line + 1,
                              field=".".join((*path, key)))
        lines[(*path, key)] = key_node.start_mark.line + 1
        out[key] = _build(value_node, (*path, key), lines, filename, budget)
    return out


def _scalar(node: ScalarNode, filename: str, path: tuple[str, ...] = ()) -> Any:
    line = node.start_mark.line + 1
    if node.tag not in _ALLOWED:
        raise RecipeError(f"YAML tag '{node.tag.replace(_STD, '!!')}' is not allowed", file=filename, line=line)
    if not isinstance(node, ScalarNode):
        raise RecipeError("a mapping key must be a plain string", file=filename, line=line)
    value = node.value
    tag = node.tag[len(_STD):]
    if tag == "str":
        return value
    if tag == "null":
        return None
    if tag == "bool":
        return value.lower() in ("true", "yes", "on")
    if tag == "int":
        return _int(value, filename, line, path)
    if tag == "float":
        return _float(value, filename, line, path)
    return value


def _int(text: str, filename: str, line: int, path: tuple[str, ...]) -> int:
    v = text.replace("_", "")
    if len(v) > _MAX_INT_DIGITS:  # int() itself would refuse past 4300 digits, with a traceback
        raise RecipeError(f"an integer of {len(v):,} digits is not a usable number", file=filename, line=line,
                          field=".".join(path) or None)
    if v.lower().startswith(("0x", "-0x", "+0x")):
        return int(v, 16)
    if v.lower().startswith(("0o", "-0o", "+0o")):
        return int(v, 8)
    return int(v)


def _float(text: str, filename: str, line: int, path: tuple[str, ...]) -> float:
    v = text.replace("_", "").lower()
    value = float(v) if v not in (".inf", "+.inf", "-.inf", ".nan") else math.nan
    if not math.isfinite(value):  # .nan, .inf and 1e999 give all-NaN or infinite columns downstream
        raise RecipeError(f"{text} is not a finite number; recipe numbers must be finite", file=filename,
                          line=line, field=".".join(path) or None)
    return value
