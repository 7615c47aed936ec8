"""A fast PNG writer for the arrays scenes make: 8- or 16-bit, grey, grey+alpha, RGB or RGBA.

Every row uses PNG's "up" filter (the difference to the row above, computed with numpy in one pass) and
the filtered bytes are deflated by libdeflate (through imagecodecs) at level 1. Measured on `shapes`
256x256 RGB: 0.56 ms and 25.1 kB per image, against 0.86 ms and 29.5 kB for OpenCV's libpng at its fastest
setting (zlib level 1, up filter).

Encoding is deterministic: the same array gives the same bytes, in any process, on any CPU. libdeflate's
match finding is plain C whatever the CPU (SIMD only fills its tables and computes checksums), and the
version is pinned by uv.lock. ISA-L, which this writer used before, was 2x faster but not deterministic:
about one image in 100,000, a generating process deflated the same filtered rows to different (valid)
bytes, so a sample's blob hash, and the run's fingerprint, changed from run to run.
"""
from __future__ import annotations

import struct

import numpy as np


_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> grey, grey+alpha, RGB, RGBA
_UP = 2


def encode_png(array: np.ndarray, level: int = 1) -> bytes:
    """PNG bytes of an (H, W) or (H, W, C) uint8/uint16 array; channels are written in the order given
    (RGB stays RGB: PNG stores red first)."""
    arr = np.asarray(array)
    if arr.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"PNG holds uint8 or uint16 pixels, not {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in _COLOUR_TYPE or 0 in arr.shape:
        raise ValueError(f"PNG needs a non-empty (H, W) or (H, W, 1-4) array, not shape {array.shape}")
    h, w, c = arr.shape
    depth = 8 * arr.dtype.itemsize
    if depth == 16:
        arr = arr.astype(">u2")  # PNG stores 16-bit samples big-endian
    rows = arr.reshape(h, -1).view(np.uint8)
    filtered = np.empty((h, rows.shape[1] + 1), np.uint8)
    filtered[:, 0] = _UP  # for the first row "up" means unfiltered: the row above counts as zeros
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])  # modulo 256, as the filter is defined
    header = struct.pack(">IIBBBBB", w, h, depth, _COLOUR_TYPE[c], 0, 0, 0)
    from imagecodecs import deflate_encode  # imported on first use, like every heavy library here
    return b"".join((_SIGNATURE, _chunk(b"IHDR", header),
                     _chunk(b"IDAT", deflate_encode(filtered, level=level)), _chunk(b"IEND", b"")))


def _chunk(kind: bytes, data: bytes) -> bytes:
    from imagecodecs import deflate_crc32
    crc = deflate_crc32(data, deflate_crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
