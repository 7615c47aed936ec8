"""Fixtures for the 3D scene tests: one engine run of recipes/tabletop3d.yaml, shared by the session
(Blender start-up dominates these tests, so every test that can reads the same two samples)."""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from synth import api
from synth.engine.generate import GenerateResult
from synth.core.sample import decode_blob
from synth.store.workspace import Workspace

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "tabletop3d.yaml"
COUNT = 2
# The recipe with physics on (its default) and the denoiser off: Intel OIDN is deterministic within a
# process but not across (about 1 RGB value in 50,000 differs by 1), everything else is bit-exact, so
# runs in different processes must give identical rows and fingerprints.
OVERRIDES = {"params.render.denoiser": "none", "count": COUNT}


def render_processes() -> set[int]:
    """Pids of live render servers started by this checkout's Python (other checkouts on the machine
    run their own interpreter path, so their servers are not counted)."""
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv[0] == sys.executable.encode() and b"synth.render3d.render_server" in argv:
            if process_state(int(entry)) not in (None, "Z"):
                pids.add(int(entry))
    return pids


def process_state(pid: int) -> str | None:
    """'Z' for a zombie, another letter for a live process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


@dataclass
class Decoded:
    """A manifest row with its JSON columns parsed and its payloads decoded from the store."""

    row: dict[str, Any]
    labels: dict[str, Any]
    params: dict[str, Any]  # recorded params: dotted path -> value
    image: np.ndarray
    mask: np.ndarray
    class_mask: np.ndarray
    depth: np.ndarray


def decode_rows(ws: Workspace) -> list[Decoded]:
    out = []
    for row in sorted(ws.manifest.to_table().to_pylist(), key=lambda r: r["index"]):
        pays = json.loads(row["payloads"])
        blob = {name: decode_blob(p["kind"], ws.store.get(p["hash"])) for name, p in pays.items()}
        out.append(Decoded(row, json.loads(row["labels"]), json.loads(row["params"]), blob["image"],
                           blob["mask"], blob["class_mask"], blob["depth"]))
    return out


@dataclass
class Run:
    result: GenerateResult
    ws: Workspace
    samples: list[Decoded]
    leftover: set[int]  # render servers still alive after generate returned
    bpy_loaded: bool


@pytest.fixture(scope="session")
def in_process_run(tmp_path_factory) -> Run:
    """api.generate with workers=1: the engine renders in this process; Blender runs in the scene's
    render subprocess, which must be gone when generate returns."""
    before = render_processes()
    root = str(tmp_path_factory.mktemp("tabletop3d") / "ws")
    result = api.generate(api.validate(RECIPE, OVERRIDES), root, count=COUNT, workers=1)
    leftover = render_processes() - before
    ws = api.open_workspace(root)
    return Run(result, ws, decode_rows(ws), leftover, "bpy" in sys.modules)
