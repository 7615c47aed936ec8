"""Handwritten forms the bundled fonts lack, drawn onto trdg's image and glyph-id mask together (so the
character's box covers them): the crossbar of a '7' that continental European writers add."""
from __future__ import annotations

import cv2
import numpy as np


def cross_sevens(rgb: np.ndarray, ids: np.ndarray, text: str, probability: float, colour: tuple[int, int, int],
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Each '7' gets a horizontal bar through its stem with `probability`; returns the indices crossed.
    Draws from `rng` only when probability > 0, so recipes without the variant keep their streams."""
    crossed: list[int] = []
    if probability <= 0:
        return rgb, ids, crossed
    for k, ch in enumerate(text):
        if ch != "7" or rng.random() >= probability:
            continue
        glyph = (ids == k + 1).astype(np.uint8)
        ys, xs = np.nonzero(glyph)
        if len(xs) == 0:
            continue
        if not crossed:
            rgb, ids = rgb.copy(), ids.copy()
        # the bar is as thick as the glyph's own stroke: twice its deepest distance to the background
        width = max(1, int(round(2 * float(cv2.distanceTransform(glyph, cv2.DIST_L2, 3).max()))))
        y = int(round(ys.min() + 0.55 * (ys.max() - ys.min())))
        on_row = xs[ys == y]
        centre = float(on_row.mean()) if len(on_row) else float(xs.mean())
        half = 0.3 * (xs.max() - xs.min() + 1)
        start, end = (int(round(centre - half)), y), (int(round(centre + half)), y)
        cv2.line(rgb, start, end, colour, width)
        cv2.line(ids, start, end, k + 1, width)
        crossed.append(k)
    return rgb, ids, crossed
