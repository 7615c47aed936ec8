"""Train on recipes/digits.yaml only, test on real handwritten digits (scikit-learn's UCI optical
digits, 1,797 8x8 images, offline). Synthetic images go through the UCI (NIST) preprocessing: ink box
scaled into 32x32 keeping its aspect, thresholded, stroke width normalised (the UCI bitmaps carry
~30% ink for every class, thin "1"s included), 4x4 blocks counted (0..16); an RBF SVM learns them.

    .venv/bin/python benchmarks/digits_accuracy.py [count] [--seeds 7 8 9] [--recipe PATH]

count defaults to 5000 synthetic digits. --seeds replaces the recipe's seed (one run per seed, in
parallel processes) and prints the median accuracy; without it the recipe's own seed is used.
"""
from __future__ import annotations

import argparse
import statistics
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from ruamel.yaml import YAML
from sklearn.datasets import load_digits
from sklearn.svm import SVC

from scenes.text_line import TextLineParams, TextLineScene
from synth.recipe.distributions import Constant, Cycle, parse
from synth.core.seeding import RENDER_STREAM, rng_for

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "digits.yaml"


def draw_params(recipe: dict, index: int) -> dict:
    """Per-sample params as the engine draws them: one seeded stream per dotted param path."""
    nested: dict = {}
    for path, spec in recipe["params"].items():
        dist = parse(spec)
        if isinstance(dist, Constant):
            value = dist.value
        elif isinstance(dist, Cycle):
            value = dist.at(index)
        else:
            value = dist.sample(rng_for(recipe["seed"], index, f"params.{path}"))
        node = nested
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


UCI_INK = 0.30  # mean fraction of "on" pixels in the UCI 32x32 bitmaps (312 of 1024)
BLANK = 16      # an image whose brightest pixel is below this holds no ink to learn from (the threshold
                # below is relative to the brightest pixel, so faint but clear ink is kept)


def fit32(img: np.ndarray) -> np.ndarray:
    """The ink box scaled so its longer side is 32 px, centred on a 32x32 canvas."""
    ys, xs = np.nonzero(img > img.max() / 2)
    crop = img[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = crop.shape
    s = 32 / max(h, w)
    crop = cv2.resize(crop, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_LINEAR)
    canvas = np.zeros((32, 32), np.uint8)
    y0, x0 = (32 - crop.shape[0]) // 2, (32 - crop.shape[1]) // 2
    canvas[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
    return canvas


def thin(bits: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning of a 0/1 image to a one-pixel skeleton."""
    img = np.pad(bits.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            p = img.copy()
            n = [p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:], p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]
            count = sum(x.astype(int) for x in n)
            turns = sum(((n[i] == 0) & (n[(i + 1) % 8] == 1)).astype(int) for i in range(8))
            p2, p4, p6, p8 = n[0], n[2], n[4], n[6]
            side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0) if step == 0 else (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            remove = (p[1:-1, 1:-1] == 1) & (count >= 2) & (count <= 6) & (turns == 1) & side
            if remove.any():
                img[1:-1, 1:-1][remove] = 0
                changed = True
    return img[1:-1, 1:-1]


def uci_features(img: np.ndarray) -> np.ndarray | None:
    """UCI's 64 block counts of an image (ink bright on dark), or None when it holds no ink."""
    if img.max() < BLANK:
        return None
    canvas = fit32(img)
    skeleton = thin(canvas > canvas.max() / 2)
    best = skeleton
    for radius in range(1, 8):  # the pen width that brings the ink closest to UCI's 30%
        pen = cv2.dilate(skeleton, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
        if abs(pen.mean() - UCI_INK) > abs(best.mean() - UCI_INK):
            break
        best = pen
    if not best.any():
        return None
    bits = (fit32(best * 255) > 127).astype(np.float32)
    return bits.reshape(8, 4, 8, 4).sum(axis=(1, 3)).ravel()


def run(count: int = 5000, seed: int | None = None, recipe_path: Path = RECIPE) -> tuple[float, str]:
    """Accuracy on the real digits and a printable report, training on `count` samples of the recipe."""
    recipe = YAML(typ="safe").load(Path(recipe_path).read_text())
    if seed is not None:
        recipe["seed"] = seed
    scene = TextLineScene()
    feats, classes, blank = [], [], 0
    for i in range(count):
        params = TextLineParams(**draw_params(recipe, i))
        scene.check(params)
        smp = scene.render(params, rng_for(recipe["seed"], i, RENDER_STREAM))
        feat = uci_features(smp.payloads["image"].data)
        if feat is None:
            blank += 1  # no ink (stroke thinned away, or faded out); counted, not trained on
            continue
        feats.append(feat)
        classes.append(int(smp.labels["class"]))
    real = load_digits()
    clf = SVC(C=3, gamma="scale").fit(np.array(feats), np.array(classes))
    predicted = clf.predict(real.data)
    acc = float((predicted == real.target).mean())
    report = (f"seed {recipe['seed']}: synthetic train {count} (class counts {np.bincount(classes).tolist()}, "
              f"blank {blank}), real test {len(real.target)}\n"
              f"  accuracy on real handwritten digits (sklearn load_digits, UCI): {acc:.3f}  (chance 0.100)\n"
              "  per class: " + " ".join(f"{d}:{(predicted[real.target == d] == d).mean():.2f}" for d in range(10)))
    return acc, report


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("count", nargs="?", type=int, default=5000)
    ap.add_argument("--seeds", nargs="+", type=int, default=None, help="recipe seeds to run; median reported")
    ap.add_argument("--recipe", type=Path, default=RECIPE)
    args = ap.parse_args(argv)
    seeds = args.seeds or [None]
    with ProcessPoolExecutor(max_workers=len(seeds)) as pool:
        results = list(pool.map(run, [args.count] * len(seeds), seeds, [args.recipe] * len(seeds)))
    for _, report in results:
        print(report)
    if len(seeds) > 1:
        print(f"median accuracy over seeds {seeds}: {statistics.median(a for a, _ in results):.3f}")


if __name__ == "__main__":
    main()
