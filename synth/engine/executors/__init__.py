"""Executors: where shards render. `local` (this machine's processes) and `ray` (a Ray cluster) implement
`Executor`; a third is one module, named in EXECUTORS or registered under the `synth.executors` entry
point group (name = "package.module:Class")."""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from synth.engine.executors.base import Executor, Rows, plan_shards
from synth.errors import SynthError

EXECUTORS = {"local": "synth.engine.executors.local:LocalExecutor",
             "ray": "synth.engine.executors.ray:RayExecutor"}

__all__ = ["EXECUTORS", "Executor", "Rows", "executor_names", "make_executor", "plan_shards"]


def executor_names() -> list[str]:
    return sorted({*EXECUTORS, *(ep.name for ep in entry_points(group="synth.executors"))})


def make_executor(name: str, workers: int, options: dict[str, Any] | None = None) -> Executor:
    target = EXECUTORS.get(name) or next((ep.value for ep in entry_points(group="synth.executors")
                                          if ep.name == name), None)
    if target is None:
        raise SynthError(f"unknown executor '{name}'; use {' or '.join(executor_names())}", field="--executor")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)(workers, options)
