"""An audiomentations chain declared in a recipe: one small params group per transform, built into a
Compose, run with the global RNGs seeded from the sample's stream, and its applied parameters read back
to move the event labels (stretch, shift, room delay) and mark what a time mask hides."""
from __future__ import annotations

from typing import Any, Callable

import audiomentations as am
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from synth.core.seeding import seed_global_state
from synth.ops import audio as A


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid")
    p: float = Field(0.0, ge=0, le=1, description="Probability the transform is applied to a clip.")


def _ordered(lo: str, hi: str) -> Callable[[Any], Any]:
    @model_validator(mode="after")
    def check(self: Any) -> Any:
        if getattr(self, lo) > getattr(self, hi):
            raise ValueError(f"{lo} ({getattr(self, lo)}) must not exceed {hi} ({getattr(self, hi)})")
        return self
    return check


class GainParams(_Group):
    min_gain_db: float = Field(-6.0, ge=-60, le=30, description="Lowest gain in dB.")
    max_gain_db: float = Field(6.0, ge=-60, le=30, description="Highest gain in dB.")
    check_range = _ordered("min_gain_db", "max_gain_db")


class GaussianSNRParams(_Group):
    min_snr_db: float = Field(10.0, ge=-20, le=100, description="Lowest SNR of the added white noise, dB.")
    max_snr_db: float = Field(40.0, ge=-20, le=100, description="Highest SNR of the added white noise, dB.")
    check_range = _ordered("min_snr_db", "max_snr_db")


class GaussianNoiseParams(_Group):
    min_amplitude: float = Field(0.001, ge=0, le=1, description="Lowest noise standard deviation.")
    max_amplitude: float = Field(0.015, ge=0, le=1, description="Highest noise standard deviation.")
    check_range = _ordered("min_amplitude", "max_amplitude")


class TimeStretchParams(_Group):
    min_rate: float = Field(0.85, ge=0.25, le=4, description="Lowest speed factor (<1 slows down).")
    max_rate: float = Field(1.15, ge=0.25, le=4, description="Highest speed factor (>1 speeds up).")
    check_range = _ordered("min_rate", "max_rate")


class PitchShiftParams(_Group):
    min_semitones: float = Field(-2.0, ge=-24, le=24, description="Lowest pitch shift in semitones.")
    max_semitones: float = Field(2.0, ge=-24, le=24, description="Highest pitch shift in semitones.")
    check_range = _ordered("min_semitones", "max_semitones")


class ShiftParams(_Group):
    min_shift: float = Field(-0.3, ge=-1, le=1, description="Lowest shift, as a fraction of the clip.")
    max_shift: float = Field(0.3, ge=-1, le=1, description="Highest shift, as a fraction of the clip.")
    rollover: bool = Field(True, description="Wrap what falls off one end round to the other.")
    check_range = _ordered("min_shift", "max_shift")


class BandStopParams(_Group):
    min_center_freq: float = Field(200.0, gt=0, le=96000, description="Lowest stop-band centre, Hz.")
    max_center_freq: float = Field(4000.0, gt=0, le=96000, description="Highest stop-band centre, Hz.")
    check_range = _ordered("min_center_freq", "max_center_freq")


class TimeMaskParams(_Group):
    min_band_part: float = Field(0.02, ge=0, le=1, description="Shortest mask, as a fraction of the clip.")
    max_band_part: float = Field(0.15, ge=0, le=1, description="Longest mask, as a fraction of the clip.")
    check_range = _ordered("min_band_part", "max_band_part")


class RoomParams(_Group):
    min_absorption: float = Field(0.075, gt=0, le=1, description="Lowest wall absorption coefficient.")
    max_absorption: float = Field(0.4, gt=0, le=1, description="Highest wall absorption coefficient.")
    check_range = _ordered("min_absorption", "max_absorption")


class Mp3Params(_Group):
    min_bitrate: int = Field(32, ge=8, le=320, description="Lowest MP3 bitrate, kbps.")
    max_bitrate: int = Field(64, ge=8, le=320, description="Highest MP3 bitrate, kbps.")
    check_range = _ordered("min_bitrate", "max_bitrate")


class AugmentParams(BaseModel):
    """The chain, applied in this order; a transform with p = 0 is left out."""

    model_config = ConfigDict(extra="forbid")
    gain: GainParams = Field(default_factory=GainParams, description="audiomentations Gain.")
    gaussian_snr: GaussianSNRParams = Field(default_factory=GaussianSNRParams, description="AddGaussianSNR.")
    gaussian_noise: GaussianNoiseParams = Field(default_factory=GaussianNoiseParams, description="AddGaussianNoise.")
    time_stretch: TimeStretchParams = Field(default_factory=TimeStretchParams, description="TimeStretch.")
    pitch_shift: PitchShiftParams = Field(default_factory=PitchShiftParams, description="PitchShift.")
    shift: ShiftParams = Field(default_factory=ShiftParams, description="Shift (fraction of the clip).")
    band_stop: BandStopParams = Field(default_factory=BandStopParams, description="BandStopFilter.")
    time_mask: TimeMaskParams = Field(default_factory=TimeMaskParams, description="TimeMask.")
    room: RoomParams = Field(default_factory=RoomParams, description="RoomSimulator (pyroomacoustics).")
    mp3: Mp3Params = Field(default_factory=Mp3Params, description="Mp3Compression (fast-mp3-augment).")


