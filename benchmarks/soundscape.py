"""Soundscape throughput: seconds of audio per wall second, our scene (synthesis + audiomentations chain +
label moves) vs the same audiomentations Compose called directly on pre-synthesized clips."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyroomacoustics as pra

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenes.soundscape import SoundscapeParams, SoundscapeScene  # noqa: E402
from synth.ops.audio_augment import build_chain  # noqa: E402
from synth.core.seeding import seed_global_state  # noqa: E402

CLIPS, RUNS = 24, 5
PARAMS = SoundscapeParams.model_validate({
    "duration_s": 4.0, "sample_rate": 16000, "background": {"kind": "noise"}, "events": {"count": 4},
    "tone": {"weight": 1}, "chirp": {"weight": 1}, "note": {"weight": 1}, "noise": {"weight": 1},
    "augment": {"gain": {"p": 0.5}, "gaussian_snr": {"p": 0.5}, "time_stretch": {"p": 0.5},
                "pitch_shift": {"p": 0.5}, "shift": {"p": 0.5}, "band_stop": {"p": 0.5}, "time_mask": {"p": 0.5},
                "room": {"p": 0.3}, "mp3": {"p": 0.3}},
})


def ours() -> float:
    scene = SoundscapeScene()
    t0 = time.perf_counter()
    for i in range(CLIPS):
        scene.render(PARAMS, np.random.default_rng(i))
    return CLIPS * PARAMS.duration_s / (time.perf_counter() - t0)


def direct() -> float:
    dry_params = PARAMS.model_copy(update={"augment": type(PARAMS.augment)()})
    scene = SoundscapeScene()
    # the same dry clips and the same chain seeds as ours: identical transforms are drawn and applied
    rngs = [np.random.default_rng(i) for i in range(CLIPS)]
    dry = [scene.render(dry_params, rng).payloads["audio"].data for rng in rngs]
    _, compose = build_chain(PARAMS.augment)
    t0 = time.perf_counter()
    for rng, clip in zip(rngs, dry):
        seed = seed_global_state(rng)
        pra.random.seed(numpy=seed, libroom=seed)
        compose(samples=clip, sample_rate=PARAMS.sample_rate)
    return CLIPS * PARAMS.duration_s / (time.perf_counter() - t0)


def main() -> None:
    ours(), direct()  # warm-up: imports, numba/JIT caches
    a, b = [], []
    for _ in range(RUNS):  # interleaved, so load from other processes hits both sides alike
        a.append(ours())
        b.append(direct())
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{'':32s} {'audio s / wall s (median of ' + str(RUNS) + ')':>40s}")
    print(f"{'synth soundscape (synth+chain)':32s} {ma:40.1f}")
    print(f"{'audiomentations Compose only':32s} {mb:40.1f}")
    print(f"{'ratio ours / direct':32s} {ma / mb:40.2f}")


if __name__ == "__main__":
    main()
