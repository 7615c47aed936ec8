"""rotation, SimCLR views and CPC windows: each derived payload is what its recorded draws say."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from ssl_helpers import apply_task, image_sample
from synth.errors import SynthError
from synth.core.sample import Sample, array, audio, text


def test_rotation_inverse_restores_image():
    labels = set()
    for index in range(20):
        sample = image_sample(40, 60, seed=index)
        label = apply_task("rotation", sample, index=index)
        rotated = sample.payloads[label["payloads"]["image"]].data
        assert label["degrees"] == 90 * label["label"]
        np.testing.assert_array_equal(np.rot90(rotated, -label["label"]), sample.payloads["image"].data)
        labels.add(label["label"])
    assert labels == {0, 1, 2, 3}


def test_rotation_all_four():
    sample = image_sample(30, 50)
    label = apply_task("rotation", sample, {"all_four": True})
    for k, name in enumerate(label["payloads"]["images"]):
        np.testing.assert_array_equal(np.rot90(sample.payloads[name].data, -k), sample.payloads["image"].data)


GEOMETRY_ONLY = {"size": 64, "jitter_prob": 0.0, "grayscale_prob": 0.0, "blur_prob": 0.0}


def test_simclr_views_are_the_recorded_crops():
    flips = set()
    for index in range(15):
        sample = image_sample(120, 160, seed=index)
        src = sample.payloads["image"].data
        label = apply_task("simclr_views", sample, GEOMETRY_ONLY, index=index)
        assert len(label["views"]) == 2
        for view, name in zip(label["views"], ("view1", "view2")):
            x0, y0, x1, y1 = view["crop"]
            assert 0 <= x0 < x1 <= 160 and 0 <= y0 < y1 <= 120
            area = (x1 - x0) * (y1 - y0) / (120 * 160)
            assert 0.08 * 0.9 <= area <= 1.0
            expected = cv2.resize(src[y0:y1, x0:x1], (64, 64), interpolation=cv2.INTER_LINEAR)
            if view["flip"]:
                expected = expected[:, ::-1]
            flips.add(view["flip"])
            np.testing.assert_array_equal(sample.payloads[label["payloads"][name]].data, expected)
            assert view["jitter"] is None and view["blur"] is None and not view["grayscale"]
    assert flips == {True, False}


def test_simclr_colour_draws_are_recorded_and_applied():
    seen_gray = seen_blur = 0
    for index in range(30):
        sample = image_sample(80, 80, seed=index)
        label = apply_task("simclr_views", sample, {"size": 48}, index=index)
        for view, name in zip(label["views"], ("view1", "view2")):
            out = sample.payloads[label["payloads"][name]].data
            if view["grayscale"]:
                seen_gray += 1
                assert (out[:, :, 0].astype(int) - out[:, :, 1]).max() <= 1
            if view["jitter"] is not None:
                j = view["jitter"]
                assert sorted(j["order"]) == sorted(["brightness", "contrast", "saturation", "hue"])
                assert 0.2 <= j["brightness"] <= 1.8 and -0.2 <= j["hue"] <= 0.2
            if view["blur"] is not None:
                seen_blur += 1
                assert view["blur"]["kernel"] == 5 and 0.1 <= view["blur"]["sigma"] <= 2.0
    assert seen_gray > 0 and seen_blur > 0


def test_cpc_windows_on_audio_tokens_and_arrays():
    wave = np.random.default_rng(0).normal(size=16000).astype(np.float32)
    sample = Sample(payloads={"audio": audio(wave, 16000)})
    label = apply_task("cpc", sample)
    frames = wave.reshape(100, 160)
    a = label["anchor"]
    assert label["num_steps"] == 100 and label["context"] == [a - 20, a] and label["targets"] == [a, a + 12]
    np.testing.assert_array_equal(sample.payloads[label["payloads"]["context"]].data, frames[a - 20:a])
    np.testing.assert_array_equal(sample.payloads[label["payloads"]["targets"]].data, frames[a:a + 12])
    negatives = np.array(label["negative_steps"])
    assert negatives.shape == (12, 10) and not ((negatives >= a) & (negatives < a + 12)).any()

    seq = np.arange(50 * 3, dtype=np.float32).reshape(50, 3)
    sample = Sample(payloads={"feats": array(seq)})
    label = apply_task("cpc", sample, {"sequence": "feats", "context_steps": 8, "predict_steps": 4})
    a = label["anchor"]
    np.testing.assert_array_equal(sample.payloads[label["payloads"]["targets"]].data, seq[a:a + 4])

    label = apply_task("cpc", Sample(payloads={"text": text("one two three " * 12)}), {"context_steps": 10})
    assert label["unit"] == "tokens" and label["num_steps"] == 36


def test_cpc_sequence_too_short_is_refused():
    with pytest.raises(SynthError, match="fewer than context_steps"):
        apply_task("cpc", Sample(payloads={"text": text("too short")}))
