"""patch_position: the labelled neighbour lies at that grid offset from the centre patch."""
from __future__ import annotations

import numpy as np
import pytest

from ssl_tasks.patch_position import NEIGHBOUR_OFFSETS
from synth.errors import SynthError
from synth.core.sample import Sample, text

from ssl_helpers import apply_task, image_sample

PARAMS = {"patch_size": 32, "gap": 16, "jitter": 4}


@pytest.mark.parametrize("index", range(40))
def test_neighbour_lies_at_labelled_offset(index):
    sample = image_sample(200, 230, seed=index)
    src = sample.payloads["image"].data
    label = apply_task("patch_position", sample, PARAMS, index=index)
    stride = PARAMS["patch_size"] + PARAMS["gap"]
    dr, dc = NEIGHBOUR_OFFSETS[label["label"]]
    assert label["offset"] == [dr, dc] and (dr, dc) != (0, 0)
    cx, cy = label["center_box"][:2]
    nx, ny = label["neighbor_box"][:2]
    # the neighbour sits one grid stride away in the labelled direction, up to both patches' jitter
    assert abs((ny - cy) - dr * stride) <= 2 * PARAMS["jitter"]
    assert abs((nx - cx) - dc * stride) <= 2 * PARAMS["jitter"]
    assert [nx - cx, ny - cy] == [dc * stride + label["neighbor"]["jitter"][0] - label["center"]["jitter"][0],
                                  dr * stride + label["neighbor"]["jitter"][1] - label["center"]["jitter"][1]]
    patches = sample.payloads[label["payloads"]["patches"]].data
    for k, key in enumerate(("center", "neighbor")):
        x0, y0, x1, y1 = label[f"{key}_box"]
        assert 0 <= x0 and x1 <= src.shape[1] and 0 <= y0 and y1 <= src.shape[0]
        np.testing.assert_array_equal(patches[k], src[y0:y1, x0:x1])


def test_labels_cover_all_eight_neighbours():
    seen = {apply_task("patch_position", image_sample(200, 200), PARAMS, index=i)["label"] for i in range(200)}
    assert seen == set(range(8))


def test_colour_drop_keeps_one_channel_and_noises_the_others():
    sample = image_sample(200, 200, seed=3)
    src = sample.payloads["image"].data
    label = apply_task("patch_position", sample, {**PARAMS, "color_drop": True}, index=3)
    x0, y0, x1, y1 = label["center_box"]
    patch = sample.payloads[label["payloads"]["patches"]].data[0]
    keep = label["center"]["kept_channel"]
    np.testing.assert_array_equal(patch[:, :, keep], src[y0:y1, x0:x1, keep])
    for c in {0, 1, 2} - {keep}:
        # dropped channels are low-variance noise around mid-gray, unrelated to the source
        assert abs(float(patch[:, :, c].mean()) - 128) < 2 and patch[:, :, c].std() < 3


def test_downsampling_is_recorded_and_blurs():
    sample = image_sample(200, 200, seed=4)
    label = apply_task("patch_position", sample, {**PARAMS, "downsample_prob": 1.0}, index=4)
    assert label["center"]["downsampled_to"] == [10, 10]
    x0, y0, x1, y1 = label["center_box"]
    patch = sample.payloads[label["payloads"]["patches"]].data[0].astype(float)
    # noise loses most of its high frequencies through a 10x10 bottleneck
    assert np.abs(np.diff(patch, axis=1)).mean() < 0.5 * np.abs(
        np.diff(sample.payloads["image"].data[y0:y1, x0:x1].astype(float), axis=1)).mean()


def test_image_smaller_than_grid_is_refused():
    with pytest.raises(SynthError, match="needs at least 398x398"):
        apply_task("patch_position", image_sample(300, 500))  # paper defaults: 3*96 + 2*48 + 2*7


def test_text_sample_is_refused():
    with pytest.raises(SynthError, match="accepts image, 3d samples"):
        apply_task("patch_position", Sample(payloads={"text": text("no pixels here")}))


def test_label_records_task_version_params_seed():
    label = apply_task("patch_position", image_sample(200, 200), PARAMS)
    assert label["task"] == "patch_position" and label["version"] == "1"
    assert label["params"]["patch_size"] == 32 and label["params"]["jitter"] == 4
    assert isinstance(label["seed"], int)
