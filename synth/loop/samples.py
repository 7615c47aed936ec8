"""One side of a comparison: the rows of a stored version (of one origin), decoded to what the feature
extractors read (image arrays, audio, text, table rows), with their labels and recipe params."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synth.core.sample import decode_blob
from synth.errors import SynthError
from synth.store.payloads import read_payload
from synth.store.workspace import Workspace

MODALITIES = ("image", "audio", "text", "table")
# payload name or kind -> modality, in the order they are looked for in a row
_PAYLOAD_MODALITY = (("image", "image"), ("audio", "audio"), ("text", "text"), ("row", "table"), ("table", "table"))


@dataclass
class Side:
    """The samples of one side: ids, modality, decoded data, labels and params (dotted path -> value)."""
    name: str                      # "synthetic" | "real"
    version: int
    modality: str
    ids: list[str]
    data: list[Any]                # image: HxW(xC) uint8; audio: (samples, rate); text: str; table: dict
    labels: list[dict[str, Any]]
    params: list[dict[str, Any]]
    total: int                     # rows of that origin in the version, before any subsampling
    notes: list[str] = field(default_factory=list)
    class_column: str | None = None  # tables: the column whose value is each row's class (labels["class"])

    def __len__(self) -> int:
        return len(self.ids)

    def classes(self) -> list[str | None]:
        return [None if lab.get("class") is None else str(lab["class"]) for lab in self.labels]


def _table_class_column(labels: dict[str, Any], record: dict[str, Any]) -> str | None:
    """Which column of a table row is its class: a synthetic block names it (`labels["target"]`, beside the
    block's `columns`); a real row imported with `--label COL` carries `{COL: value}`, the row's own value."""
    target = labels.get("target")
    if "columns" in labels and isinstance(target, str) and target in record:
        return target
    if len(labels) == 1:
        (key, value), = labels.items()
        if key != "class" and key in record and record[key] == value:
            return key
    return None


def row_modality(payloads: dict[str, Any]) -> str | None:
    """The modality of a manifest row, from its payloads (pretext payloads `ssl.*` do not count)."""
    for key, modality in _PAYLOAD_MODALITY:
        if key in payloads:
            return modality
    kinds = {p.get("kind") for name, p in payloads.items() if not name.startswith("ssl.")}
    for key, modality in _PAYLOAD_MODALITY:
        if key in kinds:
            return modality
    return None


def _payload_for(payloads: dict[str, Any], modality: str) -> tuple[str, dict[str, Any]]:
    for key, mod in _PAYLOAD_MODALITY:
        if mod == modality and key in payloads:
            return key, payloads[key]
    for name, p in payloads.items():
        if not name.startswith("ssl.") and dict(_PAYLOAD_MODALITY).get(p.get("kind")) == modality:
            return name, p
    raise SynthError(f"a row has no {modality} payload")  # row_modality picked it: unreachable


def row_ids(ws: Workspace, version: int | str | None, origin: str) -> set[str]:
    """The sample ids of the `origin` rows in `version` (manifest rows, before any decoding)."""
    table = ws.manifest.to_table(ws.manifest.resolve(version), columns=["sample_id", "origin"])
    return {r["sample_id"] for r in table.to_pylist() if r["origin"] == origin}


def load_side(ws: Workspace, version: int | str | None, origin: str, *, name: str | None = None,
              recipe: str | None = None, max_samples: int | None = None, seed: int = 0,
              exclude: set[str] | None = None) -> Side:
    """The rows of `origin` ("synthetic" or "real") in `version`, decoded. More than `max_samples` rows:
    a seeded random subset of that size (the same one on every run). `exclude`: sample ids left out (a
    holdout's rows that the search also scores on: a version holds every row imported before it)."""
    v = ws.manifest.resolve(version)
    table = ws.manifest.to_table(v, columns=["sample_id", "origin", "recipe_name", "params", "labels", "payloads"])
    rows = [r for r in table.to_pylist() if r["origin"] == origin and (recipe is None or r["recipe_name"] == recipe)]
    side_name = name or origin
    left_out = 0
    if exclude:
        left_out = sum(r["sample_id"] in exclude for r in rows)
        rows = [r for r in rows if r["sample_id"] not in exclude]
    if not rows:
        what = f"{origin} rows" + (f" of recipe '{recipe}'" if recipe else "")
        also = f" beyond the {left_out} the search itself scores on" if left_out else ""
        raise SynthError(f"version {v} holds no {what}{also}", field=f"--{side_name}")
    rows.sort(key=lambda r: r["sample_id"])
    total = len(rows)
    notes = [f"{side_name}: {left_out} rows the search scores on left out"] if left_out else []
    if max_samples is not None and total > max_samples:
        keep = np.sort(np.random.default_rng([seed, 0x5A]).choice(total, max_samples, replace=False))
        rows = [rows[i] for i in keep]
        notes.append(f"{side_name}: a seeded random {max_samples} of {total} rows")
    payloads = [json.loads(r["payloads"] or "{}") for r in rows]
    modalities = [row_modality(p) for p in payloads]
    found = sorted({m for m in modalities if m is not None})
    if not found:
        raise SynthError(f"the {origin} rows of version {v} hold no image, audio, text or table payload",
                         field=f"--{side_name}")
    if len(found) > 1:
        counts = ", ".join(f"{m}={modalities.count(m)}" for m in found)
        raise SynthError(f"the {origin} rows of version {v} mix modalities ({counts}); compare one at a time "
                         "(recipe=... / --recipe picks one recipe's rows)", field=f"--{side_name}")
    modality = found[0]
    kept = [i for i, m in enumerate(modalities) if m == modality]
    if len(kept) < len(rows):
        notes.append(f"{side_name}: {len(rows) - len(kept)} rows without a {modality} payload left out")
    ids, data, labels, params = [], [], [], []
    columns: set[str | None] = set()
    for i in kept:
        row = rows[i]
        row_labels = json.loads(row["labels"] or "{}")
        for sub_id, value in _decode(ws, row["sample_id"], payloads[i], modality):
            ids.append(sub_id)
            data.append(value)
            lab = dict(row_labels)
            if modality == "table" and "class" not in lab and isinstance(value, dict):
                column = _table_class_column(row_labels, value)
                columns.add(column)
                if column is not None and value.get(column) is not None:
                    c = value[column]
                    lab["class"] = int(c) if isinstance(c, float) and c.is_integer() else c  # 1.0 and 1 alike
            labels.append(lab)
            params.append(json.loads(row["params"] or "{}"))
    named = columns - {None}
    class_column = next(iter(named)) if len(named) == 1 else None
    return Side(side_name, v, modality, ids, data, labels, params, total, notes, class_column)


def _decode(ws: Workspace, sample_id: str, payloads: dict[str, Any], modality: str) -> list[tuple[str, Any]]:
    """(id, decoded value) pairs of one row: one pair, or one per table row of a table block."""
    name, p = _payload_for(payloads, modality)
    if "value" in p:  # inline text or row
        return [(sample_id, p["value"])]
    data = read_payload(ws, p)
    if modality == "image":
        arr = decode_blob("image", data)
        if arr is None:
            raise SynthError(f"the image of sample {sample_id} does not decode (run `synth verify`)")
        if arr.dtype != np.uint8:  # 16-bit PNGs: features read 8-bit intensities
            arr = (arr / max(float(arr.max()), 1.0) * 255).astype(np.uint8)
        return [(sample_id, arr)]
    if modality == "audio":
        samples, rate = decode_blob("audio", data)
        return [(sample_id, (np.asarray(samples, np.float32), int(rate)))]
    from synth.tabular.blocks import decode_block  # a block of table rows: each row is a sample
    frame = decode_block(data, p.get("format") or "parquet")
    records = json.loads(frame.to_json(orient="records"))
    return [(f"{sample_id}#{n}", rec) for n, rec in enumerate(records)]
