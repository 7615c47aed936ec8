"""CSV / JSONL export of table rows and text samples, one file per split: table rows become columns,
text becomes a `text` column, labels a JSON column (plus `label` for classification)."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..errors import SynthError
from .records import by_split


def _flat(r: dict[str, Any]) -> dict[str, Any]:
    rec: dict[str, Any] = {"sample_id": r["sample_id"], "origin": r["origin"]}
    for name, p in sorted(r["payloads"].items()):
        if p.get("kind") == "row" and isinstance(p.get("value"), dict):
            rec.update(p["value"])
        elif p.get("kind") == "text":
            rec["text" if name == "text" else name] = p.get("value")
    if "class" in r["labels"]:
        rec["label"] = r["labels"]["class"]
    rec["labels"] = r["labels"]
    return rec


def export_tabular(table: pa.Table, out: str | Path, fmt: str = "csv") -> dict[str, Any]:
    if fmt not in ("csv", "jsonl"):
        raise SynthError(f"unknown format {fmt}; allowed: csv, jsonl", field="--format")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for split, rs in by_split(table).items():
        recs = [_flat(r) for r in rs if any(p.get("kind") in ("row", "text") for p in r["payloads"].values())]
        if not recs:
            continue
        path = out / f"{split}.{fmt}"
        if fmt == "jsonl":
            path.write_text("".join(json.dumps(x, ensure_ascii=False, sort_keys=True) + "\n" for x in recs))
        else:
            columns = list(dict.fromkeys(k for x in recs for k in x))
            with path.open("w", newline="") as fh:
                w = csv.DictWriter(fh, columns)
                w.writeheader()
                for x in recs:
                    w.writerow({k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in x.items()})
        files[split] = len(recs)
    if not files:
        raise SynthError("no table or text rows in this version (CSV/JSONL export is for tables and text)",
                         field="--format")
    return {"splits": files}
