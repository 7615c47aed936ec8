"""Ray executor vs the local process pool: the shapes recipe with 2 local workers vs Ray with 2 CPUs on
this machine; samples/s, the ratio, and Ray's fixed start-up cost (ray.init + first task on fresh workers).

    .venv/bin/python benchmarks/ray_vs_local.py [--count 400] [--runs 3]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from synth import api

ROOT = Path(__file__).resolve().parents[1]


def run_once(recipe, count: int, executor: str) -> tuple[float, str]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{executor}-") as tmp:
        started = time.perf_counter()
        result = api.generate(recipe, str(Path(tmp) / "ws"), count=count, workers=2, executor=executor)
        seconds = time.perf_counter() - started
    return seconds, result.fingerprint


def measure(recipe, count: int, runs: int, executor: str) -> dict[str, float | set[str]]:
    """End-to-end seconds of a small (8) and a full run; the difference gives the marginal rate, free of
    per-run fixed costs (the local pool spawns and imports its workers on every run)."""
    small = [run_once(recipe, 8, executor) for _ in range(runs)]
    full = [run_once(recipe, count, executor) for _ in range(runs)]
    t_small = statistics.median(t for t, _ in small)
    t_full = statistics.median(t for t, _ in full)
    return {"rate": count / t_full, "marginal": (count - 8) / max(t_full - t_small, 1e-9), "fixed": t_small,
            "runs": [count / t for t, _ in full], "fingerprints": {fp for _, fp in full}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    import ray

    recipe = api.validate(ROOT / "recipes" / "shapes.yaml")
    local = measure(recipe, args.count, args.runs, "local")
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, logging_level="warning")
    init_s = time.perf_counter() - started
    first_s, _ = run_once(recipe, 8, "ray")  # the first tasks start Ray's workers, which import synth + scenes
    on_ray = measure(recipe, args.count, args.runs, "ray")
    ray.shutdown()

    print(f"shapes recipe, {args.count} samples of 256x256, 2 local workers vs Ray with 2 CPUs, median of {args.runs}")
    print(f"{'executor':<26}{'samples/s':>11}{'ratio':>7}{'marginal/s':>12}{'ratio':>7}{'8-sample run s':>16}")
    for name, m in (("local pool (2 workers)", local), ("ray (2 CPUs, warm)", on_ray)):
        print(f"{name:<26}{m['rate']:>11.1f}{m['rate'] / local['rate']:>7.2f}{m['marginal']:>12.1f}"
              f"{m['marginal'] / local['marginal']:>7.2f}{m['fixed']:>16.2f}")
    print(f"ray fixed start-up, once per process: ray.init {init_s:.2f} s + first 8-sample run on fresh "
          f"workers {first_s:.2f} s")
    print(f"runs (samples/s) local: {', '.join(f'{r:.1f}' for r in local['runs'])}; "
          f"ray: {', '.join(f'{r:.1f}' for r in on_ray['runs'])}")
    same = len(local["fingerprints"] | on_ray["fingerprints"]) == 1
    print("same fingerprint on every run, local and ray: " + ("yes" if same else "NO"))


if __name__ == "__main__":
    main()
