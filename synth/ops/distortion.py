"""Geometric distortions of the imaged surface and lens: radial/tangential lens, elastic, crinkle,
curvature (sheet bent around a cylinder) and fold. Each moves pixels, masks and labels in one warp."""
from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from synth.ops.base import AnnotatedImage, ImageOp, OpParams, sample_field


def smooth_noise(h: int, w: int, scale_px: float, rng: np.random.Generator, octaves: int = 1) -> np.ndarray:
    """Zero-mean, unit-ish smooth random field with features about `scale_px` wide (coarse Gaussian
    noise upsampled bicubically; octaves add finer detail at half amplitude each)."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        s = max(scale_px / 2**o, 2.0)
        gh, gw = int(np.ceil(h / s)) + 3, int(np.ceil(w / s)) + 3
        coarse = rng.standard_normal((gh, gw)).astype(np.float32)
        big = cv2.resize(coarse, (int(gw * s), int(gh * s)), interpolation=cv2.INTER_CUBIC)
        out += amp * big[int(s):int(s) + h, int(s):int(s) + w]
        total += amp * amp
        amp *= 0.5
    return out / np.float32(np.sqrt(total))


def tilt_normals(img: AnnotatedImage, gx: np.ndarray, gy: np.ndarray, where: np.ndarray | None = None) -> None:
    """Perturb the surface normals by a height gradient (gx, gy) = dh/dx, dh/dy, in place."""
    n = img.normals if img.normals is not None else np.dstack(
        [np.zeros_like(gx), np.zeros_like(gx), np.ones_like(gx)]).astype(np.float32)
    if where is not None:
        gx, gy = gx * where, gy * where
    n = n.copy()
    n[..., 0] -= gx * n[..., 2]
    n[..., 1] -= gy * n[..., 2]
    img.normals = n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-6)


class LensDistortion(ImageOp):
    """Brown–Conrady lens distortion: each output pixel at normalised point x samples the source at
    x(1 + k1 r² + k2 r⁴) plus the tangential terms, so k1 < 0 bulges (barrel) and k1 > 0 pinches."""

    name = "lens_distortion"
    geometric = True

    class Params(OpParams):
        k1: float = Field(0.0, ge=-1, le=1, description="Radial coefficient r².")
        k2: float = Field(0.0, ge=-1, le=1, description="Radial coefficient r⁴.")
        p1: float = Field(0.0, ge=-0.1, le=0.1, description="Tangential coefficient p1.")
        p2: float = Field(0.0, ge=-0.1, le=0.1, description="Tangential coefficient p2.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        cx, cy, f = img.width / 2, img.height / 2, max(img.width, img.height) / 2

        def inverse(pts: np.ndarray) -> np.ndarray:
            x, y = (pts[:, 0] - cx) / f, (pts[:, 1] - cy) / f
            r2 = x * x + y * y
            rad = 1 + p.k1 * r2 + p.k2 * r2 * r2
            xd = x * rad + 2 * p.p1 * x * y + p.p2 * (r2 + 2 * x * x)
            yd = y * rad + p.p1 * (r2 + 2 * y * y) + 2 * p.p2 * x * y
            return np.stack([xd * f + cx, yd * f + cy], axis=1)
        return img.remap(inverse, cv_maps=self.maps(img.width, img.height, p))

    @staticmethod
    def maps(w: int, h: int, p: Params) -> tuple[np.ndarray, np.ndarray]:
        """The inverse map at every pixel in OpenCV's convention, float32: the polynomial evaluated on
        a row vector of x and a column vector of y broadcast together (no per-pixel grids built first)."""
        cx, cy, f = w / 2, h / 2, max(w, h) / 2
        x = ((np.arange(w, dtype=np.float32) + np.float32(0.5 - cx)) / np.float32(f))[None, :]
        y = ((np.arange(h, dtype=np.float32) + np.float32(0.5 - cy)) / np.float32(f))[:, None]
        r2 = x * x + y * y
        rad = r2 * np.float32(p.k2)
        rad += np.float32(p.k1)
        rad *= r2
        rad += np.float32(1)
        mx, my = rad * (x * np.float32(f)), rad * (y * np.float32(f))
        if p.p1 or p.p2:  # tangential terms, scaled to pixels
            xy = x * y * np.float32(2 * f)
            mx += xy * np.float32(p.p1) + (r2 + 2 * x * x) * np.float32(p.p2 * f)
            my += (r2 + 2 * y * y) * np.float32(p.p1 * f) + xy * np.float32(p.p2)
        mx += np.float32(cx - 0.5)
        my += np.float32(cy - 0.5)
        return mx, my


class _FieldWarp(ImageOp):
    """Shared by ops whose warp is a smooth random displacement field sampled on a coarse grid."""

    geometric = True

    def _warp(self, img: AnnotatedImage, dx: np.ndarray, dy: np.ndarray) -> AnnotatedImage:
        h, w = img.height, img.width
        disp = np.dstack([dx, dy]).astype(np.float32)
        # OpenCV-convention maps (pixel centres on integers) built by broadcasting, not from full grids
        mx = np.add(dx, np.arange(w, dtype=np.float32)[None, :], dtype=np.float32)
        my = np.add(dy, np.arange(h, dtype=np.float32)[:, None], dtype=np.float32)
        return img.remap(lambda pts: pts + sample_field(disp, pts), cv_maps=(mx, my))


class Elastic(_FieldWarp):
    """Elastic deformation: a Gaussian-smoothed random displacement field (Simard et al. 2003)."""

    name = "elastic"

    class Params(OpParams):
        alpha_px: float = Field(0.0, ge=0, le=200, description="Displacement amplitude in pixels.")
        sigma_px: float = Field(20.0, gt=0, le=500, description="Smoothness: width of the displacement features.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        dx = smooth_noise(img.height, img.width, p.sigma_px, rng) * np.float32(p.alpha_px)
        dy = smooth_noise(img.height, img.width, p.sigma_px, rng) * np.float32(p.alpha_px)
        return self._warp(img, dx, dy)


class Crinkle(_FieldWarp):
    """Crumpled paper: a random height field that both displaces (the sheet's surface pulls in where it
    slopes) and shades (its slopes tilt the normals that the lighting ops read)."""

    name = "crinkle"

    class Params(OpParams):
        strength: float = Field(0.0, ge=0, le=1, description="0 flat, 1 heavily crumpled.")
        scale_px: float = Field(60.0, gt=2, le=2000, description="Size of the creases' features in pixels.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        if p.strength == 0:
            return img
        height = smooth_noise(img.height, img.width, p.scale_px, rng, octaves=3) * np.float32(p.strength * p.scale_px * 0.15)
        gy, gx = np.gradient(height)
        # foreshortening of a sloped surface: material moves toward the creases, about h * slope
        out = self._warp(img, -gx * height * 0.5, -gy * height * 0.5)
        where = (out.mask > 0).astype(np.float32) if out.mask is not None else None
        tilt_normals(out, gx, gy, where)
        return out


class Curvature(ImageOp):
    """Bends a flat sheet around a cylinder, as a receipt curls on a table (orthographic view of the
    bent sheet: arc length s from the axis lands at R·sin(s/R))."""

    name = "curvature"
    geometric = True

    class Params(OpParams):
        radius_px: float = Field(1e6, gt=10, description="Cylinder radius in pixels; larger is flatter.")
        axis: Literal["vertical", "horizontal"] = Field("horizontal", description="Direction of the cylinder axis.")
        axis_pos: float = Field(0.5, ge=0, le=1, description="Axis position as a fraction of the width/height across it.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        c = 1 if p.axis == "horizontal" else 0  # coordinate that bends
        centre = p.axis_pos * (img.height if c == 1 else img.width)
        R = p.radius_px

        def inverse(pts: np.ndarray) -> np.ndarray:
            out = pts.copy()
            u = np.clip((pts[:, c] - centre) / R, -0.999, 0.999)
            out[:, c] = centre + R * np.arcsin(u)
            return out
        out = img.remap(inverse)
        n = np.arange(out.height if c == 1 else out.width, dtype=np.float32) + 0.5
        slope = np.clip((n - centre) / R, -0.999, 0.999)
        slope = slope / np.sqrt(1 - slope**2)  # dh/ds of the cylinder surface seen from above
        grad = np.broadcast_to(slope[:, None] if c == 1 else slope[None, :], (out.height, out.width))
        zero = np.zeros_like(grad)
        where = (out.mask > 0).astype(np.float32) if out.mask is not None else None
        tilt_normals(out, zero if c == 1 else -grad, -grad if c == 1 else zero, where)
        return out


class Fold(ImageOp):
    """A crease: the part of the sheet beyond a line is tilted by `angle_deg`, so it is foreshortened by
    cos(angle) and faces the light differently; the crease itself shows as a thin dark line."""

    name = "fold"
    geometric = True

    class Params(OpParams):
        angle_deg: float = Field(0.0, ge=0, le=75, description="Tilt of the folded part.")
        position: float = Field(0.5, ge=0, le=1, description="Crease position along the crease normal, fraction of the sheet.")
        crease_dir_deg: float = Field(0.0, ge=-90, le=90, description="Crease direction; 0 = horizontal crease.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        if p.angle_deg == 0:
            return img
        t = np.deg2rad(p.crease_dir_deg)
        normal = np.array([-np.sin(t), np.cos(t)])  # crease normal (points "down" the sheet)
        corners = np.array([[0, 0], [img.width, 0], [0, img.height], [img.width, img.height]], float)
        proj = corners @ normal
        d0 = proj.min() + p.position * (proj.max() - proj.min())
        c = np.cos(np.deg2rad(p.angle_deg))

        def inverse(pts: np.ndarray) -> np.ndarray:
            d = pts @ normal - d0
            stretch = np.where(d > 0, d / c - d, 0.0)
            return pts + stretch[:, None] * normal[None, :]
        out = img.remap(inverse)
        ys, xs = np.mgrid[0:out.height, 0:out.width].astype(np.float32)
        d = (xs + 0.5) * normal[0] + (ys + 0.5) * normal[1] - d0
        slope = np.float32(np.tan(np.deg2rad(p.angle_deg))) * (d > 0)
        where = (out.mask > 0).astype(np.float32) if out.mask is not None else None
        tilt_normals(out, slope * np.float32(normal[0]), slope * np.float32(normal[1]), where)
        crease = np.exp(-(d / 1.5) ** 2).astype(np.float32) * (where if where is not None else 1)
        out = out.as_float()  # the crease darkens in float; the warp above may have stayed 8-bit
        out.image = out.image * (1 - 0.25 * crease[..., None])
        return out
