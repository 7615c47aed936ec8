"""Every geometric op keeps labels on their pixels: markers drawn at keypoints land under the moved
keypoints, and boxes agree with the moved masks and quads."""
from __future__ import annotations

import numpy as np
import pytest

from synth.ops import AnnotatedImage
from synth.ops.base import mask_boxes
from synth.ops.camera import CameraPose
from synth.ops.distortion import Crinkle, Curvature, Elastic, Fold, LensDistortion

W, H = 240, 200
KEYPOINTS = [[x + 0.5, y + 0.5] for x in (40.3, 90.0, 140.7, 190.2) for y in (35.6, 100.0, 160.4)]

CASES = [
    (CameraPose(), dict(width=W, height=H, distance_mm=420, tilt_deg=35, pan_deg=30, roll_deg=12,
                        focal_length_mm=26, yaw_deg=3), 0.5),
    (LensDistortion(), dict(k1=-0.3, k2=0.1, p1=0.01, p2=-0.01), 1.0),
    (Elastic(), dict(alpha_px=5, sigma_px=30), 1.0),
    (Crinkle(), dict(strength=0.8, scale_px=40), 1.0),
    (Curvature(), dict(radius_px=150, axis="vertical", axis_pos=0.4), 1.0),
    (Fold(), dict(angle_deg=50, position=0.45, crease_dir_deg=20), 1.0),
]


def _marker_image(kps: list[list[float]]) -> AnnotatedImage:
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float64) + 0.5
    blobs = np.zeros((H, W), np.float32)
    for x, y in kps:
        blobs += np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * 0.9**2)).astype(np.float32)
    mask = np.zeros((H, W), np.int32)
    mask[60:150, 70:180] = 1
    labels = {"objects": [
        {"class": "rect", "instance_id": 1, "box": [70.0, 60.0, 180.0, 150.0],
         "keypoints": [[x, y, 2] for x, y in kps]},
        {"class": "rect_quad", "box": [70.0, 60.0, 180.0, 150.0],
         "quad": [[70.0, 60.0], [180.0, 60.0], [180.0, 150.0], [70.0, 150.0]]},
    ]}
    img = AnnotatedImage(image=np.repeat(blobs[..., None], 3, axis=2), mask=mask, labels=labels, mm_per_px=0.5)
    return img


def _centroid(channel: np.ndarray, x: float, y: float, r: int = 6) -> tuple[float, float]:
    x0, y0 = int(np.floor(x)) - r, int(np.floor(y)) - r
    win = channel[max(y0, 0):y0 + 2 * r + 1, max(x0, 0):x0 + 2 * r + 1].astype(np.float64)
    win = np.where(win > 0.1 * win.max(), win, 0)  # ignore far tails from neighbours
    yy, xx = np.mgrid[0:win.shape[0], 0:win.shape[1]]
    s = win.sum()
    return (xx * win).sum() / s + max(x0, 0) + 0.5, (yy * win).sum() / s + max(y0, 0) + 0.5


@pytest.mark.parametrize("op,params,tol", CASES, ids=[c[0].name for c in CASES])
def test_markers_land_under_moved_keypoints(op, params, tol):
    img = _marker_image(KEYPOINTS)
    out = op(img, rng=np.random.default_rng(3), **params)
    moved = out.labels["objects"][0]["keypoints"]
    checked = 0
    for x, y, v in moved:
        if not (8 < x < out.width - 8 and 8 < y < out.height - 8):
            continue
        cx, cy = _centroid(out.image[..., 1], x, y)
        assert np.hypot(cx - x, cy - y) <= tol, (op.name, (x, y), (cx, cy))
        checked += 1
    assert checked >= 8  # most markers stay in frame, so the check is not vacuous


@pytest.mark.parametrize("op,params,tol", CASES, ids=[c[0].name for c in CASES])
def test_markers_land_under_moved_keypoints_on_8_bit_pixels(op, params, tol):
    flt = _marker_image(KEYPOINTS)
    img = AnnotatedImage.from_uint8(np.round(flt.image * 255).astype(np.uint8), keep_uint8=True, mask=flt.mask,
                                    labels=flt.labels, mm_per_px=flt.mm_per_px)
    out = op(img, rng=np.random.default_rng(3), **params)
    ref = op(flt, rng=np.random.default_rng(3), **params)
    assert out.labels == ref.labels and np.array_equal(out.mask, ref.mask)  # labels never depend on pixel depth
    if op.name != "fold":  # fold darkens its crease in float; every other warp stays 8-bit
        assert out.image.dtype == np.uint8, op.name
    green = out.to_uint8()[..., 1]
    checked = 0
    for x, y, _ in out.labels["objects"][0]["keypoints"]:
        if 8 < x < out.width - 8 and 8 < y < out.height - 8:
            cx, cy = _centroid(green, x, y)
            assert np.hypot(cx - x, cy - y) <= tol, (op.name, (x, y), (cx, cy))
            checked += 1
    assert checked >= 8


@pytest.mark.parametrize("op,params,tol", CASES, ids=[c[0].name for c in CASES])
def test_masks_and_boxes_agree(op, params, tol):
    out = op(_marker_image(KEYPOINTS), rng=np.random.default_rng(3), **params)
    rect, quad = out.labels["objects"]
    assert rect["box"] == mask_boxes(out.mask)[1]
    # the box recomputed from the moved quad outline hugs the moved mask within a pixel
    assert np.allclose(quad["box"], rect["box"], atol=1.0 + tol), (quad["box"], rect["box"])
    assert len(quad["quad"]) == 4


def test_labels_leaving_the_frame_are_clipped_and_flagged():
    img = _marker_image(KEYPOINTS)
    out = CameraPose()(img, width=W, height=H, distance_mm=60, focal_length_mm=26)  # zoomed far in
    rect, quad = out.labels["objects"]
    x0, y0, x1, y1 = quad["box"]
    assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H
    assert any(v < 2 for _, _, v in rect["keypoints"])


def test_geometric_ops_are_deterministic():
    for op, params, _ in CASES:
        a = op(_marker_image(KEYPOINTS), rng=np.random.default_rng(9), **params)
        b = op(_marker_image(KEYPOINTS), rng=np.random.default_rng(9), **params)
        assert a.image.tobytes() == b.image.tobytes() and a.labels == b.labels
