"""Pretext-task (`labels["ssl"]`) targets and derived payloads as typed export columns, derived generically
from each task's label record so a new task exports without changes here."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

# `task` is the column prefix already; `payloads` only names payloads, which come from the row itself
_SKIPPED = ("task", "payloads")
# keys a task records the shape of a packed mask under, most specific first
_MASK_SHAPES = ("grid", "unit_grid", "shape")
# derived payload kinds that become columns of their own; any other kind with a blob becomes a file
_COLUMN_KINDS = ("image", "audio", "text", "row")


def column_name(task: str, key: str) -> str:
    return "ssl_" + re.sub(r"\W", "_", f"{task}_{key}")


def unpacked_mask(record: dict[str, Any], mask_hex: str) -> list[bool]:
    """A `mask_hex` as row-major bools, as long as the grid the task recorded (all bits if it recorded none)."""
    from synth.codecs.masks import unpack_mask
    bits = len(mask_hex) * 4
    for key in _MASK_SHAPES:
        shape = record.get(key)
        if isinstance(shape, list) and shape and all(isinstance(s, int) for s in shape):
            # packbits pads to whole bytes: a shape that fits these bits is the mask's own
            if bits - 8 < int(np.prod(shape)) <= bits:
                return unpack_mask(mask_hex, shape).ravel().astype(bool).tolist()
    return unpack_mask(mask_hex, (bits,)).astype(bool).tolist()


def _plain(value: Any) -> bool:
    """Scalars and (nested) lists of scalars map onto Arrow types; anything holding a dict does not."""
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def task_targets(record: dict[str, Any]) -> dict[str, Any]:
    """One task's label record as {key: value}: packed masks unpacked (`mask_hex` -> `mask`), the task's
    name and payload map left out."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key in _SKIPPED:
            continue
        if key.endswith("mask_hex") and isinstance(value, str):
            out[key[:-len("_hex")]] = unpacked_mask(record, value)
        else:
            out[key] = value
    return out


def derived_payloads(r: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The row's `ssl.<task>.<key>` payloads by (task, key)."""
    out = {}
    for name, p in sorted(r["payloads"].items()):
        parts = name.split(".", 2)
        if len(parts) == 3 and parts[0] == "ssl":
            out[(parts[1], parts[2])] = p
    return out


@dataclass
class Column:
    """One pretext column: where its values come from and how they are stored."""

    name: str
    task: str
    key: str
    source: str  # "target" (label record) or the derived payload's kind
    type: pa.DataType
    as_json: bool = False

    @property
    def is_file(self) -> bool:
        return self.source not in ("target", *_COLUMN_KINDS)

    def describe(self) -> str:
        if self.source == "target":
            what = f"`labels.ssl.{self.task}.{self.key}`"
            if self.key.endswith("mask") and self.type == pa.list_(pa.bool_()):
                what = f"`labels.ssl.{self.task}.{self.key}_hex` unpacked: row-major bools over the task's grid"
            return what + (" (JSON text)" if self.as_json else "")
        if self.is_file:
            return f"path (relative to this folder) of payload `ssl.{self.task}.{self.key}` ({self.source} file)"
        return f"payload `ssl.{self.task}.{self.key}` ({self.source})"


def _infer(values: list[Any]) -> tuple[pa.DataType, bool]:
    """The Arrow type of a target column over all rows; dicts, mixed types and nulls with no type to hold
    them fall back to JSON text (as_json)."""
    if not all(_plain(v) for v in values):
        return pa.string(), True
    try:
        typ = pa.array(values).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.string(), True
    if pa.types.is_null(typ):  # absent (or null) in every row: any type holds it
        return pa.string(), False
    return (pa.string(), True) if "null" in str(typ) else (typ, False)


BLOB = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def plan_columns(rows: list[dict[str, Any]]) -> list[Column]:
    """The pretext columns of one export, typed from every row so all shards share one schema: per task
    (sorted), its targets in recorded order, then its derived payloads (`_path` for those written as files)."""
    targets: dict[tuple[str, str], list[Any]] = {}
    payload_kinds: dict[tuple[str, str], str] = {}
    per_row = [{t: task_targets(rec) for t, rec in sorted(r["labels"].get("ssl", {}).items())} for r in rows]
    for found in per_row:
        for task, values in found.items():
            for key in values:
                targets.setdefault((task, key), [])
    for r in rows:
        for (task, key), p in derived_payloads(r).items():
            payload_kinds.setdefault((task, key), p.get("kind", "bytes"))
    columns: list[Column] = []
    for task, key in targets:
        typ, as_json = _infer([found.get(task, {}).get(key) for found in per_row])
        columns.append(Column(column_name(task, key), task, key, "target", typ, as_json))
    taken = {c.name for c in columns}
    for (task, key), kind in sorted(payload_kinds.items()):
        col = Column(column_name(task, key), task, key, kind, pa.string())
        if col.is_file:
            col.name += "_path"
        elif kind in ("image", "audio"):
            col.type = BLOB
        if col.name in taken:  # a target of the same name: the payload column says its kind
            col.name += f"_{kind}"
        taken.add(col.name)
        columns.append(col)
    return sorted(columns, key=lambda c: (c.task, c.source != "target"))
