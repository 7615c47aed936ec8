"""Export utterance rows (intent, text, entity spans) to JSONL and Parquet that Hugging Face
`datasets` loads directly: one file per split, spans as a list of {start, end, label} structs."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from synth.errors import SynthError
from synth.exporters.records import inside
from synth.store.lineage import current_table
from synth.store.workspace import Workspace

SPAN_TYPE = pa.list_(pa.struct([("start", pa.int32()), ("end", pa.int32()), ("label", pa.string())]))
SCHEMA = pa.schema([("id", pa.string()), ("text", pa.string()), ("intent", pa.string()),
                    ("entities", SPAN_TYPE), ("clean_text", pa.string()), ("noise", pa.list_(pa.string())),
                    ("split", pa.string())])


def records(manifest: pa.Table) -> list[dict[str, Any]]:
    """Rows of the manifest that carry utterance labels, as export records (sorted by sample id)."""
    cols = set(manifest.column_names)
    missing = {"sample_id", "labels"} - cols
    if missing:
        raise SynthError(f"manifest lacks column(s) {', '.join(sorted(missing))}", field="manifest")
    out = []
    splits = manifest.column("split").to_pylist() if "split" in cols else [None] * manifest.num_rows
    for sid, raw, split in zip(manifest.column("sample_id").to_pylist(), manifest.column("labels").to_pylist(), splits):
        labels = json.loads(raw) if isinstance(raw, str) else (raw or {})
        if "intent" not in labels or "spans" not in labels:
            continue
        out.append({"id": str(sid), "text": labels["text"], "intent": labels["intent"],
                    "entities": [{"start": s, "end": e, "label": lab} for s, e, lab in labels["spans"]],
                    "clean_text": labels.get("clean_text", labels["text"]), "noise": labels.get("noise", []),
                    "split": split or "train"})
    if not out:
        raise SynthError("no utterance rows (labels with 'intent' and 'spans') in this manifest version",
                         field="manifest")
    return sorted(out, key=lambda r: r["id"])


def export_table(manifest: pa.Table, out_dir: str | Path, formats: tuple[str, ...] = ("jsonl", "parquet")) -> list[Path]:
    """Write `<split>.jsonl` and/or `<split>.parquet` under out_dir; returns the files written."""
    unknown = set(formats) - {"jsonl", "parquet"}
    if unknown:
        raise SynthError(f"unknown export format(s) {', '.join(sorted(unknown))}; allowed: jsonl, parquet",
                         field="format")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_split: dict[str, list[dict[str, Any]]] = {}
    for rec in records(manifest):
        by_split.setdefault(rec["split"], []).append(rec)
    written = []
    for split, rows in sorted(by_split.items()):
        if "jsonl" in formats:
            path = inside(out, f"{split}.jsonl")
            _atomic_write(path, "".join(json.dumps(_jsonl(r), ensure_ascii=False) + "\n" for r in rows).encode())
            written.append(path)
        if "parquet" in formats:
            path = inside(out, f"{split}.parquet")
            tmp = path.with_suffix(".parquet.tmp")
            pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), tmp)
            tmp.replace(path)
            written.append(path)
    return written


def export_workspace(ws: Workspace, out_dir: str | Path, version: int | str | None = None,
                     formats: tuple[str, ...] = ("jsonl", "parquet")) -> list[Path]:
    return export_table(current_table(ws, version), out_dir, formats)


def _jsonl(rec: dict[str, Any]) -> dict[str, Any]:
    # JSONL keeps the issue's [start, end, label] triples, the common format of NER tooling
    return {**rec, "entities": [[e["start"], e["end"], e["label"]] for e in rec["entities"]]}


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
