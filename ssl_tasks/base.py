"""Shared machinery of the pretext tasks: params parsing, input lookup per modality, the label record."""
from __future__ import annotations

import io
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from synth.errors import SynthError
from synth import Payload, Sample
from synth import PretextTask

# Seeds recorded in labels are drawn below 2**63 so they stay exact in JSON readers that use int64.
_SEED_BOUND = 2**63 - 1


class TaskParams(BaseModel):
    """Base for task parameter models: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Task(PretextTask):
    """A pretext task: checks its input, draws its own seed from the stream it is given, runs, and
    records `labels["ssl"][name] = {task, version, params, seed, ...targets}`.

    The recorded seed is the only randomness `run` sees, so a label can be recomputed from
    (params, seed) alone, without the engine's stream.
    """

    Params: ClassVar[type[TaskParams]]

    def parse_params(self, params: Any) -> TaskParams:
        if isinstance(params, self.Params):
            parsed = params  # validated by the recipe loader; the cross-field checks still run
        else:
            try:
                parsed = self.Params.model_validate(params or {})
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err["loc"])
                field = f"ssl.{self.name}.params" + (f".{where}" if where else "")
                raise SynthError(f"{err['msg']} (got {err.get('input')!r})", field=field) from None
        try:
            self.check(parsed)
        except ValueError as exc:
            raise SynthError(str(exc), field=f"ssl.{self.name}.params") from None
        return parsed

    def check(self, params: Any) -> None:
        """Cross-field checks a field's bounds cannot express; raise ValueError."""

    def apply(self, sample: Sample, params: Any, rng: np.random.Generator) -> None:
        p = self.parse_params(params)
        seed = int(rng.integers(0, _SEED_BOUND))
        targets = self.run(sample, p, np.random.default_rng(seed))
        record = {"task": self.name, "version": self.version, "params": p.model_dump(mode="json"),
                  "seed": seed, **targets}
        sample.labels.setdefault("ssl", {})[self.name] = record

    def run(self, sample: Sample, params: Any, rng: np.random.Generator) -> dict[str, Any]:
        raise NotImplementedError

    def put(self, sample: Sample, key: str, payload: Payload) -> str:
        """Add a derived payload named `ssl.<task>.<key>` and return that name for the label."""
        name = f"ssl.{self.name}.{key}"
        sample.payloads[name] = payload
        return name

    def refuse(self, sample: Sample, wanted: str) -> SynthError:
        have = ", ".join(f"{k} ({v.kind})" for k, v in sample.payloads.items()) or "none"
        return SynthError(f"task '{self.name}' accepts {', '.join(self.modalities)} samples and needs {wanted}; "
                          f"this sample's payloads: {have}", field=f"ssl.{self.name}")


def input_image(task: Task, sample: Sample) -> np.ndarray:
    """The sample's image as HxWx3 uint8 RGB (gray is stacked, alpha dropped)."""
    payload = sample.payloads.get("image")
    if payload is None or payload.kind != "image":
        raise task.refuse(sample, "an 'image' payload")
    arr = np.asarray(payload.data)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.ndim == 3 and arr.shape[2] == 4:
        arr = arr[:, :, :3]
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise task.refuse(sample, f"a uint8 RGB or gray image (got {arr.dtype} {arr.shape})")
    return arr


def input_text(task: Task, sample: Sample) -> str:
    payload = sample.payloads.get("text")
    if payload is None or payload.kind != "text" or not isinstance(payload.data, str):
        raise task.refuse(sample, "a 'text' payload")
    return payload.data


def input_audio(task: Task, sample: Sample) -> tuple[np.ndarray, int]:
    """Mono float32 samples and the sample rate (multi-channel audio is averaged)."""
    payload = sample.payloads.get("audio")
    if payload is None or payload.kind != "audio" or not payload.sample_rate:
        raise task.refuse(sample, "an 'audio' payload with a sample rate")
    samples = np.asarray(payload.data, dtype=np.float32)
    if samples.ndim == 2:  # soundfile gives (frames, channels)
        samples = samples.mean(axis=1)
    return samples, int(payload.sample_rate)


def table_block_name(sample: Sample) -> str | None:
    """Name of a Parquet table-block payload (kind 'bytes', format 'parquet'), preferring 'table'."""
    names = [k for k, v in sample.payloads.items()
             if v.kind == "bytes" and (v.format or "").lower() == "parquet" and not k.startswith("ssl.")]
    if "table" in names:
        return "table"
    return names[0] if names else None


def parquet_bytes(table: Any) -> bytes:
    """A pyarrow table as Parquet bytes, written without timestamps so equal tables give equal bytes."""
    import pyarrow.parquet as pq
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd", store_schema=True)
    return out.getvalue()


def read_parquet(data: bytes) -> Any:
    import pyarrow.parquet as pq
    return pq.read_table(io.BytesIO(bytes(data)))
