"""Bit masks as hex text (row-major bits, np.packbits): small enough to live inline in a label."""
from __future__ import annotations

import numpy as np


def pack_mask(mask: np.ndarray) -> str:
    return np.packbits(np.asarray(mask, dtype=np.uint8).ravel()).tobytes().hex()


def unpack_mask(mask_hex: str, shape: list[int] | tuple[int, ...]) -> np.ndarray:
    """Inverse of `pack_mask`: the uint8 0/1 mask of the given shape."""
    n = int(np.prod(shape))
    return np.unpackbits(np.frombuffer(bytes.fromhex(mask_hex), np.uint8))[:n].reshape(shape)
