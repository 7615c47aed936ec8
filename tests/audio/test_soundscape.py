"""Soundscape scene: exact event onsets after stretch/shift (librosa), DTMF decodes with Goertzel,
determinism across worker processes, and bad input."""
from __future__ import annotations

import io
import random
from concurrent.futures import ProcessPoolExecutor

import librosa
import numpy as np
import pydantic
import pytest
import soundfile as sf

from scenes.soundscape import SoundscapeParams, SoundscapeScene
from synth.ops import audio as A
from synth.core.seeding import RENDER_STREAM, rng_for

SCENE = SoundscapeScene()


def render(params: dict, seed: int):
    return SCENE.render(SoundscapeParams.model_validate(params), np.random.default_rng(seed))


def decoded(sample) -> tuple[np.ndarray, int]:
    data, _ = sample.payloads["audio"].encode()
    x, sr = sf.read(io.BytesIO(data), dtype="float32")
    return x, sr


TONES = {
    "duration_s": 4.0, "sample_rate": 16000,
    "background": {"kind": "noise", "colour": "white", "level_db": -70},
    "events": {"count": 4, "placement": "sequential", "snr_db": 40, "gap_s": {"uniform": [0.25, 0.45]}},
    "tone": {"weight": 1, "duration_s": {"uniform": [0.15, 0.3]}, "freq_hz": {"uniform": [500, 2000]}},
    "augment": {"time_stretch": {"p": 1, "min_rate": 0.8, "max_rate": 1.25},
                "shift": {"p": 1, "min_shift": -0.2, "max_shift": 0.2, "rollover": False}},
}


@pytest.mark.parametrize("seed", range(6))
def test_onsets_after_stretch_and_shift_match_librosa(seed):
    sample = render(TONES, seed)
    applied = {t["name"]: t for t in sample.labels["transforms"]}
    assert set(applied) == {"time_stretch", "shift"}
    x, sr = decoded(sample)
    detected = librosa.onset.onset_detect(y=x, sr=sr, units="time", hop_length=32)
    labelled = [ev["onset_s"] for ev in sample.labels["events"] if not ev.get("truncated")]
    assert labelled, "every event fell off the clip"
    for onset in labelled:
        assert np.min(np.abs(detected - onset)) < 0.010, (onset, detected)


def test_labels_really_move_with_the_audio():
    """The dry (unmoved) onsets must not match: otherwise the test above could not fail."""
    dry = render({**TONES, "augment": {}}, 3)
    wet = render(TONES, 3)
    x, sr = decoded(wet)
    detected = librosa.onset.onset_detect(y=x, sr=sr, units="time", hop_length=32)
    misses = [o["onset_s"] for o in dry.labels["events"] if np.min(np.abs(detected - o["onset_s"])) > 0.010]
    assert misses


def goertzel_power(x: np.ndarray, sr: int, freq: float) -> float:
    coeff = 2 * np.cos(2 * np.pi * freq / sr)
    s1 = s2 = 0.0
    for v in x:
        s1, s2 = v + coeff * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coeff * s1 * s2


def goertzel_digit(x: np.ndarray, sr: int) -> str:
    low = [goertzel_power(x, sr, f) for f in A.DTMF_LOW]
    high = [goertzel_power(x, sr, f) for f in A.DTMF_HIGH]
    return A.DTMF_KEYS[int(np.argmax(low))][int(np.argmax(high))]


DTMF = {
    "duration_s": 2.0, "sample_rate": 8000,
    "background": {"kind": "noise", "colour": "pink", "level_db": -45},
    "events": {"count": 6, "placement": "sequential", "snr_db": {"uniform": [10, 25]},
               "gap_s": {"uniform": [0.04, 0.1]}},
    "tone": {"weight": 0}, "dtmf": {"weight": 1, "duration_s": {"uniform": [0.05, 0.12]}},
    "augment": {"gain": {"p": 1}, "gaussian_snr": {"p": 1, "min_snr_db": 15, "max_snr_db": 30}},
}


@pytest.mark.parametrize("seed", range(5))
def test_dtmf_clips_decode_to_their_label_digits(seed):
    sample = render(DTMF, seed)
    x, sr = decoded(sample)
    heard = ""
    for ev in sample.labels["events"]:
        a, b = int(round(ev["onset_s"] * sr)), int(round(ev["offset_s"] * sr))
        heard += goertzel_digit(x[a:b].astype(np.float64), sr)
    assert len(heard) >= 4
    assert heard == sample.labels["digits"]


