"""Material ops: albedo colour or procedural texture (wood, marble, fabric, paper fibre, noise),
glossiness (the specular map that the flash reads) and ink fade per glyph and per line."""
from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from synth.ops.base import AnnotatedImage, ImageOp, OpParams, copy_labels
from synth.ops.distortion import smooth_noise

TextureKind = Literal["plain", "noise", "wood", "marble", "fabric", "paper"]


def procedural_texture(kind: str, h: int, w: int, scale_px: float, rgb: tuple[float, float, float],
                       rng: np.random.Generator) -> np.ndarray:
    """An HxWx3 float32 albedo map of the given kind, mean colour about `rgb` (0..1)."""
    base = np.asarray(rgb, np.float32)
    if kind == "plain":
        return np.broadcast_to(base, (h, w, 3)).copy()
    return (procedural_albedo(kind, h, w, scale_px, rng)[..., None] * base).astype(np.float32)


def procedural_albedo(kind: str, h: int, w: int, scale_px: float, rng: np.random.Generator) -> np.ndarray:
    """HxW float32 relative albedo of the given kind (1 = its mean colour): `procedural_texture` is this
    times the colour, for callers that scale channels themselves."""
    if kind == "plain":
        return np.ones((h, w), np.float32)
    turb = smooth_noise(h, w, scale_px, rng, octaves=3)
    ys, xs = np.arange(h, dtype=np.float32)[:, None], np.arange(w, dtype=np.float32)[None, :]  # broadcast, no grids
    if kind == "noise":
        v = 1 + 0.12 * turb
    elif kind == "wood":
        grain = smooth_noise(h, max(w // 8, 4), scale_px / 4, rng)  # long streaks along x
        grain = cv2.resize(grain, (w, h), interpolation=cv2.INTER_LINEAR)
        rings = np.sin(2 * np.pi * (ys / (scale_px * 0.35) + 1.2 * turb)) * 0.5 + 0.5
        v = 0.78 + 0.22 * rings**3 + 0.06 * grain
    elif kind == "marble":  # a few thin dark veins wandering across a pale stone
        t = np.sin(np.pi * ((xs + 0.5 * ys) / (scale_px * 6) + 1.5 * turb))
        v = 0.97 - 0.22 * np.exp(-t * t / 0.05) + 0.03 * turb
    elif kind == "fabric":
        period = max(scale_px / 12, 2.0)
        weave = np.sin(2 * np.pi * xs / period) * np.sin(2 * np.pi * ys / period)
        v = 0.9 + 0.07 * weave + 0.05 * turb
    else:  # paper: faint fine grain (a strong or elongated grain reads as streaks in a photo)
        v = 1 + 0.01 * smooth_noise(h, w, 2.5, rng) + 0.012 * turb
    return v.astype(np.float32, copy=False)


class Texture(ImageOp):
    """Multiplies a region's albedo by a procedural texture (or paints it a plain colour)."""

    name = "texture"

    class Params(OpParams):
        kind: TextureKind = Field("noise", description="Texture family.")
        scale_px: float = Field(80.0, gt=1, le=5000, description="Size of the texture's features.")
        color: tuple[float, float, float] = Field((1.0, 1.0, 1.0), description="Mean RGB in 0..1.")
        region: Literal["all", "background", "objects"] = Field("all", description="Where it applies (by mask).")
        replace: bool = Field(False, description="Paint the texture instead of multiplying the existing albedo.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        img = img.as_float()  # light is float arithmetic on [0, 1] pixels
        tex = procedural_texture(p.kind, img.height, img.width, p.scale_px, p.color, rng)
        new = tex if p.replace else img.image * tex
        if p.region == "all" or img.mask is None:
            return img.with_image(new)
        sel = (img.mask == 0) if p.region == "background" else (img.mask > 0)
        return img.with_image(np.where(sel[..., None], new, img.image))


class Gloss(ImageOp):
    """Sets the specular strength map: glossy (thermal paper, lacquered wood) vs matte."""

    name = "gloss"

    class Params(OpParams):
        objects: float = Field(0.0, ge=0, le=1, description="Specular strength of masked objects.")
        background: float = Field(0.0, ge=0, le=1, description="Specular strength elsewhere.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        if img.mask is None:
            g = np.full(img.image.shape[:2], p.objects, np.float32)
        else:
            g = np.where(img.mask > 0, np.float32(p.objects), np.float32(p.background)).astype(np.float32)
        out = img.with_image(img.image)
        out.gloss = g
        return out


class InkFade(ImageOp):
    """Fades printed ink toward the paper: each line (labels["lines"]) by up to `line_fade` and each glyph
    or word (labels["chars"] or labels["words"]) by up to `glyph_fade`; the drawn fades go into the labels."""

    name = "ink_fade"

    class Params(OpParams):
        line_fade: float = Field(0.0, ge=0, le=1, description="Largest per-line fade (thermal print ageing).")
        glyph_fade: float = Field(0.0, ge=0, le=1, description="Largest per-glyph fade (worn print head dots).")
        paper_rgb: tuple[float, float, float] = Field((0.96, 0.95, 0.92), description="Paper colour ink fades to.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        if p.line_fade == 0 and p.glyph_fade == 0:
            return img
        img = img.as_float()  # light is float arithmetic on [0, 1] pixels
        keep, labels = self.kept_ink(img.labels, img.image.shape[:2], p, rng)
        paper = np.asarray(p.paper_rgb, np.float32)
        out = paper - (paper - img.image) * keep[..., None]
        res = img.with_image(out)
        res.labels = labels
        return res

    def kept_ink(self, labels: dict, shape: tuple[int, int], p: Params, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
        """(share of ink kept per pixel, labels with each item's drawn `fade`), for scenes that fade an ink
        layer themselves before composing it."""
        keep = np.ones(shape, np.float32)
        labels = copy_labels(labels)
        for key, top in (("lines", p.line_fade), ("chars" if "chars" in labels else "words", p.glyph_fade)):
            for item in labels.get(key, []):
                fade = float(rng.uniform(0, top)) if top > 0 else 0.0
                item["fade"] = round(fade, 4)
                x0, y0, x1, y1 = (int(round(v)) for v in item["box"])
                keep[max(y0, 0):y1, max(x0, 0):x1] *= 1 - fade
        return keep, labels
