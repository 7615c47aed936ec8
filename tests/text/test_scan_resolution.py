"""`scan_resolution`: a coarse capture loses detail finer than its pixels and keeps every label."""
from __future__ import annotations

import numpy as np

from synth.core.seeding import RENDER_STREAM, rng_for
from synth.recipe import load_recipe
from synth.recipe.plan import Plan

RECIPE = "recipes/digits.yaml"


def render(overrides: dict, index: int = 3):
    r = load_recipe(RECIPE, overrides)
    return r.scene_cls().render(Plan(r).params_for(index).params, rng_for(r.seed, index, RENDER_STREAM))


def test_a_coarse_scan_smooths_the_image_and_keeps_the_labels() -> None:
    sharp, coarse = render({}), render({"params.scan_resolution": 8})
    a, b = sharp.payloads["image"].data.astype(float), coarse.payloads["image"].data.astype(float)
    assert a.shape == b.shape
    assert np.abs(np.diff(b, axis=1)).mean() < np.abs(np.diff(a, axis=1)).mean()  # fewer sharp edges
    assert sharp.labels["class"] == coarse.labels["class"] and sharp.labels["chars"] == coarse.labels["chars"]
    same = render({"params.scan_resolution": 28})  # at or above the image size: nothing to lose
    assert np.array_equal(same.payloads["image"].data, sharp.payloads["image"].data)
