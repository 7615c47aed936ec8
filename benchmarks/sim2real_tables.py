"""Sim-to-real on real tables (scikit-learn's wine and breast cancer, offline): does `synth tune --metric c2st`
move a fitted twin closer to its table, and what does that do to TSTR?

Protocol per table and seed: a stratified 70/30 split; `synth fit --tune K` on the 70% (the tune: block opens
loc and scale of the K worst-fitting marginals); the 70% imported as the real version; `synth tune --metric c2st`
against it (no labels used). Then, before (the fitted recipe) and after (the tuned variant, or the fitted recipe
when no trial beat it): the two-sample AUC against the 70% (0.5 = indistinguishable) and TSTR/TRTR on the 30%
(a random forest and a logistic regression trained on as many synthetic rows as the 70% has, over `--draws`
draws; TRTR trains on the 70%).

    .venv/bin/python benchmarks/sim2real_tables.py [--seeds 0 1 2] [--trials 16] [--tune 5] [--draws 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from synth import api  # noqa: E402
from synth.loop.stats import c2st  # noqa: E402
from synth.recipe.loader import load_recipe  # noqa: E402

TABLES = {"wine": load_wine, "breast_cancer": load_breast_cancer}
MODELS = {"forest": lambda s: RandomForestClassifier(200, random_state=s, n_jobs=1),
          "linear": lambda s: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))}


def draw(recipe: Path, rows: int, seed: int, work: Path) -> pd.DataFrame:
    """`rows` rows of the recipe with its seed moved by `seed` (each draw a new table), via `synth sample`."""
    variant = work / f"{recipe.stem}_draw{seed}.yaml"
    variant.write_text(f"extends: {recipe.resolve()}\nseed: {1000 + seed}\n")
    out = work / f"{variant.stem}.parquet"
    api.sample(variant, rows, out)
    return pd.read_parquet(out)


def scores(recipe: Path, train: pd.DataFrame, test: pd.DataFrame, draws: int, work: Path,
           classifier: str) -> dict[str, float]:
    out: dict[str, list[float]] = {}
    features = [c for c in train.columns if c != "target"]
    for d in range(draws):
        syn = draw(recipe, len(train), d, work)[train.columns]
        X = np.vstack([syn[features].to_numpy(float), train[features].to_numpy(float)])
        is_real = np.r_[np.zeros(len(syn)), np.ones(len(train))].astype(int)
        out.setdefault("auc", []).append(c2st(X, is_real, classifier=classifier, seed=d, n_boot=0).auc)
        for name, make in MODELS.items():
            tstr = make(d).fit(syn[features], syn["target"].astype(int)).score(test[features], test["target"])
            trtr = make(d).fit(train[features], train["target"]).score(test[features], test["target"])
            out.setdefault(f"tstr/trtr {name}", []).append(tstr / trtr)
    return {k: float(np.mean(v)) for k, v in out.items()}


def one(table: str, seed: int, args: argparse.Namespace, root: Path) -> dict[str, float]:
    frame = TABLES[table](as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.3, random_state=seed, stratify=frame["target"])
    work = root / f"{table}{seed}"
    work.mkdir(parents=True)
    train.to_csv(work / "train.csv", index=False)
    recipe = work / f"{table}_twin.yaml"
    api.fit(work / "train.csv", recipe, target="target", tune=args.tune)
    ws = str(work / "ws")
    api.import_table(work / "train.csv", ws)
    res = api.tune(recipe, ws, real=1, metric="c2st", trials=args.trials, count_per_trial=args.count_per_trial,
                   seed=seed, out=work / f"{table}_tuned.yaml", workers=1,
                   classifier=args.classifier)
    tuned = Path(res.recipe_out) if res.recipe_out else recipe
    load_recipe(tuned)
    before, after = (scores(recipe, train, test, args.draws, work, args.classifier),
                     scores(tuned, train, test, args.draws, work, args.classifier))
    print(f"{table} seed {seed}: search c2st {res.baseline:.3f} -> {res.best.score if res.best else float('nan'):.3f}"
          f" ({'variant written' if res.recipe_out else 'no trial beat the fit'}); "
          + ", ".join(f"{k} {before[k]:.3f} -> {after[k]:.3f}" for k in before), flush=True)
    return {**{f"before {k}": v for k, v in before.items()}, **{f"after {k}": v for k, v in after.items()}}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tables", nargs="+", default=list(TABLES), choices=list(TABLES))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--count-per-trial", type=int, default=2, help="samples (blocks of the 70%%'s row count)")
    ap.add_argument("--tune", type=int, default=5, help="marginals the fit's tune: block opens")
    ap.add_argument("--draws", type=int, default=3)
    ap.add_argument("--classifier", default="boosting", choices=["logistic", "boosting"], help="the c2st classifier")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sim2real-tables-") as tmp:
        for table in args.tables:
            runs = [one(table, s, args, Path(tmp)) for s in args.seeds]
            print(f"\n{table}: median of seeds {args.seeds} ({args.draws} synthetic draws each)")
            print(f"  {'':<20} {'fitted':>8} {'tuned':>8} {'ratio':>7}")
            for key in ("auc", "tstr/trtr forest", "tstr/trtr linear"):
                b = statistics.median(r[f"before {key}"] for r in runs)
                a = statistics.median(r[f"after {key}"] for r in runs)
                print(f"  {key:<20} {b:>8.3f} {a:>8.3f} {a / b:>7.3f}")
            print()


if __name__ == "__main__":
    main()
