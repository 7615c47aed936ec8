"""Relative patch position (Doersch, Gupta & Efros 2015): which of the 8 neighbours of the centre patch?"""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from pydantic import Field

from synth.errors import SynthError
from synth import Sample, array

from .base import Task, TaskParams, input_image

# Label k -> (row, col) offset of the neighbour from the centre cell, row-major around the centre.
NEIGHBOUR_OFFSETS: tuple[tuple[int, int], ...] = (
    (-1, -1), (-1, 0), (-1, 1),
    (0, -1), (0, 1),
    (1, -1), (1, 0), (1, 1),
)


class PatchPositionParams(TaskParams):
    patch_size: int = Field(96, ge=4, le=1024, description="Side of each square patch in pixels (paper: 96).")
    gap: int = Field(48, ge=0, le=1024, description="Gap between neighbouring grid cells in pixels (paper: 48).")
    jitter: int = Field(7, ge=0, le=256, description="Each patch moves by up to this many pixels in x and y "
                                                      "(paper: 7), so edges cannot be matched trivially.")
    color_drop: bool = Field(False, description="Keep one random colour channel per patch and replace the other two "
                                                "with Gaussian noise (the paper's answer to chromatic aberration).")
    downsample_prob: float = Field(0.0, ge=0, le=1, description="Probability that a patch is downsampled to "
                                                               "`downsample_pixels` total pixels and upsampled back.")
    downsample_pixels: int = Field(100, ge=4, description="Total pixels of a downsampled patch (paper: 100).")


class PatchPosition(Task):
    name = "patch_position"
    version = "1"
    modalities = ("image", "3d")
    Params = PatchPositionParams

    def run(self, sample: Sample, p: PatchPositionParams, rng: np.random.Generator) -> dict[str, Any]:
        img = input_image(self, sample)
        h, w = img.shape[:2]
        stride = p.patch_size + p.gap
        need = 3 * p.patch_size + 2 * p.gap + 2 * p.jitter
        if h < need or w < need:
            raise SynthError(f"image is {w}x{h} px but a 3x3 grid of {p.patch_size}px patches with gap {p.gap} and "
                             f"jitter {p.jitter} needs at least {need}x{need}; lower patch_size/gap/jitter",
                             field=f"ssl.{self.name}.params.patch_size")
        # grid origin so that every jittered patch stays inside the image
        y0 = int(rng.integers(p.jitter, h - need + p.jitter + 1))
        x0 = int(rng.integers(p.jitter, w - need + p.jitter + 1))
        label = int(rng.integers(0, 8))
        dr, dc = NEIGHBOUR_OFFSETS[label]
        boxes, patches, effects = [], [], []
        for row, col in ((1, 1), (1 + dr, 1 + dc)):
            jy, jx = (int(v) for v in rng.integers(-p.jitter, p.jitter + 1, size=2))
            top, left = y0 + row * stride + jy, x0 + col * stride + jx
            patch = img[top:top + p.patch_size, left:left + p.patch_size].copy()
            patch, effect = _shortcut_defences(patch, p, rng)
            boxes.append([left, top, left + p.patch_size, top + p.patch_size])
            patches.append(patch)
            effects.append({"jitter": [jx, jy], **effect})
        return {
            "label": label,
            "offset": [dr, dc],
            "center_box": boxes[0],
            "neighbor_box": boxes[1],
            "center": effects[0],
            "neighbor": effects[1],
            # one (2, P, P, 3) array, centre then neighbour: one blob per sample instead of two images
            "payloads": {"patches": self.put(sample, "patches", array(np.stack(patches)))},
        }


def _shortcut_defences(patch: np.ndarray, p: PatchPositionParams,
                       rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Any]]:
    """Colour dropping and down/up-sampling, each drawn per patch and recorded."""
    effect: dict[str, Any] = {"kept_channel": None, "downsampled_to": None}
    if p.color_drop:
        keep = int(rng.integers(0, 3))
        kept = patch[:, :, keep].astype(np.float32)
        # noise std ~ 1/100 of the kept channel's std, as in the paper
        std = max(float(kept.std()) / 100.0, 1e-3)
        noisy = np.clip(np.rint(128.0 + rng.normal(0.0, std, size=patch.shape)), 0, 255).astype(np.uint8)
        noisy[:, :, keep] = patch[:, :, keep]
        patch = noisy
        effect["kept_channel"] = keep
    if p.downsample_prob > 0 and rng.random() < p.downsample_prob:
        side = max(2, int(round(np.sqrt(p.downsample_pixels))))
        small = cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA)
        patch = cv2.resize(small, (patch.shape[1], patch.shape[0]), interpolation=cv2.INTER_LINEAR)
        effect["downsampled_to"] = [side, side]
    return patch, effect
