"""Lighting ops in the scene plane's frame (x, y in mm on the plane, z = height toward the camera):
ambient level, directional light on the surface normals, point light with falloff, camera flash with
specular glare on glossy surfaces, cast shadow of an object on the table, colour temperature."""
from __future__ import annotations

import cv2
import numpy as np
from pydantic import Field

from synth.ops.base import AnnotatedImage, ImageOp, OpParams


def _normals(img: AnnotatedImage) -> np.ndarray:
    if img.normals is not None:
        return img.normals
    n = np.zeros((*img.image.shape[:2], 3), np.float32)
    n[..., 2] = 1
    return n


def _direction(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    a, e = np.deg2rad(azimuth_deg), np.deg2rad(elevation_deg)
    return np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)], np.float32)


class AmbientLight(ImageOp):
    """Overall light level: multiplies the scene's radiance."""

    name = "ambient"

    class Params(OpParams):
        level: float = Field(1.0, ge=0, le=4, description="1 leaves the image as is; 0.3 is a dim room.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        img = img.as_float()  # light is float arithmetic on [0, 1] pixels
        return img.with_image(img.image * np.float32(p.level))


class DirectionalLight(ImageOp):
    """A distant light (sun, window) from azimuth/elevation shading the surface normals (Lambert),
    normalised so that a flat surface keeps its brightness and slopes toward/away brighten/darken."""

    name = "directional_light"

    class Params(OpParams):
        azimuth_deg: float = Field(45.0, ge=-180, le=180, description="Direction the light comes from, in the plane.")
        elevation_deg: float = Field(60.0, gt=0, le=90, description="Height of the light above the plane.")
        strength: float = Field(0.7, ge=0, le=1, description="Share of the light that is directional (rest is fill).")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        img = img.as_float()  # light is float arithmetic on [0, 1] pixels
        L = _direction(p.azimuth_deg, p.elevation_deg)
        lam = np.clip(_normals(img) @ L, 0, None) / L[2]
        shade = (1 - p.strength) + p.strength * lam
        return img.with_image(img.image * shade[..., None])


class PointLight(ImageOp):
    """A lamp at (x, y, height) mm over the plane: Lambert cosine times (height / distance)^falloff, so
    the spot under the lamp gets `intensity` and light falls off away from it."""

    name = "point_light"

    class Params(OpParams):
        x_mm: float = Field(0.0, ge=-1e4, le=1e4, description="Lamp position on the plane, x.")
        y_mm: float = Field(0.0, ge=-1e4, le=1e4, description="Lamp position on the plane, y.")
        height_mm: float = Field(500.0, gt=0, le=1e4, description="Lamp height above the plane.")
        intensity: float = Field(0.5, ge=0, le=4, description="Added light right under the lamp (1 = as bright as ambient).")
        falloff: float = Field(2.0, ge=0, le=4, description="Distance exponent: 2 is the inverse-square law.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        img = img.as_float()  # light is float arithmetic on [0, 1] pixels
        E = point_irradiance(img, np.array([p.x_mm, p.y_mm, p.height_mm], np.float32), p.falloff)
        return img.with_image(img.image * (1 + np.float32(p.intensity) * E)[..., None])


def point_irradiance(img: AnnotatedImage, pos: np.ndarray, falloff: float) -> np.ndarray:
    """Lambert cosine times (height / distance)^falloff of a light at `pos` (mm), per pixel; the vector
    to the light is kept as components (no HxWx3 stack, no norm over it)."""
    xy = img.plane_coords()
    dx, dy, z = pos[0] - xy[..., 0], pos[1] - xy[..., 1], np.float32(pos[2])
    r2 = dx * dx
    r2 += dy * dy
    r2 += z * z
    r = np.sqrt(r2)
    if img.normals is None:  # a flat surface faces straight up
        dot = np.broadcast_to(z, r.shape)
    else:
        n = img.normals
        dot = n[..., 0] * dx
        dot += n[..., 1] * dy
        dot += n[..., 2] * z
    cos = np.maximum(dot / r, np.float32(0))
    return cos * (z * z / r2 if falloff == 2 else (z / r) ** np.float32(falloff))


class CameraFlash(ImageOp):
    """A flash at the camera: a point light whose hot spot lies under the lens, plus a Blinn–Phong
    specular highlight (view = light direction) that only glossy pixels (`gloss` map) reflect."""

    name = "camera_flash"

    class Params(OpParams):
        strength: float = Field(0.0, ge=0, le=4, description="Diffuse flash light at the hot spot.")
        glare: float = Field(0.0, ge=0, le=4, description="Specular highlight strength on glossy surfaces.")
        shininess: float = Field(60.0, ge=1, le=2000, description="Specular exponent: larger is a smaller, sharper glare.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        if p.strength == 0 and p.glare == 0:
            return img
        img = img.as_float()  # light is float arithmetic on [0, 1] pixels
        cam = np.array(img.camera_mm if img.camera_mm is not None else
                       (img.width * img.mm_per_px / 2, img.height * img.mm_per_px / 2, 400.0), np.float32)
        E = point_irradiance(img, cam, 2.0)
        xy = img.plane_coords()
        v = np.concatenate([cam[:2] - xy, np.broadcast_to(cam[2], xy.shape[:2])[..., None]], axis=-1)
        v /= np.linalg.norm(v, axis=-1, keepdims=True)
        spec = np.clip(np.einsum("hwc,hwc->hw", _normals(img), v), 0, 1) ** p.shininess
        gloss = img.gloss if img.gloss is not None else np.zeros_like(spec)
        out = img.image * (1 + np.float32(p.strength) * E)[..., None] + (np.float32(p.glare) * gloss * spec)[..., None]
        return img.with_image(out)


class CastShadow(ImageOp):
    """Shadow that the masked object (a sheet lifted `lift_mm` off the table by its curl) casts on the
    background, away from a light at azimuth/elevation; soft-edged, only on non-object pixels."""

    name = "cast_shadow"

    class Params(OpParams):
        azimuth_deg: float = Field(45.0, ge=-180, le=180, description="Direction the light comes from.")
        elevation_deg: float = Field(60.0, ge=5, le=90, description="Light elevation; lower is a longer shadow.")
        lift_mm: float = Field(2.0, ge=0, le=200, description="Height of the object's edge above the table.")
        softness_px: float = Field(4.0, ge=0, le=100, description="Blur of the shadow's edge.")
        darkness: float = Field(0.4, ge=0, le=1, description="Light blocked inside the shadow.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        if img.mask is None or p.darkness == 0:
            return img
        img = img.as_float()  # light is float arithmetic on [0, 1] pixels
        obj = (img.mask > 0).astype(np.float32)
        length_mm = p.lift_mm / np.tan(np.deg2rad(p.elevation_deg))
        a = np.deg2rad(p.azimuth_deg)
        # mm on the plane -> pixels, from the local scale of plane_xy at the image centre
        xy = img.plane_coords()
        cy, cx = img.height // 2, img.width // 2
        J = np.array([xy[cy, min(cx + 1, img.width - 1)] - xy[cy, cx], xy[min(cy + 1, img.height - 1), cx] - xy[cy, cx]]).T
        shift = np.linalg.solve(J + np.eye(2) * 1e-9, -length_mm * np.array([np.cos(a), np.sin(a)]))
        M = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
        shadow = cv2.warpAffine(obj, M, (img.width, img.height))
        if p.softness_px > 0:
            shadow = cv2.GaussianBlur(shadow, (0, 0), p.softness_px)
        factor = 1 - p.darkness * shadow * (1 - obj)
        return img.with_image(img.image * factor[..., None])


def kelvin_rgb(kelvin: float) -> np.ndarray:
    """RGB of a black body at `kelvin`, normalised to 6500 K (Planck's law at 610/550/465 nm)."""
    def planck(lam_nm: float, t: float) -> float:
        lam = lam_nm * 1e-9
        return 1.0 / (lam**5 * (np.exp(1.4388e-2 / (lam * t)) - 1))
    rgb = np.array([planck(l, kelvin) for l in (610, 550, 465)])
    ref = np.array([planck(l, 6500.0) for l in (610, 550, 465)])
    c = rgb / ref
    return (c / c[1]).astype(np.float32)


class ColorTemperature(ImageOp):
    """Tints the light by its colour temperature (warm tungsten ~2800 K, daylight 6500 K, shade 8000 K)."""

    name = "color_temperature"

    class Params(OpParams):
        kelvin: float = Field(6500.0, ge=1500, le=15000, description="Light colour temperature.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        img = img.as_float()  # light is float arithmetic on [0, 1] pixels
        return img.with_image(img.image * kelvin_rgb(p.kelvin))
