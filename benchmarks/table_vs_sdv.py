"""synth fit vs SDV's GaussianCopulaSynthesizer on the same 70/30 splits of four tables: breast cancer, wine,
diabetes (regression) and a mixed iris table (numbers, a category, a boolean, the species as a text target).

For each table and synthesizer, 6 synthetic draws of as many rows as the training split; the mean over draws of:
TSTR/TRTR (train on synthetic, test on the real 30% / train on the real 70%, same test) for a random forest and a
linear model; SDMetrics' quality (column shapes, column pair trends; synth.report.table computes both exactly as
SDMetrics 0.32's QualityReport, tested in tests/table/test_sdmetrics_agreement.py); the DCR ratio (median Gower
distance of synthetic rows to the training rows / of real test rows to the training rows; 1 = as far as new real
rows); the share of synthetic rows that copy a training row; fit and sample seconds. synth runs twice: plain and
with `synth fit --privacy`. `--big` adds a 100,000 x 20 table end to end (fit + sample to a file), wall time and
peak memory of each side's process.

SDV is not a dependency of synth: it lives in its own virtual environment, made on first use (from PyPI):

    python3 -m venv /tmp/sdvenv && /tmp/sdvenv/bin/pip install sdv pyarrow
    .venv/bin/python benchmarks/table_vs_sdv.py [--draws 6] [--big] [--sdv-python /tmp/sdvenv/bin/python]

The SDV side runs this same file under that interpreter (`--sdv-worker`), which imports nothing from synth.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def sdv_worker(spec_path: str) -> None:
    """Under the SDV interpreter: fit GaussianCopulaSynthesizer on spec['train'] and write spec['draws']
    samples of spec['rows'] rows as Parquet; seconds in spec['out']/timing.json."""
    import warnings
    warnings.filterwarnings("ignore")
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer
    spec = json.loads(Path(spec_path).read_text())
    train = pd.read_parquet(spec["train"])
    t0 = time.perf_counter()
    metadata = Metadata.detect_from_dataframes({"t": train}, infer_keys=None)
    model = GaussianCopulaSynthesizer(metadata)
    model.fit({"t": train})  # SDV 2.0: data is {table name: frame}, single tables included
    fit_s = time.perf_counter() - t0
    out, sample_s = Path(spec["out"]), []
    for d in range(spec["draws"]):
        t0 = time.perf_counter()
        frame = model.sample(spec["rows"])
        frame = frame["t"] if isinstance(frame, dict) else frame
        sample_s.append(time.perf_counter() - t0)
        if spec.get("csv"):
            frame.to_csv(out / f"draw{d}.csv", index=False)
        else:
            frame.to_parquet(out / f"draw{d}.parquet", index=False)
    (out / "timing.json").write_text(json.dumps({"fit_s": fit_s, "sample_s": sample_s}))


# ---------------------------------------------------------------------------------------------------- tables

def tables() -> dict[str, tuple[pd.DataFrame, str]]:
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine
    out = {}
    for name, loader in (("breast_cancer", load_breast_cancer), ("wine", load_wine), ("diabetes", load_diabetes)):
        frame = loader(as_frame=True).frame
        frame.columns = [str(c).replace(" ", "_") for c in frame.columns]
        out[name] = (frame, "target")
    iris = load_iris(as_frame=True).frame
    iris.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "target"]
    iris["species"] = iris.pop("target").map({0: "setosa", 1: "versicolor", 2: "virginica"})
    iris["wide_sepal"] = iris["sepal_width"] > 3.0
    iris["petal_size"] = pd.cut(iris["petal_length"], [0, 2, 5, 10], labels=["small", "medium", "large"]).astype(str)
    out["iris_mixed"] = (iris, "species")
    return out


def split(frame: pd.DataFrame, target: str, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    from sklearn.model_selection import train_test_split
    classify = frame[target].dtype == object or frame[target].nunique() <= 10
    train, test = train_test_split(frame, test_size=0.3, random_state=seed,
                                   stratify=frame[target] if classify else None)
    return train.reset_index(drop=True), test.reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ synthesizers

def synth_draws(train: pd.DataFrame, target: str, draws: int, work: Path, privacy: bool) -> tuple[list, float, list]:
    sys.path.insert(0, str(ROOT))
    from synth.exporters.tabular import sample_file
    from synth.recipe.loader import load_recipe
    from synth.tabular.fit import fit_recipe, privacy_settings, write_recipe
    train.to_csv(work / "train.csv", index=False)
    t0 = time.perf_counter()
    recipe = fit_recipe(work / "train.csv", name="twin", rows_per_sample=len(train), target=target,
                        privacy=privacy_settings(privacy))
    write_recipe(recipe, work / "twin.yaml")
    fit_s = time.perf_counter() - t0
    frames, sample_s = [], []
    for d in range(draws):
        t0 = time.perf_counter()
        sample_file(load_recipe(work / "twin.yaml", {"seed": 1 + d}), len(train), work / f"draw{d}.parquet")
        sample_s.append(time.perf_counter() - t0)
        frames.append(pd.read_parquet(work / f"draw{d}.parquet"))
    return frames, fit_s, sample_s


def sdv_draws(train: pd.DataFrame, draws: int, work: Path, python: str) -> tuple[list, float, list]:
    train.to_parquet(work / "train.parquet", index=False)
    spec = {"train": str(work / "train.parquet"), "rows": len(train), "draws": draws, "out": str(work)}
    (work / "spec.json").write_text(json.dumps(spec))
    subprocess.run([python, __file__, "--sdv-worker", str(work / "spec.json")], check=True)
    timing = json.loads((work / "timing.json").read_text())
    return [pd.read_parquet(work / f"draw{d}.parquet") for d in range(draws)], timing["fit_s"], timing["sample_s"]


# ------------------------------------------------------------------------------------------------------ scoring

def score(train: pd.DataFrame, test: pd.DataFrame, target: str, frames: list[pd.DataFrame]) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from synth.report.table import ml_efficacy, privacy_report, quality_report
    rows = []
    for frame in frames:
        frame = frame[train.columns]
        ml = ml_efficacy(train, frame, target, holdout=test, draws=1, families=("forest", "linear"))
        q = quality_report(train, frame, privacy=False)
        p = privacy_report(train, frame, test)
        rows.append({
            **{f"tstr/trtr {f}": m["train_synthetic"] / m["train_real"] for f, m in ml["models"].items()},
            **{f"tstr {f}": m["train_synthetic"] for f, m in ml["models"].items()},
            **{f"trtr {f}": m["train_real"] for f, m in ml["models"].items()},
            "shapes": q["column_shapes"]["score"], "pair trends": q["pair_trends"]["score"] or np.nan,
            "quality": np.nanmean([q["column_shapes"]["score"], q["pair_trends"]["score"] or np.nan]),
            "dcr ratio": p["dcr"]["ratio"], "copies": p["exact_copies"]["rate"],
            "membership auc": p["membership"]["auc"],
        })
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def big_table(rows: int = 100_000, seed: int = 0) -> pd.DataFrame:
    """20 columns: 15 correlated numbers of several shapes, 4 categories, a 0/1 target."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(rows, 16)) @ np.linalg.cholesky(0.4 * np.ones((16, 16)) + 0.6 * np.eye(16)).T
    frame = pd.DataFrame({f"x{i}": z[:, i] if i % 3 == 0 else np.exp(z[:, i] / 2) if i % 3 == 1
                          else np.round(50 + 10 * z[:, i], 1) for i in range(15)})
    for j in range(4):
        frame[f"c{j}"] = np.asarray(["a", "b", "c", "d", "e"])[np.digitize(z[:, (j + 3) % 16], [-1, -0.3, 0.3, 1])]
    frame["target"] = (z[:, 15] > 0).astype(int)
    return frame


