"""Contrastive views (SimCLR, Chen et al. 2020): two augmented views of one image, each view's draws recorded.

Pipeline and defaults follow the paper's appendix A: random resized crop (scale 0.08-1, aspect 3/4-4/3)
to `size`, horizontal flip (0.5), colour jitter (strength 0.8s/0.8s/0.8s/0.2s, applied with 0.8, ops in
random order), grayscale (0.2), Gaussian blur (kernel 10% of size, sigma 0.1-2, applied with 0.5).
"""
from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
from pydantic import Field

from synth import Sample, image

from .base import Task, TaskParams, input_image

JITTER_OPS = ("brightness", "contrast", "saturation", "hue")


class SimClrParams(TaskParams):
    size: int = Field(224, ge=8, le=4096, description="Output side of each square view (paper: 224).")
    scale_min: float = Field(0.08, gt=0, le=1, description="Smallest crop area as a fraction of the image.")
    scale_max: float = Field(1.0, gt=0, le=1, description="Largest crop area as a fraction of the image.")
    flip_prob: float = Field(0.5, ge=0, le=1, description="Probability of a horizontal flip.")
    jitter_strength: float = Field(1.0, ge=0, le=2, description="s: brightness/contrast/saturation 0.8s, hue 0.2s.")
    jitter_prob: float = Field(0.8, ge=0, le=1, description="Probability that colour jitter is applied.")
    grayscale_prob: float = Field(0.2, ge=0, le=1, description="Probability of converting to grayscale.")
    blur_prob: float = Field(0.5, ge=0, le=1, description="Probability of Gaussian blur.")
    blur_sigma_min: float = Field(0.1, gt=0, le=10, description="Smallest blur sigma in pixels.")
    blur_sigma_max: float = Field(2.0, gt=0, le=10, description="Largest blur sigma in pixels.")


class SimClrViews(Task):
    name = "simclr_views"
    version = "1"
    modalities = ("image", "3d")
    Params = SimClrParams

    def check(self, p: SimClrParams) -> None:
        if p.scale_min > p.scale_max or p.blur_sigma_min > p.blur_sigma_max:
            raise ValueError("scale_min/blur_sigma_min must not exceed scale_max/blur_sigma_max")

    def run(self, sample: Sample, p: SimClrParams, rng: np.random.Generator) -> dict[str, Any]:
        img = input_image(self, sample)
        views, records = [], []
        for _ in range(2):
            draws = draw_view(img.shape[0], img.shape[1], p, rng)
            views.append(render_view(img, draws, p.size))
            records.append(draws)
        return {"views": records,
                "payloads": {"view1": self.put(sample, "view1", image(views[0])),
                             "view2": self.put(sample, "view2", image(views[1]))}}


def draw_view(h: int, w: int, p: SimClrParams, rng: np.random.Generator) -> dict[str, Any]:
    """Every random choice of one view, drawn up front so rendering is a pure function of it."""
    view: dict[str, Any] = {"crop": random_resized_crop(h, w, p, rng), "flip": bool(rng.random() < p.flip_prob),
                            "jitter": None, "grayscale": False, "blur": None}
    if rng.random() < p.jitter_prob and p.jitter_strength > 0:
        s = p.jitter_strength
        factors = {op: float(rng.uniform(max(0.0, 1 - 0.8 * s), 1 + 0.8 * s)) for op in JITTER_OPS[:3]}
        factors["hue"] = float(rng.uniform(-min(0.5, 0.2 * s), min(0.5, 0.2 * s)))
        view["jitter"] = {**factors, "order": [JITTER_OPS[i] for i in rng.permutation(4)]}
    view["grayscale"] = bool(rng.random() < p.grayscale_prob)
    if rng.random() < p.blur_prob:
        kernel = max(3, int(0.1 * p.size) | 1)  # odd, 10% of the view side
        view["blur"] = {"kernel": kernel, "sigma": float(rng.uniform(p.blur_sigma_min, p.blur_sigma_max))}
    return view


def random_resized_crop(h: int, w: int, p: SimClrParams, rng: np.random.Generator) -> list[int]:
    """Crop box [x0, y0, x1, y1] as torchvision's RandomResizedCrop draws it (10 tries, then a centre crop)."""
    area = h * w
    log_ratio = (math.log(3 / 4), math.log(4 / 3))
    for _ in range(10):
        target = area * rng.uniform(p.scale_min, p.scale_max)
        aspect = math.exp(rng.uniform(*log_ratio))
        cw, ch = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
        if 0 < cw <= w and 0 < ch <= h:
            y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
            return [x0, y0, x0 + cw, y0 + ch]
    ratio = w / h
    if ratio > 4 / 3:
        cw, ch = int(round(h * 4 / 3)), h
    elif ratio < 3 / 4:
        cw, ch = w, int(round(w * 4 / 3))
    else:
        cw, ch = w, h
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return [x0, y0, x0 + cw, y0 + ch]


def render_view(img: np.ndarray, view: dict[str, Any], size: int) -> np.ndarray:
    x0, y0, x1, y1 = view["crop"]
    out = cv2.resize(img[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_LINEAR)
    if view["flip"]:
        out = out[:, ::-1]
    if view["jitter"] is not None or view["grayscale"] or view["blur"] is not None:
        work = out.astype(np.float32) / 255.0
        if view["jitter"] is not None:
            for op in view["jitter"]["order"]:
                work = _JITTER[op](work, view["jitter"][op])
        if view["grayscale"]:
            work = np.repeat(_gray(work)[:, :, None], 3, axis=2)
        if view["blur"] is not None:
            k = view["blur"]["kernel"]
            work = cv2.GaussianBlur(work, (k, k), view["blur"]["sigma"], borderType=cv2.BORDER_REFLECT)
        out = np.clip(np.rint(work * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)


def _gray(x: np.ndarray) -> np.ndarray:
    return x[:, :, 0] * 0.299 + x[:, :, 1] * 0.587 + x[:, :, 2] * 0.114


def _blend(x: np.ndarray, other: np.ndarray | float, factor: float) -> np.ndarray:
    return np.clip(factor * x + (1.0 - factor) * other, 0.0, 1.0)


def _hue(x: np.ndarray, shift: float) -> np.ndarray:
    hsv = cv2.cvtColor(np.ascontiguousarray(x, dtype=np.float32), cv2.COLOR_RGB2HSV)
    hsv[:, :, 0] = np.mod(hsv[:, :, 0] + shift * 360.0, 360.0)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


_JITTER = {
    "brightness": lambda x, f: np.clip(x * f, 0.0, 1.0),
    "contrast": lambda x, f: _blend(x, float(_gray(x).mean()), f),
    "saturation": lambda x, f: _blend(x, _gray(x)[:, :, None], f),
    "hue": _hue,
}
