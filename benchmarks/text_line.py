"""text_line vs raw trdg GeneratorFromStrings (same strings, font, size, background, skew, blur).
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
    load_trdg()
    from trdg.generators import GeneratorFromStrings
    gen = GeneratorFromStrings(texts, count=len(texts), fonts=[resolve_font("Roboto-Regular", bundled_font_dir())],
                               size=32, skewing_angle=2, blur=0.5, background_type=0, alignment=0)
    t = time.perf_counter()
    for image, _ in gen:
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
