"""Safe YAML loading that keeps the line of every key, so errors can say file:line.

Recipes are data: only the standard scalar, mapping and sequence tags are accepted; any explicit
tag (`!!python/object`, `!custom`) is refused before anything is constructed."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from synth.errors import RecipeError

_STD = "tag:yaml.org,2002:"
_ALLOWED = {_STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq")}

Lines = dict[tuple[str, ...], int]


def load(path: str | Path) -> tuple[Any, Lines]:
    """Parse a YAML file into plain Python values and a map from key path to 1-based line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError("file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"cannot read: {exc}", file=str(path)) from None
    return loads(text, str(path))


def loads(text: str, filename: str = "<string>") -> tuple[Any, Lines]:
    yaml = YAML(typ="rt", pure=True)
    try:
        node = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise RecipeError(f"YAML syntax error: {exc.problem or exc.context}", file=filename, line=line) from None
    except YAMLError as exc:
        raise RecipeError(f"YAML error: {exc}", file=filename) from None
    if node is None:
        raise RecipeError("the file is empty; a recipe needs at least 'name', 'scene' and 'count'", file=filename)
    lines: Lines = {}
    return _build(node, (), lines, filename), lines


def _build(node: Any, path: tuple[str, ...], lines: Lines, filename: str) -> Any:
    line = node.start_mark.line + 1
    lines.setdefault(path, line)
    if node.tag not in _ALLOWED:
        raise RecipeError(f"YAML tag '{node.tag.replace(_STD, '!!')}' is not allowed: recipes are plain data "
                          "(mappings, lists, strings, numbers, booleans)", file=filename, line=line,
                          field=".".join(path) or None)
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _STD + "merge":
                raise RecipeError("YAML merge keys ('<<') are not supported; use 'extends'", file=filename,
                                  line=key_node.start_mark.line + 1)
            key = _scalar(key_node, filename)
            key = str(key)
            if key in out:
                raise RecipeError(f"duplicate key '{key}'", file=filename, line=key_node.start_mark.line + 1,
                                  field=".".join((*path, key)))
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _build(value_node, (*path, key), lines, filename)
        return out
    if isinstance(node, SequenceNode):
        return [_build(v, (*path, str(i)), lines, filename) for i, v in enumerate(node.value)]
    return _scalar(node, filename)


def _scalar(node: ScalarNode, filename: str) -> Any:
    if node.tag not in _ALLOWED:
        raise RecipeError(f"YAML tag '{node.tag.replace(_STD, '!!')}' is not allowed", file=filename,
                          line=node.start_mark.line + 1)
    if not isinstance(node, ScalarNode):
        raise RecipeError("a mapping key must be a plain string", file=filename, line=node.start_mark.line + 1)
    value = node.value
    tag = node.tag[len(_STD):]
    if tag == "str":
        return value
    if tag == "null":
        return None
    if tag == "bool":
        return value.lower() in ("true", "yes", "on")
    if tag == "int":
        v = value.replace("_", "")
        if v.lower().startswith(("0x", "-0x", "+0x")):
            return int(v, 16)
        if v.lower().startswith(("0o", "-0o", "+0o")):
            return int(v, 8)
        return int(v)
    if tag == "float":
        v = value.replace("_", "").lower()
        if v in (".inf", "+.inf"):
            return float("inf")
        if v == "-.inf":
            return float("-inf")
        if v == ".nan":
            return float("nan")
        return float(v)
    return value
