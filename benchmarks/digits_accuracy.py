"""Train on recipes/digits.yaml only, test on real handwritten digits (scikit-learn's UCI optical
digits, 1,797 8x8 images, offline). Synthetic images go through the UCI preprocessing: ink box
scaled into 32x32, thresholded, 4x4 blocks counted (0..16)."""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from ruamel.yaml import YAML
from sklearn.datasets import load_digits
from sklearn.svm import SVC

from scenes.text_line import TextLineParams, TextLineScene
from synth.distributions import parse
from synth.seeding import RENDER_STREAM, rng_for

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "digits.yaml"


def draw_params(recipe: dict, index: int) -> dict:
    """Per-sample params as the engine draws them: one seeded stream per dotted param path."""
    nested: dict = {}
    for path, spec in recipe["params"].items():
        value = parse(spec).sample(rng_for(recipe["seed"], index, f"params.{path}")) if isinstance(spec, dict) and \
            len(spec) == 1 and next(iter(spec)) in ("uniform", "randint", "choice", "bernoulli") else spec
        node = nested
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def uci_features(img: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(img > img.max() / 2)
    crop = img[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    h, w = crop.shape
    s = 32 / max(h, w)
    crop = cv2.resize(crop, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    canvas = np.zeros((32, 32), np.uint8)
    y0, x0 = (32 - crop.shape[0]) // 2, (32 - crop.shape[1]) // 2
    canvas[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
    bits = (canvas > 127).astype(np.float32)
    return bits.reshape(8, 4, 8, 4).sum(axis=(1, 3)).ravel()


def main(count: int = 3000) -> None:
    recipe = YAML(typ="safe").load(RECIPE.read_text())
    scene = TextLineScene()
    feats, classes, blank = [], [], 0
    for i in range(count):
        smp = scene.render(TextLineParams(**draw_params(recipe, i)), rng_for(recipe["seed"], i, RENDER_STREAM))
        img = smp.payloads["image"].data
        if img.max() < 64:
            blank += 1  # stroke thinned away (hairline fonts); counted, not trained on
            continue
        feats.append(uci_features(img))
        classes.append(int(smp.labels["class"]))
    real = load_digits()
    clf = SVC(C=10, gamma="scale").fit(np.array(feats), np.array(classes))
    acc = float((clf.predict(real.data) == real.target).mean())
    print(f"synthetic train {count} (class counts {np.bincount(classes).tolist()}, blank {blank}), real test {len(real.target)}")
    print(f"accuracy on real handwritten digits (sklearn load_digits, UCI): {acc:.3f}  (chance 0.100)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
