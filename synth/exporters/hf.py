"""Hugging Face export: Parquet shards per split (`val` named `validation`) plus a dataset card (README.md)
whose YAML `configs` and `dataset_info` (features, splits with sizes) `datasets.load_dataset(OUT)` reads
without a warning. Images, masks and audio carry `Image`/`Audio` features; labels get typed columns per
kind (synth.exporters.hf_features: ClassLabel, objects, OCR words, key fields, spans, events), sampled
params `params.<path>` columns, the whole label object `labels_json`; pretext targets are typed
`ssl_<task>_<key>` columns, derived arrays .npy files under `ssl/` named by content."""
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
from synth.exporters.hf_features import (LabelColumns, ParamColumns, arrow_type, card_yaml, listed, value,
                                        yaml_features)
from synth.exporters.records import by_split, inside, media_name


SPLIT_NAMES = {"val": "validation"}  # the names `datasets` users expect


def _columns(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Which media columns this export has: name -> payload kind (masks are images)."""
    kinds: dict[str, str] = {}
    for r in rows:
        for name, p in r["payloads"].items():
            if p.get("kind") in ("image", "audio", "text", "mask") and not name.startswith("ssl."):
                kinds.setdefault(name, "image" if p["kind"] == "mask" and "hash" in p else p["kind"])
    return kinds


def _feature(typ: pa.DataType, kind: str = "") -> dict[str, Any]:
    """The `datasets` feature (as its JSON) of an Arrow type; blob structs are images or audio."""
    if typ == BLOB:
        return {"_type": "Audio" if kind == "audio" else "Image"}
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return listed(_feature(typ.value_type))
    return value({"double": "float64", "float": "float32", "bool": "bool"}.get(str(typ), str(typ)))


def _features(media: dict[str, str], typed: LabelColumns, params: ParamColumns,
              pretext: list[Column]) -> dict[str, Any]:
    features: dict[str, Any] = {"sample_id": value("string"), "origin": value("string")}
    for name, kind in media.items():
        features[name] = value("string") if kind == "text" else {"_type": "Image" if kind == "image" else "Audio"}
    features.update(typed.features)
    features.update(labels_json=value("string"), source=value("string"), license=value("string"))
    features.update(params.features)
    for c in pretext:
        features[c.name] = _feature(c.type, c.source)
    return features


def _schema(features: dict[str, Any]) -> pa.Schema:
    meta = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.schema([(n, arrow_type(f)) for n, f in features.items()], metadata=meta)


def export_hf(table: pa.Table, get_blob: Callable[[str], bytes], out: str | Path, *, shard_rows: int = 1000,
              name: str = "synth-dataset", version_note: str = "") -> dict[str, Any]:
    out = Path(out)
    inside(out, "data").mkdir(parents=True, exist_ok=True)
    splits = {SPLIT_NAMES.get(s, s): rs for s, rs in by_split(table).items()}
    everything = [r for rs in splits.values() for r in rs]
    media = _columns(everything)
    typed, params = LabelColumns(everything), ParamColumns(everything)
    pretext = plan_columns(everything)
    features = _features(media, typed, params, pretext)
    schema = _schema(features)
    files = _PayloadFiles(out, get_blob)
    written: dict[str, list[str]] = {}
    sizes: dict[str, int] = {}
    for split, rs in splits.items():
        shards = max(1, -(-len(rs) // shard_rows))
        for s in range(shards):
            chunk = rs[s * shard_rows:(s + 1) * shard_rows]
            records = [_record(r, media, typed, params, get_blob) | _pretext(r, pretext, get_blob, files)
                       for r in chunk]
            buf = io.BytesIO()
            pq.write_table(pa.Table.from_pylist(records, schema=schema), buf)
            # named by content and listed by name in the card: `datasets` caches a local folder by its
            # name and card, so a re-export into the same folder must change the card to be re-read
            digest = hashlib.sha256(buf.getvalue()).hexdigest()[:16]
            path = f"data/{split}-{s:05d}-of-{shards:05d}-{digest}.parquet"
            inside(out, path).write_bytes(buf.getvalue())
            written.setdefault(split, []).append(path)
            sizes[split] = sizes.get(split, 0) + len(buf.getvalue())
    card = _card(name, written, splits, sizes, features, everything, version_note) + _pretext_card(pretext)
    inside(out, "README.md").write_text(card)
    return {"splits": {k: len(v) for k, v in splits.items()}, "files": written,
            "classes": typed.classes or typed.objects or typed.intents or typed.events,
            "typed_columns": list(typed.features), "param_columns": len(params.features),
            "pretext_columns": [c.name for c in pretext], "pretext_files": files.count}


def _record(r: dict[str, Any], media: dict[str, str], typed: LabelColumns, params: ParamColumns,
            get_blob: Callable[[str], bytes]) -> dict:
    rec: dict[str, Any] = {"sample_id": r["sample_id"], "origin": r["origin"]}
    for name, kind in media.items():
        p = r["payloads"].get(name)
        if p is None:
            rec[name] = None
        elif kind == "text":
            rec[name] = p.get("value")
        else:
            rec[name] = {"bytes": get_blob(p["hash"]), "path": media_name(r, name)}
    rec.update(typed.values(r["labels"]))
    rec.update(labels_json=json.dumps(r["labels"], sort_keys=True), source=r.get("source"), license=r.get("license"))
    rec.update(params.values(r.get("params") or {}))
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


def _pretext_card(columns: list[Column]) -> str:
    if not columns:
        return ""
    lines = [f"| `{c.name}` | {c.task} | `{c.type}` | {c.describe()} |" for c in columns]
    return ("\n## Pretext columns\n\nSelf-supervised targets from `labels.ssl` (task name, version, params and "
            "seed are recorded too); `_path` columns name files in this folder (`numpy.load` reads the .npy).\n\n"
            "| column | task | type | from |\n|---|---|---|---|\n" + "\n".join(lines) + "\n")


def _card(name: str, written: dict[str, list[str]], splits: dict[str, list], sizes: dict[str, int],
          features: dict[str, Any], rows: list[dict[str, Any]], version_note: str) -> str:
    meta = {"configs": [{"config_name": "default", "data_files": [{"split": s, "path": paths}
                                                                  for s, paths in written.items()]}],
            "dataset_info": {"features": yaml_features(features),
                             "splits": [{"name": s, "num_bytes": sizes[s], "num_examples": len(splits[s])}
                                        for s in written],
                             "download_size": sum(sizes.values()), "dataset_size": sum(sizes.values())}}
    origins: dict[str, int] = {}
    licenses = sorted({r.get("license") for r in rows if r.get("license")})
    for r in rows:
        origins[r["origin"]] = origins.get(r["origin"], 0) + 1
    counts = ", ".join(f"{k}: {v}" for k, v in sorted(origins.items()))
    typed = [n for n in features if n in _TYPED_DOCS]
    described = "".join(f"- `{n}`: {_TYPED_DOCS[n]}\n" for n in typed)
    return (f"---\n{card_yaml(meta)}---\n\n# {name}\n\nExported by synth{version_note}. Rows by origin: {counts}.\n"
            f"Licences of real rows: {', '.join(licenses) or 'not recorded'}.\n\n"
            + (f"Typed label columns:\n\n{described}\n" if described else "")
            + "`params.<path>` columns hold the recipe parameters sampled for each row (JSON text where a value is "
              "not a plain scalar). `labels_json` holds the full label object (JSON) as of the exported version, "
              "corrections applied; `origin` says whether a row is real or synthetic.\n")


_TYPED_DOCS = {
    "label": "the class (`ClassLabel`; `features['label'].names` maps ids to names)",
    "mask": "the instance mask (`Image`; pixel value = `objects.instance_id`, 0 = background)",
    "objects": "objects as a `Sequence` of `{bbox, category, area, iscrowd, instance_id}`; `bbox` is COCO "
               "`[x, y, width, height]` in pixels",
    "words": "OCR words as a `Sequence` of `{quad, text}`; `quad` is four `[x, y]` corners, clockwise from top-left",
    "transcript": "the full text in the image",
    "fields": "key fields (key information extraction), one string per field",
    "intent": "the utterance's intent (`ClassLabel`)",
    "entities": "entity spans as a `Sequence` of `{start, end, label}`: character offsets into `text`, end exclusive",
    "events": "sound events as a `Sequence` of `{label, onset_s, offset_s}` in seconds",
}
