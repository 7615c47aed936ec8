"""Drops one tabletop3d sample many times and counts the distinct rest poses (rounded to 1e-6), with our
drop (synth/render3d/physics.py) or BlenderProc's, in one reused Blender process and in fresh ones.

    .venv/bin/python scripts/physics_determinism.py --index 2 --runs 10 --method both
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def drop_poses(request: dict[str, Any]) -> list[list[float]]:
    """Render-server handler (runs inside Blender): build the scene, drop it, return each object's
    local-to-world matrix. No rendering, so a run takes a second."""
    from synth.render3d import physics as blender_physics
    from synth.render3d import blender_scene
    bproc = blender_scene.import_blenderproc()
    spec = request["spec"]
    blender_scene._reset_scene(bproc)
    blender_scene._build_table(bproc, spec["table"])
    objects = [blender_scene._build_object(bproc, o) for o in spec["objects"]]
    physics = spec["physics"]
    if request["method"] == "blenderproc":
        bproc.object.simulate_physics_and_fix_final_poses(
            min_simulation_time=physics["min_time_s"], max_simulation_time=physics["max_time_s"],
            check_object_interval=0.5)
    else:
        blender_physics.drop(objects, physics["min_time_s"], physics["max_time_s"])
    return [np.asarray(o.get_local2world_mat()).ravel().tolist() for o in objects]


def fingerprint(poses: list[list[float]]) -> str:
    return hashlib.sha256(np.round(np.asarray(poses), 6).tobytes()).hexdigest()[:12]


def run(spec: dict[str, Any], method: str, runs: int, fresh: bool) -> tuple[Counter, float]:
    """Distinct pose sets over `runs` drops, and the largest coordinate difference to the first run."""
    from synth.render3d.render_server import RenderServer
    seen: Counter = Counter()
    first, spread = None, 0.0
    server = None
    for _ in range(runs):
        if server is None or fresh:
            if server is not None:
                server.close()
            server = RenderServer("physics_determinism:drop_poses")
        poses = np.asarray(server.call({"spec": spec, "method": method}))
        seen[fingerprint(poses.tolist())] += 1
        first = poses if first is None else first
        spread = max(spread, float(np.abs(poses - first).max()))
    server.close()
    return seen, spread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=str(ROOT / "recipes" / "tabletop3d.yaml"))
    parser.add_argument("--index", type=int, default=2, help="sample index in the recipe")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--method", choices=("ours", "blenderproc", "both"), default="both")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    # the render server is a child process; it finds drop_poses through PYTHONPATH
    os.environ["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), str(ROOT),
                                                os.environ.get("PYTHONPATH", "")])
    import scenes.tabletop3d as tabletop
    from synth import api
    from synth.recipe.plan import Plan
    from synth.core.seeding import RENDER_STREAM, rng_for
    recipe = api.validate(args.recipe)
    spec = tabletop.draw_spec(Plan(recipe).params_for(args.index).params,
                              rng_for(recipe.seed, args.index, RENDER_STREAM))
    print(f"sample {args.index} of {recipe.name}: {[o['class'] for o in spec['objects']]}")
    methods = ("blenderproc", "ours") if args.method == "both" else (args.method,)
    print(f"{'method':<12}{'processes':<11}{'runs':>5}{'distinct':>10}{'max diff (m or rad)':>22}")
    for method in methods:
        for fresh in (False, True):
            seen, spread = run(spec, method, args.runs, fresh)
            print(f"{method:<12}{'fresh' if fresh else 'reused':<11}{args.runs:>5}{len(seen):>10}{spread:>22.6f}")


if __name__ == "__main__":
    main()
