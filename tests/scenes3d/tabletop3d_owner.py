"""Helper process for the kill test: renders once, prints its render process's pid, then waits."""
from __future__ import annotations

import time

import numpy as np

import scenes.tabletop3d as tabletop

params = tabletop.Tabletop3DParams(objects={"count": 1}, render={"samples": 1, "denoiser": "none"})
tabletop.Tabletop3DScene().render(params, np.random.default_rng(0))
print(tabletop._server().pid, flush=True)
time.sleep(600)
