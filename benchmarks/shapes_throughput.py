"""Shapes end to end (render, PNG image + mask, store, manifest commit) with 1 and 2 workers.

Usage: python benchmarks/shapes_throughput.py [--count 3000] [--runs 3]
Prints samples/s per worker count (median of runs, 1- and 2-worker runs alternate so drifting machine load
hits both alike) and the 2-worker / 1-worker ratio. Each run is a fresh workspace and includes everything
a user waits for: helper start-up, rendering, PNG encoding, blob files, staging, the manifest commit.
Targets (issue 2): >= 300 samples/s per worker; 2 workers >= 1.7x of 1.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from synth import api

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "shapes.yaml"


def run(count: int, workers: int) -> float:
    root = tempfile.mkdtemp(prefix="synth-bench-")
    try:
        t0 = time.perf_counter()
        result = api.generate(RECIPE, os.path.join(root, "ws"), count=count, workers=workers)
        elapsed = time.perf_counter() - t0
        assert result.new_rows == count
        return count / elapsed
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    samples: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(args.runs):
        for workers in (1, 2):
            samples[workers].append(run(args.count, workers))
    rates = {w: statistics.median(s) for w, s in samples.items()}
    for w, s in samples.items():
        print(f"workers={w}: " + ", ".join(f"{x:.0f}" for x in s) + f" samples/s  (median {rates[w]:.0f})")
    print()
    print(f"| workers | samples/s (median of {args.runs}) | per worker |")
    print("|---|---|---|")
    for w, r in rates.items():
        print(f"| {w} | {r:.0f} | {r / w:.0f} |")
    print(f"\nratio 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x   (load average now: {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
