"""Audio masking: log-mel agrees with librosa; SpecAugment masks within policy bounds; wav2vec spans."""
from __future__ import annotations

import numpy as np
import pytest

from ssl_helpers import apply_task
from ssl_tasks.spec_mask import POLICIES, log_mel
from synth.errors import SynthError
from synth.core.sample import Sample, audio, text


def _audio_sample(seconds: float, seed: int = 0, sr: int = 16000) -> Sample:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    wave = 0.3 * np.sin(2 * np.pi * rng.uniform(100, 2000) * t) + rng.normal(0, 0.05, t.size)
    return Sample(payloads={"audio": audio(wave.astype(np.float32), sr)})


def test_log_mel_matches_librosa():
    import librosa  # imported here: its first call compiles with numba, which only this test needs
    wave = _audio_sample(1.3).payloads["audio"].data
    ours = log_mel(wave, 16000, 80, 25, 10)
    ref = librosa.feature.melspectrogram(y=wave, sr=16000, n_fft=512, hop_length=160, win_length=400, n_mels=80,
                                         center=True, pad_mode="constant")
    np.testing.assert_allclose(ours, np.log(ref + 1e-6), atol=1e-4)


@pytest.mark.parametrize("policy", sorted(POLICIES))
@pytest.mark.parametrize("seconds", [0.4, 3.0])
def test_specaugment_masks_within_policy_bounds(policy, seconds):
    bounds = POLICIES[policy]
    for index in range(8):
        sample = _audio_sample(seconds, seed=index)
        label = apply_task("specaugment", sample, {"policy": policy}, index=index)
        spec = sample.payloads[label["payloads"]["log_mel"]].data
        masked = sample.payloads[label["payloads"]["masked"]].data
        bands, frames = spec.shape
        assert label["shape"] == [80, frames]
        assert len(label["freq_masks"]) == bounds["mF"] and len(label["time_masks"]) == bounds["mT"]
        covered = np.zeros_like(spec, dtype=bool)
        for start, width in label["freq_masks"]:
            assert 0 <= width <= bounds["F"] and 0 <= start and start + width <= bands
            covered[start:start + width] = True
        for start, width in label["time_masks"]:
            assert 0 <= width <= min(bounds["T"], bounds["p"] * frames) and 0 <= start and start + width <= frames
            covered[:, start:start + width] = True
        assert (masked[covered] == np.float32(label["mask_value"])).all()
        np.testing.assert_array_equal(masked[~covered], spec[~covered])
        assert label["mask_value"] == pytest.approx(float(spec.mean()), rel=1e-5)


def test_unknown_policy_is_refused():
    with pytest.raises(SynthError, match="ssl.specaugment.params.policy"):
        apply_task("specaugment", _audio_sample(0.5), {"policy": "XL"})


def test_text_sample_is_refused_by_audio_tasks():
    for task in ("specaugment", "wav2vec_mask"):
        with pytest.raises(SynthError, match="accepts audio samples"):
            apply_task(task, Sample(payloads={"text": text("hello")}))


def test_wav2vec_spans_follow_fairseq_construction():
    total_masked = total_frames = 0
    for index in range(40):
        sample = _audio_sample(4.0, seed=index)
        label = apply_task("wav2vec_mask", sample, index=index)
        mask = sample.payloads[label["payloads"]["mask"]].data
        n = label["num_frames"]
        assert n == (64000 - 400) // 320 + 1 == mask.size
        starts = label["starts"]
        expected = 0.065 * n
        assert max(2, int(expected)) <= len(starts) <= max(2, int(expected) + 1)
        assert len(set(starts)) == len(starts) and all(0 <= s < n - 10 for s in starts)
        union = np.zeros(n, dtype=np.uint8)
        for s in starts:
            union[s:s + 10] = 1
        np.testing.assert_array_equal(union, mask)
        total_masked += int(mask.sum())
        total_frames += n
    assert 0.4 < total_masked / total_frames < 0.58  # the paper reports about 49% of frames masked


def test_audio_shorter_than_a_span_is_refused():
    with pytest.raises(SynthError, match="fewer than one span"):
        apply_task("wav2vec_mask", _audio_sample(0.1))
