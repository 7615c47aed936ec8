"""Geometry after trdg: ink thickness, placement on a fixed canvas with scale/offset jitter, slant and
elastic distortion. Image and glyph-id mask go through the same map, so boxes follow the pixels."""
from __future__ import annotations

import cv2
import numpy as np
from pydantic import Field
from scipy.ndimage import gaussian_filter

from synth.core.scene import SceneParams


class Layout(SceneParams):
    """Post-trdg geometry; all defaults leave trdg's image untouched."""

    canvas_width: int = Field(0, ge=0, le=4096, description="Output width; 0 keeps trdg's size.")
    canvas_height: int = Field(0, ge=0, le=4096, description="Output height; 0 keeps trdg's size.")
    scale: float = Field(0.8, gt=0, le=1.5, description="On a canvas: longer ink side / canvas side.")
    offset_x: float = Field(0.0, ge=-1, le=1, description="On a canvas: horizontal shift, fraction of free space.")
    offset_y: float = Field(0.0, ge=-1, le=1, description="On a canvas: vertical shift, fraction of free space.")
    aspect: float = Field(1.0, ge=0.25, le=4, description="On a canvas: width multiplier of the ink; below 1 "
                          "narrows it (digits written in form boxes are narrower than printed ones).")
    shear: float = Field(0.0, ge=-1, le=1, description="Slant: x moves by shear * (y - centre), handwriting-like.")
    elastic_alpha: float = Field(0.0, ge=0, le=100, description="Elastic distortion strength in pixels.")
    elastic_sigma: float = Field(4.0, gt=0, le=50, description="Smoothness of the elastic field in pixels.")
    thickness: int = Field(0, ge=-3, le=3, description="Grow (+) or thin (-) strokes by this many pixels.")

    @property
    def is_identity(self) -> bool:
        return (self.canvas_width == 0 and self.canvas_height == 0 and self.shear == 0 and self.aspect == 1
                and self.elastic_alpha == 0 and self.thickness == 0)


def change_thickness(image: np.ndarray, ids: np.ndarray, pixels: int, dark_text: bool):
    """Morphological grow/thin of the ink; the id mask is grown or thinned the same way."""
    if pixels == 0:
        return image, ids
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * abs(pixels) + 1, 2 * abs(pixels) + 1))
    grow = pixels > 0
    ink_op = cv2.erode if grow == dark_text else cv2.dilate  # dark ink grows where the minimum spreads
    mask_op = cv2.dilate if grow else cv2.erode
    return ink_op(image, kernel), mask_op(ids.astype(np.float32), kernel).astype(np.int32)


def warp(image: np.ndarray, ids: np.ndarray, p: Layout, rng: np.random.Generator):
    """Place, slant and elastically distort; returns (image, ids) on the output canvas."""
    h, w = ids.shape
    out_w, out_h = (p.canvas_width or w), (p.canvas_height or h)
    src = _ink_box(ids) if (p.canvas_width or p.canvas_height) else (0.0, 0.0, float(w), float(h))
    x0, y0, x1, y1 = src
    bw, bh = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    on_canvas = bool(p.canvas_width or p.canvas_height)
    aspect = p.aspect if on_canvas else 1.0
    scale = p.scale * min(out_w / (bw * aspect), out_h / bh) if on_canvas else 1.0
    cx = out_w / 2 + p.offset_x * max(out_w - bw * scale * aspect, 0) / 2
    cy = out_h / 2 + p.offset_y * max(out_h - bh * scale, 0) / 2
    u, v = np.meshgrid(np.arange(out_w, dtype=np.float32), np.arange(out_h, dtype=np.float32))
    if p.elastic_alpha > 0:
        # the displacement field comes from the render stream, so it is replayable
        u = u + p.elastic_alpha * gaussian_filter(rng.uniform(-1, 1, (out_h, out_w)), p.elastic_sigma,
                                                  mode="constant").astype(np.float32)
        v = v + p.elastic_alpha * gaussian_filter(rng.uniform(-1, 1, (out_h, out_w)), p.elastic_sigma,
                                                  mode="constant").astype(np.float32)
    # inverse of: dst = centre + scale * (src - src_centre) (x also times aspect), then x += shear * (y - cy)
    u = u - p.shear * (v - cy)
    map_x = ((u - cx) / (scale * aspect) + (x0 + x1) / 2).astype(np.float32)
    map_y = ((v - cy) / scale + (y0 + y1) / 2).astype(np.float32)
    warped = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    warped_ids = cv2.remap(ids.astype(np.float32), map_x, map_y, cv2.INTER_NEAREST,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return warped, warped_ids.astype(np.int32)


def _ink_box(ids: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(ids)
    if len(xs) == 0:
        return 0.0, 0.0, float(ids.shape[1]), float(ids.shape[0])
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)