_BUILDERS: dict[str, Callable[[Any], am.core.transforms_interface.BaseWaveformTransform]] = {
    "gain": lambda g: am.Gain(min_gain_db=g.min_gain_db, max_gain_db=g.max_gain_db, p=g.p),
    "gaussian_snr": lambda g: am.AddGaussianSNR(min_snr_db=g.min_snr_db, max_snr_db=g.max_snr_db, p=g.p),
    "gaussian_noise": lambda g: am.AddGaussianNoise(min_amplitude=g.min_amplitude, max_amplitude=g.max_amplitude,
                                                    p=g.p),
    # signalsmith keeps onsets where the time map puts them (the phase vocoder smears them by ~30 ms)
    "time_stretch": lambda g: am.TimeStretch(min_rate=g.min_rate, max_rate=g.max_rate, leave_length_unchanged=True,
                                             method="signalsmith_stretch", p=g.p),
    "pitch_shift": lambda g: am.PitchShift(min_semitones=g.min_semitones, max_semitones=g.max_semitones, p=g.p),
    "shift": lambda g: am.Shift(min_shift=g.min_shift, max_shift=g.max_shift, shift_unit="fraction",
                                rollover=g.rollover, p=g.p),
    "band_stop": lambda g: am.BandStopFilter(min_center_freq=g.min_center_freq, max_center_freq=g.max_center_freq,
                                             p=g.p),
    "time_mask": lambda g: am.TimeMask(min_band_part=g.min_band_part, max_band_part=g.max_band_part, p=g.p),
    "room": lambda g: am.RoomSimulator(min_absorption_value=g.min_absorption, max_absorption_value=g.max_absorption,
                                       leave_length_unchanged=True, p=g.p),
    "mp3": lambda g: am.Mp3Compression(min_bitrate=g.min_bitrate, max_bitrate=g.max_bitrate,
                                       backend="fast-mp3-augment", p=g.p),
}


def build_chain(params: AugmentParams) -> tuple[list[str], am.Compose | None]:
    names = [name for name in AugmentParams.model_fields if getattr(params, name).p > 0]
    if not names:
        return [], None
    return names, am.Compose([_BUILDERS[n](getattr(params, n)) for n in names], p=1.0, shuffle=False)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def run_chain(samples: np.ndarray, sr: int, params: AugmentParams, events: list[dict[str, Any]],
              rng: np.random.Generator) -> tuple[np.ndarray, list[dict[str, Any]], list[dict[str, Any]]]:
    """Apply the chain; return (audio, events moved with it, applied transforms with their parameters)."""
    names, chain = build_chain(params)
    if chain is None:
        return samples, events, []
    # audiomentations draws from global `random`/`numpy.random`: seed both from this sample's stream
    seed = seed_global_state(rng)
    if "room" in names:
        # pyroomacoustics' ray tracer keeps its own numpy and C++ generators: seed them too
        import pyroomacoustics as pra
        pra.random.seed(numpy=seed, libroom=seed)
    out = chain(samples=samples.astype(np.float32), sample_rate=sr)
    applied = []
    for name, transform in zip(names, chain.transforms):
        if not transform.parameters.get("should_apply"):
            continue
        record = {k: _plain(v) for k, v in transform.parameters.items() if k != "should_apply"}
        events = _move_events(name, transform, record, events, sr, len(samples))
        applied.append({"name": name, "transform": type(transform).__name__, **record})
    return out, events, applied


def _move_events(name: str, transform: Any, record: dict[str, Any], events: list[dict[str, Any]], sr: int,
                 n: int) -> list[dict[str, Any]]:
    length_s = n / sr
    if name == "time_stretch":
        return A.stretch_events(events, record["rate"], length_s)
    if name == "shift":
        shift = int(round(record["shift_amount"] * n))  # as audiomentations rounds a fraction to samples
        return A.shift_events(events, shift, sr, n, transform.rollover)
    if name == "time_mask":
        return A.mask_events(events, record["t0"] / sr, (record["t0"] + record["t"]) / sr)
    if name == "room":
        # the impulse response's direct path arrives after the source-mic distance (plus the simulator's
        # fractional-delay filter): events move by that delay
        delay_s = float(np.argmax(np.abs(transform.room.rir[0][0]))) / sr
        record["delay_s"] = delay_s
        return A.delay_events(events, delay_s, length_s)
    return events
