"""Shapes through the photo pipeline: labels stay on their pixels; disabled photo ops change nothing."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from scenes.shapes import ShapesScene
from synth.recipe.distributions import Constant

GEOMETRY = {"enabled": True,
            "camera": {"tilt_deg": 30, "pan_deg": 40, "roll_deg": 10, "zoom": 1.1, "auto_exposure": False, "iso": 50},
            "distortion": {"k1": -0.12, "elastic_alpha_px": 3.0, "elastic_sigma_px": 20}}


def render(seed: int, **kw) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    p = ShapesScene.Params(width=128, height=112, texture=Constant("solid"), **kw)
    s = ShapesScene().render(p, np.random.default_rng(seed))
    return s.payloads["image"].data, s.payloads["mask"].data, s.labels["objects"]


def test_disabled_photo_ignores_its_settings_and_changes_nothing():
    off = dict(GEOMETRY, enabled=False)
    a, b = render(3), render(3, photo=off)
    assert (a[0] == b[0]).all() and (a[1] == b[1]).all() and a[2] == b[2]


@pytest.mark.parametrize("seed", range(4))
def test_boxes_are_bounds_of_the_moved_masks_and_pixels_move_with_them(seed):
    image, mask, objects = render(seed, num_objects=3, photo=GEOMETRY)
    flat_image, _, _ = render(seed, num_objects=3)
    assert not (image == flat_image).all()  # the camera did move things
    assert objects and set(np.unique(mask)) - {0} == {o["instance_id"] for o in objects}
    for o in objects:
        ys, xs = np.nonzero(mask == o["instance_id"])
        assert o["box"] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        assert o["area"] == len(xs)
        inner = cv2.erode((mask == o["instance_id"]).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        if inner.sum() > 20:  # the object's own solid colour is under its moved mask
            assert np.abs(np.median(image[inner].astype(float), axis=0) - o["colour"]).max() < 12


@pytest.mark.parametrize("seed", range(10))
def test_moved_outline_vertices_lie_on_the_moved_mask(seed):
    _, _, flat = render(seed, num_objects=1, border_margin=0.0)
    _, mask, objects = render(seed, num_objects=1, border_margin=0.0, photo=GEOMETRY)
    if not objects:  # the camera lost the object: nothing is labelled, nothing to check
        assert not mask.any()
        return
    (o,) = objects
    ys, xs = np.nonzero(mask == o["instance_id"])
    before, after = np.asarray(flat[0]["polygon"]), np.asarray(o["polygon"])
    # vertices that were drawn (inside the flat frame) and are still in the photo's frame
    keep = ((before >= 2) & (before < [126, 110])).all(axis=1) & ((after >= 2) & (after < [126, 110])).all(axis=1)
    for x, y in after[keep]:  # distance from the vertex to the nearest of the object's pixel squares
        dx = np.maximum(np.abs(x - (xs + 0.5)) - 0.5, 0)
        dy = np.maximum(np.abs(y - (ys + 0.5)) - 0.5, 0)
        assert np.hypot(dx, dy).min() <= 1.0  # within 1 px of the moved pixels, as the issue asks
