"""One turn of the data-centric loop on real handwritten digits (scikit-learn's UCI set, offline), through
synth's own commands: predictions import -> slices -> focus -> generate -> retrain; label-issues on
deliberately flipped real labels; similar real digits for the failures.

Protocol (the issue's):
1. Real digits: the first 100 are imported with labels as `validation`, the other 1,697 as `heldout`;
   every accuracy below is scored on `heldout` only.
2. `synth generate recipes/digits.yaml -n N`; an RBF SVM (benchmarks/digits_accuracy.py's UCI
   preprocessing) trains on its train split; its predictions (class and prob_<k>) on the synthetic
   validation rows (splits val+test) and on the 100 real validation rows go in through
   `synth predictions import`.
3. `synth slices --json` ranks parameter bins (synthetic rows) and label bins (real rows) by error lift;
   the top 5 are printed. `synth focus` writes a variant drawing the worst param slices more often;
   `synth generate` makes M samples of it; the SVM retrains on train + those M. Side by side, the same
   M more samples of the unfocused recipe (another seed): a loop that only adds data.
4. Label errors: all 1,797 real digits imported with 5% of their labels flipped (seeded), predictions are
   5-fold out-of-fold SVM probabilities (what a team's cross-validated model gives), `synth label-issues`
   ranks them: precision and recall of its top 10% against the flipped rows. The same with the
   synthetic-only model's probabilities, for comparison.
5. Similar: 20 real digits the synthetic model gets wrong (the validation ones, then held-out ones);
   `synth similar --pool heldout -k 10` (all real digits but the queries) with the built-in image
   features; the share of neighbours whose label is the query's true class.

    .venv/bin/python benchmarks/loop_digits.py [--count 4000] [--focus-count 1500] [--seeds 7 8 9]
        [--workers 2] [--root DIR]

Each seed replaces the recipe's seed (the synthetic data); the real split is fixed. Figures: per seed
and the median.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.svm import SVC

sys.path.insert(0, str(Path(__file__).resolve().parent))
from digits_accuracy import uci_features  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "digits.yaml"
SYNTH = str(Path(sys.executable).with_name("synth"))
LABELED = 100
FLIP_SHARE = 0.05
# scikit-learn 1.9 deprecates SVC(probability=True) (Platt scaling) in favour of CalibratedClassifierCV; the
# probabilities are the same kind either way, so the notice is left out of the figures' output
warnings.filterwarnings("ignore", message="The `probability` parameter", category=FutureWarning)


def synth(*args: str, ws: Path | None = None) -> object:
    """Run one synth command with --json and return its JSON output (a failure stops the benchmark)."""
    cmd = [SYNTH, *args, "--json"] + (["-w", str(ws)] if ws is not None else [])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def write_digits(folder: Path, indices: range | list[int], labels: np.ndarray) -> None:
    """UCI digits as 28x28 PNGs (white ink on black, like the recipe) in class folders; file name = UCI index."""
    digits = load_digits()
    for i in indices:
        (folder / str(labels[i])).mkdir(parents=True, exist_ok=True)
        img = (digits.images[i] / 16 * 255).astype(np.uint8)
        cv2.imwrite(str(folder / str(labels[i]) / f"{i:04d}.png"), cv2.resize(img, (28, 28), interpolation=cv2.INTER_CUBIC))


def rows(ws: Path, version: str | None = None) -> list[dict]:
    from synth import api
    w = api.open_workspace(str(ws))
    table = w.manifest.to_table(w.manifest.resolve(version),
                                columns=["sample_id", "origin", "recipe_name", "split", "labels", "payloads", "source"])
    return table.to_pylist()


def uci_index(row: dict) -> int:
    return int(Path(row["source"]).stem)


def synthetic_features(ws: Path, picked: list[dict]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """UCI preprocessing of stored synthetic images (blank ones skipped), their classes and ids."""
    from synth import api
    from synth.core.sample import decode_blob
    w = api.open_workspace(str(ws))
    X, y, ids = [], [], []
    for r in picked:
        img = decode_blob("image", w.store.get(json.loads(r["payloads"])["image"]["hash"]))
        img = img if img.ndim == 2 else img[..., 0]
        feat = uci_features(img)
        if feat is None:
            continue
        X.append(feat)
        y.append(int(json.loads(r["labels"])["class"]))
        ids.append(r["sample_id"])
    return np.array(X), np.array(y), ids


def write_predictions(path: Path, ids: list[str], probs: np.ndarray, classes: np.ndarray) -> None:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["sample_id", "prediction", *[f"prob_{c}" for c in classes]])
        for sid, p in zip(ids, probs):
            p = p / p.sum()
            out.writerow([sid, str(classes[int(np.argmax(p))]), *[f"{v:.6f}" for v in p]])


def train(X: np.ndarray, y: np.ndarray) -> SVC:
    return SVC(C=3, gamma="scale", probability=True, random_state=0).fit(X, y)


def heldout_accuracy(clf: SVC, held: list[int]) -> float:
    digits = load_digits()
    return float((clf.predict(digits.data[held]) == digits.target[held]).mean())


def one_seed(seed: int, args: argparse.Namespace, root: Path) -> dict:
    digits = load_digits()
    run = root / f"seed{seed}"
    ws = run / "ws"
    # 1. the real digits: 100 labeled for validation, the rest held out
    for part, idx in (("validation", range(LABELED)), ("heldout", range(LABELED, len(digits.target)))):
        write_digits(run / "real" / part, idx, digits.target)
        synth("import", "images", str(run / "real" / part), "--split", "val=1" if part == "validation" else "test=1",
              ws=ws)
        synth("tag", part, ws=ws)
    real_rows = [r for r in rows(ws) if r["origin"] == "real"]
    validation_ids = {r["sample_id"] for r in rows(ws, "validation")}
    held = sorted({uci_index(r) for r in real_rows if r["sample_id"] not in validation_ids})

    # 2. synthetic digits, a model, its predictions
    recipe = run / "digits.yaml"
    recipe.write_text(f"extends: {RECIPE}\nseed: {seed}\n")
    started = time.perf_counter()
    synth("generate", str(recipe), "-n", str(args.count), "-j", str(args.workers), "-q", ws=ws)
    synthetic = [r for r in rows(ws) if r["origin"] == "synthetic"]
    X_tr, y_tr, _ = synthetic_features(ws, [r for r in synthetic if r["split"] == "train"])
    X_val, _, val_ids = synthetic_features(ws, [r for r in synthetic if r["split"] != "train"])
    clf = train(X_tr, y_tr)
    before = heldout_accuracy(clf, held)
    real_val = [r for r in real_rows if r["sample_id"] in validation_ids]
    real_X = load_digits().data[[uci_index(r) for r in real_val]]
    write_predictions(run / "preds.csv", val_ids, clf.predict_proba(X_val), clf.classes_)
    synth("predictions", "import", str(run / "preds.csv"), "--model", "svm0", "-q", ws=ws)
    write_predictions(run / "preds_real.csv", [r["sample_id"] for r in real_val], clf.predict_proba(real_X),
                      clf.classes_)
    synth("predictions", "import", str(run / "preds_real.csv"), "--model", "svm0-real", "-q", ws=ws)

    # 3. slices -> focus -> generate -> retrain
    found = synth("slices", "--predictions", "svm0", ws=ws)
    real_found = synth("slices", "--predictions", "svm0-real", "--min-support", "8", ws=ws)
    (run / "slices.json").write_text(json.dumps(found))
    focused = synth("focus", str(recipe), "--slices", str(run / "slices.json"), "--top", str(args.focus_top),
                    "-o", str(run / "digits_focus.yaml"), "--report-dir", str(run / "focus_report"))
    synth("generate", focused["recipe"], "-n", str(args.focus_count), "-j", str(args.workers), "-q", ws=ws)
    more = run / "digits_more.yaml"  # the control: as many more samples, unfocused, new draws
    more.write_text(f"extends: {RECIPE}\nname: digits_more\nseed: {seed + 1000}\n")
    synth("generate", str(more), "-n", str(args.focus_count), "-j", str(args.workers), "-q", ws=ws)
    by_recipe: dict[str, list[dict]] = {}
    for r in rows(ws):
        by_recipe.setdefault(r["recipe_name"], []).append(r)
    X_f, y_f, _ = synthetic_features(ws, by_recipe["digits_focus"])
    X_m, y_m, _ = synthetic_features(ws, by_recipe["digits_more"])
    after = heldout_accuracy(train(np.vstack([X_tr, X_f]), np.concatenate([y_tr, y_f])), held)
    control = heldout_accuracy(train(np.vstack([X_tr, X_m]), np.concatenate([y_tr, y_m])), held)
    loop_seconds = time.perf_counter() - started

    # 5. similar real digits for 20 real failures (validation first, then held-out ones)
    held_rows = [r for r in real_rows if r["sample_id"] not in validation_ids]
    wrong = [r for part in (real_val, held_rows)
             for r, p in zip(part, clf.predict(digits.data[[uci_index(r) for r in part]]))
             if str(p) != json.loads(r["labels"])["class"]]
    queries = wrong[:20]
    (run / "queries.txt").write_text("\n".join(r["sample_id"] for r in queries) + "\n")
    near = synth("similar", "--to", str(run / "queries.txt"), "--pool", "heldout", "-k", "10", ws=ws)["neighbours"]
    label_of = {r["sample_id"]: json.loads(r["labels"])["class"] for r in real_rows}
    true_of = {r["sample_id"]: json.loads(r["labels"])["class"] for r in queries}
    shared = float(np.mean([label_of[n["sample_id"]] == true_of[n["query"]] for n in near]))

    # 4. label errors: all real digits with 5% of the labels flipped
    noisy, flipped = flip_labels(digits.target, seed)
    noisy_ws = run / "ws_noisy"
    write_digits(run / "real" / "noisy", range(len(noisy)), noisy)
    synth("import", "images", str(run / "real" / "noisy"), "--split", "train=1", "-q", ws=noisy_ws)
    noisy_rows = [r for r in rows(noisy_ws) if r["origin"] == "real"]
    order = [uci_index(r) for r in noisy_rows]
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    oof = cross_val_predict(SVC(C=3, gamma="scale", probability=True, random_state=0), digits.data[order],
                            noisy[order], cv=folds, method="predict_proba")
    ids = [r["sample_id"] for r in noisy_rows]
    write_predictions(run / "oof.csv", ids, oof, np.arange(10))
    synth("predictions", "import", str(run / "oof.csv"), "--model", "svm-cv", "-q", ws=noisy_ws)
    write_predictions(run / "syn.csv", ids, clf.predict_proba(digits.data[order]), clf.classes_)
    synth("predictions", "import", str(run / "syn.csv"), "--model", "svm-synthetic", "-q", ws=noisy_ws)
    flipped_ids = {r["sample_id"] for r in noisy_rows if uci_index(r) in flipped}
    scores = {}
    for model in ("svm-cv", "svm-synthetic"):
        issues = synth("label-issues", "--predictions", model, "-o", str(run / f"review_{model}.csv"), ws=noisy_ws)
        top = [it["sample_id"] for it in issues[:len(noisy_rows) // 10]]
        hits = len(flipped_ids & set(top))
        scores[model] = (hits / max(1, len(top)), hits / len(flipped_ids), len(issues))

    out = {"before": before, "after": after, "control": control, "similar": shared, "queries": len(queries),
           "precision": scores["svm-cv"][0], "recall": scores["svm-cv"][1], "flagged": scores["svm-cv"][2],
           "syn_precision": scores["svm-synthetic"][0], "syn_recall": scores["svm-synthetic"][1],
           "flipped": len(flipped_ids), "loop_seconds": loop_seconds, "slices": found[:5],
           "real_slices": real_found[:5],
           "focus": [f"{c['param']} {c['bin']}" for c in focused["changes"]]}
    print(f"seed {seed}: held-out accuracy {before:.3f} -> {after:.3f} after one focused loop "
          f"({control:.3f} with as many unfocused samples); label-issues P/R {out['precision']:.2f}/{out['recall']:.2f}; "
          f"similar {shared:.2f}", flush=True)
    return out


def flip_labels(target: np.ndarray, seed: int) -> tuple[np.ndarray, set[int]]:
    """5% of the labels changed to another class (seeded)."""
    rng = np.random.default_rng([seed, 0xF11])
    picked = rng.choice(len(target), round(FLIP_SHARE * len(target)), replace=False)
    noisy = target.copy()
    noisy[picked] = (target[picked] + rng.integers(1, 10, len(picked))) % 10
    return noisy, {int(i) for i in picked}


def slice_line(s: dict) -> str:
    lo, hi = s["ci"]
    return (f"{s['column']:<44} {str(s['bin']):<28} n={s['support']:<5} error {s['error_rate']:.2f} "
            f"[{lo:.2f}, {hi:.2f}]  lift {s['lift']:.2f}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[7, 8, 9])
    ap.add_argument("--count", type=int, default=4000, help="synthetic digits of the first model")
    ap.add_argument("--focus-count", type=int, default=1500, help="samples of the focused variant (and the control)")
    ap.add_argument("--focus-top", type=int, default=3, help="worst usable slices focus draws more often")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--root", type=Path, default=None, help="keep workspaces, reports and recipes here")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="loop-digits-") as tmp:
        root = args.root or Path(tmp)
        runs = [one_seed(s, args, root) for s in args.seeds]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], (int, float))}
    print(f"\ntop 5 slices of seed {args.seeds[0]}, synthetic validation rows (recipe params):")
    for s in runs[0]["slices"]:
        print("  " + slice_line(s))
    print("top 5 slices of the 100 real validation digits (labels and metadata, min support 8):")
    for s in runs[0]["real_slices"]:
        print("  " + slice_line(s))
    print(f"focused on: {'; '.join(runs[0]['focus'])}")
    print(f"\nmedian of seeds {args.seeds} (real held-out: {len(load_digits().target) - LABELED} UCI digits)")
    for name, key in (("accuracy before the loop", "before"), (f"after one loop (+{args.focus_count} focused)", "after"),
                      (f"control (+{args.focus_count} unfocused)", "control")):
        print(f"  {name:<36} {med[key]:.3f}   runs " + " ".join(f"{r[key]:.3f}" for r in runs))
    print(f"  label-issues, {runs[0]['flipped']} flipped of 1797, top 10%: precision {med['precision']:.3f}, "
          f"recall {med['recall']:.3f} (out-of-fold SVM); {med['syn_precision']:.3f} / {med['syn_recall']:.3f} "
          "with the synthetic-only model")
    print(f"  similar: {runs[0]['queries']} misclassified real digits, 10-NN share of the true class "
          f"{med['similar']:.3f}")
    print(f"  loop wall time (generate, train, import, slices, focus, regenerate, retrain): {med['loop_seconds']:.0f} s")


if __name__ == "__main__":
    main()
