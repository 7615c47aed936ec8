"""`receipt` end to end at 768x1024 through synth.api.generate (render, encode, hash, store, manifest
commit): samples/s with 1 worker and per worker with 2 (runs alternate), median of several fresh runs,
next to the scene's render alone (CPU time).
Run: .venv/bin/python benchmarks/receipt_e2e.py [--count 24] [--runs 3] [--recipe recipes/receipts.yaml]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

from synth import api
from synth.recipe.plan import Plan


def render_only(recipe: str, count: int) -> tuple[float, float]:
    """(wall, CPU) seconds per sample of the scene's render alone, same params as the run."""
    from scenes.receipt import ReceiptScene
    r = api.validate(recipe)
    plan, scene = Plan(r), ReceiptScene()
    draws = [plan.params_for(i).params for i in range(count)]
    scene.render(draws[0], np.random.default_rng(0))  # warm-up: fonts, tables
    t, c = time.perf_counter(), time.process_time()
    for i, p in enumerate(draws):
        scene.render(p, np.random.default_rng(i))
    return (time.perf_counter() - t) / count, (time.process_time() - c) / count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="recipes/receipts.yaml")
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rates, pair = [], []  # 1 worker (OpenCV may use both cores) and 2 workers (one core each)
    for _ in range(args.runs):
        for workers, out in ((1, rates), (2, pair)):
            with tempfile.TemporaryDirectory(prefix="synth-bench-") as ws:
                res = api.generate(args.recipe, workspace=ws, count=args.count * workers, workers=workers)
                out.append(res.new_rows / res.seconds / workers)
    wall, cpu = render_only(args.recipe, args.count)
    print(f"{args.recipe}: {args.count} samples 768x1024, 1 worker, {args.runs} runs, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (a shared machine: wall times are noisy)")
    print(f"{'measure':<44}{'median':>10}{'runs':>30}")
    print(f"{'end to end via synth.api.generate, samples/s':<44}{statistics.median(rates):>10.2f}"
          f"{' '.join(f'{r:.2f}' for r in rates):>30}")
    print(f"{'2 workers end to end, samples/s per worker':<44}{statistics.median(pair):>10.2f}"
          f"{' '.join(f'{r:.2f}' for r in pair):>30}")
    print(f"{'render only, samples/s (wall)':<44}{1 / wall:>10.2f}")
    print(f"{'render only, samples/s (CPU time)':<44}{1 / cpu:>10.2f}")
    print("target: >= 12 samples/s per worker end to end")


if __name__ == "__main__":
    main()
