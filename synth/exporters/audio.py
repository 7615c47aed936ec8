"""Audio folder export: OUT/<split>/<id>.<ext> plus OUT/<split>/metadata.csv (file_name, label,
events JSON, origin), the layout of Hugging Face's `audiofolder` loader."""
from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from synth.errors import SynthError
from synth.exporters.records import by_split, escape_csv_cell, inside


def export_audio(table: pa.Table, get_blob: Callable[[str], bytes], out: str | Path, key: str = "audio", *,
                 csv_escape: bool = True) -> dict:
    out = Path(out)
    cell = escape_csv_cell if csv_escape else (lambda v: v)
    counts: dict[str, int] = {}
    for split, rs in by_split(table).items():
        rs = [r for r in rs if key in r["payloads"]]
        if not rs:
            continue
        folder = inside(out, split)
        folder.mkdir(parents=True, exist_ok=True)
        with inside(folder, "metadata.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["file_name", "sample_id", "label", "events", "origin", "source"])
            for r in rs:
                p = r["payloads"][key]
                name = f"{r['sample_id']}.{p.get('format') or 'wav'}"
                inside(folder, name).write_bytes(get_blob(p["hash"]))
                w.writerow([cell(v) for v in (name, r["sample_id"], r["labels"].get("class", ""),
                            json.dumps(r["labels"].get("events", [])), r["origin"], r.get("source") or "")])
        counts[split] = len(rs)
    if not counts:
        raise SynthError(f"no rows with an '{key}' payload in this version", field="--format")
    return {"splits": counts}
