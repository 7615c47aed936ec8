"""text_line vs raw trdg (GeneratorFromStrings' per-string call) (same strings, font, size, background, skew, blur).
Prints medians and the ratio; utterances vs nlpaug is benchmarks/utterances.py."""
from __future__ import annotations

import hashlib
import statistics
import sys
import time

import numpy as np

from scenes.text_line import TextLineParams, TextLineScene
from synth.text.trdg_shim import load_trdg
from synth.text.fonts import bundled_font_dir, resolve_font

N_IMAGES, RUNS = 300, 5
LINE = dict(text={"kind": "dictionary", "words": 3}, font="Roboto-Regular", size=32, background="noise",
            skew_deg=2, blur=0.5)


def ours_images(texts: list[str]) -> float:
    scene, params = TextLineScene(), TextLineParams(**LINE)
    t = time.perf_counter()
    for i in range(len(texts)):
        smp = scene.render(params, np.random.default_rng(i))
        blob, _ = smp.payloads["image"].encode()  # what the engine stores: png bytes, sha256, labels JSON
        hashlib.sha256(blob).hexdigest(), smp.labels_json()
    return len(texts) / (time.perf_counter() - t)


def raw_trdg(texts: list[str]) -> float:
    """What trdg's GeneratorFromStrings.next does per string: FakeTextDataGenerator.generate with these
    arguments (the generators module itself also imports arabic_reshaper / python-bidi for right-to-left
    text, which the no-deps trdg install leaves out)."""
    import os

    from synth.text.trdg_shim import trdg_package_dir

    data_generator = load_trdg()
    font = resolve_font("Roboto-Regular", bundled_font_dir())
    image_dir = os.path.join("..", os.path.join(trdg_package_dir(), "generators"), "images")
    t = time.perf_counter()
    for i, text in enumerate(texts, 1):
        image = data_generator.FakeTextDataGenerator.generate(
            i, text, font, None, 32, None, 2, False, 0.5, False, 0, 0, 0, False, 0, -1, 0, "#282828", 0, 1.0, 0,
            (5, 5, 5, 5), False, False, False, image_dir, 0, "#282828", "RGB", 0)
        image.save("/dev/null", format="png")  # a user of trdg saves each image too
    return len(texts) / (time.perf_counter() - t)


def main() -> None:
    scene, params = TextLineScene(), TextLineParams(**LINE)
    texts = [scene.render(params, np.random.default_rng(i)).labels["transcript"] for i in range(N_IMAGES)]
    rows: dict[str, list[float]] = {"text_line img/s": [], "trdg img/s": []}
    for _ in range(RUNS):
        rows["trdg img/s"].append(raw_trdg(texts))
        rows["text_line img/s"].append(ours_images(texts))
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"{'measure':22s} {'median':>10s}   runs ({RUNS})")
    for k, v in rows.items():
        print(f"{k:22s} {med[k]:10.1f}   {' '.join(f'{x:.0f}' for x in v)}")
    print(f"ratio text_line/trdg     {med['text_line img/s'] / med['trdg img/s']:.2f}  (target >= 0.9)")


if __name__ == "__main__":
    sys.exit(main())
