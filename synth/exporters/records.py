"""Shared helpers for exporters: manifest rows as dicts grouped by split, file names for payloads."""
from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

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
