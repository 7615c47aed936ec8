"""The example recipes synth ships: `recipes/` in a checkout, `synth/example_recipes/` in an installed wheel;
listed by `synth recipes`, copied by `synth init NAME` (with the recipes it extends) to start from."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from synth.core.names import check_name
from synth.errors import SynthError, did_you_mean
from synth.recipe.yamlio import load

_PACKAGE = Path(__file__).resolve().parents[1]  # synth/


def examples_dir() -> Path:
    for candidate in (_PACKAGE / "example_recipes", _PACKAGE.parent / "recipes"):
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    raise SynthError("this synth install has no example recipes (neither synth/example_recipes/ nor a "
                     "checkout's recipes/)")


def list_examples() -> list[dict[str, Any]]:
    """Every example: name (the file's stem, what `synth init` takes), file, kind, scene, count, description."""
    out = []
    for path in sorted(examples_dir().glob("*.yaml")):
        data, _ = load(path)
        data = data if isinstance(data, dict) else {}
        kind = "sweep" if "sweep" in data else "recipe"
        base = data.get("recipe") if kind == "sweep" else data.get("extends")
        out.append({"name": path.stem, "file": str(path), "kind": kind, "scene": data.get("scene"),
                    "count": data.get("count"), "based_on": base,
                    "description": " ".join(str(data.get("description") or "").split())})
    return out


def copy_example(name: str, dest: Path, overwrite: bool = False) -> list[Path]:
    """Copy example `name` into the folder `dest`, with the examples it extends (or, for a sweep, its
    recipe); returns the files written. Refuses to overwrite a file unless
    `overwrite`, and then writes nothing."""
    check_name(name, "NAME")
    source = examples_dir()
    by_name = {e["name"]: e for e in list_examples()}
    if name not in by_name:
        raise SynthError(f"no example recipe '{name}'{did_you_mean(name, by_name)}; `synth recipes` lists them",
                         field="NAME")
    wanted, todo = [], [f"{name}.yaml"]
    while todo:  # the file and what it builds on, each once
        file = todo.pop()
        if file in wanted:
            continue
        wanted.append(file)
        base = by_name.get(Path(file).stem, {}).get("based_on")
        if isinstance(base, str) and (source / base).is_file():
            todo.append(base)
    targets = [(source / f, dest / f) for f in wanted]
    clash = [str(t) for _, t in targets if t.exists()]
    if clash and not overwrite:
        raise SynthError(f"{', '.join(clash)} already exist{'s' if len(clash) == 1 else ''}: choose another folder or pass --overwrite",
                         field="--to")
    for src, target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
    return [t for _, t in targets]
