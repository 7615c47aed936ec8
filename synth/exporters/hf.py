"""Hugging Face export: Parquet shards per split plus a dataset card (README.md) whose YAML names the
splits, so `datasets.load_dataset(OUT)` reads it; images and audio carry `Image`/`Audio` features; pretext
targets are typed `ssl_<task>_<key>` columns, derived arrays .npy files under `ssl/` named by content."""
from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from synth.exporters.pretext import BLOB, Column, derived_payloads, plan_columns, task_targets
from synth.exporters.records import by_split, inside, media_name


def _columns(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Which media columns this export has: name -> payload kind."""
    kinds: dict[str, str] = {}
    for r in rows:
        for name, p in r["payloads"].items():
            if p.get("kind") in ("image", "audio", "text") and not name.startswith("ssl."):
                kinds.setdefault(name, p["kind"])
    return kinds


def _feature(typ: pa.DataType, kind: str = "") -> dict[str, Any]:
    """The `datasets` feature (as its JSON) of an Arrow type; blob structs are images or audio."""
    if typ == BLOB:
        return {"_type": "Audio" if kind == "audio" else "Image"}
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return {"feature": _feature(typ.value_type), "_type": "List"}
    dtype = {"double": "float64", "float": "float32", "bool": "bool"}.get(str(typ), str(typ))
    return {"dtype": dtype, "_type": "Value"}


def _schema(media: dict[str, str], has_class: bool,
            pretext: list[Column]) -> tuple[pa.Schema, dict[str, Any]]:
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
    for c in pretext:
        fields.append((c.name, c.type))
        features[c.name] = _feature(c.type, c.source)
    meta = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.schema(fields, metadata=meta), features


def export_hf(table: pa.Table, get_blob: Callable[[str], bytes], out: str | Path, *, shard_rows: int = 1000,
              name: str = "synth-dataset", version_note: str = "") -> dict[str, Any]:
    out = Path(out)
    inside(out, "data").mkdir(parents=True, exist_ok=True)
    splits = by_split(table)
    everything = [r for rs in splits.values() for r in rs]
    media = _columns(everything)
    has_class = any("class" in r["labels"] for r in everything)
    pretext = plan_columns(everything)
    schema, features = _schema(media, has_class, pretext)
    files = _PayloadFiles(out, get_blob)
    written: dict[str, list[str]] = {}
    for split, rs in splits.items():
        shards = max(1, -(-len(rs) // shard_rows))
        for s in range(shards):
            chunk = rs[s * shard_rows:(s + 1) * shard_rows]
            records = [_record(r, media, has_class, get_blob) | _pretext(r, pretext, get_blob, files)
                       for r in chunk]
            buf = io.BytesIO()
            pq.write_table(pa.Table.from_pylist(records, schema=schema), buf)
            # named by content and listed by name in the card: `datasets` caches a local folder by its
            # name and card, so a re-export into the same folder must change the card to be re-read
            digest = hashlib.sha256(buf.getvalue()).hexdigest()[:16]
            path = f"data/{split}-{s:05d}-of-{shards:05d}-{digest}.parquet"
            inside(out, path).write_bytes(buf.getvalue())
            written.setdefault(split, []).append(path)
    card = _card(name, written, splits, features, everything, version_note) + _pretext_card(pretext)
    inside(out, "README.md").write_text(card)
    return {"splits": {k: len(v) for k, v in splits.items()}, "files": written,
            "pretext_columns": [c.name for c in pretext], "pretext_files": files.count}


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


class _PayloadFiles:
    """Derived payloads exported as files (.npy arrays and other blobs): `ssl/<task>.<key>/<sha256>.<ext>`,
    named by content, so a payload many rows share (jigsaw's permutation set) is written once."""

    def __init__(self, out: Path, get_blob: Callable[[str], bytes]) -> None:
        self.out, self.get_blob, self.count = out, get_blob, 0

    def write(self, c: Column, p: dict[str, Any]) -> str:
        if "hash" in p:
            digest, ext = p["hash"], p.get("format") or "bin"
            data = None
        else:  # an inline payload of a kind with no column of its own: its value as JSON
            data = json.dumps(p.get("value"), sort_keys=True).encode()
            digest, ext = hashlib.sha256(data).hexdigest(), "json"
        rel = f"ssl/{c.task}.{c.key}/{digest}.{ext}"
        path = inside(self.out, rel)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.get_blob(digest) if data is None else data)
            self.count += 1
        return rel


def _pretext(r: dict[str, Any], columns: list[Column], get_blob: Callable[[str], bytes],
             files: _PayloadFiles) -> dict[str, Any]:
    found = {task: task_targets(rec) for task, rec in r["labels"].get("ssl", {}).items()}
    payloads = derived_payloads(r)
    rec: dict[str, Any] = {}
    for c in columns:
        if c.source == "target":
            value = found.get(c.task, {}).get(c.key)
            rec[c.name] = json.dumps(value, sort_keys=True) if c.as_json and value is not None else value
            continue
        p = payloads.get((c.task, c.key))
        if p is None:
            rec[c.name] = None
        elif c.is_file:
            rec[c.name] = files.write(c, p)
        elif c.type == BLOB:
            rec[c.name] = {"bytes": get_blob(p["hash"]), "path": f"{r['sample_id']}.{c.name}.{p.get('format') or 'bin'}"}
        elif c.source == "text":
            rec[c.name] = p.get("value")
        else:  # an inline row
            rec[c.name] = json.dumps(p.get("value"), sort_keys=True)
    return rec


def _yaml_feature(feature: dict[str, Any], indent: int) -> str:
    """A feature in the card's YAML form (`datasets`' own: `dtype: int64`, `dtype: image`, `list: ...`)."""
    if feature["_type"] == "List":
        inner = feature["feature"]
        if inner["_type"] == "List":
            return "list:\n" + " " * (indent + 2) + _yaml_feature(inner, indent + 2)
        return "list: " + _yaml_feature(inner, indent)[len("dtype: "):]
    return "dtype: " + feature.get("dtype", feature["_type"].lower())


def _pretext_card(columns: list[Column]) -> str:
    if not columns:
        return ""
    lines = [f"| `{c.name}` | {c.task} | `{c.type}` | {c.describe()} |" for c in columns]
    return ("\n## Pretext columns\n\nSelf-supervised targets from `labels.ssl` (task name, version, params and "
            "seed are recorded too); `_path` columns name files in this folder (`numpy.load` reads the .npy).\n\n"
            "| column | task | type | from |\n|---|---|---|---|\n" + "\n".join(lines) + "\n")


def _card(name: str, written: dict[str, list[str]], splits: dict[str, list], features: dict[str, Any],
          rows: list[dict[str, Any]], version_note: str) -> str:
    data_files = "\n".join(f"  - split: {s}\n    path:\n" + "\n".join(f"    - {p}" for p in paths)
                           for s, paths in written.items())
    feats = "\n".join(f"  - name: {n}\n    {_yaml_feature(f, 4)}" for n, f in features.items())
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
