"""Camera ops: 6-DoF pose of a planar scene under a pinhole model, thin-lens defocus, motion blur,
exposure, Poisson–Gaussian sensor noise, vignetting, chromatic aberration, white balance and JPEG."""
from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from pydantic import Field

from synth.codecs.jpeg import jpeg_round_trip
from synth.ops.base import AnnotatedImage, ImageOp, OpParams, upsample


class CameraPose(ImageOp):
    """Photographs the input as a flat plane (`mm_per_px` mm per input pixel) from a pinhole camera
    placed `distance_mm` from the plane point under `target`, tilted `tilt_deg` off the plane normal
    toward azimuth `pan_deg`, rolled `roll_deg`, its axis turned by `yaw_deg`/`pitch_deg` off the target."""

    name = "camera_pose"
    geometric = True

    class Params(OpParams):
        width: int = Field(768, ge=16, le=8192, description="Output width in pixels.")
        height: int = Field(1024, ge=16, le=8192, description="Output height in pixels.")
        focal_length_mm: float = Field(26.0, gt=0, le=2000, description="Lens focal length.")
        sensor_width_mm: float = Field(6.4, gt=0, le=100, description="Sensor width (phone ~6.4, full frame 36).")
        distance_mm: float = Field(300.0, gt=0, le=1e5, description="Camera distance from the target point.")
        tilt_deg: float = Field(0.0, ge=0, le=75, description="Angle between view axis and plane normal.")
        pan_deg: float = Field(0.0, ge=-180, le=180, description="Azimuth from which the camera is tilted.")
        roll_deg: float = Field(0.0, ge=-180, le=180, description="Rotation about the view axis.")
        yaw_deg: float = Field(0.0, ge=-45, le=45, description="Camera direction: turn left/right off the target.")
        pitch_deg: float = Field(0.0, ge=-45, le=45, description="Camera direction: turn up/down off the target.")
        target_x: float = Field(0.5, ge=-1, le=2, description="Target point on the plane, fraction of input width.")
        target_y: float = Field(0.5, ge=-1, le=2, description="Target point on the plane, fraction of input height.")

    def geometry(self, img_w: int, img_h: int, mm_per_px: float, p: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(H plane-px -> image-px, camera centre C in plane mm frame (z toward the camera), optical axis)."""
        tilt, pan = np.deg2rad(p.tilt_deg), np.deg2rad(p.pan_deg)
        T = np.array([p.target_x * img_w * mm_per_px, p.target_y * img_h * mm_per_px, 0.0])
        # plane frame: x right, y down, z into the plane; the camera sits at negative z
        C = T + p.distance_mm * np.array([np.sin(tilt) * np.cos(pan), np.sin(tilt) * np.sin(pan), -np.cos(tilt)])
        f = (T - C) / np.linalg.norm(T - C)
        y = np.array([0.0, 1.0, 0.0]) - f[1] * f
        y = y / np.linalg.norm(y) if np.linalg.norm(y) > 1e-6 else np.array([1.0, 0, 0])
        x = np.cross(y, f)
        R = np.stack([x, y, f])  # rows: camera axes in plane frame
        R = _rot(p.yaw_deg, p.pitch_deg, p.roll_deg) @ R
        fpx = p.focal_length_mm / p.sensor_width_mm * p.width
        K = np.array([[fpx, 0, p.width / 2], [0, fpx, p.height / 2], [0, 0, 1]])
        S = np.diag([mm_per_px, mm_per_px, 1.0])
        H = K @ np.c_[R[:, 0], R[:, 1], -R @ C] @ S
        return H / H[2, 2], C, R[2]

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        H, C, axis = self.geometry(img.width, img.height, img.mm_per_px, p)
        out = img.warp_homography(H, (p.width, p.height))
        out.plane_xy = out.depth = None
        out.camera_geometry = (H, img.mm_per_px, C, axis)
        out.camera_mm = (float(C[0]), float(C[1]), float(-C[2]))
        return out


def _rot(yaw: float, pitch: float, roll: float) -> np.ndarray:
    a, b, c = np.deg2rad([yaw, pitch, roll])
    Ry = np.array([[np.cos(a), 0, -np.sin(a)], [0, 1, 0], [np.sin(a), 0, np.cos(a)]])
    Rx = np.array([[1, 0, 0], [0, np.cos(b), np.sin(b)], [0, -np.sin(b), np.cos(b)]])
    Rz = np.array([[np.cos(c), np.sin(c), 0], [-np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return Rz @ Rx @ Ry


class DefocusBlur(ImageOp):
    """Thin-lens defocus: circle of confusion c = A·f·|z − s| / (z·(s − f)) for aperture diameter
    A = f/N, so blur grows with each pixel's distance z from the focal plane at s."""

    name = "defocus_blur"

    class Params(OpParams):
        focal_length_mm: float = Field(26.0, gt=0, le=2000, description="Lens focal length.")
        f_number: float = Field(2.0, ge=0.7, le=64, description="Aperture as an f-number; smaller is wider and blurrier.")
        focus_distance_mm: float = Field(300.0, gt=0, le=1e5, description="Distance of the focal plane.")
        sensor_width_mm: float = Field(6.4, gt=0, le=100, description="Sensor width, to turn mm on the sensor into pixels.")
        max_radius_px: float = Field(12.0, ge=0, le=64, description="Cap on the blur radius.")

    def coc_px(self, depth: np.ndarray, width: int, p: Params) -> np.ndarray:
        f, s = p.focal_length_mm, max(p.focus_distance_mm, p.focal_length_mm * 1.01)
        coc_mm = (f / p.f_number) * f * np.abs(depth - s) / (depth * (s - f))
        return np.minimum(coc_mm / p.sensor_width_mm * width / 2, p.max_radius_px).astype(np.float32)

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        h, w = img.image.shape[:2]
        # depth is smooth: the radius on every 4th pixel, interpolated, is exact to a hair
        depth = img.depth_map()
        depth = depth[::4, ::4] if depth is not None else np.full((1, 1), p.focus_distance_mm, np.float32)
        radius = self.coc_px(depth, img.width, p)
        if float(radius.max()) < 0.3:
            return img
        return img.with_image(defocus(img.image, radius, 4, offset=0.0))  # sample k is pixel 4k


def defocus(image: np.ndarray, radius: np.ndarray, step: int, offset: float | None = None) -> np.ndarray:
    """Blur `image` (any dtype OpenCV filters) by a disc whose radius varies smoothly, given `step` times
    coarser (`offset` as in `upsample`: by default coarse pixel k covers pixels [step k, step (k + 1))).
    A layered approximation of a varying kernel: a few disc-blurred copies, blended piecewise-linearly."""
    h, w = image.shape[:2]
    rmin, rmax = float(radius.min()), float(radius.max())
    if rmax - rmin < 0.25:  # a nearly uniform circle of confusion is one blur
        return disc_blur(image, (rmin + rmax) / 2)
    levels = np.linspace(rmin, rmax, int(min(3, np.ceil((rmax - rmin) / 1.5) + 1)))
    pos = np.interp(radius, levels, np.arange(len(levels))).astype(np.float32)
    pos = upsample(pos, step, w, h, offset=offset)[..., 0]
    blurs = [disc_blur(image, r) for r in levels]
    # each pixel lerps between the two levels around its radius: gather those pairs (masked copies), then
    # one blend, where lerping toward each level in turn would blend the whole image once per level
    t = np.clip(pos, 0, len(levels) - 1)  # becomes each pixel's share of its upper level
    lo, hi = blurs[0], blurs[1]  # both ours to overwrite (hi is read for lo first)
    for i in range(1, len(levels) - 1):  # pixels past level i lerp from it (at pos == i both pairs agree)
        above = cv2.compare(pos, float(i), cv2.CMP_GT)
        cv2.subtract(t, (1.0,), dst=t, mask=above)
        cv2.copyTo(blurs[i], above, lo)
        cv2.copyTo(blurs[i + 1], above, hi)
    return cv2.blendLinear(lo, hi, 1 - t, t)


def disc_blur(image: np.ndarray, radius: float) -> np.ndarray:
    """Defocus by an anti-aliased disc; wide discs at half resolution (the result has no detail left at
    that scale, and the kernel costs a quarter)."""
    if radius <= 0.5:  # the disc covers its own pixel only (the kernel is a single 1): no blur
        return image.copy()
    if radius < 1.5:
        return cv2.filter2D(image, -1, disc_kernel(radius))
    h, w = image.shape[:2]
    half = cv2.resize(image, ((w + 1) // 2, (h + 1) // 2), interpolation=cv2.INTER_AREA)
    half = cv2.filter2D(half, -1, disc_kernel(radius / 2))
    return cv2.resize(half, (w, h), interpolation=cv2.INTER_LINEAR)


def disc_kernel(radius: float) -> np.ndarray:
    r = max(radius, 0.5)
    n = int(np.ceil(r)) * 2 + 1
    yy, xx = np.mgrid[0:n, 0:n] - n // 2
    k = np.clip(r + 0.5 - np.sqrt(xx**2 + yy**2), 0, 1).astype(np.float32)  # anti-aliased disc
    return k / k.sum()


class GaussianBlur(ImageOp):
    """Gaussian blur (haze, a soft lens, a smudged protective window): kernel 2*ceil(3 sigma) + 1 wide."""

    name = "gaussian_blur"

    class Params(OpParams):
        sigma_px: float = Field(1.0, ge=0, le=50, description="Standard deviation of the blur in pixels.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        if p.sigma_px < 0.1:
            return img
        g = gaussian_kernel(p.sigma_px)
        # two 1-D passes with a float kernel: on 8-bit images OpenCV's GaussianBlur takes a bit-exact
        # fixed-point path that is slower, for results within one level of this
        return img.with_image(cv2.sepFilter2D(img.image, -1, g, g))


@lru_cache(maxsize=256)
def gaussian_kernel(sigma_px: float) -> np.ndarray:
    """The 1-D kernel, 2 * ceil(3 sigma) + 1 taps, float32; read-only (cached)."""
    g = cv2.getGaussianKernel(2 * int(np.ceil(3 * sigma_px)) + 1, sigma_px, cv2.CV_32F)
    g.flags.writeable = False
    return g


class MotionBlur(ImageOp):
    """Linear motion blur: the average along a `length_px` line at `angle_deg`."""

    name = "motion_blur"

    class Params(OpParams):
        length_px: float = Field(0.0, ge=0, le=100, description="Blur length in pixels.")
        angle_deg: float = Field(0.0, ge=-180, le=180, description="Direction of motion.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        if p.length_px < 1:
            return img
        return img.with_image(cv2.filter2D(img.image, -1, motion_kernel(p.length_px, p.angle_deg)))


def motion_kernel(length_px: float, angle_deg: float) -> np.ndarray:
    """A normalised line kernel at `angle_deg`: the taps a `length_px` motion sweeps over, i.e. pixel
    centres along a segment whose ends lie (length - 1) / 2 from the centre (a box `length_px` wide when
    the motion is along an axis), rasterised 8-connected. Read-only: it is cached."""
    return _motion_kernel(float(length_px), float(angle_deg))


@lru_cache(maxsize=256)
def _motion_kernel(length_px: float, angle_deg: float) -> np.ndarray:
    n = int(np.ceil(length_px)) | 1
    k = np.zeros((n, n), np.float32)
    c, t = n // 2, np.deg2rad(angle_deg)
    d = (length_px - 1) / 2
    cv2.line(k, (round((c - d * np.cos(t)) * 16), round((c - d * np.sin(t)) * 16)),
             (round((c + d * np.cos(t)) * 16), round((c + d * np.sin(t)) * 16)), 1.0, 1, cv2.LINE_8, shift=4)
    k /= k.sum()
    k.flags.writeable = False
    return k


class Exposure(ImageOp):
    """Exposure in stops and analogue gain: multiplies the linear signal by gain·2^ev."""

    name = "exposure"

    class Params(OpParams):
        ev: float = Field(0.0, ge=-5, le=5, description="Exposure compensation in stops.")
        gain: float = Field(1.0, gt=0, le=16, description="Sensor gain multiplier.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        img = img.as_float()  # light is float arithmetic on [0, 1] pixels
        return img.with_image(img.image * np.float32(p.gain * 2.0**p.ev))


class SensorNoise(ImageOp):
    """Poisson–Gaussian sensor noise: shot noise with variance proportional to the signal (scaled by
    ISO: fewer photons per level at higher ISO) plus Gaussian read noise that gain amplifies."""

    name = "sensor_noise"

    class Params(OpParams):
        iso: float = Field(100.0, ge=25, le=25600, description="Sensor sensitivity; noise grows with it.")
        read_noise: float = Field(0.002, ge=0, le=0.2, description="Std of the signal-independent noise (0..1 scale).")
        full_well_at_iso100: float = Field(4000.0, gt=0, description="Photons at full scale at ISO 100.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        if img.is_uint8:  # the same draws from rng, with sigma looked up per 8-bit level
            return img.with_image(sensor_noise_uint8(img.image, p, rng))
        photons = p.full_well_at_iso100 * 100.0 / p.iso
        x = np.maximum(img.image, np.float32(0))
        # Poisson shot noise in its Gaussian limit (mean = variance = photon count): many times faster
        # than sampling Poisson counts, and indistinguishable above a few photons per level
        var = x * np.float32(1 / photons)
        var += np.float32(p.read_noise**2 * p.iso / 100)
        noise = standard_normal_fast(rng, x.shape)
        noise *= cv2.sqrt(var.reshape(x.shape[0], -1)).reshape(x.shape)
        x += noise
        return img.with_image(x)


@lru_cache(maxsize=1)
def _normal_quantiles() -> np.ndarray:
    """256 quantiles of the unit normal at the byte centres, rescaled to unit variance (tails at 2.9 sigma)."""
    from scipy.special import ndtri
    q = ndtri((np.arange(256) + 0.5) / 256)
    return (q / q.std()).astype(np.float32)


def standard_normal_fast(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Unit-variance normal float32 noise: one random byte per value through a 256-level table of normal
    quantiles (tails at 2.9 sigma). Several times faster than rng.standard_normal, and indistinguishable
    once the noisy image is quantised to 8 bits (a table step is 1/40 of the noise's sigma)."""
    n = int(np.prod(shape))
    bits = np.frombuffer(rng.bytes(n), np.uint8).reshape(shape[0], -1)
    return cv2.LUT(bits, _normal_quantiles()).reshape(shape)


@lru_cache(maxsize=1)
def _quantiles_fixed() -> np.ndarray:
    """The normal quantile table times 2^9, int16."""
    return np.rint(_normal_quantiles() * 512).astype(np.int16)


def sensor_noise_uint8(image8: np.ndarray, p: SensorNoise.Params, rng: np.random.Generator) -> np.ndarray:
    """SensorNoise on an 8-bit image, for a pipeline's last step: the noise's sigma looked up per level,
    added and saturated in one go (no float copy of the image)."""
    photons = p.full_well_at_iso100 * 100.0 / p.iso
    levels = np.arange(256, dtype=np.float64) / 255
    sigma = np.sqrt(levels / photons + p.read_noise**2 * p.iso / 100) * 255
    flat = image8.reshape(image8.shape[0], -1)
    # the same draws as standard_normal_fast, in 16-bit fixed point (quantile * 2^9, sigma * 2^6): half the
    # memory traffic of float32, and an error far below the 8-bit step
    bits = np.frombuffer(rng.bytes(flat.size), np.uint8).reshape(flat.shape)
    noise = cv2.LUT(bits, _quantiles_fixed())
    sigma_fixed = np.minimum(np.rint(sigma * 64), 32767).astype(np.int16)
    cv2.multiply(noise, cv2.LUT(flat, sigma_fixed), dst=noise, scale=1 / 2**15)  # rounded to whole levels
    return cv2.add(flat, noise, dtype=cv2.CV_8U).reshape(image8.shape)


class Vignetting(ImageOp):
    """Radial fall-off toward the corners, 1 − strength·r² mixed with the cos⁴ law."""

    name = "vignetting"

    class Params(OpParams):
        strength: float = Field(0.0, ge=0, le=1, description="Darkening at the corners.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        if p.strength == 0:
            return img
        img = img.as_float()  # light is float arithmetic on [0, 1] pixels
        return img.with_image(img.image * vignette(img.height, img.width, p.strength))


@lru_cache(maxsize=8)
def vignette(h: int, w: int, strength: float) -> np.ndarray:
    """The fall-off factor, h x w x 1 float32; read-only (cached: it depends on the frame size only)."""
    y = (np.arange(h, dtype=np.float32) + 0.5 - h / 2) / (np.hypot(w, h) / 2)
    x = (np.arange(w, dtype=np.float32) + 0.5 - w / 2) / (np.hypot(w, h) / 2)
    r2 = y[:, None] ** 2 + x[None, :] ** 2
    fall = (1 - strength * (1 - 1 / (1 + r2) ** 2))[..., None]
    fall.flags.writeable = False
    return fall


class ChromaticAberration(ImageOp):
    """Lateral chromatic aberration: red and blue magnified slightly differently about the centre.
    A sub-pixel colour fringe: labels stay on the green (luminance) channel's geometry."""

    name = "chromatic_aberration"

    class Params(OpParams):
        shift_px: float = Field(0.0, ge=0, le=5, description="Red/blue displacement at the corners.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        if p.shift_px == 0:
            return img
        h, w = img.height, img.width
        out = img.image.copy()
        for ch, sign in ((0, 1), (2, -1)):
            s = 1 + sign * p.shift_px / (np.hypot(w, h) / 2)
            M = np.array([[s, 0, (1 - s) * (w - 1) / 2], [0, s, (1 - s) * (h - 1) / 2]], np.float32)
            out[..., ch] = cv2.warpAffine(np.ascontiguousarray(img.image[..., ch]), M, (w, h), borderMode=cv2.BORDER_REPLICATE)
        return img.with_image(out)


class WhiteBalance(ImageOp):
    """Camera white-balance gains on the red and blue channels (relative to green)."""

    name = "white_balance"

    class Params(OpParams):
        red_gain: float = Field(1.0, gt=0, le=4, description="Red channel gain.")
        blue_gain: float = Field(1.0, gt=0, le=4, description="Blue channel gain.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        img = img.as_float()  # light is float arithmetic on [0, 1] pixels
        return img.with_image(img.image * np.array([p.red_gain, 1.0, p.blue_gain], np.float32))


class JpegQuality(ImageOp):
    """Round trip through a JPEG encoder at `quality` (1–100)."""

    name = "jpeg"

    class Params(OpParams):
        quality: int = Field(95, ge=1, le=100, description="JPEG quality, 1 (worst) to 100.")

    def apply(self, img: AnnotatedImage, p: Params, rng: np.random.Generator) -> AnnotatedImage:
        dec = jpeg_round_trip(img.to_uint8(), p.quality)  # libjpeg-turbo reads and writes RGB itself
        return img.with_image(dec if img.is_uint8 else np.multiply(dec, np.float32(1 / 255), dtype=np.float32))
