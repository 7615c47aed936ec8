"""Hugging Face export: Parquet shards per split plus a dataset card (README.md) whose YAML names the
splits, so `datasets.load_dataset(OUT)` reads it; images and audio carry `Image`/`Audio` features."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .records import by_split, media_name

BLOB = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def _columns(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Which media columns this export has: name -> payload kind."""
    kinds: dict[str, str] = {}
    for r in rows:
        for name, p in r["payloads"].items():
            if p.get("kind") in ("image", "audio", "text") and not name.startswith("ssl."):
                kinds.setdefault(name, p["kind"])
    return kinds


def _schema(media: dict[str, str], has_class: bool) -> tuple[pa.Schema, dict[str, Any]]:
    fields = [("sample_id", pa.string()), ("origin", pa.string())]
    features: dict[str, Any] = {"sample_id": {"dtype": "string", "_type": "Value"},
                                "origin": {"dtype": "string", "_type": "Value"}}
    for name, kind in media.items():
        if kind == "text":
            fields.append((name, pa.string()))
            features[name] = {"dtype": "string", "_type": "Value"}
        else:
            fields.append((name, BLOB))
            features[name] = {"_type": "Image" if kind == "image" else "Audio"}
    if has_class:
        fields.append(("label", pa.string()))
        features["label"] = {"dtype": "string", "_type": "Value"}
    fields += [("labels", pa.string()), ("source", pa.string()), ("license", pa.string())]
    for name in ("labels", "source", "license"):
        features[name] = {"dtype": "string", "_type": "Value"}
    meta = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.schema(fields, metadata=meta), features


def export_hf(table: pa.Table, get_blob: Callable[[str], bytes], out: str | Path, *, shard_rows: int = 1000,
              name: str = "synth-dataset", version_note: str = "") -> dict[str, Any]:
    out = Path(out)
    (out / "data").mkdir(parents=True, exist_ok=True)
    splits = by_split(table)
    everything = [r for rs in splits.values() for r in rs]
    media = _columns(everything)
    has_class = any("class" in r["labels"] for r in everything)
    schema, features = _schema(media, has_class)
    written: dict[str, list[str]] = {}
    for split, rs in splits.items():
        shards = max(1, -(-len(rs) // shard_rows))
        for s in range(shards):
            chunk = rs[s * shard_rows:(s + 1) * shard_rows]
            records = [_record(r, media, has_class, get_blob) for r in chunk]
            path = f"data/{split}-{s:05d}-of-{shards:05d}.parquet"
            pq.write_table(pa.Table.from_pylist(records, schema=schema), out / path)
            written.setdefault(split, []).append(path)
    (out / "README.md").write_text(_card(name, written, splits, features, everything, version_note))
    return {"splits": {k: len(v) for k, v in splits.items()}, "files": written}


def _record(r: dict[str, Any], media: dict[str, str], has_class: bool, get_blob: Callable[[str], bytes]) -> dict:
    rec: dict[str, Any] = {"sample_id": r["sample_id"], "origin": r["origin"]}
    for name, kind in media.items():
        p = r["payloads"].get(name)
        if p is None:
            rec[name] = None
        elif kind == "text":
            rec[name] = p.get("value")
        else:
            rec[name] = {"bytes": get_blob(p["hash"]), "path": media_name(r, name)}
    if has_class:
        cls = r["labels"].get("class")
        rec["label"] = None if cls is None else str(cls)
    rec.update(labels=json.dumps(r["labels"], sort_keys=True), source=r.get("source"), license=r.get("license"))
    return rec


def _card(name: str, written: dict[str, list[str]], splits: dict[str, list], features: dict[str, Any],
          rows: list[dict[str, Any]], version_note: str) -> str:
    data_files = "\n".join(f"  - split: {s}\n    path: data/{s}-*" for s in written)
    feats = "\n".join(f"  - name: {n}\n    {'dtype: ' + f['dtype'] if 'dtype' in f else 'dtype: ' + f['_type'].lower()}"
                      for n, f in features.items())
    split_info = "\n".join(f"  - name: {s}\n    num_examples: {len(splits[s])}" for s in written)
    origins: dict[str, int] = {}
    licenses = sorted({r.get("license") for r in rows if r.get("license")})
    for r in rows:
        origins[r["origin"]] = origins.get(r["origin"], 0) + 1
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(origins.items()))
    return (f"---\nconfigs:\n- config_name: default\n  data_files:\n{data_files}\ndataset_info:\n  features:\n{feats}\n"
            f"  splits:\n{split_info}\n---\n\n# {name}\n\nExported by synth{version_note}. Rows by origin: {counts}.\n"
            f"Licences of real rows: {', '.join(licenses) or 'not recorded'}.\n\n"
            "`labels` holds the full label object (JSON) as of the exported version, corrections applied; "
            "`origin` says whether a row is real or synthetic.\n")
