"""text_line vs raw trdg GeneratorFromStrings (same strings, font, size, background, skew, blur), and
utterances vs the same nlpaug chain called directly on whole sentences. Prints medians and ratios."""
from __future__ import annotations

import hashlib
import statistics
import sys
import time

import numpy as np

from scenes.text_line import TextLineParams, TextLineScene
from scenes.utterances import UtterancesParams, UtterancesScene
from synth.compat.trdg_shim import load_trdg
from synth.seeding import seed_global_state
from synth.text.fonts import bundled_font_dir, resolve_font
from synth.text.noise import augmenter

N_IMAGES, N_SENTENCES, RUNS = 300, 400, 5
LINE = dict(text={"kind": "dictionary", "words": 3}, font="Roboto-Regular", size=32, background="noise",
            skew_deg=2, blur=0.5)
CHAIN = ["keyboard", "word_swap"]


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


def ours_sentences(params: UtterancesParams) -> float:
    scene = UtterancesScene()
    t = time.perf_counter()
    for i in range(N_SENTENCES):
        scene.render(params, np.random.default_rng(i)).labels
    return N_SENTENCES / (time.perf_counter() - t)


def raw_nlpaug(sentences: list[str]) -> float:
    import nlpaug.augmenter.char as nac
    import nlpaug.augmenter.word as naw
    import nlpaug.flow as naf
    flow = naf.Sequential([nac.KeyboardAug(aug_char_p=0.2, aug_word_p=0.2, min_char=2),
                           naw.RandomWordAug(action="swap", aug_p=0.2)])
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    for s in sentences:
        seed_global_state(rng)
        flow.augment(s)
    return len(sentences) / (time.perf_counter() - t)


def main() -> None:
    scene, params = TextLineScene(), TextLineParams(**LINE)
    texts = [scene.render(params, np.random.default_rng(i)).labels["transcript"] for i in range(N_IMAGES)]
    uparams = UtterancesParams(intents={"book_flight": ["fly from {from:city} to {to:city} [on {date:date}] [please]"]},
                               slots={"city": {"faker": "city"}, "date": {"faker": "date"}},
                               noise={"augmenters": CHAIN, "word_p": 0.2, "char_p": 0.2})
    uscene = UtterancesScene()
    sentences = [uscene.render(uparams.model_copy(update={"noise": uparams.noise.model_copy(update={"augmenters": []})}),
                               np.random.default_rng(i)).labels["text"] for i in range(N_SENTENCES)]
    augmenter(CHAIN[0], 0.2, 0.2)  # warm caches (Faker, dictionaries) outside the timed loops
    rows = {"text_line img/s": [], "trdg img/s": [], "utterances sent/s": [], "nlpaug sent/s": []}
    for _ in range(RUNS):
        rows["trdg img/s"].append(raw_trdg(texts))
        rows["text_line img/s"].append(ours_images(texts))
        rows["nlpaug sent/s"].append(raw_nlpaug(sentences))
        rows["utterances sent/s"].append(ours_sentences(uparams))
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"{'measure':22s} {'median':>10s}   runs ({RUNS})")
    for k, v in rows.items():
        print(f"{k:22s} {med[k]:10.1f}   {' '.join(f'{x:.0f}' for x in v)}")
    print(f"ratio text_line/trdg     {med['text_line img/s'] / med['trdg img/s']:.2f}  (target >= 0.9)")
    print(f"ratio utterances/nlpaug  {med['utterances sent/s'] / med['nlpaug sent/s']:.2f}  (target >= 0.8)")


if __name__ == "__main__":
    sys.exit(main())
