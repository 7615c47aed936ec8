"""synth: labeled synthetic training data from declarative recipes.

The public API for scenes, pretext tasks and scripts: `from synth import Scene, SceneParams, Sample, image`.
Names load on first use, so `import synth` stays cheap (the CLI's start-up, spawned workers)."""
from __future__ import annotations

import importlib
import os
from typing import Any

# Lance logs a warning for every dataset it creates; users get our own messages instead.
os.environ.setdefault("LANCE_LOG", "error")

__version__ = "0.1.0"

_EXPORTS = {
    "synth.core.sample": ("Sample", "Payload", "image", "mask", "array", "audio", "row", "decode_blob"),
    "synth.core.scene": ("Scene", "SceneParams", "PretextTask", "get_scene", "get_task", "scene_names", "task_names"),
    "synth.core.seeding": ("rng_for", "seed_global_state"),
    "synth.codecs.canonical": ("canonical_json",),
    "synth.codecs.masks": ("pack_mask", "unpack_mask"),
    "synth.errors": ("SynthError", "RecipeError", "WorkspaceError", "did_you_mean"),
    "synth.recipe.distributions": ("Distribution", "Choice", "RandInt", "Uniform", "per_instance"),
    "synth.recipe": ("Recipe", "load_recipe"),
}
# `text` is the helpers' package synth.text, so the text payload is exported as `text_payload`
_ALIASES = {"text_payload": ("synth.core.sample", "text")}
_MODULES = {"api": "synth.api", "distributions": "synth.recipe.distributions"}
_WHERE = {name: (module, name) for module, names in _EXPORTS.items() for name in names} | _ALIASES
__all__ = sorted([*_WHERE, *_MODULES])


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(_MODULES[name])
    if name in _WHERE:
        module, attr = _WHERE[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'synth' has no attribute '{name}'")


def __dir__() -> list[str]:
    return __all__
