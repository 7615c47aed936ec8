"""Shared helpers for exporters: manifest rows as dicts grouped by split, file names for payloads, paths
kept inside the output folder, CSV cells escaped."""
from __future__ import annotations

import json
from pathlib import Path
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


def require_objects(table: pa.Table, fmt: str) -> None:
    """Refuse a detection export of a version whose labels hold no objects (classification only)."""
    labels = [json.loads(v) if isinstance(v, str) else (v or {}) for v in table.column("labels").to_pylist()]
    if any(lab.get("objects") for lab in labels):
        return
    classes = sum(1 for lab in labels if "class" in lab)
    what = f"only a class per image ({classes} rows with labels.class)" if classes else "no object labels"
    raise SynthError(f"cannot export as {fmt}: the version's labels hold {what}, and {fmt} needs objects with "
                     "boxes (labels.objects); for classification export --format hf, webdataset or csv",
                     field="--format")


def inside(out: str | Path, *parts: str) -> Path:
    """out/parts..., resolved; refuses a path that leaves `out` (a split or class name like `../x`)."""
    root = Path(out).resolve()
    path = root.joinpath(*parts).resolve()
    if path != root and root not in path.parents:
        raise SynthError(f"refusing to write {'/'.join(parts)!r}: it resolves to {path}, outside the output "
                         f"folder {root}", field="split" if parts else "out")
    return path


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_csv_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (starts with = + - @ tab or CR), prefixed with `'`
    (OWASP's CSV-injection rule); numbers written as text (-1.5, +3) are left alone."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value
