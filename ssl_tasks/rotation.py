"""Rotation prediction (Gidaris, Singh & Komodakis 2018): rotate by 0/90/180/270 degrees, label 0-3."""
from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from synth import Sample, image

from .base import Task, TaskParams, input_image


class RotationParams(TaskParams):
    all_four: bool = Field(False, description="Emit all four rotations (the paper trains on all four of each "
                                              "image) instead of one drawn at random.")


class Rotation(Task):
    name = "rotation"
    version = "1"
    modalities = ("image", "3d")
    Params = RotationParams

    def run(self, sample: Sample, p: RotationParams, rng: np.random.Generator) -> dict[str, Any]:
        img = input_image(self, sample)
        if p.all_four:
            names = [self.put(sample, f"image_{k}", image(np.ascontiguousarray(np.rot90(img, k)))) for k in range(4)]
            return {"labels": [0, 1, 2, 3], "degrees": [0, 90, 180, 270], "payloads": {"images": names}}
        k = int(rng.integers(0, 4))
        # np.rot90 turns counter-clockwise: label k means the content was rotated by k * 90 degrees CCW
        name = self.put(sample, "image", image(np.ascontiguousarray(np.rot90(img, k))))
        return {"label": k, "degrees": 90 * k, "payloads": {"image": name}}
