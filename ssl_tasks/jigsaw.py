"""Jigsaw puzzles (Noroozi & Favaro 2016): 3x3 shuffled tiles, label = index into a fixed permutation set."""
from __future__ import annotations

import hashlib
import io
import itertools
from functools import cache
from typing import Any, Literal

import numpy as np
from pydantic import Field

from synth.errors import SynthError
from synth import Sample, array

from .base import Task, TaskParams, input_image

SUPPORTED_SET_SIZES = (100, 1000)
# The permutation set is part of the task's definition, so its seed is a constant, not a param.
PERMUTATION_SEED = 2016


class PermutationSet:
    """The greedy construction's output: permutations, the minimum Hamming distance each pick had to
    those chosen before it (non-increasing), the .npy bytes and their sha256."""

    def __init__(self, perms: np.ndarray, pick_distances: np.ndarray) -> None:
        self.perms = perms
        self.pick_distances = pick_distances
        out = io.BytesIO()
        np.save(out, perms, allow_pickle=False)
        self.npy = out.getvalue()
        self.sha256 = hashlib.sha256(self.npy).hexdigest()


@cache
def greedy_permutations(n: int, seed: int = PERMUTATION_SEED) -> PermutationSet:
    """Choose `n` permutations of 9 tiles greedily by maximal Hamming distance.

    Start from one permutation drawn with `seed`; then repeatedly add the permutation whose minimum
    Hamming distance to the chosen ones is largest (ties: largest summed distance, the criterion of
    the paper's Algorithm 1; then lowest lexicographic index). The max-min rule guarantees the set's
    minimum pairwise distance equals the last pick's distance.
    """
    if n not in SUPPORTED_SET_SIZES:
        raise SynthError(f"n_permutations must be one of {SUPPORTED_SET_SIZES}, got {n}",
                         field="ssl.jigsaw.params.n_permutations")
    every = np.array(list(itertools.permutations(range(9))), dtype=np.uint8)
    # matches[i, v]: which permutations hold tile v at position i; distance = 9 - matches summed
    matches = np.stack([np.stack([every[:, i] == v for v in range(9)]) for i in range(9)]).astype(np.uint8)
    rng = np.random.default_rng(seed)
    pick = int(rng.integers(0, len(every)))
    min_dist = np.full(len(every), 10, dtype=np.int32)
    sum_dist = np.zeros(len(every), dtype=np.int32)
    key = np.empty(len(every), dtype=np.int32)
    chosen, distances = [pick], [9]
    for _ in range(n - 1):
        same = matches[0, every[pick, 0]].copy()
        for i in range(1, 9):
            same += matches[i, every[pick, i]]
        dist = 9 - same.astype(np.int32)
        np.minimum(min_dist, dist, out=min_dist)
        sum_dist += dist
        # a chosen permutation has min_dist 0, so it is never picked again; sum_dist < 100_000
        np.multiply(min_dist, 100_000, out=key)
        key += sum_dist
        pick = int(np.argmax(key))
        chosen.append(pick)
        distances.append(int(min_dist[pick]))
    return PermutationSet(every[chosen], np.array(distances, dtype=np.int64))


def permutation_set(n: int, store: Any = None) -> tuple[np.ndarray, str]:
    """The fixed set of `n` permutations and the sha256 of its .npy bytes; when a store is given the
    .npy is written into it (content-addressed, so only once per workspace)."""
    ps = greedy_permutations(n)
    if store is not None:
        stored = store.put(ps.npy)
        if isinstance(stored, str) and stored != ps.sha256:
            raise RuntimeError(f"store named the permutation set {stored}, expected sha256 {ps.sha256}")
    return ps.perms, ps.sha256


class JigsawParams(TaskParams):
    n_permutations: Literal[100, 1000] = Field(1000, description="Size of the permutation set (paper: 1000; "
                                                                 "100 is the paper's smaller setting).")
    crop_size: int = Field(225, ge=12, le=4096, description="Side of the square crop cut into 3x3 cells "
                                                            "(paper: 225 from a 256 image).")
    tile_size: int = Field(64, ge=4, le=1365, description="Side of the tile taken at a random offset inside each "
                                                          "cell (paper: 64 in 75px cells), the per-tile jitter.")


class Jigsaw(Task):
    name = "jigsaw"
    version = "1"
    modalities = ("image", "3d")
    Params = JigsawParams

    def check(self, p: JigsawParams) -> None:
        if p.tile_size > p.crop_size // 3:
            raise ValueError(f"tile_size {p.tile_size} must fit its cell: at most crop_size // 3 = {p.crop_size // 3}")

    def run(self, sample: Sample, p: JigsawParams, rng: np.random.Generator) -> dict[str, Any]:
        img = input_image(self, sample)
        h, w = img.shape[:2]
        if h < p.crop_size or w < p.crop_size:
            raise SynthError(f"image is {w}x{h} px, smaller than the {p.crop_size}px crop the 3x3 grid needs; "
                             f"lower crop_size", field=f"ssl.{self.name}.params.crop_size")
        ps = greedy_permutations(p.n_permutations)
        cell = p.crop_size // 3
        top = int(rng.integers(0, h - p.crop_size + 1))
        left = int(rng.integers(0, w - p.crop_size + 1))
        tiles, boxes = [], []
        for r in range(3):
            for c in range(3):
                dy, dx = (int(v) for v in rng.integers(0, cell - p.tile_size + 1, size=2))
                y, x = top + r * cell + dy, left + c * cell + dx
                tiles.append(img[y:y + p.tile_size, x:x + p.tile_size])
                boxes.append([x, y, x + p.tile_size, y + p.tile_size])
        index = int(rng.integers(0, p.n_permutations))
        perm = ps.perms[index]
        # position i of the shuffled puzzle shows original tile perm[i]
        shuffled = np.stack([tiles[int(k)] for k in perm])
        return {
            "label": index,
            "permutation": [int(k) for k in perm],
            "permutation_set_sha256": ps.sha256,
            "crop_box": [left, top, left + p.crop_size, top + p.crop_size],
            "tile_boxes": boxes,
            "payloads": {"tiles": self.put(sample, "tiles", array(shuffled)),
                         "permutation_set": self.put(sample, "permutation_set", array(ps.perms))},
        }
