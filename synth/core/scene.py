"""Scenes and pretext tasks, and their registries (entry points `synth.scenes`, `synth.ssl_tasks`)."""
from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from synth.errors import SynthError, did_you_mean
from synth.core.sample import Sample


class SceneParams(BaseModel):
    """Base for scene parameter models: every field typed, with a default, bounds and a description."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Scene:
    """What gets rendered. Sampling happens before `render`; `render` takes concrete values only,
    so any sample can be re-rendered from its recorded params."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    modality: ClassVar[str]  # image | text | audio | table | 3d
    Params: ClassVar[type[SceneParams]]
    # True for scenes whose renderer must live in a worker process (e.g. Blender): the engine then uses
    # its process pool even for one worker, and calls `close()` before the worker ends with os._exit.
    isolated: ClassVar[bool] = False

    def render(self, params: Any, rng: np.random.Generator) -> Sample:
        raise NotImplementedError

    def check(self, params: Any) -> None:
        """Cross-field checks on concrete params that a field's bounds cannot express; raise ValueError."""


class PretextTask:
    """A self-supervised task: adds derived payloads and `ssl.<name>` labels to a sample."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    modalities: ClassVar[tuple[str, ...]]
    Params: ClassVar[type[BaseModel]]

    def apply(self, sample: Sample, params: Any, rng: np.random.Generator) -> None:
        raise NotImplementedError


@cache
def _load(group: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for ep in entry_points(group=group):
        found[ep.name] = ep
    return found


def scene_names() -> list[str]:
    return sorted(_load("synth.scenes"))


def get_scene(name: str) -> type[Scene]:
    eps = _load("synth.scenes")
    if name not in eps:
        raise SynthError(f"unknown scene '{name}'{did_you_mean(name, eps)}; available: {', '.join(sorted(eps))}",
                         field="scene")
    return eps[name].load()


def task_names() -> list[str]:
    return sorted(_load("synth.ssl_tasks"))


def get_task(name: str) -> type[PretextTask]:
    eps = _load("synth.ssl_tasks")
    if name not in eps:
        raise SynthError(f"unknown pretext task '{name}'{did_you_mean(name, eps)}; "
                         f"available: {', '.join(sorted(eps)) or 'none'}", field="ssl")
    return eps[name].load()
