"""The photo pipeline any image scene can embed as a nested `photo:` params block, and the op registry
(`get_op(name)`) that turns an op name into its class with a did-you-mean error."""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from pydantic import Field, field_validator

from synth.errors import SynthError, did_you_mean
from synth.ops import camera as cam
from synth.ops import distortion as dist
from synth.ops import lighting as light
from synth.ops import material as mat
from synth.ops.base import AnnotatedImage, ImageOp, OpParams

OPS: dict[str, type[ImageOp]] = {c.name: c for c in (
    light.AmbientLight, light.DirectionalLight, light.PointLight, light.CameraFlash, light.CastShadow,
    light.ColorTemperature, cam.CameraPose, cam.DefocusBlur, cam.GaussianBlur, cam.MotionBlur, cam.Exposure, cam.SensorNoise,
    cam.Vignetting, cam.ChromaticAberration, cam.WhiteBalance, cam.JpegQuality, mat.Texture, mat.Gloss,
    mat.InkFade, dist.LensDistortion, dist.Elastic, dist.Crinkle, dist.Curvature, dist.Fold)}


def get_op(name: str) -> type[ImageOp]:
    if name not in OPS:
        raise SynthError(f"unknown image op '{name}'{did_you_mean(name, OPS)}; available: {', '.join(sorted(OPS))}",
                         field="op")
    return OPS[name]


def build_ops(spec: list[dict[str, Any]]) -> list[tuple[ImageOp, OpParams]]:
    """[{op: name, **params}, ...] -> validated (op, params) pairs; bad names or params raise ValueError."""
    out = []
    for i, item in enumerate(spec):
        item = dict(item)
        name = item.pop("op", None)
        if name is None:
            raise ValueError(f"extra_ops[{i}]: missing 'op' (one of {', '.join(sorted(OPS))})")
        if name not in OPS:
            raise ValueError(f"extra_ops[{i}]: unknown image op '{name}'{did_you_mean(name, OPS)}")
        cls = OPS[name]
        out.append((cls(), cls.Params(**item)))
    return out


class CameraBlock(OpParams):
    focal_length_mm: float = Field(26.0, gt=0, le=2000, description="Lens focal length.")
    sensor_width_mm: float = Field(6.4, gt=0, le=100, description="Sensor width.")
    zoom: float = Field(1.0, gt=0.05, le=20, description="1 = the scene plane just fills the frame head-on.")
    tilt_deg: float = Field(0.0, ge=0, le=75, description="View angle off the plane normal.")
    pan_deg: float = Field(0.0, ge=-180, le=180, description="Azimuth of the tilt.")
    roll_deg: float = Field(0.0, ge=-180, le=180, description="Rotation about the view axis.")
    f_number: float = Field(8.0, ge=0.7, le=64, description="Aperture; small numbers blur off the focal plane.")
    focus_offset_mm: float = Field(0.0, ge=-1e4, le=1e4, description="Focal plane distance minus target distance.")
    exposure_ev: float = Field(0.0, ge=-5, le=5, description="Exposure compensation in stops.")
    auto_exposure: bool = Field(True, description="Meter the scene to a mid-grey mean before the compensation.")
    iso: float = Field(100.0, ge=25, le=25600, description="Sensor ISO (noise).")
    motion_blur_px: float = Field(0.0, ge=0, le=100, description="Camera shake length.")
    motion_angle_deg: float = Field(0.0, ge=-180, le=180, description="Camera shake direction.")
    vignetting: float = Field(0.0, ge=0, le=1, description="Corner darkening.")
    chromatic_aberration_px: float = Field(0.0, ge=0, le=5, description="Colour fringe at the corners.")
    jpeg_quality: int = Field(100, ge=1, le=100, description="JPEG round trip quality; 100 = none.")


class LightingBlock(OpParams):
    ambient: float = Field(1.0, ge=0, le=4, description="Ambient light level.")
    light_azimuth_deg: float = Field(45.0, ge=-180, le=180, description="Primary light direction.")
    light_elevation_deg: float = Field(60.0, gt=0, le=90, description="Primary light elevation.")
    directional_strength: float = Field(0.0, ge=0, le=1, description="Share of directional light.")
    flash: float = Field(0.0, ge=0, le=4, description="Camera flash strength.")
    flash_glare: float = Field(0.0, ge=0, le=4, description="Specular glare of the flash on glossy surfaces.")
    gloss: float = Field(0.3, ge=0, le=1, description="Glossiness of the objects.")
    shadow_darkness: float = Field(0.0, ge=0, le=1, description="Cast shadow darkness of the objects.")
    color_temperature_k: float = Field(6500.0, ge=1500, le=15000, description="Light colour temperature.")


class DistortionBlock(OpParams):
    k1: float = Field(0.0, ge=-1, le=1, description="Lens radial k1.")
    k2: float = Field(0.0, ge=-1, le=1, description="Lens radial k2.")
    p1: float = Field(0.0, ge=-0.1, le=0.1, description="Lens tangential p1.")
    p2: float = Field(0.0, ge=-0.1, le=0.1, description="Lens tangential p2.")
    elastic_alpha_px: float = Field(0.0, ge=0, le=200, description="Elastic displacement amplitude.")
    elastic_sigma_px: float = Field(30.0, gt=0, le=500, description="Elastic smoothness.")
    crinkle: float = Field(0.0, ge=0, le=1, description="Crinkle strength.")
    curvature_radius_px: float = Field(1e6, gt=10, description="Bend radius; large is flat.")
    fold_angle_deg: float = Field(0.0, ge=0, le=75, description="Fold tilt of the far part.")


