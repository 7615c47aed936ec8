"""Image masking: MAE exact count and ids_restore, BEiT blockwise within one block, SimMIM units."""
from __future__ import annotations

import math

import numpy as np
import pytest

from ssl_helpers import apply_task, image_sample
from synth.codecs.masks import unpack_mask
from synth.errors import SynthError


@pytest.mark.parametrize("size,patch,ratio", [((224, 224), 16, 0.75), ((100, 130), 16, 0.5), ((64, 48), 8, 0.33)])
def test_mae_masks_exactly_round_ratio_n(size, patch, ratio):
    for index in range(10):
        sample = image_sample(*size, seed=index)
        label = apply_task("mae", sample, {"patch_size": patch, "mask_ratio": ratio}, index=index)
        rows, cols = size[0] // patch, size[1] // patch
        n = rows * cols
        mask = unpack_mask(label["mask_hex"], label["grid"])
        assert mask.shape == (rows, cols) and label["num_patches"] == n
        assert set(sample.payloads) == {"image"}  # masks live in the label
        assert int(mask.sum()) == label["num_masked"] == round(ratio * n)


def test_mae_ids_restore_inverts_the_shuffle():
    for index in range(10):
        sample = image_sample(224, 224, seed=index)
        label = apply_task("mae", sample, index=index)
        ids_restore = np.array(label["ids_restore"])
        mask = unpack_mask(label["mask_hex"], label["grid"]).reshape(-1)
        n = mask.size
        assert sorted(ids_restore.tolist()) == list(range(n))
        ids_shuffle = np.argsort(ids_restore)
        np.testing.assert_array_equal(ids_shuffle[ids_restore], np.arange(n))
        # in shuffled order the kept patches come first, then the masked ones (MAE's gather)
        keep = n - round(0.75 * n)
        assert label["len_keep"] == keep
        np.testing.assert_array_equal(mask, (ids_restore >= keep).astype(np.uint8))
        np.testing.assert_array_equal(mask[ids_shuffle], np.r_[np.zeros(keep), np.ones(n - keep)])


@pytest.mark.parametrize("ratio", [0.0, 1.0, 1.5, -0.1])
@pytest.mark.parametrize("task", ["mae", "blockwise_mask", "simmim"])
def test_ratio_outside_open_unit_interval_is_refused(task, ratio):
    with pytest.raises(SynthError, match=f"ssl.{task}.params.mask_ratio"):
        apply_task(task, image_sample(64, 64), {"mask_ratio": ratio})


def test_image_smaller_than_a_patch_is_refused():
    with pytest.raises(SynthError, match="smaller than one 16px patch"):
        apply_task("mae", image_sample(10, 40))


@pytest.mark.parametrize("grid,ratio", [((14, 14), 0.4), ((12, 20), 0.3), ((14, 14), 0.6), ((8, 8), 0.4)])
def test_blockwise_ratio_within_one_block_of_target(grid, ratio):
    min_block = 16
    for index in range(60):
        sample = image_sample(grid[0] * 16, grid[1] * 16, seed=index)
        label = apply_task("blockwise_mask", sample, {"mask_ratio": ratio}, index=index)
        mask = unpack_mask(label["mask_hex"], label["grid"])
        target = round(ratio * grid[0] * grid[1])
        assert label["target_masked"] == target
        assert int(mask.sum()) == label["num_masked"] <= target
        assert target - int(mask.sum()) <= min_block
        # the mask is the union of the recorded blocks, each within the aspect bounds
        union = np.zeros_like(mask)
        for top, left, h, w in label["blocks"]:
            union[top:top + h, left:left + w] = 1
            # h and w are rounded from sqrt(area*aspect) and sqrt(area/aspect): some aspect in
            # [0.3, 1/0.3] must lie within the rounding interval of h / w
            assert (h - 0.5) / (w + 0.5) <= 1 / 0.3 and (h + 0.5) / max(w - 0.5, 1e-9) >= 0.3
        np.testing.assert_array_equal(union, mask)


def test_simmim_masks_ceil_ratio_units():
    for index in range(10):
        sample = image_sample(192, 192, seed=index)
        label = apply_task("simmim", sample, index=index)
        units = unpack_mask(label["mask_hex"], label["unit_grid"])
        assert units.shape == (6, 6) and label["scale"] == 8
        assert int(units.sum()) == math.ceil(0.6 * 36) == label["num_masked_units"]


def test_simmim_unit_not_multiple_of_model_patch_is_refused():
    with pytest.raises(SynthError, match="multiple of model_patch_size"):
        apply_task("simmim", image_sample(64, 64), {"mask_patch_size": 30, "model_patch_size": 4})
