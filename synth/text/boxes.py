"""Character and word boxes from trdg's colour-coded glyph mask (taken before any blur)."""
from __future__ import annotations

from typing import Any

import numpy as np


def mask_ids(mask_rgb: np.ndarray) -> np.ndarray:
    """trdg paints character i (0-based, spaces included) with colour (0, (i+1)//255, (i+1)%255)."""
    m = mask_rgb.astype(np.int32)
    return m[..., 0] * 255 * 255 + m[..., 1] * 255 + m[..., 2]


def char_boxes(ids: np.ndarray, text: str) -> list[dict[str, Any]]:
    """One entry per non-space character: its index in the transcript and the xyxy box covering
    its mask pixels (pixel edges, so a one-pixel glyph at x has x0=x, x1=x+1), or None if no pixel
    of it survived (clipped, or fully covered by the next glyph)."""
    ys, xs = np.nonzero(ids)
    vals = ids[ys, xs]
    order = np.argsort(vals, kind="stable")
    vals, xs, ys = vals[order], xs[order], ys[order]
    starts = np.searchsorted(vals, np.arange(1, len(text) + 2))
    out = []
    for i, ch in enumerate(text):
        if ch.isspace():
            continue
        lo, hi = starts[i], starts[i + 1]
        box = None
        if hi > lo:
            box = [float(xs[lo:hi].min()), float(ys[lo:hi].min()),
                   float(xs[lo:hi].max() + 1), float(ys[lo:hi].max() + 1)]
        out.append({"char": ch, "index": i, "box": box})
    return out


def word_boxes(chars: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """Words are maximal runs of non-space characters; a word's box is the union of its glyph boxes."""
    by_index = {c["index"]: c for c in chars}
    words, start = [], None
    for i, ch in enumerate(text + " "):
        if not ch.isspace() and start is None:
            start = i
        elif ch.isspace() and start is not None:
            boxes = [by_index[j]["box"] for j in range(start, i) if by_index[j]["box"] is not None]
            box = None
            if boxes:
                arr = np.array(boxes)
                box = [float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()), float(arr[:, 3].max())]
            words.append({"text": text[start:i], "start": start, "end": i, "box": box})
            start = None
    return words
