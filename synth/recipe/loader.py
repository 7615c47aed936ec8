"""Loading a recipe file: YAML with line numbers, `extends` chains, dotted overrides, validation and a
trial draw."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from synth.errors import RecipeError
from synth.recipe import distributions as D
from synth.recipe.model import Recipe, build_recipe
from synth.recipe.plan import Plan
from synth.recipe.tune import check_ranges, parse_tune
from synth.recipe.yamlio import load

RECIPE_SUFFIXES = (".yaml", ".yml")


def load_recipe(path: str | Path, overrides: dict[str, Any] | None = None) -> Recipe:
    """Load, merge `extends` chains, apply dotted `overrides` and validate. Raises RecipeError."""
    path = Path(path)
    data, lines = _load_with_extends(path, [])
    for key, value in (overrides or {}).items():
        _set_dotted(data, key, value)
        lines.setdefault(tuple(key.split(".")), (str(path), 0))
    recipe = _built(data, lines, str(path))
    if recipe.model.tune is not None:
        space = parse_tune(recipe.model.tune, lines, str(path))
        check_ranges(space, lambda over: _built(_with(data, over), lines, str(path)), lines, str(path))
    return recipe


def override_block(path: str | Path, overrides: dict[str, Any]) -> dict[str, Any]:
    """The `params:` mapping of a recipe that `extends: path` and applies dotted `params.` overrides: flat
    dotted keys for scene parameters, nested mappings for values inside a parameter that is itself a mapping
    (a table's `columns`), which `extends` merges key by key."""
    data, _ = _load_with_extends(Path(path), [])
    params = data.get("params") or {}
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        parts = key.removeprefix("params.").split(".")
        if len(parts) > 1 and isinstance(params.get(parts[0]), dict) and not D.is_distribution_spec(params[parts[0]]):
            node = out
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
        else:
            out[".".join(parts)] = value
    return out


def _built(data: dict[str, Any], lines: dict, file: str) -> Recipe:
    recipe = build_recipe(data, lines, file)
    Plan(recipe).params_for(0)  # a trial draw catches cross-field errors before anything is written
    return recipe


def _with(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    for key, value in overrides.items():
        _set_dotted(out, key, value)
    return out


def _load_with_extends(path: Path, chain: list[Path]) -> tuple[dict[str, Any], dict]:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(str(p.name) for p in [*chain, resolved])
        raise RecipeError(f"'extends' cycle: {cycle}", file=str(path), field="extends")
    data, raw_lines = load(path)
    if not isinstance(data, dict):
        raise RecipeError(f"a recipe is a mapping of keys (name, scene, count, ...), got {type(data).__name__}",
                          file=str(path), line=1)
    lines = {k: (str(path), v) for k, v in raw_lines.items()}
    base_ref = data.get("extends")
    if base_ref is None:
        return data, lines
    if not isinstance(base_ref, str):
        raise RecipeError("'extends' takes the path of a recipe file", file=str(path),
                          line=raw_lines.get(("extends",)), field="extends")
    base_path = checked_recipe_path(path.parent / base_ref, str(path), raw_lines.get(("extends",)), "extends")
    base, base_lines = _load_with_extends(base_path, [*chain, resolved])
    merged = _merge(base, {k: v for k, v in data.items() if k != "extends"})
    return merged, {**base_lines, **lines}


def checked_recipe_path(target: Path, file: str, line: int | None, field: str) -> Path:
    """`target` if it is an existing regular file named *.yaml or *.yml, else a RecipeError. A recipe may name
    another file (`extends`, a sweep's `recipe`): without this check `/dev/zero` hangs the loader and
    `/etc/shadow` leaks into the error message. The message names the path only, never its content."""
    if target.suffix.lower() not in RECIPE_SUFFIXES:
        raise RecipeError(f"'{field}' must name a recipe file ending in .yaml or .yml, got {str(target)!r}",
                          file=file, line=line, field=field)
    if not target.exists():
        raise RecipeError(f"'{field}' names a missing file: {target}", file=file, line=line, field=field)
    if not target.is_file():  # is_file follows links: a link to a device or a folder is refused too
        raise RecipeError(f"'{field}' must name a regular file, and {target} is not one", file=file, line=line,
                          field=field)
    return target


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if key in out and isinstance(out[key], dict) and isinstance(value, dict) \
                and not D.is_distribution_spec(value) and not D.is_distribution_spec(out[key]):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    if parts[0] == "params" and len(parts) > 1:  # params keep dotted paths flat: params.a.b -> params["a.b"]
        data.setdefault("params", {})
        if _set_inside(data["params"], parts[1:], value):
            return
        _drop_param(data["params"], parts[1:])
        data["params"][".".join(parts[1:])] = value
        return
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _set_inside(params: dict[str, Any], parts: list[str], value: Any) -> bool:
    """Set a value inside a mapping the recipe already holds as data (a table's `columns.<name>.params.scale`):
    such a mapping is one parameter of the scene, not a group of parameters, so a flat dotted key cannot name
    a value in it. True when the path's parent is an existing mapping (not a distribution) under `params`."""
    node = params.get(parts[0])
    if len(parts) < 2 or not isinstance(node, dict) or D.is_distribution_spec(node):
        return False
    for part in parts[1:-1]:
        node = node.get(part)
        if not isinstance(node, dict) or D.is_distribution_spec(node):
            return False
    node[parts[-1]] = value
    return True


def _drop_param(params: dict[str, Any], parts: list[str]) -> None:
    """Remove an existing spelling of the same param (nested or dotted) before an override."""
    params.pop(".".join(parts), None)
    node = params
    for part in parts[:-1]:
        node = node.get(part)
        if not isinstance(node, dict):
            return
    if isinstance(node, dict):
        node.pop(parts[-1], None)
