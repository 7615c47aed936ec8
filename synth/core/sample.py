"""A rendered sample: named payloads, typed labels and the concrete params that made it."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from synth.codecs.jpeg import encode_jpeg
from synth.codecs.canonical import canonical_json
from synth.codecs.png import encode_png


@dataclass
class Payload:
    """A named output of a scene. `kind` says how it is stored: as a blob in the store
    (image, mask, array, audio) or inline in the manifest row (text, row)."""

    kind: str
    data: Any
    format: str | None = None
    sample_rate: int | None = None

    INLINE = ("text", "row")

    @property
    def inline(self) -> bool:
        return self.kind in self.INLINE

    def encode(self, image_format: str = "png", jpeg_quality: int = 95) -> tuple[bytes, str]:
        """Serialise to (bytes, file extension)."""
        if self.kind == "image":
            fmt = (self.format or image_format).lower()
            arr = self.data
            if fmt not in ("jpg", "jpeg"):
                return encode_png(arr), "png"  # RGB(A) as it is: PNG stores red first
            return encode_jpeg(arr, int(jpeg_quality)), "jpg"  # RGB as it is; alpha dropped
        if self.kind == "mask":
            arr = self.data
            narrow = np.uint8 if arr.max(initial=0) < 256 else np.uint16
            if arr.dtype != narrow:
                arr = arr.astype(narrow)
            return encode_png(arr, level=2), "png"  # id maps are long runs: libdeflate's level 2 is faster there
        if self.kind == "array":
            out = io.BytesIO()
            np.save(out, np.ascontiguousarray(self.data), allow_pickle=False)
            return out.getvalue(), "npy"
        if self.kind == "audio":
            import soundfile as sf
            fmt = (self.format or "wav").lower()
            out = io.BytesIO()
            if fmt == "flac":
                sf.write(out, np.asarray(self.data), self.sample_rate, format="FLAC", subtype="PCM_16")
            else:
                sf.write(out, np.asarray(self.data), self.sample_rate, format="WAV", subtype="PCM_16")
            return out.getvalue(), fmt
        if self.kind in ("bytes",):
            return bytes(self.data), self.format or "bin"
        raise ValueError(f"payload kind {self.kind!r} is stored inline, not encoded")

    def inline_json(self) -> Any:
        return self.data


def image(array: np.ndarray, format: str | None = None) -> Payload:
    return Payload("image", array, format)


def mask(array: np.ndarray) -> Payload:
    return Payload("mask", array)


def array(data: np.ndarray) -> Payload:
    return Payload("array", data)


def audio(samples: np.ndarray, sample_rate: int, format: str | None = None) -> Payload:
    return Payload("audio", samples, format, sample_rate)


def text(value: str) -> Payload:
    return Payload("text", value)


def row(values: dict[str, Any]) -> Payload:
    return Payload("row", values)


def decode_blob(kind: str, data: bytes) -> Any:
    """Inverse of Payload.encode for blob kinds, used by tasks that read stored payloads."""
    if kind == "image":
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if arr is not None and arr.ndim == 3:
            arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB if arr.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
        return arr
    if kind == "mask":
        return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if kind == "array":
        return np.load(io.BytesIO(data), allow_pickle=False)
    if kind == "audio":
        import soundfile as sf
        samples, sr = sf.read(io.BytesIO(data), dtype="float32")
        return samples, sr
    return data


@dataclass
class Sample:
    """What `Scene.render` returns. Labels are JSON-serialisable; boxes are pixel xyxy floats,
    polygons lists of [x, y], instance masks refer to the `mask` payload by instance id."""

    payloads: dict[str, Payload] = field(default_factory=dict)
    labels: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    width: int | None = None
    height: int | None = None

    def labels_json(self) -> str:
        return canonical_json(self.labels)
