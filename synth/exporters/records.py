"""Shared helpers for exporters: manifest rows as dicts grouped by split, file names for payloads."""
from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from synth.errors import SynthError

EXCLUDED = "excluded"


def by_split(table: pa.Table) -> dict[str, list[dict[str, Any]]]:
    """Rows with parsed JSON columns, by split (rows the split policy excluded are left out), sorted by id."""
    out: dict[str, list[dict[str, Any]]] = {}
    for r in table.to_pylist():
        split = r.get("split") or "train"
        if split == EXCLUDED:
            continue
        for k in ("labels", "payloads", "params"):
            if isinstance(r.get(k), str):
                r[k] = json.loads(r[k])
            elif r.get(k) is None:
                r[k] = {}
        out.setdefault(split, []).append(r)
    return {s: sorted(rs, key=lambda r: r["sample_id"]) for s, rs in sorted(out.items())}


def media_name(r: dict[str, Any], payload: str) -> str:
    p = r["payloads"][payload]
    return f"{r['sample_id']}.{payload}.{p.get('format') or 'bin'}" if payload not in ("image", "audio") \
        else f"{r['sample_id']}.{p.get('format') or 'bin'}"


def require_images(table: pa.Table, what: str) -> None:
    """Refuse an empty version, or one with rows that carry no image (image exports and previews)."""
    if table.num_rows == 0:
        raise SynthError(f"nothing to {what}: the version has no rows", field="--version")
    missing = [r["sample_id"] for r in table.select(["sample_id", "payloads"]).to_pylist()
               if "image" not in json.loads(r["payloads"] or "{}")]
    if missing:
        raise SynthError(f"cannot {what} {len(missing)} rows without an 'image' payload (e.g. {missing[0]}); "
                         "image exports need an image dataset", field="--version")
