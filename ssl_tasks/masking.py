"""Masked image modelling masks: MAE random patches, BEiT blockwise masking and SimMIM's coarse units.

Masks live in the label as `mask_hex` (row-major bits, np.packbits, hex: 64 characters for 256
patches; `unpack_mask` reads them back) and MAE's `ids_restore` as a list of ints. Inline, because a
separate blob costs a file write (about 1 ms here), more than computing the mask, and a few hundred
small ints become a Parquet list column on export as they are.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from pydantic import Field

from synth.errors import SynthError
from synth import Sample, pack_mask

from .base import Task, TaskParams, input_image


def patch_grid(task: Task, img: np.ndarray, patch: int, field: str) -> tuple[int, int]:
    """Rows and columns of whole patches (a remainder at the right/bottom edge is not covered)."""
    rows, cols = img.shape[0] // patch, img.shape[1] // patch
    if rows < 1 or cols < 1:
        raise SynthError(f"image is {img.shape[1]}x{img.shape[0]} px, smaller than one {patch}px patch",
                         field=f"ssl.{task.name}.params.{field}")
    return rows, cols


def random_masking(n: int, ratio: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MAE's per-sample shuffle: returns (mask in original order, ids_shuffle, ids_restore); the first
    n - round(ratio * n) shuffled patches are kept."""
    noise = rng.random(n)
    ids_shuffle = np.argsort(noise, kind="stable")
    ids_restore = np.argsort(ids_shuffle, kind="stable")
    keep = n - int(round(ratio * n))
    mask_shuffled = np.ones(n, dtype=np.uint8)
    mask_shuffled[:keep] = 0
    return mask_shuffled[ids_restore], ids_shuffle.astype(np.int32), ids_restore.astype(np.int32)


class MaeParams(TaskParams):
    patch_size: int = Field(16, ge=1, le=1024, description="Patch side in pixels (paper: 16).")
    mask_ratio: float = Field(0.75, gt=0, lt=1, description="Fraction of patches masked, exactly round(ratio*N).")


class Mae(Task):
    name = "mae"
    version = "1"
    modalities = ("image", "3d")
    Params = MaeParams

    def run(self, sample: Sample, p: MaeParams, rng: np.random.Generator) -> dict[str, Any]:
        rows, cols = patch_grid(self, input_image(self, sample), p.patch_size, "patch_size")
        mask, _, ids_restore = random_masking(rows * cols, p.mask_ratio, rng)
        return {
            "grid": [rows, cols],
            "num_patches": rows * cols,
            "num_masked": int(mask.sum()),
            "len_keep": rows * cols - int(mask.sum()),
            "mask_hex": pack_mask(mask),
            "ids_restore": ids_restore.tolist(),
        }


class BlockwiseParams(TaskParams):
    patch_size: int = Field(16, ge=1, le=1024, description="Patch side in pixels (paper: 16).")
    mask_ratio: float = Field(0.4, gt=0, lt=1, description="Target fraction of masked patches (paper: ~40%).")
    min_block_patches: int = Field(16, ge=1, description="Smallest block, in patches (paper: 16).")
    max_block_patches: int | None = Field(None, ge=1, description="Largest block in patches; default: the target.")
    min_aspect: float = Field(0.3, gt=0, le=1, description="Block aspect ratio is drawn log-uniformly in "
                                                           "[min_aspect, 1/min_aspect] (paper: 0.3).")


class Blockwise(Task):
    name = "blockwise_mask"
    version = "1"
    modalities = ("image", "3d")
    Params = BlockwiseParams

    def run(self, sample: Sample, p: BlockwiseParams, rng: np.random.Generator) -> dict[str, Any]:
        rows, cols = patch_grid(self, input_image(self, sample), p.patch_size, "patch_size")
        target = int(round(p.mask_ratio * rows * cols))
        mask, blocks = blockwise_mask(rows, cols, target, p, rng)
        return {
            "grid": [rows, cols],
            "num_patches": rows * cols,
            "target_masked": target,
            "num_masked": int(mask.sum()),
            "blocks": blocks,
            "mask_hex": pack_mask(mask),
        }


def blockwise_mask(rows: int, cols: int, target: int, p: BlockwiseParams,
                   rng: np.random.Generator) -> tuple[np.ndarray, list[list[int]]]:
    """BEiT's generator: add random rectangles of >= min_block_patches until the target count is met;
    a block may overlap earlier ones but never pushes the count past the target."""
    mask = np.zeros((rows, cols), dtype=np.uint8)
    log_aspect = (math.log(p.min_aspect), math.log(1 / p.min_aspect))
    max_block = p.max_block_patches or target
    blocks: list[list[int]] = []
    count = 0
    while count < target:
        budget = min(target - count, max_block)
        added = 0
        for _ in range(10):  # BEiT gives each block ten attempts before stopping
            area = rng.uniform(p.min_block_patches, budget) if budget > p.min_block_patches else float(budget)
            aspect = math.exp(rng.uniform(*log_aspect))
            h, w = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
            if not (0 < h < rows and 0 < w < cols):
                continue
            top, left = int(rng.integers(0, rows - h + 1)), int(rng.integers(0, cols - w + 1))
            fresh = h * w - int(mask[top:top + h, left:left + w].sum())
            if 0 < fresh <= budget:
                mask[top:top + h, left:left + w] = 1
                blocks.append([top, left, h, w])
                added = fresh
                break
        if added == 0:
            break
        count += added
    return mask, blocks


class SimMimParams(TaskParams):
    mask_patch_size: int = Field(32, ge=1, le=1024, description="Masking unit in pixels (paper: 32).")
    model_patch_size: int = Field(4, ge=1, le=1024, description="The model's patch size; the mask is stored at "
                                                                "this resolution (paper: 4 for Swin).")
    mask_ratio: float = Field(0.6, gt=0, lt=1, description="Fraction of units masked, ceil(ratio*N) (paper: 0.6).")


class SimMim(Task):
    name = "simmim"
    version = "1"
    modalities = ("image", "3d")
    Params = SimMimParams

    def check(self, p: SimMimParams) -> None:
        if p.mask_patch_size % p.model_patch_size:
            raise ValueError(f"mask_patch_size {p.mask_patch_size} must be a multiple of "
                             f"model_patch_size {p.model_patch_size}")

    def run(self, sample: Sample, p: SimMimParams, rng: np.random.Generator) -> dict[str, Any]:
        rows, cols = patch_grid(self, input_image(self, sample), p.mask_patch_size, "mask_patch_size")
        n = rows * cols
        count = int(math.ceil(p.mask_ratio * n))
        units = np.zeros(n, dtype=np.uint8)
        units[rng.permutation(n)[:count]] = 1
        # stored per masking unit; the model-patch mask repeats each unit `scale` times on both axes
        return {
            "unit_grid": [rows, cols],
            "num_units": n,
            "num_masked_units": count,
            "scale": p.mask_patch_size // p.model_patch_size,
            "mask_hex": pack_mask(units),
        }