class PhotoParams(OpParams):
    """A whole photo of a flat scene: embed as `photo: PhotoParams = PhotoParams()` in a scene's Params."""

    enabled: bool = Field(False, description="Apply the photo pipeline at all.")
    mm_per_px: float = Field(0.25, gt=0, le=100, description="Physical size of one scene pixel.")
    camera: CameraBlock = Field(default_factory=CameraBlock)
    lighting: LightingBlock = Field(default_factory=LightingBlock)
    distortion: DistortionBlock = Field(default_factory=DistortionBlock)
    extra_ops: list[dict[str, Any]] = Field(default_factory=list,
                                            description="More ops, [{op: name, ...params}], applied last.")

    @field_validator("extra_ops")
    @classmethod
    def _known_ops(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        build_ops(v)
        return v


def apply_photo_pipeline(img: AnnotatedImage, p: PhotoParams, rng: np.random.Generator) -> AnnotatedImage:
    """Surface distortions, camera pose, lighting, optics, sensor: labels move with every warp."""
    if not p.enabled:
        return img
    d, c, li = p.distortion, p.camera, p.lighting
    img.mm_per_px = p.mm_per_px
    img = dist.Elastic()(img, rng=rng, alpha_px=d.elastic_alpha_px, sigma_px=d.elastic_sigma_px) if d.elastic_alpha_px else img
    img = dist.Crinkle()(img, rng=rng, strength=d.crinkle, scale_px=max(img.width, img.height) / 8) if d.crinkle else img
    if d.curvature_radius_px < 1e5:
        img = dist.Curvature()(img, radius_px=d.curvature_radius_px, axis="vertical")
    img = dist.Fold()(img, angle_deg=d.fold_angle_deg) if d.fold_angle_deg else img
    img = mat.Gloss()(img, objects=li.gloss, background=li.gloss * 0.3)
    w, h = img.width, img.height
    fpx = c.focal_length_mm / c.sensor_width_mm * w
    distance = fpx * p.mm_per_px / c.zoom
    pose = cam.CameraPose.Params(width=w, height=h, focal_length_mm=c.focal_length_mm, sensor_width_mm=c.sensor_width_mm,
                                 distance_mm=distance, tilt_deg=c.tilt_deg, pan_deg=c.pan_deg, roll_deg=c.roll_deg)
    H, C, axis = cam.CameraPose().geometry(w, h, p.mm_per_px, pose)
    img = img.warp_homography(H, (w, h), image_border=cv2.BORDER_REFLECT)
    img.plane_xy = img.depth = None
    img.camera_geometry = (H, p.mm_per_px, C, axis)
    img.camera_mm = (float(C[0]), float(C[1]), float(-C[2]))
    img = light_and_sensor(img, c, li, distance, rng)
    img = dist.LensDistortion()(img, k1=d.k1, k2=d.k2, p1=d.p1, p2=d.p2) if (d.k1 or d.k2 or d.p1 or d.p2) else img
    for op, params in build_ops(p.extra_ops):
        img = op.apply(img, params, rng)
    return img


def light_and_sensor(img: AnnotatedImage, c: CameraBlock, li: LightingBlock, focus_mm: float,
                     rng: np.random.Generator) -> AnnotatedImage:
    """The photometric half shared by scenes: light, shadow, optics, sensor, JPEG."""
    img = light.AmbientLight()(img, level=li.ambient)
    if li.directional_strength:
        img = light.DirectionalLight()(img, azimuth_deg=li.light_azimuth_deg, elevation_deg=li.light_elevation_deg,
                                       strength=li.directional_strength)
    if li.shadow_darkness:
        img = light.CastShadow()(img, azimuth_deg=li.light_azimuth_deg, elevation_deg=max(li.light_elevation_deg, 5),
                                 darkness=li.shadow_darkness)
    img = light.CameraFlash()(img, strength=li.flash, glare=li.flash_glare)
    img = light.ColorTemperature()(img, kelvin=li.color_temperature_k)
    img = cam.DefocusBlur()(img, focal_length_mm=c.focal_length_mm, f_number=c.f_number, sensor_width_mm=c.sensor_width_mm,
                            focus_distance_mm=max(focus_mm + c.focus_offset_mm, c.focal_length_mm * 1.05))
    img = cam.MotionBlur()(img, length_px=c.motion_blur_px, angle_deg=c.motion_angle_deg)
    img = cam.Vignetting()(img, strength=c.vignetting)
    img = cam.ChromaticAberration()(img, shift_px=c.chromatic_aberration_px)
    gain = 1.0
    if c.auto_exposure:  # a camera meters the scene: more light gives a shorter exposure, not a white frame
        gain = 0.5 / max(float(np.mean(img.image[::8, ::8])), 1e-3)
    img = cam.Exposure()(img, ev=c.exposure_ev, gain=min(gain, 16.0))
    img = cam.SensorNoise()(img, rng=rng, iso=c.iso)
    img = img.with_image(np.clip(img.image, 0, 1))
    if c.jpeg_quality < 100:
        img = cam.JpegQuality()(img, quality=c.jpeg_quality)
    return img
