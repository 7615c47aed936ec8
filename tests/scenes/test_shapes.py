"""`shapes` labels describe exactly the visible pixels: box = bounds of the instance mask, area = its
pixel count, hidden objects get no label, and render replays from recorded params."""
from __future__ import annotations

import numpy as np
import pytest

from synth import api
from synth.recipe.plan import Plan
from synth.core.seeding import RENDER_STREAM, rng_for

RECIPE = """name: shapes-test
scene: shapes
count: 40
seed: 5
params:
  width: 128
  height: 96
  num_objects: {randint: [3, 12]}
  size: {uniform: [0.1, 0.5]}
  border_margin: 0.8
"""


@pytest.fixture
def recipe(write_recipe):
    return api.validate(write_recipe(RECIPE))


def render(recipe, index):
    draw = Plan(recipe).params_for(index)
    return recipe.scene_cls().render(draw.params, rng_for(recipe.seed, index, RENDER_STREAM))


def test_boxes_areas_and_masks_agree(recipe):
    seen_hidden = seen_clipped = False
    for i in range(40):
        sample = render(recipe, i)
        mask = sample.payloads["mask"].data
        img = sample.payloads["image"].data
        assert img.shape == (96, 128, 3) and img.dtype == np.uint8 and mask.shape == (96, 128)
        objects = sample.labels["objects"]
        assert sorted(np.unique(mask[mask > 0]).tolist()) == [o["instance_id"] for o in objects]
        for obj in objects:
            ys, xs = np.nonzero(mask == obj["instance_id"])
            assert obj["box"] == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
            assert obj["area"] == len(xs)
            assert 0 < obj["visible_fraction"] <= 1
            seen_clipped |= obj["box"][0] == 0 or obj["box"][2] == 128
        draw = Plan(recipe).params_for(i)
        seen_hidden |= len(objects) < draw.params.num_objects
    assert seen_hidden and seen_clipped  # the recipe exercises occlusion and the border


def test_every_class_appears(recipe):
    classes = {o["class"] for i in range(40) for o in render(recipe, i).labels["objects"]}
    assert classes == {"circle", "ellipse", "triangle", "rectangle", "star", "polygon"}


def test_replay_from_recorded_params_gives_same_pixels(recipe):
    a, b = render(recipe, 3), render(recipe, 3)
    assert np.array_equal(a.payloads["image"].data, b.payloads["image"].data)
    assert a.labels == b.labels


def test_unknown_shape_class_is_rejected(write_recipe):
    from synth.errors import RecipeError
    path = write_recipe(RECIPE + "  object_class: {choice: [circle, hexagon]}\n")
    with pytest.raises(RecipeError, match="unknown shape 'hexagon'"):
        api.validate(path)
