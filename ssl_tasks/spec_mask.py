"""Audio masking: SpecAugment time/frequency masks on a log-mel spectrogram (Park et al. 2019) and
wav2vec 2.0 span masking of feature-encoder frames (Baevski et al. 2020)."""
from __future__ import annotations

import math
from functools import cache
from typing import Any, Literal

import numpy as np
from pydantic import Field

from synth.errors import SynthError
from synth import Sample, array

from .base import Task, TaskParams, input_audio

# Park et al. 2019, Table 1: time-warp W, frequency mask width F and count mF, time mask width T,
# time mask upper bound p (fraction of frames) and count mT.
POLICIES: dict[str, dict[str, float]] = {
    "LB": {"W": 80, "F": 27, "mF": 1, "T": 100, "p": 1.0, "mT": 1},
    "LD": {"W": 80, "F": 27, "mF": 2, "T": 100, "p": 1.0, "mT": 2},
    "SM": {"W": 40, "F": 15, "mF": 2, "T": 70, "p": 0.2, "mT": 2},
    "SS": {"W": 40, "F": 27, "mF": 2, "T": 70, "p": 0.2, "mT": 2},
}


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above (librosa's default, htk=False)."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log_part = hz >= 1000.0
    mel[log_part] = 15.0 + np.log(hz[log_part] / 1000.0) / (np.log(6.4) / 27.0)
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    hz = mel * (200.0 / 3)
    log_part = mel >= 15.0
    hz[log_part] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel[log_part] - 15.0))
    return hz


@cache
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Triangular, area-normalised (Slaney) mel filters, n_mels x (n_fft // 2 + 1), from 0 Hz to Nyquist."""
    fft_hz = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    edges = _mel_to_hz(np.linspace(0.0, _hz_to_mel(np.array([sample_rate / 2]))[0], n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def log_mel(samples: np.ndarray, sample_rate: int, n_mels: int, win_ms: float, hop_ms: float) -> np.ndarray:
    """Log-mel spectrogram (n_mels x frames): centred frames (zero-padded ends), periodic Hann window,
    power spectrum, Slaney mel filters, natural log. Plain numpy: importing scipy.signal or librosa
    costs seconds per worker process."""
    win = max(2, int(round(sample_rate * win_ms / 1000)))
    hop = max(1, int(round(sample_rate * hop_ms / 1000)))
    n_fft = 1 << (win - 1).bit_length()
    padded = np.pad(np.asarray(samples, dtype=np.float32), (win // 2, win // 2))
    if len(padded) < win:
        padded = np.pad(padded, (0, win - len(padded)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)).astype(np.float32)
    power = np.abs(np.fft.rfft(frames * window, n=n_fft, axis=1)) ** 2
    mel = mel_filterbank(sample_rate, n_fft, n_mels) @ power.T.astype(np.float32)
    return np.log(mel + 1e-6).astype(np.float32)


class SpecAugmentParams(TaskParams):
    policy: Literal["LB", "LD", "SM", "SS"] = Field("LD", description="SpecAugment policy of Park et al. 2019 "
                                                                      "(LB, LD, SM, SS). Time warping is not applied.")
    n_mels: int = Field(80, ge=8, le=256, description="Mel bands (paper: 80).")
    win_ms: float = Field(25.0, gt=0, le=200, description="STFT window in milliseconds (paper: 25).")
    hop_ms: float = Field(10.0, gt=0, le=100, description="STFT hop in milliseconds (paper: 10).")
    mask_value: Literal["mean", "zero"] = Field("mean", description="Value written into masked cells; the paper "
                                                                    "uses the mean (zero after normalisation).")


class SpecAugment(Task):
    name = "specaugment"
    version = "1"
    modalities = ("audio",)
    Params = SpecAugmentParams

    def run(self, sample: Sample, p: SpecAugmentParams, rng: np.random.Generator) -> dict[str, Any]:
        samples, sr = input_audio(self, sample)
        spec = log_mel(samples, sr, p.n_mels, p.win_ms, p.hop_ms)
        policy = POLICIES[p.policy]
        n_bands, n_frames = spec.shape
        freq = [_interval(rng, int(policy["F"]), n_bands) for _ in range(int(policy["mF"]))]
        time_width = min(int(policy["T"]), int(math.floor(policy["p"] * n_frames)))
        time = [_interval(rng, time_width, n_frames) for _ in range(int(policy["mT"]))]
        fill = float(spec.mean()) if p.mask_value == "mean" else 0.0
        masked = spec.copy()
        for start, width in freq:
            masked[start:start + width, :] = fill
        for start, width in time:
            masked[:, start:start + width] = fill
        return {
            "policy": {k: policy[k] for k in ("F", "mF", "T", "p", "mT")},
            "shape": [n_bands, n_frames],
            "freq_masks": [[s, w] for s, w in freq],
            "time_masks": [[s, w] for s, w in time],
            "mask_value": fill,
            "payloads": {"log_mel": self.put(sample, "log_mel", array(spec)),
                         "masked": self.put(sample, "masked", array(masked))},
        }


def _interval(rng: np.random.Generator, max_width: int, size: int) -> tuple[int, int]:
    """A width drawn uniformly from 0..max_width (capped at size) and a start in [0, size - width]."""
    width = int(rng.integers(0, min(max_width, size) + 1))
    start = int(rng.integers(0, size - width + 1))
    return start, width


class Wav2VecMaskParams(TaskParams):
    mask_prob: float = Field(0.065, gt=0, lt=1, description="Probability of a frame starting a span (paper: 0.065).")
    span: int = Field(10, ge=1, le=1000, description="Span length in frames (paper: 10).")
    min_masks: int = Field(2, ge=0, le=1000, description="Minimum number of spans (fairseq's default: 2).")
    frame_ms: float = Field(20.0, gt=0, le=1000, description="Feature-encoder stride (wav2vec 2.0: 20 ms).")
    receptive_ms: float = Field(25.0, gt=0, le=1000, description="Feature-encoder receptive field (25 ms).")


class Wav2VecMask(Task):
    name = "wav2vec_mask"
    version = "1"
    modalities = ("audio",)
    Params = Wav2VecMaskParams

    def run(self, sample: Sample, p: Wav2VecMaskParams, rng: np.random.Generator) -> dict[str, Any]:
        samples, sr = input_audio(self, sample)
        stride = int(round(sr * p.frame_ms / 1000))
        field = int(round(sr * p.receptive_ms / 1000))
        n_frames = (len(samples) - field) // stride + 1 if len(samples) >= field else 0
        if n_frames <= p.span:
            raise SynthError(f"audio has {n_frames} frames of {p.frame_ms} ms, fewer than one span of {p.span} "
                             f"frames needs", field=f"ssl.{self.name}.params.span")
        # the paper's p is the share of frames that start a span (fairseq writes it as mask_prob = p * span);
        # as in fairseq's compute_mask_indices the count is rounded stochastically and starts are distinct
        count = max(p.min_masks, int(p.mask_prob * n_frames + rng.random()))
        count = min(count, n_frames - p.span)
        starts = np.sort(rng.choice(n_frames - p.span, size=count, replace=False))
        mask = np.zeros(n_frames, dtype=np.uint8)
        for s in starts:
            mask[s:s + p.span] = 1
        return {
            "num_frames": n_frames,
            "starts": [int(s) for s in starts],
            "num_masked": int(mask.sum()),
            "payloads": {"mask": self.put(sample, "mask", array(mask))},
        }