FULL = {
    "duration_s": 2.0, "background": {"kind": "babble"}, "events": {"count": 5},
    **{k: {"weight": 1} for k in ("tone", "chirp", "note", "noise", "clicks", "dtmf", "siren")},
    "siren": {"weight": 1, "duration_s": {"uniform": [0.5, 1.5]}},
    "augment": {k: {"p": 0.7} for k in ("gain", "gaussian_snr", "gaussian_noise", "time_stretch", "pitch_shift",
                                         "shift", "band_stop", "time_mask", "room", "mp3")},
}


def _render_index(index: int) -> bytes:
    # disturb the worker's global RNGs differently each call: the scene must not depend on them
    random.seed(index * 7919)
    np.random.seed(index * 104729 % 2**31)
    random.random(), np.random.random(index + 1)
    sample = SCENE.render(SoundscapeParams.model_validate(FULL), rng_for(11, index, RENDER_STREAM))
    return sample.payloads["audio"].encode()[0] + sample.labels_json().encode()


def test_same_bytes_in_one_process_and_across_two_workers():
    indices = list(range(6))
    serial = [_render_index(i) for i in reversed(indices)][::-1]
    with ProcessPoolExecutor(2) as pool:
        parallel = list(pool.map(_render_index, indices))
    assert serial == parallel
    assert len(set(serial)) == len(serial)


def test_every_event_kind_and_transform_is_recorded():
    seen_kinds, seen_transforms = set(), set()
    for seed in range(8):
        sample = render(FULL, seed)
        for ev in sample.labels["events"]:
            seen_kinds.add(ev["class"])
            assert 0 <= ev["onset_s"] < ev["offset_s"] <= 2.0
        seen_transforms |= {t["name"] for t in sample.labels["transforms"]}
        x, sr = decoded(sample)
        assert sr == 16000 and len(x) == 32000
    assert seen_kinds == {"tone", "chirp", "note", "noise", "clicks", "dtmf", "siren"}
    assert len(seen_transforms) == 10


def test_time_mask_marks_the_event_it_hides():
    events = [{"class": "tone", "onset_s": 1.0, "offset_s": 1.2}, {"class": "tone", "onset_s": 2.0, "offset_s": 2.4}]
    out = A.mask_events(events, 0.9, 1.3)
    assert out[0]["hidden"] is True and out[0]["masked_fraction"] == 1.0
    assert "hidden" not in out[1]
    half = A.mask_events(events, 2.2, 3.0)[1]
    assert half["hidden"] is False and half["masked_fraction"] == pytest.approx(0.5)


def test_shift_with_rollover_splits_an_event_that_wraps():
    events = [{"class": "tone", "onset_s": 3.3, "offset_s": 3.7}]
    out = A.shift_events(events, 8000, 16000, 64000, rollover=True)  # +0.5 s in a 4 s clip
    assert [(e["wrapped"], round(e["onset_s"], 9), round(e["offset_s"], 9)) for e in out] == [
        ("tail", 0.0, 0.2), ("head", 3.8, 4.0)]
    clipped = A.shift_events(events, 8000, 16000, 64000, rollover=False)
    assert [(round(e["onset_s"], 9), e["offset_s"], e["truncated"]) for e in clipped] == [(3.8, 4.0, True)]


def test_event_longer_than_the_clip_is_rejected():
    params = SoundscapeParams.model_validate({"duration_s": 1.0, "tone": {"weight": 1, "duration_s": {"uniform": [0.5, 2]}}})
    with pytest.raises(ValueError, match=r"tone.duration_s reaches 2 s, longer than the clip"):
        SCENE.check(params)


def test_snr_as_text_is_rejected():
    params = SoundscapeParams.model_validate({"events": {"snr_db": "loud"}})
    with pytest.raises(ValueError, match=r"events.snr_db must be a number"):
        SCENE.check(params)


def test_sample_rate_zero_is_rejected():
    with pytest.raises(pydantic.ValidationError, match="sample_rate"):
        SoundscapeParams.model_validate({"sample_rate": 0})


def test_unknown_dtmf_key_is_rejected():
    params = SoundscapeParams.model_validate({"dtmf": {"weight": 1, "digit": {"choice": ["1", "X"]}}})
    with pytest.raises(ValueError, match="dtmf.digit: 'X' is not allowed"):
        SCENE.check(params)
