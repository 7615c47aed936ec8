"""utterances vs the same nlpaug chain called directly on ready sentences, and vs the script a user
writes without synth (template + Faker + nlpaug, no spans). Interleaved runs; prints medians and ratios
of sentences per CPU second (the machine is shared, so CPU time is steadier than wall time)."""
from __future__ import annotations

import statistics
import sys
import time
from typing import Callable

import numpy as np

from scenes.utterances import UtterancesParams, UtterancesScene
from synth.core.seeding import seed_global_state

N, RUNS = 400, 7
TEMPLATE = "fly from {from:city} to {to:city} [on {date:date}] [please]"
CHAIN = ["keyboard", "word_swap"]


def nlpaug_flow():
    import nlpaug.augmenter.char as nac
    import nlpaug.augmenter.word as naw
    import nlpaug.flow as naf
    return naf.Sequential([nac.KeyboardAug(aug_char_p=0.2, aug_word_p=0.2, min_char=2),
                           naw.RandomWordAug(action="swap", aug_p=0.2)])


def ours(pool: int) -> Callable[[], None]:
    scene = UtterancesScene()
    params = UtterancesParams(intents={"book_flight": [TEMPLATE]},
                              slots={"city": {"faker": "city", "pool": pool}, "date": {"faker": "date", "pool": pool}},
                              noise={"augmenters": CHAIN, "word_p": 0.2, "char_p": 0.2})
    scene.render(params, np.random.default_rng(0))  # builds the pool, as a worker's first sample does
    return lambda: [scene.render(params, np.random.default_rng(i)).labels for i in range(N)]


def bare_chain(sentences: list[str]) -> Callable[[], None]:
    flow = nlpaug_flow()

    def run() -> None:
        rng = np.random.default_rng(0)
        for s in sentences:
            seed_global_state(rng)
            flow.augment(s)
    return run


def user_script() -> Callable[[], None]:
    """Template filled with Faker (one cached instance, reseeded per sentence) and the nlpaug chain."""
    from faker import Faker
    fake, flow = Faker("en_US"), nlpaug_flow()

    def run() -> None:
        for i in range(N):
            rng = np.random.default_rng(i)
            fake.seed_instance(int(rng.integers(2**31)))
            text = f"fly from {fake.city()} to {fake.city()}"
            text += f" on {fake.date()}" if rng.random() < 0.5 else ""
            text += " please" if rng.random() < 0.5 else ""
            seed_global_state(rng)
            flow.augment(text)
    return run


def rate(fn: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return N / (time.process_time() - cpu), N / (time.perf_counter() - wall)


def main() -> None:
    clean = UtterancesParams(intents={"book_flight": [TEMPLATE]},
                             slots={"city": {"faker": "city"}, "date": {"faker": "date"}})
    sentences = [UtterancesScene().render(clean, np.random.default_rng(i)).labels["text"] for i in range(N)]
    cases = {"nlpaug chain (ready sentences)": bare_chain(sentences), "template+Faker+nlpaug script": user_script(),
             "utterances (Faker per value)": ours(0), "utterances (Faker pool 5000)": ours(5000)}
    cpu: dict[str, list[float]] = {k: [] for k in cases}
    wall: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(RUNS):
        for name, fn in cases.items():
            c, w = rate(fn)
            cpu[name].append(c)
            wall[name].append(w)
    med = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"{'sentences per second':32s} {'cpu median':>10s} {'wall median':>11s}   cpu runs ({RUNS})")
    for k in cases:
        print(f"{k:32s} {med[k]:10.0f} {statistics.median(wall[k]):11.0f}   {' '.join(f'{x:.0f}' for x in cpu[k])}")
    bare, script = med["nlpaug chain (ready sentences)"], med["template+Faker+nlpaug script"]
    for k in ("utterances (Faker per value)", "utterances (Faker pool 5000)"):
        print(f"ratio {k:30s} vs bare chain {med[k] / bare:.2f} (target >= 0.8), vs script {med[k] / script:.2f}")


if __name__ == "__main__":
    sys.exit(main())
