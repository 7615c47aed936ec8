"""Future prediction (CPC, van den Oord et al. 2018): a context window of steps and the next k steps as
targets, with negative step indices drawn from the same sequence.

Sequences: audio is cut into frames of `frame_ms` (CPC's encoder stride: 10 ms); text becomes token
ids (the MLM tokenizer, vocabulary from the text); any `array` payload named by `sequence` is used
as is, its first axis being time.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from synth.errors import SynthError
from synth import Sample, array

from .base import Task, TaskParams
from .mlm import build_vocab, tokenize


class CpcParams(TaskParams):
    context_steps: int = Field(20, ge=1, le=100_000, description="Steps of context before the anchor.")
    predict_steps: int = Field(12, ge=1, le=1000, description="k: future steps to predict (paper: 12 for audio).")
    negatives: int = Field(10, ge=0, le=1000, description="Negative step indices per target, from the same "
                                                          "sequence outside the target window (paper: 10).")
    frame_ms: float = Field(10.0, gt=0, le=1000, description="Audio frame length and stride in ms (paper: 10).")
    sequence: str | None = Field(None, description="Name of an `array` payload to use as the sequence (first "
                                                   "axis = time); default: the audio, else the text payload.")


class FuturePrediction(Task):
    name = "cpc"
    version = "1"
    modalities = ("audio", "text", "sequence")
    Params = CpcParams

    def run(self, sample: Sample, p: CpcParams, rng: np.random.Generator) -> dict[str, Any]:
        seq, unit = self._sequence(sample, p)
        steps = len(seq)
        window = p.context_steps + p.predict_steps
        if steps < window:
            raise SynthError(f"sequence has {steps} {unit}, fewer than context_steps + predict_steps = {window}",
                             field=f"ssl.{self.name}.params.context_steps")
        anchor = int(rng.integers(p.context_steps, steps - p.predict_steps + 1))
        outside = np.setdiff1d(np.arange(steps), np.arange(anchor, anchor + p.predict_steps))
        negatives = rng.choice(outside, size=(p.predict_steps, p.negatives), replace=True) if p.negatives else \
            np.zeros((p.predict_steps, 0), dtype=np.int64)
        return {
            "unit": unit,
            "num_steps": steps,
            "anchor": anchor,
            "context": [anchor - p.context_steps, anchor],
            "targets": [anchor, anchor + p.predict_steps],
            "negative_steps": negatives.astype(int).tolist(),
            "payloads": {"context": self.put(sample, "context", array(seq[anchor - p.context_steps:anchor])),
                         "targets": self.put(sample, "targets", array(seq[anchor:anchor + p.predict_steps]))},
        }

    def _sequence(self, sample: Sample, p: CpcParams) -> tuple[np.ndarray, str]:
        if p.sequence is not None:
            payload = sample.payloads.get(p.sequence)
            if payload is None or payload.kind != "array":
                raise self.refuse(sample, f"an 'array' payload named '{p.sequence}'")
            return np.asarray(payload.data), "steps"
        audio = sample.payloads.get("audio")
        if audio is not None and audio.kind == "audio" and audio.sample_rate:
            samples = np.asarray(audio.data, dtype=np.float32)
            samples = samples.mean(axis=1) if samples.ndim == 2 else samples
            frame = max(1, int(round(audio.sample_rate * p.frame_ms / 1000)))
            n = len(samples) // frame
            return samples[:n * frame].reshape(n, frame), "frames"
        text = sample.payloads.get("text")
        if text is not None and text.kind == "text":
            tokens = tokenize(text.data)
            ids_of = {w: i for i, w in enumerate(build_vocab(tokens, None))}
            return np.array([ids_of[t] for t in tokens], dtype=np.int32), "tokens"
        raise self.refuse(sample, "an 'audio' or 'text' payload, or params.sequence naming an 'array' payload")
