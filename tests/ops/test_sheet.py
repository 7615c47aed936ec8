"""The receipt's composed sheet deformation: forward and inverse agree, and markers land under moved labels."""
from __future__ import annotations

import numpy as np
import pytest

from synth.ops import AnnotatedImage
from synth.ops.base import dense_map
from synth.ops.sheet import SheetSurface

W, H = 160, 320


def surface(crinkle: float, curvature: float, fold: float, seed: int = 0) -> SheetSurface:
    radius = H / (0.2 + 1.6 * curvature) if curvature else None  # as the receipt scene sets it
    return SheetSurface(W, H, crinkle, radius, fold, np.random.default_rng(seed))


@pytest.mark.parametrize("crinkle, curvature, fold", [(0.3, 0.2, 0), (1.0, 1.0, 60), (1.0, 0, 0), (0, 0.8, 30)])
def test_forward_and_inverse_agree_even_for_the_strongest_settings(crinkle, curvature, fold):
    s = surface(crinkle, curvature, fold)
    pts = np.random.default_rng(1).uniform([0, 0], [W, H], (4000, 2))
    assert np.abs(s.inverse(s.forward(pts)) - pts).max() < 0.01


@pytest.mark.parametrize("seed", range(3))
def test_markers_land_under_the_moved_keypoints(seed):
    s = surface(0.8, 0.5, 40, seed)
    rng = np.random.default_rng(seed)
    kp = rng.uniform([10, 10], [W - 10, H - 10], (12, 2)).round() + 0.5  # pixel centres
    image = np.zeros((H, W, 3), np.float32)
    for x, y in kp:
        image[int(y) - 1:int(y) + 2, int(x) - 1:int(x) + 2] = 1.0  # a 3x3 marker centred on the keypoint
    img = AnnotatedImage(image=image, labels={"objects": [{"class": "m", "keypoints": [[x, y, 2] for x, y in kp]}]})
    dense = dense_map(s.inverse, W, H, step=4)
    out = img.remap(s.inverse, dense=(dense[..., 0], dense[..., 1]), forward=s.forward)
    moved = np.asarray(out.labels["objects"][0]["keypoints"])[:, :2]
    assert np.abs(moved - s.forward(kp)).max() < 1e-3  # labels are rounded to 1/1000 px
    lum = out.image[..., 0]
    for x, y in moved:
        i0, j0 = int(y) - 4, int(x) - 4
        win = lum[max(i0, 0):i0 + 9, max(j0, 0):j0 + 9]
        ys, xs = np.nonzero(win > 0.2)
        wts = win[ys, xs]
        cy, cx = (ys * wts).sum() / wts.sum() + max(i0, 0) + 0.5, (xs * wts).sum() / wts.sum() + max(j0, 0) + 0.5
        assert abs(cx - x) <= 1.0 and abs(cy - y) <= 1.0  # the marker's centroid is under the moved keypoint
