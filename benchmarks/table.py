"""Table twin: fit + sample N rows x 20 columns, synth (fit -> recipe -> vectorised copula blocks) vs copulas'
GaussianMultivariate (the engine behind SDV's GaussianCopula), with column-shape and pair-trend scores.

Real source: scikit-learn's breast cancer table (569 rows, offline), first 19 features + the 0/1 target,
resampled with noise to N rows. Both sides fit that N-row table and sample N rows; our report code scores both.
copulas runs in a child process under --copulas-timeout: a run that does not finish is reported as such,
with the lower bound on the speed ratio that the timeout gives.

    .venv/bin/python benchmarks/table.py --sizes 10000,100000,1000000 --runs 3 --copulas-timeout 600
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenes.table import TableParams, TableScene  # noqa: E402
from synth.tabular.fit import fit_recipe  # noqa: E402
from synth.report.table import MAX_ROWS, quality_report  # noqa: E402
from synth.core.seeding import RENDER_STREAM, rng_for  # noqa: E402
from synth.tabular.blocks import decode_block  # noqa: E402

BLOCK = 10_000
# copulas configurations: its default (Univariate picks among every candidate, Gaussian KDE included) and
# the parametric candidates only, which is what our fit does (scipy families chosen by KS)
COPULAS = {"copulas default": "default", "copulas parametric": "parametric"}


def real_table(rows: int, seed: int = 0) -> pd.DataFrame:
    """The breast cancer table resampled to `rows` rows, each feature jittered by 5% of its spread."""
    from sklearn.datasets import load_breast_cancer
    frame = load_breast_cancer(as_frame=True).frame
    frame = frame[[*frame.columns[:19], "target"]]
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    rng = np.random.default_rng(seed)
    out = frame.iloc[rng.integers(0, len(frame), rows)].reset_index(drop=True)
    for col in out.columns[:-1]:
        noisy = out[col] + rng.normal(0, 0.05 * frame[col].std(), rows)
        out[col] = np.round(np.clip(noisy, 0, None), 5)  # every feature is a non-negative measurement
    return out


def ours(path: Path, rows: int) -> tuple[float, pd.DataFrame]:
    t0 = time.perf_counter()
    recipe = fit_recipe(path, rows_per_sample=BLOCK)
    block = min(BLOCK, rows)
    params = TableParams.model_validate({**recipe["params"], "rows_per_sample": block})
    scene = TableScene()
    blocks = [decode_block(scene.render(params, rng_for(1, i, RENDER_STREAM)).payloads["table"].encode()[0],
                           "parquet") for i in range(rows // block)]
    frame = pd.concat(blocks, ignore_index=True)
    return time.perf_counter() - t0, frame


def copulas_child(path: str, out: str, variant: str) -> None:
    """Runs in its own process (so a timeout can stop it): fit + sample, time printed as JSON."""
    from copulas.multivariate import GaussianMultivariate
    from copulas.univariate import ParametricType, Univariate
    real = pd.read_parquet(path)
    t0 = time.perf_counter()
    model = GaussianMultivariate() if variant == "default" else \
        GaussianMultivariate(distribution=Univariate(parametric=ParametricType.PARAMETRIC))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(real)
        frame = model.sample(len(real))
    seconds = time.perf_counter() - t0
    # the report scores a MAX_ROWS subsample anyway: write only that (same draw as quality_report's)
    if len(frame) > MAX_ROWS:
        frame = frame.sample(MAX_ROWS, random_state=0)
    frame.to_parquet(out)
    print(json.dumps({"seconds": seconds}))


def copulas_run(path: Path, variant: str, timeout: float) -> tuple[float | None, pd.DataFrame | None]:
    out = path.with_suffix(f".{variant}.parquet")
    try:
        done = subprocess.run([sys.executable, __file__, "--copulas-child", str(path), str(out), variant],
                              capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None, None
    seconds = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    frame = pd.read_parquet(out)
    frame["target"] = frame["target"].round().clip(0, 1).astype(int)  # copulas models the 0/1 target as a float
    return seconds, frame


def scores(real: pd.DataFrame, synth: pd.DataFrame) -> dict[str, float]:
    q = quality_report(real, synth, target="target")
    return {"shapes": q["column_shapes"]["score"], "trends": q["pair_trends"]["score"],
            "tstr": q["ml_efficacy"]["train_synthetic"], "trtr": q["ml_efficacy"]["train_real"]}


def bench_size(rows: int, runs: int, timeout: float, tmp: Path, gave_up: set[str]) -> list[dict]:
    """Median times and scores at one size; `gave_up` holds the copulas configurations that already
    timed out at a smaller size (more rows only take longer, so the timeout still bounds the ratio)."""
    real = real_table(rows)
    path = tmp / f"real_{rows}.parquet"
    real.to_parquet(path)
    times: dict[str, list[float]] = {"synth": []}
    frames: dict[str, pd.DataFrame] = {}
    timed_out = gave_up
    for run in range(runs):  # interleaved, so load on the shared machine hits every side alike
        t, frames["synth"] = ours(path, rows)
        times["synth"].append(t)
        for name, variant in COPULAS.items():
            if name in timed_out or (run > 0 and times[name][0] > timeout / 3):
                continue  # one slow run is enough: repeats would not fit the budget
            t, frame = copulas_run(path, variant, timeout)
            if t is None:
                timed_out.add(name)
            else:
                times.setdefault(name, []).append(t)
                frames[name] = frame
        print(f"  {rows:,} rows: run {run + 1} done", file=sys.stderr, flush=True)
    rows_out = []
    for name in ["synth", *COPULAS]:
        if name in timed_out:
            rows_out.append({"rows": rows, "name": name, "seconds": None, "runs": 0})
            continue
        rows_out.append({"rows": rows, "name": name, "seconds": statistics.median(times[name]),
                         "runs": len(times[name]), **scores(real, frames[name])})
    return rows_out


def table(results: list[dict], timeout: float) -> str:
    lines = [f"{'rows':>10s}  {'':20s}{'seconds':>10s}{'runs':>6s}{'col shapes':>12s}{'pair trends':>13s}"
             f"{'TSTR acc':>10s}{'copulas/synth':>15s}"]
    for r in results:
        ours_t = next(x["seconds"] for x in results if x["rows"] == r["rows"] and x["name"] == "synth")
        if r["seconds"] is None:
            lines.append(f"{r['rows']:>10,}  {r['name']:20s}  did not finish in {timeout:.0f} s (or at fewer rows)"
                         f"{'':>4s}>= {timeout / ours_t:.1f}x")
            continue
        ratio = "" if r["name"] == "synth" else f"{r['seconds'] / ours_t:.1f}x"
        lines.append(f"{r['rows']:>10,}  {r['name']:20s}{r['seconds']:10.1f}{r['runs']:6d}{r['shapes']:12.3f}"
                     f"{r['trends']:13.3f}{r['tstr']:10.3f}{ratio:>15s}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="Row counts, comma-separated.")
    ap.add_argument("--runs", type=int, default=3, help="Runs per size; medians are reported.")
    ap.add_argument("--copulas-timeout", type=float, default=600, help="Seconds before a copulas run is stopped.")
    ap.add_argument("--copulas-child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.copulas_child:
        copulas_child(*args.copulas_child)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results: list[dict] = []
    gave_up: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for rows in sizes:
            results += bench_size(rows, args.runs, args.copulas_timeout, Path(tmp), gave_up)
    print(f"fit + sample N rows x 20 columns (breast cancer resampled), median of up to {args.runs} runs; "
          f"scores by synth's report on {MAX_ROWS:,} synthetic rows; TSTR = train synthetic, test real")
    print(table(results, args.copulas_timeout))
    trtr = ", ".join(f"{r['rows']:,}: {r['trtr']:.3f}" for r in results if r["name"] == "synth")
    print(f"train-real accuracy (same test rows) {trtr}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
