"""CSV / Parquet / JSONL export of a version's rows, one file per split (or one file for all):
- table blocks (generated tables) are decoded and concatenated in (recipe, sample index) order;
- imported table rows become columns, text becomes a `text` column;
- utterances become {id, text, intent, entities, ...} records (entity spans as [start, end, label]);
- anything else (images, audio) becomes one row per sample: its params and labels as JSON columns.
Table files hold the table's own columns only, as `synth generate` made them."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pyarrow as pa

from synth.errors import SynthError
from synth.exporters.records import by_split, escape_csv_cell, inside
from synth.exporters.text import records as utterance_records
from synth.tabular.blocks import decode_block

FORMATS = ("csv", "parquet", "jsonl")
KIND_NAMES = {"table": "table blocks", "utterances": "utterance rows", "samples": "sample rows"}


def export_tabular(table: pa.Table, get_blob: Callable[[str], bytes], out: str | Path, fmt: str = "csv", *,
                   recipe: str | None = None, single_file: bool = False,
                   kinds: tuple[str, ...] = ("table", "utterances", "samples"), csv_escape: bool = True) -> dict[str, Any]:
    """Write `<split>.<fmt>` files under `out` (or, with `single_file`, every split into the file `out`).
    CSV text cells that a spreadsheet would run as formulas are escaped unless `csv_escape` is False.
    Returns {"splits": {split: rows}, "files": [...], "kind": "table" | "utterances" | "samples"}."""
    if fmt not in FORMATS:
        raise SynthError(f"unknown format {fmt}; allowed: {', '.join(FORMATS)}", field="--format")
    if recipe is not None:
        table = table.filter(pa.compute.equal(table.column("recipe_name"), recipe))
    wanted = " or ".join(KIND_NAMES[k] for k in kinds)
    if table.num_rows == 0:
        raise SynthError(f"nothing to export: the version holds no {wanted}" + (f" of recipe '{recipe}'" if recipe else ""),
                         field="--version")
    frames, kind = _frames(table, get_blob)
    if kind not in kinds:
        raise SynthError(f"the version holds no {wanted}" + (f" of recipe '{recipe}'" if recipe else "")
                         + f" (it holds {KIND_NAMES[kind]})", field="--version")
    if single_file:
        frames = {"all": pd.concat(list(frames.values()), ignore_index=True)}
    out = Path(out)
    files, counts = [], {}
    for split, frame in frames.items():
        path = out if single_file else inside(out, f"{split}.{fmt}")
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(frame, path, fmt, kind, csv_escape)
        files.append(str(path))
        counts[split] = len(frame)
    columns = sorted({c for f in frames.values() for c in f.columns})
    return {"kind": kind, "splits": counts, "columns": len(columns), "files": files}


def _frames(table: pa.Table, get_blob: Callable[[str], bytes]) -> tuple[dict[str, pd.DataFrame], str]:
    splits = by_split(table)
    rows = [r for rs in splits.values() for r in rs]
    if any("table" in r["payloads"] and r["payloads"]["table"].get("kind") == "bytes" for r in rows):
        return {s: _blocks(rs, get_blob) for s, rs in splits.items()}, "table"
    if any("intent" in r["labels"] and "spans" in r["labels"] for r in rows):
        recs = utterance_records(table)
        out: dict[str, list[dict[str, Any]]] = {}
        for rec in recs:
            out.setdefault(rec.pop("split"), []).append(rec)
        return {s: pd.DataFrame(rs) for s, rs in sorted(out.items())}, "utterances"
    # imported tables and texts: their rows only (clips or images beside them go to their own exports);
    # a version of images or audio alone: one row per sample, its params and labels
    has_values = any(_has_values(r) for r in rows)
    frames = {s: pd.DataFrame([_flat(r) for r in rs if _has_values(r) or not has_values]) for s, rs in splits.items()}
    return {s: f for s, f in frames.items() if len(f)}, "samples"


def _has_values(r: dict[str, Any]) -> bool:
    return any(p.get("kind") in ("row", "text") for p in r["payloads"].values())


def _blocks(rows: list[dict[str, Any]], get_blob: Callable[[str], bytes]) -> pd.DataFrame:
    blocks = []
    for r in sorted(rows, key=lambda r: (r.get("recipe_name") or "", r.get("index") or 0, r["sample_id"])):
        p = r["payloads"].get("table")
        if p and p.get("kind") == "bytes":
            blocks.append(decode_block(get_blob(p["hash"]), p.get("format") or "parquet"))
        else:
            blocks.append(pd.DataFrame([_flat(r, with_meta=False)]))
    return pd.concat(blocks, ignore_index=True) if blocks else pd.DataFrame()


def _flat(r: dict[str, Any], with_meta: bool = True) -> dict[str, Any]:
    rec: dict[str, Any] = {"sample_id": r["sample_id"], "origin": r["origin"]} if with_meta else {}
    for name, p in sorted(r["payloads"].items()):
        if p.get("kind") == "row" and isinstance(p.get("value"), dict):
            rec.update(p["value"])
        elif p.get("kind") == "text":
            rec["text" if name == "text" else name] = p.get("value")
    if with_meta:
        if "class" in r["labels"]:
            rec["label"] = r["labels"]["class"]
        rec["labels"] = r["labels"]
        if r.get("params"):
            rec["params"] = r["params"]
    return rec


def _write(frame: pd.DataFrame, path: Path, fmt: str, kind: str, csv_escape: bool = True) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    frame = frame.copy()
    for col in ("labels", "params"):  # free-form objects: JSON text in Parquet (no one struct type fits all)
        if fmt == "parquet" and col in frame.columns and kind == "samples":
            frame[col] = [json.dumps(v, sort_keys=True) for v in frame[col]]
    if kind == "utterances" and fmt != "parquet":  # NER tooling's [start, end, label] triples
        frame["entities"] = [[[e["start"], e["end"], e["label"]] for e in ents] for ents in frame["entities"]]
    if fmt == "parquet":
        frame.to_parquet(tmp, index=False)
    elif fmt == "jsonl":
        buf = io.StringIO()
        frame.to_json(buf, orient="records", lines=True, force_ascii=False, date_format="iso")
        tmp.write_text(buf.getvalue())
    else:
        cell = escape_csv_cell if csv_escape else (lambda v: v)
        for col in frame.columns:  # dates as dates, as pandas writes them: a time only where some row has one
            if pd.api.types.is_datetime64_any_dtype(frame[col]):
                stamps = frame[col]
                dated = bool((stamps.dropna() == stamps.dropna().dt.normalize()).all())
                frame[col] = stamps.dt.strftime("%Y-%m-%d" if dated else "%Y-%m-%dT%H:%M:%S")
        frame = frame.map(lambda v: cell(json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v))
        frame.columns = [cell(str(c)) for c in frame.columns]
        frame.to_csv(tmp, index=False, date_format="%Y-%m-%dT%H:%M:%S")
    tmp.replace(path)


def sample_file(recipe: Any, rows: int, out: str | Path, *, csv_escape: bool = True) -> dict[str, Any]:
    """`synth sample`: render a table recipe's first ceil(rows / rows_per_sample) blocks in process (no
    workspace) and write their first `rows` rows to `out` (.csv or .parquet). The blocks use the seeds
    `synth generate -n BLOCKS` uses and go through the same writer in the same order as `synth export
    --single-file`, so a whole number of blocks gives the same bytes."""
    from synth.engine.producer import Producer
    from synth.recipe.loader import load_recipe
    from synth.recipe.plan import assign_split, sample_id

    out = Path(out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise SynthError(f"{out.name}: the output must end in .csv or .parquet", field="-o")
    if rows < 1:
        raise SynthError(f"must be a positive number of rows, got {rows}", field="-n")
    r = recipe if not isinstance(recipe, (str, Path)) else load_recipe(recipe)
    if r.model.scene != "table":
        raise SynthError(f"recipe '{r.name}' has scene '{r.model.scene}'; synth sample writes table recipes only "
                         "(use synth generate + synth export)", file=str(r.file), field="scene")
    per = r.to_yaml_dict()["params"].get("rows_per_sample")
    if not isinstance(per, int) or per < 1:
        raise SynthError("rows_per_sample must be a fixed whole number for synth sample", file=str(r.file),
                         field="params.rows_per_sample")
    blocks = -(-rows // per)
    r = r.with_count(blocks)
    producer, blobs, manifest = Producer(r, store=None), {}, []
    for index in range(blocks):
        payload = producer.render(index).payloads["table"]
        data, ext = payload.encode()
        blobs[str(index)] = data
        sid = sample_id(r.hash, index)
        manifest.append({"sample_id": sid, "origin": "synthetic", "recipe_name": r.name, "index": index,
                         "split": assign_split(sid, r.model.split), "labels": "{}", "params": "{}",
                         "payloads": json.dumps({"table": {"kind": "bytes", "hash": str(index), "format": ext}})})
    frames, _ = _frames(pa.Table.from_pylist(manifest), blobs.__getitem__)
    frame = pd.concat(list(frames.values()), ignore_index=True).head(rows)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write(frame, out, fmt, "table", csv_escape)
    return {"recipe": r.name, "rows": len(frame), "blocks": blocks, "columns": len(frame.columns), "file": str(out)}
