"""Seeds per (recipe seed, sample index, parameter path): one independent stream for every draw,
so adding a parameter never shifts the draws of the others, and workers never share state."""
from __future__ import annotations

import functools
import hashlib
import random

import numpy as np

RENDER_STREAM = "__render__"


@functools.lru_cache(maxsize=4096)
def path_key(path: str) -> tuple[int, ...]:
    digest = hashlib.sha256(path.encode()).digest()
    return tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))


def seed_sequence(recipe_seed: int, index: int, path: str) -> np.random.SeedSequence:
    return np.random.SeedSequence(entropy=recipe_seed, spawn_key=(index, *path_key(path)))


def rng_for(recipe_seed: int, index: int, path: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed_sequence(recipe_seed, index, path)))


def sample_seed(recipe_seed: int, index: int) -> int:
    """The 64-bit seed recorded in the manifest for a sample (its render stream's first state word)."""
    return int(seed_sequence(recipe_seed, index, RENDER_STREAM).generate_state(2, np.uint32).view(np.uint64)[0])


def seed_global_state(rng: np.random.Generator) -> int:
    """Seed the global `random`, `numpy.random` and OpenCV RNGs from a sample's stream.

    Only for libraries that read global state (trdg, nlpaug, audiomentations); call it in the worker
    right before the library call, never as a substitute for passing `rng`.
    """
    seed = int(rng.integers(0, 2**31 - 1))
    random.seed(seed)
    np.random.seed(seed)
    try:
        import cv2
        cv2.setRNGSeed(seed)
    except ImportError:  # pragma: no cover - cv2 is a core dependency
        pass
    return seed
