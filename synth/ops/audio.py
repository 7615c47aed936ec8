"""Audio kernels: synthesized sound events and backgrounds (pure numpy/scipy, float32 mono),
mixing at a given SNR, and moving event labels through time-changing transforms."""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import signal

# DTMF keypad: row (low) and column (high) frequencies of every key
DTMF_LOW = (697.0, 770.0, 852.0, 941.0)
DTMF_HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")
RAMP_S = 0.002  # raised-cosine edges: long enough to avoid clicks, short enough to keep onsets sharp


def dtmf_pair(digit: str) -> tuple[float, float]:
    for r, keys in enumerate(DTMF_KEYS):
        c = keys.find(digit)
        if c >= 0:
            return DTMF_LOW[r], DTMF_HIGH[c]
    raise ValueError(f"'{digit}' is not a DTMF key; allowed: 0-9, *, #, A-D")


def _t(n: int, sr: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / sr


def ramp(x: np.ndarray, sr: int, ramp_s: float = RAMP_S) -> np.ndarray:
    """Raised-cosine fade in and out so an event starts and stops without a broadband click."""
    n = min(int(round(ramp_s * sr)), len(x) // 2)
    if n > 1:
        w = 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)
        x[:n] *= w
        x[-n:] *= w[::-1]
    return x


def tone(n: int, sr: int, freq_hz: float) -> np.ndarray:
    return np.sin(2 * np.pi * freq_hz * _t(n, sr))


def chirp(n: int, sr: int, f0_hz: float, f1_hz: float, method: str) -> np.ndarray:
    t = _t(n, sr)
    return signal.chirp(t, f0=f0_hz, t1=max(t[-1], 1.0 / sr), f1=f1_hz,
                        method="logarithmic" if method == "log" else "linear")


def adsr(n: int, sr: int, attack_s: float, decay_s: float, sustain: float, release_s: float) -> np.ndarray:
    """Piecewise-linear ADSR envelope fitted into n samples (phases shrink in proportion if too long)."""
    phases = np.array([attack_s, decay_s, release_s]) * sr
    if phases.sum() > n:
        phases *= n / phases.sum()
    a, d, r = (int(p) for p in phases)
    s = max(n - a - d - r, 0)
    env = np.concatenate([np.linspace(0, 1, a, endpoint=False), np.linspace(1, sustain, d, endpoint=False),
                          np.full(s, sustain), np.linspace(sustain, 0, r)])
    return np.pad(env, (0, n - len(env)))[:n]


def harmonic_note(n: int, sr: int, f0_hz: float, harmonics: int, rolloff: float, env: np.ndarray) -> np.ndarray:
    t = _t(n, sr)
    out = np.zeros(n)
    for k in range(1, harmonics + 1):
        if k * f0_hz < sr / 2:  # skip partials above Nyquist: they would alias
            out += np.sin(2 * np.pi * k * f0_hz * t) / k ** rolloff
    return out * env


def coloured_noise(n: int, colour: str, rng: np.random.Generator) -> np.ndarray:
    """White, pink (1/f power) or brown (1/f^2 power) noise by spectral shaping of white noise."""
    white = rng.standard_normal(n)
    if colour == "white" or n < 2:
        return white
    spec = np.fft.rfft(white)
    f = np.fft.rfftfreq(n)
    f[0] = f[1]
    spec *= f ** (-0.5 if colour == "pink" else -1.0)
    out = np.fft.irfft(spec, n)
    return out - out.mean()


def band_limit(x: np.ndarray, sr: int, low_hz: float, high_hz: float) -> np.ndarray:
    nyq = sr / 2
    lo, hi = max(low_hz, 1.0) / nyq, min(high_hz, nyq * 0.99) / nyq
    if lo >= hi:
        return x
    sos = signal.butter(4, [lo, hi], btype="bandpass", output="sos")
    return signal.sosfiltfilt(sos, x) if len(x) > 27 else x


def click_train(n: int, sr: int, rate_hz: float) -> np.ndarray:
    out = np.zeros(n)
    period = max(int(round(sr / rate_hz)), 1)
    out[::period] = 1.0
    out[1::period] = -0.5  # a two-sample doublet has no DC and sounds like a click, not a thump
    return out


def dtmf(n: int, sr: int, digit: str) -> np.ndarray:
    lo, hi = dtmf_pair(digit)
    t = _t(n, sr)
    return np.sin(2 * np.pi * lo * t) + np.sin(2 * np.pi * hi * t)


def siren(n: int, sr: int, low_hz: float, high_hz: float, period_s: float) -> np.ndarray:
    """Sinusoidal frequency sweep between low and high (a 'wail'), integrated to a phase."""
    t = _t(n, sr)
    freq = low_hz + (high_hz - low_hz) * 0.5 * (1 - np.cos(2 * np.pi * t / period_s))
    return np.sin(2 * np.pi * np.cumsum(freq) / sr)


def mains_hum(n: int, sr: int, hum_hz: float, harmonics: int, rng: np.random.Generator) -> np.ndarray:
    t = _t(n, sr)
    phases = rng.uniform(0, 2 * np.pi, harmonics)
    out = np.zeros(n)
    for k in range(1, harmonics + 1):
        if k * hum_hz < sr / 2:
            out += np.sin(2 * np.pi * k * hum_hz * t + phases[k - 1]) / k
    return out


def babble(n: int, sr: int, voices: int, rng: np.random.Generator) -> np.ndarray:
    """Speech-like mixture: voices of glottal pulse trains through two formant resonators,
    amplitude-modulated at syllable rate (3-6 Hz)."""
    t = _t(n, sr)
    out = np.zeros(n)
    for _ in range(voices):
        f0 = rng.uniform(90, 240)
        pitch = f0 * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
        pulses = signal.sawtooth(2 * np.pi * np.cumsum(pitch) / sr)
        voice = np.zeros(n)
        for formant in (rng.uniform(300, 900), rng.uniform(900, 2500)):
            if formant < sr / 2 * 0.9:
                b, a = signal.iirpeak(formant, Q=5, fs=sr)
                voice += signal.lfilter(b, a, pulses)
        syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3, 6) * t + rng.uniform(0, 2 * np.pi)), 0, None)
        out += voice * syllables / max(np.sqrt(np.mean(voice ** 2)), 1e-12)
    return out


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def scale_to_rms(x: np.ndarray, target_rms: float) -> np.ndarray:
    r = rms(x)
    return x * (target_rms / r) if r > 0 else x


