"""Helpers for the pretext-task tests (a uniquely named module: tests/ has no packages): real tasks through the entry-point registry, small inputs."""
from __future__ import annotations

from typing import Any

import numpy as np

from synth.core.sample import Sample, image
from synth.core.scene import get_task
from synth.core.seeding import rng_for


def noise_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Random pixels, so every patch is unique and a misplaced crop cannot match by accident."""
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def apply_task(name: str, sample: Sample, params: Any = None, index: int = 0, seed: int = 7) -> dict[str, Any]:
    get_task(name)().apply(sample, params, rng_for(seed, index, f"ssl.{name}"))
    return sample.labels["ssl"][name]


def image_sample(h: int = 256, w: int = 256, seed: int = 0) -> Sample:
    return Sample(payloads={"image": image(noise_image(h, w, seed))}, width=w, height=h)
