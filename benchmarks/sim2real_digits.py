"""Sim-to-real on real handwritten digits (scikit-learn's UCI set, offline): does `synth tune` close the gap?

Protocol: the first 100 real digits are the only labeled real data the search may see (imported as the
version `labeled100`); every figure is scored on the other 1,697 (`heldout`). Side by side:
- the hand-written recipe (recipes/digits.yaml),
- `synth tune --metric c2st` (uses the 100 real images, not their labels),
- `synth tune --metric tstr` (uses the 100 labels; built-in image features, logistic probe),
- `synth tune --metric tstr --features model_features --probe svm` (the classifier's own view of an image,
  and its kind of model; the 100 real digits imported as their 8x8 originals, the form it reads them in),
- a classifier trained on the 100 real labels alone, and on the hand-written recipe's samples plus the 100.
Each recipe trains the same classifier (benchmarks/digits_accuracy.py: UCI preprocessing of the synthetic
images, an RBF SVM) on `--count` samples and is scored on the 1,697 held-out digits. A search whose best
trial does not beat the untuned recipe beyond chance writes nothing, and the row shows the untuned recipe.

    .venv/bin/python benchmarks/sim2real_digits.py [--seeds 0 1 2] [--trials 16] [--count-per-trial 300]
        [--count 5000] [--arms c2st tstr tstr-model] [--workers N] [--root DIR]

Measured (--trials 20 --count-per-trial 1000 --count 10000): every arm 0.902 median, labels alone 0.834,
the hand-written recipe plus the 100 labels 0.915.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from sklearn.datasets import load_digits
from sklearn.svm import SVC

sys.path.insert(0, str(Path(__file__).resolve().parent))
from digits_accuracy import uci_features  # noqa: E402

from synth import api  # noqa: E402
from synth.core.seeding import RENDER_STREAM, rng_for  # noqa: E402
from synth.recipe.plan import Plan  # noqa: E402

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "digits.yaml"
MODEL_FEATURES = f"{Path(__file__).resolve()}:model_features"  # tune's probe sees what the classifier sees
ARMS = {"c2st": ("c2st", None, "logistic"), "tstr": ("tstr", None, "logistic"),
        "tstr-model": ("tstr", MODEL_FEATURES, "svm")}  # metric, --features, --probe
ROWS = {"c2st": "tune --metric c2st (no labels)", "tstr": "tune --metric tstr (100 labels)",
        "tstr-model": "tune tstr --features --probe svm"}
LABELED = 100


def import_real(ws_path: Path, tmp: Path, *, side: int = 28) -> None:
    """UCI digits in class folders: the first 100 as `labeled100`, the rest as `heldout`. side=28: 28x28 PNGs
    (white ink on black, like the recipe); side=8: the 8x8 originals (counts x 255/16), the form the
    classifier reads real digits in, for the arm whose probe sees what the classifier sees (only the 100:
    a version holds every row imported before it)."""
    digits = load_digits()
    parts = [("labeled100", range(LABELED))] + ([("heldout", range(LABELED, len(digits.target)))] if side != 8 else [])
    for part, rows in parts:
        folder = tmp / part
        for i in rows:
            (folder / str(digits.target[i])).mkdir(parents=True, exist_ok=True)
            img = np.rint(digits.images[i] / 16 * 255).astype(np.uint8)
            if side != 8:
                img = cv2.resize(img, (side, side), interpolation=cv2.INTER_CUBIC)
            cv2.imwrite(str(folder / str(digits.target[i]) / f"{i:04d}.png"), img)
        api_import(folder, ws_path)
        api.open_workspace(str(ws_path)).manifest.tag(part, None)


def api_import(folder: Path, ws_path: Path) -> None:
    from synth.data.importer import ImportOptions, import_data
    ws = api.open_workspace(str(ws_path), create=True)
    import_data(ws, "images", folder, options=ImportOptions(split={"train": 1.0}))


def recipe_features(recipe_path: Path, count: int) -> tuple[np.ndarray, np.ndarray]:
    """UCI features and classes of `count` samples of the recipe (images with no ink left out)."""
    recipe = api.validate(recipe_path)
    plan, scene = Plan(recipe), recipe.scene_cls()
    feats, classes = [], []
    for i in range(count):
        draw = plan.params_for(i)
        smp = scene.render(draw.params, rng_for(recipe.seed, i, RENDER_STREAM))
        feat = uci_features(smp.payloads["image"].data)
        if feat is None:
            continue
        feats.append(feat)
        classes.append(int(smp.labels["class"]))
    return np.array(feats), np.array(classes)


def real_accuracy(recipe_path: Path, count: int, *, with_labeled: bool = False,
                  features: tuple[np.ndarray, np.ndarray] | None = None) -> float:
    """Train the SVM on `count` samples of the recipe (UCI preprocessing, or `features` already made by
    `recipe_features`), score it on the held-out digits. with_labeled: the 100 labeled real digits join the
    synthetic ones (what a team would train on)."""
    X, y = features if features is not None else recipe_features(recipe_path, count)
    digits = load_digits()
    if with_labeled:
        X, y = np.vstack([X, digits.data[:LABELED]]), np.r_[y, digits.target[:LABELED]]
    clf = SVC(C=3, gamma="scale").fit(X, y)
    held = slice(LABELED, None)
    return float((clf.predict(digits.data[held]) == digits.target[held]).mean())


def model_features(img: np.ndarray) -> np.ndarray:
    """The classifier's own view of an image, for `synth tune --features`: the 64 UCI block counts it trains
    and predicts on. An 8x8 image is a real UCI digit, already in that form (imported as counts x 255/16);
    a synthetic render goes through the UCI preprocessing; an image with no ink is 64 zeros."""
    grey = np.asarray(img)
    grey = grey if grey.ndim == 2 else grey[..., :3].mean(axis=2).astype(np.uint8)
    if grey.shape == (8, 8):
        return np.rint(grey.astype(np.float64) * 16 / 255).ravel()
    feat = uci_features(grey)
    return np.zeros(64) if feat is None else feat


def labels_alone() -> float:
    digits = load_digits()
    clf = SVC(C=3, gamma="scale").fit(digits.data[:LABELED], digits.target[:LABELED])
    return float((clf.predict(digits.data[LABELED:]) == digits.target[LABELED:]).mean())


def one_seed(seed: int, args: argparse.Namespace, root: Path) -> dict[str, float]:
    import_real(root / f"ws{seed}", root / f"real{seed}")
    if "tstr-model" in args.arms:
        import_real(root / f"ws{seed}_8x8", root / f"real{seed}_8x8", side=8)
    out = {}
    for name in args.arms:
        metric, features, probe = ARMS[name]
        started = time.perf_counter()
        ws_path = root / (f"ws{seed}_8x8" if features else f"ws{seed}")
        res = api.tune(RECIPE, str(ws_path), real="labeled100", metric=metric, trials=args.trials,
                       count_per_trial=args.count_per_trial, seed=seed, study=f"digits-{name}-{seed}",
                       out=root / f"digits_{name}_{seed}.yaml", workers=args.workers, features=features,
                       probe=probe)
        metric = name
        tuned = Path(res.recipe_out) if res.recipe_out else RECIPE
        out[f"tune {metric}"] = real_accuracy(tuned, args.count)
        out[f"tune {metric} search score"] = res.best.score if res.best else float("nan")
        out[f"tune {metric} untuned score"] = res.baseline if res.baseline is not None else float("nan")
        out[f"tune {metric} seconds"] = time.perf_counter() - started
        print(f"seed {seed} {metric}: {len(res.trials)} trials, search score {res.baseline} -> "
              f"{res.best.score if res.best else None}, held-out accuracy {out[f'tune {metric}']:.3f} "
              f"({out[f'tune {metric} seconds']:.0f} s)", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--count-per-trial", type=int, default=300)
    ap.add_argument("--count", type=int, default=5000, help="samples each recipe's classifier trains on")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--root", type=Path, default=None, help="keep workspaces and tuned recipes here")
    ap.add_argument("--arms", nargs="+", choices=list(ARMS), default=list(ARMS),
                    help="tune runs to compare: c2st and tstr on the built-in image features, tstr-model with "
                         "--features model_features (the classifier's own view of an image)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sim2real-") as tmp:
        root = args.root or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        hand_features = recipe_features(RECIPE, args.count)  # rendered once for both rows
        hand = real_accuracy(RECIPE, args.count, features=hand_features)
        alone = labels_alone()
        mixed = real_accuracy(RECIPE, args.count, with_labeled=True, features=hand_features)
        runs = [one_seed(s, args, root) for s in args.seeds]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"\nreal held-out accuracy ({len(load_digits().target) - LABELED} UCI digits), median of seeds {args.seeds}")
    print(f"  {'hand-written recipe':<34} {hand:.3f}")
    for name in args.arms:
        runs_of = " ".join(f"{r['tune ' + name]:.3f}" for r in runs)
        print(f"  {ROWS[name]:<34} {med['tune ' + name]:.3f}   runs {runs_of}")
    print(f"  {'SVM on the 100 real labels alone':<34} {alone:.3f}")
    print(f"  {'hand-written recipe + the 100':<34} {mixed:.3f}")
    print("  ratios: " + ", ".join(f"{name}/hand {med['tune ' + name] / hand:.3f}, {name}/labels-alone "
                                   f"{med['tune ' + name] / alone:.3f}" for name in args.arms))


if __name__ == "__main__":
    main()