# ---------------------------------------------------------------------------------------------
# event labels through time-changing transforms: each takes and returns a list of event dicts


def _clip_event(ev: dict[str, Any], length_s: float) -> dict[str, Any] | None:
    if ev["onset_s"] >= length_s or ev["offset_s"] <= 0:
        return None
    out = dict(ev)
    if ev["offset_s"] > length_s:
        out["offset_s"], out["truncated"] = length_s, True
    if ev["onset_s"] < 0:
        out["onset_s"], out["truncated"] = 0.0, True
    return out


def stretch_events(events: list[dict[str, Any]], rate: float, length_s: float) -> list[dict[str, Any]]:
    """TimeStretch with rate r plays r times faster: time t moves to t / r; the clip keeps its length."""
    moved = [{**ev, "onset_s": ev["onset_s"] / rate, "offset_s": ev["offset_s"] / rate} for ev in events]
    return [e for e in (_clip_event(ev, length_s) for ev in moved) if e is not None]


def shift_events(events: list[dict[str, Any]], shift_samples: int, sr: int, n: int,
                 rollover: bool) -> list[dict[str, Any]]:
    """Shift by a whole number of samples (np.roll); with rollover an event crossing the end
    wraps round to the start and becomes two labelled parts."""
    length_s, d = n / sr, shift_samples / sr
    out: list[dict[str, Any]] = []
    for ev in events:
        on, off = ev["onset_s"] + d, ev["offset_s"] + d
        if not rollover:
            clipped = _clip_event({**ev, "onset_s": on, "offset_s": off}, length_s)
            out += [clipped] if clipped is not None else []
            continue
        k = float(np.floor(on / length_s))
        on, off = on - k * length_s, off - k * length_s
        if off <= length_s:
            out.append({**ev, "onset_s": on, "offset_s": off})
        else:  # wraps: the head stays at the end, the tail reappears at the start
            out.append({**ev, "onset_s": on, "offset_s": length_s, "wrapped": "head"})
            out.append({**ev, "onset_s": 0.0, "offset_s": off - length_s, "wrapped": "tail"})
    return sorted(out, key=lambda e: (e["onset_s"], e["offset_s"]))


def mask_events(events: list[dict[str, Any]], start_s: float, stop_s: float) -> list[dict[str, Any]]:
    """TimeMask silences [start, stop): record how much of each event it covers; `hidden` when all of it."""
    out = []
    for ev in events:
        overlap = max(0.0, min(ev["offset_s"], stop_s) - max(ev["onset_s"], start_s))
        dur = max(ev["offset_s"] - ev["onset_s"], 1e-12)
        if overlap > 0:
            frac = float(min(1.0, overlap / dur + ev.get("masked_fraction", 0.0)))
            ev = {**ev, "masked_fraction": round(frac, 6), "hidden": bool(frac >= 0.999)}
        out.append(ev)
    return out


def delay_events(events: list[dict[str, Any]], delay_s: float, length_s: float) -> list[dict[str, Any]]:
    moved = [{**ev, "onset_s": ev["onset_s"] + delay_s, "offset_s": ev["offset_s"] + delay_s} for ev in events]
    return [e for e in (_clip_event(ev, length_s) for ev in moved) if e is not None]
