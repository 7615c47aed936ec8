"""Photometric ops: invariants of shape and dtype, the physics they claim, replay, and bad params."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from synth.errors import SynthError
from synth.ops import OPS, AnnotatedImage, PhotoParams, apply_photo_pipeline, get_op
from synth.ops.camera import DefocusBlur, GaussianBlur, JpegQuality, MotionBlur, SensorNoise, Vignetting, sensor_noise_uint8
from synth.ops.lighting import CameraFlash, CastShadow, ColorTemperature, DirectionalLight, PointLight
from synth.ops.material import Gloss, InkFade, Texture, procedural_texture


def _flat(h: int = 64, w: int = 80, v: float = 0.5) -> AnnotatedImage:
    return AnnotatedImage(image=np.full((h, w, 3), v, np.float32), mask=np.zeros((h, w), np.int32))


def test_every_op_keeps_shape_and_dtype():
    for name, cls in OPS.items():
        img = _flat()
        img.mask[20:40, 20:50] = 1
        params = {"width": 80, "height": 64} if name == "camera_pose" else {}
        out = cls()(img, rng=np.random.default_rng(0), **params)
        assert out.image.shape == (64, 80, 3) and out.image.dtype == np.float32, name


# non-trivial params for the ops whose defaults leave an image unchanged
ACTIVE = {"camera_pose": dict(width=80, height=64, tilt_deg=20, distance_mm=80), "gaussian_blur": dict(sigma_px=2),
          "motion_blur": dict(length_px=7, angle_deg=30), "sensor_noise": dict(iso=1600), "jpeg": dict(quality=60),
          "lens_distortion": dict(k1=-0.2), "elastic": dict(alpha_px=4, sigma_px=10), "vignetting": dict(strength=0.5),
          "chromatic_aberration": dict(shift_px=2), "defocus_blur": dict(f_number=1.0, focus_distance_mm=150)}
EIGHT_BIT = {"camera_pose", "gaussian_blur", "motion_blur", "sensor_noise", "jpeg", "lens_distortion", "elastic",
             "defocus_blur", "chromatic_aberration"}


def test_every_op_on_8_bit_pixels_matches_the_float_op():
    base = cv2.GaussianBlur(np.random.default_rng(5).integers(0, 256, (64, 80, 3), dtype=np.uint8), (5, 5), 2)
    mask = np.zeros((64, 80), np.int32)
    mask[20:40, 20:50] = 1
    labels = {"objects": [{"class": "r", "instance_id": 1, "box": [20.0, 20.0, 50.0, 40.0]}]}
    depth = np.linspace(200, 400, 64 * 80, dtype=np.float32).reshape(64, 80)  # defocus varies over the frame
    for name, cls in OPS.items():
        runs = []
        for keep in (False, True, True):
            img = AnnotatedImage.from_uint8(base, keep_uint8=keep, mask=mask.copy(), labels=labels, depth=depth)
            runs.append(cls()(img, rng=np.random.default_rng(0), **ACTIVE.get(name, {})))
        flt, eight, again = runs
        if name in EIGHT_BIT:  # the fast path is taken, not a float round trip
            assert eight.image.dtype == np.uint8, name
        assert eight.to_uint8().tobytes() == again.to_uint8().tobytes(), name  # deterministic
        assert eight.labels == flt.labels and np.array_equal(eight.mask, flt.mask), name
        diff = np.abs(eight.to_uint8().astype(int) - flt.to_uint8())
        # 8-bit paths round once per pass (defocus: three passes); the rest convert and match exactly
        assert diff.max() <= (3 if name == "defocus_blur" else 1 if name in EIGHT_BIT else 0), (name, diff.max())
        assert diff.mean() < 0.3, (name, diff.mean())


def test_defocus_grows_with_distance_from_focal_plane():
    op, p = DefocusBlur(), DefocusBlur.Params(focal_length_mm=50, f_number=2, focus_distance_mm=1000, max_radius_px=64, sensor_width_mm=36)
    coc = op.coc_px(np.array([1000.0, 1200.0, 2000.0, 800.0], np.float32), 1000, p)
    assert coc[0] == 0 and coc[1] < coc[2] and coc[3] > 0


def test_gaussian_blur_keeps_the_mean_and_spreads_a_point_symmetrically():
    img = _flat(v=0.0)
    img.image[32, 40] = 1.0
    out = GaussianBlur()(img, sigma_px=2).image[..., 0]
    assert np.isclose(out.sum(), 1.0, atol=1e-4) and np.isclose(out[32, 37], out[32, 43]) and out[32, 40] < 0.1


def test_eight_bit_noise_matches_the_float_op():
    x = np.full((200, 200, 3), 128, np.uint8)
    p = SensorNoise.Params(iso=3200)
    fast = sensor_noise_uint8(x, p, np.random.default_rng(0)).astype(float)
    ref = SensorNoise()(AnnotatedImage.from_uint8(x), p, np.random.default_rng(0)).image * 255
    assert abs(fast.mean() - 128) < 0.3 and abs(fast.std() - ref.std()) / ref.std() < 0.05


def test_motion_blur_spreads_a_point_along_its_direction():
    img = _flat(v=0.0)
    img.image[32, 40] = 1.0
    out = MotionBlur()(img, length_px=9, angle_deg=0).image[..., 0]
    assert (out[32, 36:45] > 0).all() and out[28, 40] == 0


def test_noise_variance_grows_with_signal_and_iso():
    def var(level, iso):
        return SensorNoise()(_flat(256, 256, level), rng=np.random.default_rng(1), iso=iso, read_noise=0).image.var()
    assert var(0.8, 100) > var(0.2, 100) and var(0.5, 1600) > 4 * var(0.5, 100)


def test_point_light_falls_off_away_from_the_lamp():
    img = _flat(64, 64)
    out = PointLight()(img, x_mm=8, y_mm=8, height_mm=20, intensity=1.0).image[..., 0]  # 0.25 mm/px: lamp over (32, 32)
    assert out[32, 32] > out[32, 60] > 0.5 and np.isclose(out[32, 32], 1.0, atol=0.02)


def test_flash_glare_only_on_glossy_pixels():
    img = _flat(64, 64)
    img.mask[:, 32:] = 1
    img = Gloss()(img, objects=1.0, background=0.0)
    out = CameraFlash()(img, strength=0.0, glare=1.0, shininess=10).image[..., 0]
    assert out[:, 32:].max() > 0.9 and np.allclose(out[:, :32], 0.5)


def test_directional_light_shades_slopes_not_flats():
    img = _flat()
    assert np.allclose(DirectionalLight()(img, strength=1.0).image, 0.5, atol=1e-5)


def test_cast_shadow_darkens_only_the_table():
    img = _flat(80, 80)
    img.mask[30:50, 30:50] = 1
    out = CastShadow()(img, azimuth_deg=0, elevation_deg=30, lift_mm=3, softness_px=0, darkness=0.5).image[..., 0]
    assert np.allclose(out[30:50, 30:50], 0.5) and out[40, 25] < 0.5 and np.isclose(out[40, 60], 0.5)


def test_color_temperature_warms_and_cools():
    warm = ColorTemperature()(_flat(), kelvin=2800).image[0, 0]
    cool = ColorTemperature()(_flat(), kelvin=10000).image[0, 0]
    assert warm[0] > warm[2] and cool[2] > cool[0]


def test_textures_and_ink_fade_record_their_draws():
    for kind in ("wood", "marble", "fabric", "paper", "noise"):
        t = procedural_texture(kind, 64, 64, 30, (0.6, 0.4, 0.2), np.random.default_rng(0))
        assert t.shape == (64, 64, 3) and t.std() > 0.002, kind
    img = _flat(v=0.0)
    img.labels = {"lines": [{"box": [0, 0, 80, 20], "text": "a"}], "words": [{"box": [0, 0, 10, 10], "text": "a"}]}
    out = InkFade()(img, rng=np.random.default_rng(0), line_fade=0.5, glyph_fade=0.5)
    assert "fade" in out.labels["lines"][0] and out.image[5, 5, 0] > 0 and out.image[40, 40, 0] == 0


def test_vignetting_and_jpeg():
    out = Vignetting()(_flat(), strength=0.8).image[..., 0]
    assert out[0, 0] < out[32, 40]
    assert np.abs(JpegQuality()(_flat(), quality=5).image - 0.5).max() < 0.05


@pytest.mark.parametrize("cls,params", [
    (MotionBlur, {"length_px": -1}), (DefocusBlur, {"focal_length_mm": 0}), (JpegQuality, {"quality": 0}),
    (JpegQuality, {"quality": 101}), (Texture, {"kind": "plastic"}), (SensorNoise, {"iso": 0}),
    (GaussianBlur, {"sigma_px": -0.5}),
])
def test_out_of_range_params_are_rejected(cls, params):
    with pytest.raises(ValidationError):
        cls.Params(**params)


def test_unknown_op_name_suggests_the_right_one():
    with pytest.raises(SynthError, match="did you mean 'elastic'"):
        get_op("elastik")
    with pytest.raises(ValidationError, match="unknown image op 'motionblur'"):
        PhotoParams(extra_ops=[{"op": "motionblur", "length_px": 3}])


def test_photo_pipeline_replays_exactly():
    img = _flat(96, 96)
    img.mask[30:60, 30:60] = 1
    img.labels = {"objects": [{"class": "sq", "instance_id": 1, "box": [30, 30, 60, 60]}]}
    p = PhotoParams(enabled=True, camera={"tilt_deg": 30, "iso": 800, "jpeg_quality": 60},
                    lighting={"flash": 1.0, "shadow_darkness": 0.4}, distortion={"crinkle": 0.5, "k1": -0.1},
                    extra_ops=[{"op": "elastic", "alpha_px": 2}])
    a = apply_photo_pipeline(img, p, np.random.default_rng(5))
    b = apply_photo_pipeline(img, p, np.random.default_rng(5))
    assert a.to_uint8().tobytes() == b.to_uint8().tobytes() and a.labels == b.labels
    assert a.labels["objects"][0]["box"] != [30, 30, 60, 60]


def test_jpeg_keeps_colours_and_encodes_luma_from_rgb():
    """Red stays red; and the round trip matches Pillow's JPEG of the same RGB pixels (Pillow hands libjpeg
    RGB), far closer than an encode that mistakes RGB for BGR (luma weighted from the wrong channels)."""
    red = AnnotatedImage.from_uint8(np.tile(np.array([220, 20, 30], np.uint8), (32, 32, 1)), keep_uint8=True)
    out = JpegQuality()(red, quality=90).image.reshape(-1, 3).mean(axis=0)
    assert out[0] > 200 and out[1] < 40 and out[2] < 50
    import io
    from PIL import Image
    rng = np.random.default_rng(3)
    rgb = cv2.resize(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), (96, 96), interpolation=cv2.INTER_CUBIC)
    ours = JpegQuality()(AnnotatedImage.from_uint8(rgb, keep_uint8=True), quality=75).image.astype(int)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=75)
    pillow = np.asarray(Image.open(buf).convert("RGB")).astype(int)
    swapped = cv2.imdecode(cv2.imencode(".jpg", rgb, [cv2.IMWRITE_JPEG_QUALITY, 75])[1], cv2.IMREAD_UNCHANGED).astype(int)
    assert np.abs(ours - pillow).mean() < 0.25 * np.abs(swapped - pillow).mean()


def test_motion_kernel_spans_its_length_at_every_angle_without_shifting():
    from synth.ops.camera import motion_kernel
    for length in (5, 9, 15.5):
        for angle in (0, 17, 30, 45, 60, 90, 135, -120):
            k = motion_kernel(length, angle)
            ys, xs = np.nonzero(k)
            c = k.shape[0] // 2
            t = np.deg2rad(angle)
            along = (xs - c) * np.cos(t) + (ys - c) * np.sin(t)  # tap centres along the motion
            assert np.isclose(k.sum(), 1) and abs(along.max() - along.min() - (length - 1)) <= 1.5, (length, angle)
            assert abs(float((k * np.mgrid[0:k.shape[0], 0:k.shape[1]][1]).sum()) - c) < 0.5, (length, angle)
