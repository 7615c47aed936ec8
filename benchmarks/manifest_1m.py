"""Manifest at 1M rows: commit, mix, diff of two 1M versions, leaf-label selection over 1M labels with
100k corrections; wall time and peak RSS per stage (each stage in a fresh process, peak reset after its input is built), next to a plain
`pyarrow.parquet.write_table` of the same rows (the reference: our overhead over the floor).

    .venv/bin/python benchmarks/manifest_1m.py [--rows 1000000] [--corrections 100000] [--repeat 3]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import numpy as np
import pyarrow as pa


def make_rows(n: int, seed: int, origin: str) -> pa.Table:
    from synth.store.manifest import SCHEMA
    rng = np.random.default_rng(seed)
    ids = [f"{x:024x}" for x in rng.integers(0, 2**62, n, dtype=np.int64)]
    hashes = [f"{x:016x}" * 4 for x in rng.integers(0, 2**62, n, dtype=np.int64)]
    classes = rng.integers(0, 10, n)
    labels = [f'{{"class":"c{c}"}}' for c in classes]
    cols = {
        "sample_id": ids, "origin": [origin] * n, "recipe_name": ["bench"] * n, "recipe_hash": ["r" * 64] * n,
        "index": np.arange(n), "seed": rng.integers(0, 2**62, n).astype(np.uint64), "params": ['{"a":1.5}'] * n,
        "scene": ["shapes"] * n, "scene_version": ["1"] * n, "labels": labels,
        "payloads": [f'{{"image":{{"hash":"{h}","kind":"image","format":"png"}}}}' for h in hashes],
        "width": np.full(n, 64, np.int32), "height": np.full(n, 64, np.int32),
        "split": np.where(classes < 8, "train", "test").tolist(), "group_key": ids, "source": [None] * n,
        "license": [None] * n, "note": [None] * n, "row_hash": hashes,
    }
    return pa.table(cols, schema=SCHEMA)


def stage(name: str, ws_path: str, rows: int, corrections: int) -> dict:
    """Runs in a child process; returns seconds and peak RSS of this process."""
    from synth.store import lineage
    from synth.store.commit import commit
    from synth.store.diff import diff
    from synth.data.mix import mix
    from synth.store.workspace import Workspace

    ws = Workspace.open(ws_path, create=True)
    if name == "setup":
        commit(ws, make_rows(rows, 1, "real"), "real", operation="import")
        return {}
    table = make_rows(rows, 2, "synthetic") if name in ("commit", "parquet") else None
    _reset_peak()  # the peak counts from here: the stage itself (and its input table), not building the input
    t0 = time.perf_counter()
    if name == "parquet":
        import pyarrow.parquet as pq
        pq.write_table(table, os.path.join(ws_path, f"plain-{uuid.uuid4().hex}.parquet"))
    elif name == "commit":
        commit(ws, table, "synthetic 1M", operation="generate")
    elif name == "mix":
        mix(ws, ["real:1", "synthetic:2"], "real=1,synthetic=3")
    elif name == "diff":
        diff(ws, 2, 3)
    elif name == "correct":
        ids = ws.manifest.to_table(columns=["sample_id"]).column("sample_id").to_pylist()[:corrections]
        _corrections(ws, ids)
    elif name == "leaves":
        out = lineage.current_labels(ws)
        assert out.num_rows == ws.manifest.to_table(columns=["sample_id"]).num_rows
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_mib": _peak_mib()}


def _reset_peak() -> None:
    """Linux: writing 5 to clear_refs resets the process's peak RSS (VmHWM) to its current RSS."""
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_mib() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # whole process, if /proc is absent


def _corrections(ws, ids: list[str]) -> None:
    """100k corrections through the same path as `synth labels import` (validation included)."""
    from synth.data.corrections import Correction, commit_corrections
    items = [Correction(s, {"class": "fixed"}) for s in ids]
    commit_corrections(ws, items, message="100k corrections")


def run_child(name: str, ws: str, rows: int, corrections: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--stage", name, "--ws", ws, "--rows", str(rows),
                          "--corrections", str(corrections)], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"stage {name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--corrections", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--stage")
    ap.add_argument("--ws")
    a = ap.parse_args()
    if a.stage:
        print(json.dumps(stage(a.stage, a.ws, a.rows, a.corrections)))
        return
    results: dict[str, list[dict]] = {}
    for _ in range(a.repeat):
        ws = tempfile.mkdtemp(prefix="synth-bench-") + "/ws"
        try:
            run_child("setup", ws, a.rows, a.corrections)                  # v1: 1M real rows
            for name in ("parquet", "commit", "mix", "diff", "correct", "leaves"):  # commit -> v2, mix -> v3
                results.setdefault(name, []).append(run_child(name, ws, a.rows, a.corrections))
        finally:
            shutil.rmtree(os.path.dirname(ws), ignore_errors=True)
    ref = statistics.median(r["seconds"] for r in results["parquet"])
    print(f"rows={a.rows} corrections={a.corrections} runs={a.repeat} load={os.getloadavg()[0]:.2f}")
    print(f"{'stage':<34}{'median s':>10}{'ratio':>9}{'peak MiB':>10}")
    names = {"parquet": "pyarrow.parquet.write_table (ref)", "commit": "synth commit (append 1M to 1M)",
             "mix": "mix real:1 + synthetic:2 (1:3)", "diff": "diff two 1M versions",
             "correct": f"commit {a.corrections} corrections", "leaves": "leaf labels (DuckDB)"}
    for name, rs in results.items():
        s = statistics.median(r["seconds"] for r in rs)
        peak = max(r["peak_mib"] for r in rs)
        ratio = f"{s / ref:.2f}x" if name in ("parquet", "commit") else ""
        print(f"{names[name]:<34}{s:>10.2f}{ratio:>9}{peak:>10.0f}")


if __name__ == "__main__":
    main()