def run_timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of a child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024


def big(python: str, work: Path) -> None:
    frame = big_table()
    frame.to_csv(work / "big.csv", index=False)
    frame.to_parquet(work / "big.parquet", index=False)
    synth = str(ROOT / ".venv" / "bin" / "synth")
    fit_s, fit_mb = run_timed([synth, "fit", str(work / "big.csv"), "-o", str(work / "big.yaml"), "-q",
                               "--rows-per-sample", "100000"])
    sample_s, sample_mb = run_timed([synth, "sample", str(work / "big.yaml"), "-n", "100000", "-o",
                                     str(work / "big_synth.csv"), "-q"])
    spec = {"train": str(work / "big.parquet"), "rows": len(frame), "draws": 1, "out": str(work), "csv": True}
    (work / "spec.json").write_text(json.dumps(spec))
    sdv_s, sdv_mb = run_timed([python, __file__, "--sdv-worker", str(work / "spec.json")])
    ours = fit_s + sample_s
    print("\n100,000 x 20, CSV in -> CSV out, end to end (each its own process):")
    print(f"  synth fit + sample  {ours:7.1f} s  (fit {fit_s:.1f} s, sample {sample_s:.1f} s)  peak "
          f"{max(fit_mb, sample_mb):,.0f} MiB")
    print(f"  SDV GaussianCopula  {sdv_s:7.1f} s  (fit + sample, incl. imports)  peak {sdv_mb:,.0f} MiB")
    print(f"  speed-up {sdv_s / ours:.1f}x, memory {sdv_mb / max(fit_mb, sample_mb):.1f}x less")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--draws", type=int, default=6)
    ap.add_argument("--sdv-python", default="/tmp/sdvenv/bin/python")
    ap.add_argument("--tables", default="breast_cancer,wine,diabetes,iris_mixed")
    ap.add_argument("--big", action="store_true", help="Also time 100,000 x 20 end to end.")
    ap.add_argument("--sdv-worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.sdv_worker:
        return sdv_worker(args.sdv_worker)
    if not Path(args.sdv_python).exists():
        raise SystemExit(f"no SDV interpreter at {args.sdv_python}: python3 -m venv /tmp/sdvenv && "
                         "/tmp/sdvenv/bin/pip install sdv pyarrow")
    from threadpoolctl import threadpool_limits
    results = []
    with tempfile.TemporaryDirectory() as tmp, threadpool_limits(1):
        for name, (frame, target) in tables().items():
            if name not in args.tables.split(","):
                continue
            train, test = split(frame, target)
            for label in ("synth", "synth --privacy", "SDV GaussianCopula"):
                work = Path(tmp) / f"{name}_{label.split()[-1]}"
                work.mkdir()
                if label.startswith("synth"):
                    frames, fit_s, sample_s = synth_draws(train, target, args.draws, work, "privacy" in label)
                else:
                    frames, fit_s, sample_s = sdv_draws(train, args.draws, work, args.sdv_python)
                results.append({"table": name, "rows": f"{len(train)}/{len(test)}", "synthesizer": label,
                                **score(train, test, target, frames), "fit s": fit_s,
                                "sample s": float(np.mean(sample_s))})
                print(f"{name:14} {label:20} done", file=sys.stderr)
        table = pd.DataFrame(results)
        cols = ["table", "rows", "synthesizer", "tstr/trtr forest", "tstr/trtr linear", "tstr forest",
                "trtr forest", "tstr linear", "trtr linear", "shapes", "pair trends", "quality", "dcr ratio",
                "copies", "membership auc", "fit s", "sample s"]
        print(f"\nmean of {args.draws} draws; train/test = 70/30 split (seed 0); TSTR tested on the 30%; "
              "metric accuracy (diabetes: r2)")
        with pd.option_context("display.width", 250, "display.max_columns", 30):
            print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        if args.big:
            big(args.sdv_python, Path(tmp))


if __name__ == "__main__":
    main()
