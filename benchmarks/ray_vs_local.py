"""Ray executor vs the local process pool: the shapes recipe with 2 local workers vs Ray with 2 CPUs on
this machine; samples/s, the ratio, and Ray's fixed start-up cost (ray.init + first task on fresh workers).

    .venv/bin/python benchmarks/ray_vs_local.py [--count 400] [--runs 3]
    .venv/bin/python benchmarks/ray_vs_local.py --two-nodes     # a 2-node cluster (1 CPU each) on this machine
    .venv/bin/python benchmarks/ray_vs_local.py --address HOST:6379   # an already running cluster

With a cluster, Ray's CPUs are the cluster's; the ratio is per CPU (samples/s per Ray CPU over samples/s per
local worker).
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from synth import api

ROOT = Path(__file__).resolve().parents[1]


WORKERS = 2


def run_once(recipe, count: int, executor: str) -> tuple[float, str]:
    with tempfile.TemporaryDirectory(prefix=f"bench-{executor}-") as tmp:
        started = time.perf_counter()
        result = api.generate(recipe, str(Path(tmp) / "ws"), count=count, workers=WORKERS, executor=executor)
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


def start_two_nodes() -> tuple[str, Path]:
    """`ray start --head` and `ray start --address` with 1 CPU each, own temp dirs, on 127.0.0.1."""
    ray_bin = str(Path(sys.executable).with_name("ray"))
    short = Path(tempfile.mkdtemp(prefix="rb", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if k != "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"}
    env.update(RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0")
    port = 6400 + os.getpid() % 1000
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats"]
    subprocess.run([ray_bin, "start", "--head", "--port", str(port), "--temp-dir", str(short / "h"),
                    "--include-dashboard", "false", *common], env=env, check=True, capture_output=True)
    subprocess.run([ray_bin, "start", "--address", f"127.0.0.1:{port}", "--temp-dir", str(short / "w"), *common],
                   env=env, check=True, capture_output=True)
    os.environ.update(RAY_AUTH_MODE="disabled", RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")  # this driver: loopback
    return f"127.0.0.1:{port}", short


def stop_two_nodes(short: Path) -> None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(short) in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    os.kill(int(entry.name), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass
    shutil.rmtree(short, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--address", default=None, help="an already running Ray cluster")
    parser.add_argument("--two-nodes", action="store_true", help="start a 2-node cluster on this machine")
    args = parser.parse_args()
    import ray

    recipe = api.validate(ROOT / "recipes" / "shapes.yaml")
    local = measure(recipe, args.count, args.runs, "local")
    short = None
    address = args.address
    if args.two_nodes:
        address, short = start_two_nodes()
    started = time.perf_counter()
    if address:
        ray.init(address=address, logging_level="warning", log_to_driver=False)
    else:
        ray.init(num_cpus=WORKERS, include_dashboard=False, logging_level="warning", _node_ip_address="127.0.0.1")
    init_s = time.perf_counter() - started
    cpus = int(ray.cluster_resources().get("CPU", WORKERS))
    nodes = len([n for n in ray.nodes() if n["Alive"]])
    try:
        first_s, _ = run_once(recipe, 8, "ray")  # the first tasks start Ray's workers, which import synth + scenes
        on_ray = measure(recipe, args.count, args.runs, "ray")
    finally:
        ray.shutdown()
        if short is not None:
            stop_two_nodes(short)

    where = f"Ray cluster of {nodes} node(s), {cpus} CPUs" if address else f"local Ray with {cpus} CPUs"
    print(f"shapes recipe, {args.count} samples of 256x256, {WORKERS} local workers vs {where}, median of {args.runs}")
    print(f"{'executor':<30}{'samples/s':>11}{'per CPU':>9}{'ratio/CPU':>10}{'marginal/s':>12}{'ratio/CPU':>10}"
          f"{'8-sample run s':>16}")
    for name, m, n in ((f"local pool ({WORKERS} workers)", local, WORKERS), (f"ray ({cpus} CPUs, warm)", on_ray, cpus)):
        per, per_local = m["rate"] / n, local["rate"] / WORKERS
        print(f"{name:<30}{m['rate']:>11.1f}{per:>9.1f}{per / per_local:>10.2f}{m['marginal']:>12.1f}"
              f"{(m['marginal'] / n) / (local['marginal'] / WORKERS):>10.2f}{m['fixed']:>16.2f}")
    print(f"ray fixed start-up, once per process: ray.init {init_s:.2f} s + first 8-sample run on fresh "
          f"workers {first_s:.2f} s")
    print(f"runs (samples/s) local: {', '.join(f'{r:.1f}' for r in local['runs'])}; "
          f"ray: {', '.join(f'{r:.1f}' for r in on_ray['runs'])}")
    same = len(local["fingerprints"] | on_ray["fingerprints"]) == 1
    print("same fingerprint on every run, local and ray: " + ("yes" if same else "NO"))


if __name__ == "__main__":
    main()
