"""Soundscape scene: synthesized sound events on a timeline over a background, then an audiomentations
chain; labels hold every event's exact (class, onset_s, offset_s) after the chain, and its parameters."""
from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from synth import distributions as D
from synth.ops import audio as A
from synth.ops.audio_augment import AugmentParams, run_chain
from synth import Sample, audio
from synth import Scene, SceneParams

U = D.Uniform
Dur = D.per_instance(0.001, 600)
Hz = D.per_instance(1, 96000)
DTMF_DIGITS = tuple("0123456789*#ABCD")


class _Kind(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: float = Field(0.0, ge=0, description="Relative chance an event is of this kind (0 = never).")
    duration_s: Dur = Field(U(0.1, 0.8), description="Event length in seconds, drawn per event.")


class ToneParams(_Kind):
    freq_hz: Hz = Field(U(200, 4000), description="Sine frequency, drawn per event.")


class ChirpParams(_Kind):
    f0_hz: Hz = Field(U(200, 1000), description="Start frequency, drawn per event.")
    f1_hz: Hz = Field(U(1000, 6000), description="End frequency, drawn per event.")
    method: D.per_instance() = Field(D.Choice(("linear", "log")), description="Sweep law: linear or log.")


class NoteParams(_Kind):
    f0_hz: Hz = Field(D.LogUniform(80, 1000), description="Fundamental frequency, drawn per event.")
    harmonics: D.per_instance(1, 64) = Field(D.RandInt(2, 10), description="Number of partials.")
    rolloff: D.per_instance(0, 6) = Field(U(0.5, 2.0), description="Partial k has amplitude 1/k^rolloff.")
    attack_s: D.per_instance(0, 10) = Field(U(0.005, 0.05), description="ADSR attack time.")
    decay_s: D.per_instance(0, 10) = Field(U(0.05, 0.2), description="ADSR decay time.")
    sustain: D.per_instance(0, 1) = Field(U(0.3, 0.8), description="ADSR sustain level (0-1).")
    release_s: D.per_instance(0, 10) = Field(U(0.05, 0.3), description="ADSR release time.")


class NoiseBurstParams(_Kind):
    colour: D.per_instance() = Field(D.Choice(("white", "pink", "brown")), description="white, pink or brown.")
    low_hz: Hz = Field(U(50, 500), description="Band-pass lower edge, drawn per event.")
    high_hz: Hz = Field(U(2000, 7000), description="Band-pass upper edge, drawn per event.")


class ClicksParams(_Kind):
    rate_hz: D.per_instance(0.1, 2000) = Field(U(2, 40), description="Clicks per second, drawn per event.")


class DTMFParams(_Kind):
    duration_s: Dur = Field(U(0.08, 0.2), description="Key press length in seconds, drawn per event.")
    digit: D.per_instance() = Field(D.Choice(DTMF_DIGITS), description="Key: 0-9, *, #, A-D, drawn per event.")


class SirenParams(_Kind):
    duration_s: Dur = Field(U(1.0, 2.5), description="Event length in seconds, drawn per event.")
    low_hz: Hz = Field(U(500, 800), description="Lowest frequency of the sweep.")
    high_hz: Hz = Field(U(1200, 1800), description="Highest frequency of the sweep.")
    period_s: D.per_instance(0.01, 60) = Field(U(0.3, 3.0), description="Sweep period in seconds.")


class EventsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(3, ge=0, le=256, description="Events in the clip.")
    placement: Literal["random", "sequential"] = Field(
        "random", description="random: onsets anywhere (events may overlap); sequential: one after another.")
    snr_db: D.per_instance(-60, 100) = Field(U(5, 20), description="Event RMS over the background level, dB.")
    gap_s: D.per_instance(0, 600) = Field(U(0.05, 0.3), description="Silence before each event (sequential).")


class BackgroundParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["noise", "hum", "babble", "silence"] = Field("noise", description="Background sound.")
    colour: Literal["white", "pink", "brown"] = Field("pink", description="Noise colour (kind: noise).")
    level_db: float = Field(-40.0, ge=-120, le=0, description="Background RMS in dBFS; event SNRs refer to it.")
    hum_hz: float = Field(50.0, ge=10, le=1000, description="Mains frequency (kind: hum).")
    hum_harmonics: int = Field(5, ge=1, le=40, description="Harmonics of the hum.")
    babble_voices: int = Field(6, ge=1, le=64, description="Voices in the babble.")


KINDS = ("tone", "chirp", "note", "noise", "clicks", "dtmf", "siren")


class SoundscapeParams(SceneParams):
    duration_s: float = Field(4.0, gt=0, le=600, description="Clip length in seconds.")
    sample_rate: int = Field(16000, ge=8000, le=192000, description="Samples per second.")
    format: Literal["wav", "flac"] = Field("wav", description="Stored as PCM 16 WAV or FLAC.")
    clip_class: str = Field("", description="Clip label; empty: the most frequent event class ('background').")
    background: BackgroundParams = Field(default_factory=BackgroundParams, description="The bed under events.")
    events: EventsParams = Field(default_factory=EventsParams, description="How many events and where.")
    tone: ToneParams = Field(default_factory=lambda: ToneParams(weight=1.0), description="Sine tones.")
    chirp: ChirpParams = Field(default_factory=ChirpParams, description="Frequency sweeps.")
    note: NoteParams = Field(default_factory=NoteParams, description="Harmonic notes with ADSR envelope.")
    noise: NoiseBurstParams = Field(default_factory=NoiseBurstParams, description="Band-limited noise bursts.")
    clicks: ClicksParams = Field(default_factory=ClicksParams, description="Click / impulse trains.")
    dtmf: DTMFParams = Field(default_factory=DTMFParams, description="DTMF key tones.")
    siren: SirenParams = Field(default_factory=SirenParams, description="Siren sweeps.")
    augment: AugmentParams = Field(default_factory=AugmentParams, description="audiomentations chain.")


_CATEGORICAL = {"method": ("linear", "log"), "colour": ("white", "pink", "brown"), "digit": DTMF_DIGITS}


def _kind_fields(group: BaseModel) -> dict[str, D.Distribution]:
    return {k: v for k, v in group if isinstance(v, D.Distribution)}


def _check_dist(where: str, name: str, dist: D.Distribution) -> None:
    if name in _CATEGORICAL:
        bad = [v for v in (dist.values() or []) if v not in _CATEGORICAL[name]]
        if bad or dist.values() is None:
            raise ValueError(f"{where}.{name}: {bad[0] if bad else dist.to_yaml()!r} is not allowed; "
                             f"allowed: {', '.join(_CATEGORICAL[name])}")
    elif dist.support() is None:
        raise ValueError(f"{where}.{name} must be a number or a numeric distribution such as "
                         f"{{uniform: [a, b]}}, got {dist.to_yaml()!r}")


class SoundscapeScene(Scene):
    name: ClassVar[str] = "soundscape"
    version: ClassVar[str] = "1"
    modality: ClassVar[str] = "audio"
    Params: ClassVar[type[SceneParams]] = SoundscapeParams

    def check(self, params: SoundscapeParams) -> None:
        for name, dist in _kind_fields(params.events).items():
            _check_dist("events", name, dist)
        active = [k for k in KINDS if getattr(params, k).weight > 0]
        if params.events.count > 0 and not active:
            raise ValueError(f"events.count is {params.events.count} but every kind has weight 0; "
                             f"give one of {', '.join(KINDS)} a weight > 0")
        for kind in active:
            for name, dist in _kind_fields(getattr(params, kind)).items():
                _check_dist(kind, name, dist)
            longest = getattr(params, kind).duration_s.support()[1]
            if longest > params.duration_s:
                raise ValueError(f"{kind}.duration_s reaches {longest:g} s, longer than the clip "
                                 f"(duration_s = {params.duration_s:g} s)")

    def render(self, params: SoundscapeParams, rng: np.random.Generator) -> Sample:
        self.check(params)
        sr, n = params.sample_rate, int(round(params.duration_s * params.sample_rate))
        ref_rms = 10 ** (params.background.level_db / 20)
        mix = _background(params.background, n, sr, ref_rms, rng)
        events = _place_events(params, mix, sr, ref_rms, rng)
        peak = float(np.max(np.abs(mix), initial=0.0))
        gain = 0.98 / peak if peak > 0.98 else 1.0  # keep the dry mix in range; SNRs are unchanged
        mix = (mix * gain).astype(np.float32)
        out, events, applied = run_chain(mix, sr, params.augment, events, rng)
        clipped = int(np.count_nonzero(np.abs(out) > 1.0))
        out = np.clip(out, -1.0, 1.0).astype(np.float32)
        labels = {
            "class": params.clip_class or _clip_class(events),
            "events": events,
            "transforms": applied,
            "mix_gain": gain,
            "clipped_samples": clipped,
            "sample_rate": sr,
            "duration_s": n / sr,
        }
        digits = "".join(ev["digit"] for ev in events if "digit" in ev and ev.get("wrapped") != "tail")
        if digits:
            labels["digits"] = digits
        return Sample(payloads={"audio": audio(out, sr, params.format)}, labels=labels)


def _clip_class(events: list[dict[str, Any]]) -> str:
    counts = Counter(ev["class"] for ev in events if ev.get("wrapped") != "tail")
    return counts.most_common(1)[0][0] if counts else "background"


def _background(bg: BackgroundParams, n: int, sr: int, ref_rms: float, rng: np.random.Generator) -> np.ndarray:
    if bg.kind == "silence":
        return np.zeros(n)
    if bg.kind == "noise":
        x = A.coloured_noise(n, bg.colour, rng)
    elif bg.kind == "hum":
        x = A.mains_hum(n, sr, bg.hum_hz, bg.hum_harmonics, rng)
    else:
        x = A.babble(n, sr, bg.babble_voices, rng)
    return A.scale_to_rms(x, ref_rms)


def _place_events(params: SoundscapeParams, mix: np.ndarray, sr: int, ref_rms: float,
                  rng: np.random.Generator) -> list[dict[str, Any]]:
    """Draw each event's kind, params, SNR and onset from the render stream and add it to the mix."""
    active = [k for k in KINDS if getattr(params, k).weight > 0]
    weights = np.array([getattr(params, k).weight for k in active])
    events, cursor, n = [], 0, len(mix)
    for _ in range(params.events.count if active else 0):
        kind = active[int(rng.choice(len(active), p=weights / weights.sum()))]
        group = getattr(params, kind)
        drawn = {k: _plain(d.sample(rng)) for k, d in _kind_fields(group).items()}
        length = max(int(round(drawn.pop("duration_s") * sr)), 1)
        snr_db = float(params.events.snr_db.sample(rng))
        if params.events.placement == "sequential":
            start = cursor + int(round(float(params.events.gap_s.sample(rng)) * sr))
            if start + length > n:
                break  # the timeline is full: later events would not fit in the clip
            cursor = start + length
        else:
            start = int(rng.integers(0, n - length, endpoint=True))
        wave = _synth(kind, drawn, length, sr, rng)
        if kind != "clicks":  # a click train starts with a click: a fade-in would erase it
            wave = A.ramp(wave, sr)
        mix[start:start + length] += A.scale_to_rms(wave, ref_rms * 10 ** (snr_db / 20))
        ev = {"class": kind, "onset_s": start / sr, "offset_s": (start + length) / sr, "snr_db": snr_db,
              "params": drawn}
        if kind == "dtmf":
            ev["digit"] = drawn["digit"]
        events.append(ev)
    return sorted(events, key=lambda e: (e["onset_s"], e["offset_s"]))


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _synth(kind: str, p: dict[str, Any], n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "tone":
        return A.tone(n, sr, p["freq_hz"])
    if kind == "chirp":
        return A.chirp(n, sr, p["f0_hz"], p["f1_hz"], p["method"])
    if kind == "note":
        env = A.adsr(n, sr, p["attack_s"], p["decay_s"], p["sustain"], p["release_s"])
        return A.harmonic_note(n, sr, p["f0_hz"], int(p["harmonics"]), p["rolloff"], env)
    if kind == "noise":
        return A.band_limit(A.coloured_noise(n, p["colour"], rng), sr, p["low_hz"], p["high_hz"])
    if kind == "clicks":
        return A.click_train(n, sr, p["rate_hz"])
    if kind == "dtmf":
        return A.dtmf(n, sr, p["digit"])
    return A.siren(n, sr, p["low_hz"], p["high_hz"], p["period_s"])
