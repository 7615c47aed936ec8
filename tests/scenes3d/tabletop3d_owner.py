"""Helper process for the determinism and kill tests: renders a tiny scene with 1 Cycles thread,
prints its render process's pid and the payloads' digest, then waits to be killed."""
from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import scenes.tabletop3d as tabletop  # noqa: E402


def tiny_render_digest(scene: tabletop.Tabletop3DScene, threads: int) -> str:
    """sha256 over every encoded payload of a small, physics-free, undenoised render."""
    params = tabletop.Tabletop3DParams(width=48, height=48, objects={"count": 2}, physics={"enabled": False},
                                       render={"samples": 4, "denoiser": "none", "threads": threads, "seed": 3})
    sample = scene.render(params, np.random.default_rng(5))
    return hashlib.sha256(b"".join(p.encode()[0] for p in sample.payloads.values())).hexdigest()


if __name__ == "__main__":
    scene = tabletop.Tabletop3DScene()
    digest = tiny_render_digest(scene, threads=1)
    print(scene.server.pid, digest, flush=True)
    time.sleep(600)
