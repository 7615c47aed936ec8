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
    rotation: float = Field(0.0, ge=-45, le=45, description="Rotation about the ink's centre, degrees "
                            "(counter-clockwise), after slant and before the elastic field.")
    size_normalise: float = Field(0.0, ge=0, le=1, description="On a canvas: after every distortion, scale the "
                                  "ink box so its longer side is this fraction of the canvas and centre it "
                                  "(MNIST/UCI-style preprocessing: MNIST is 20/28 = 0.71); 0 leaves it.")

    @property
    def is_identity(self) -> bool:
        return (self.canvas_width == 0 and self.canvas_height == 0 and self.shear == 0 and self.aspect == 1
                and self.elastic_alpha == 0 and self.thickness == 0 and self.rotation == 0)


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
    if p.rotation:  # undo the rotation about (cx, cy) first: it is applied last
        c, s = np.cos(np.radians(p.rotation)), np.sin(np.radians(p.rotation))
        du, dv = u - cx, v - cy
        u, v = (cx + c * du - s * dv).astype(np.float32), (cy + s * du + c * dv).astype(np.float32)
    # inverse of: dst = centre + scale * (src - src_centre) (x also times aspect), then x += shear * (y - cy)
    u = u - p.shear * (v - cy)
    map_x = ((u - cx) / (scale * aspect) + (x0 + x1) / 2).astype(np.float32)
    map_y = ((v - cy) / scale + (y0 + y1) / 2).astype(np.float32)
    warped = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    warped_ids = cv2.remap(ids.astype(np.float32), map_x, map_y, cv2.INTER_NEAREST,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if on_canvas and p.size_normalise > 0:
        return normalise_size(warped, warped_ids.astype(np.int32), p.size_normalise)
    return warped, warped_ids.astype(np.int32)


def normalise_size(image: np.ndarray, ids: np.ndarray, fraction: float):
    """Scale about the ink box so its longer side is `fraction` of the canvas's shorter side, box centred."""
    if not ids.any():
        return image, ids
    h, w = ids.shape
    x0, y0, x1, y1 = _ink_box(ids)
    s = fraction * min(w, h) / max(x1 - x0, y1 - y0)
    m = np.array([[s, 0, w / 2 - s * (x0 + x1) / 2], [0, s, h / 2 - s * (y0 + y1) / 2]], np.float64)
    # sample at pixel centres: a pixel's centre is at +0.5, which cv2's integer grid puts at 0
    m[:, 2] += (s - 1) * 0.5
    out = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    out_ids = cv2.warpAffine(ids.astype(np.float32), m, (w, h), flags=cv2.INTER_NEAREST,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out, out_ids.astype(np.int32)


def _ink_box(ids: np.ndarray) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(ids)
    if len(xs) == 0:
        return 0.0, 0.0, float(ids.shape[1]), float(ids.shape[0])
    return float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)
