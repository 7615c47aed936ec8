"""Model predictions as versioned data: rows of a Lance dataset `predictions.lance` keyed by
(model, for_version, sample_id), a small JSON record per (model, version) and a manifest version per import.

The whole file is read and validated first; rows are written, the manifest version committed and the
record written only when every check passed, so bad input writes nothing. Rows carry the id of their
import and a model's record names the import it shows, so rows left by a crashed or replaced import are
never read."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import uuid
from pathlib import Path
from typing import Any

import lance
import pyarrow as pa
import pyarrow.parquet as pq

from synth.codecs.canonical import canonical_json
from synth.core.names import check_name
from synth.errors import SynthError
from synth.store.lock import workspace_lock
from synth.store.workspace import Workspace

MAX_PREDICTIONS_BYTES = 2 * 1024 ** 3
"""Largest predictions file read (2 GiB); SYNTH_MAX_PREDICTIONS_BYTES raises or lowers it."""

PROB_TOLERANCE = 1e-3
"""How far a row's probabilities may sum from 1."""

PREDICTIONS_SCHEMA = pa.schema([
    ("model", pa.string()),
    ("for_version", pa.int64()),      # the manifest version whose sample ids the rows refer to
    ("sample_id", pa.string()),
    ("prediction", pa.string()),
    ("probs", pa.list_(pa.float64())),  # in the record's `classes` order; null without prob_ columns
    ("boxes", pa.string()),           # JSON list of {bbox: [x1, y1, x2, y2], class, score}; null without boxes
    ("embedding", pa.list_(pa.float32())),
    ("import_id", pa.string()),       # the import that wrote the row; the model's record names the one shown
])

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def max_predictions_bytes() -> int:
    raw = os.environ.get("SYNTH_MAX_PREDICTIONS_BYTES")
    if not raw:
        return MAX_PREDICTIONS_BYTES
    if not raw.isdigit() or int(raw) <= 0:
        raise SynthError(f"'{raw}' is not a positive whole number of bytes", field="SYNTH_MAX_PREDICTIONS_BYTES")
    return int(raw)


def predictions_uri(ws: Workspace) -> str:
    return ws.manifest.uri.rsplit("/", 1)[0] + "/predictions.lance"


def _dataset(ws: Workspace) -> lance.LanceDataset | None:
    try:
        return lance.dataset(predictions_uri(ws), storage_options=ws.manifest.storage_options)
    except (ValueError, OSError):
        return None


def _record_path(ws: Workspace, model: str, for_version: int) -> str:
    return ws.path("predictions", model, f"v{for_version}.json")


# -- reading the file ----------------------------------------------------------------------------

def _read_rows(path: Path) -> tuple[list[dict[str, Any]], str]:
    """The file's rows as dicts (line numbers start at 2 for CSV, 1 for JSONL, 1 for Parquet rows) and its sha256."""
    if not path.is_file():
        raise SynthError("no such file", file=str(path))
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SynthError(f"unknown predictions format '{path.suffix}'; allowed: .csv, .parquet, .jsonl",
                         file=str(path))
    size, limit = path.stat().st_size, max_predictions_bytes()
    if size > limit:
        raise SynthError(f"file of {size:,} bytes is over the limit of {limit:,} bytes; set "
                         "SYNTH_MAX_PREDICTIONS_BYTES to raise it", file=str(path))
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    if fmt == "parquet":
        try:
            return pq.read_table(io.BytesIO(data)).to_pylist(), sha
        except (pa.ArrowException, OSError) as exc:
            raise SynthError(f"not a readable Parquet file ({exc})", file=str(path)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SynthError(f"not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8",
                         file=str(path)) from None
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows = []
        for row in reader:
            if None in row:
                raise SynthError("more values than header columns", file=str(path), line=reader.line_num)
            rows.append(row)
        if reader.fieldnames is None:
            raise SynthError("empty file: expected a header with sample_id and prediction", file=str(path))
        if not rows:
            rows_header = {k: None for k in reader.fieldnames}
            _check_columns(rows_header, path)
        return rows, sha
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise SynthError(f"not JSON ({exc})", file=str(path), line=n) from None
        if not isinstance(obj, dict):
            raise SynthError("each line must be a JSON object", file=str(path), line=n)
        rows.append(obj)
    return rows, sha


def _check_columns(first: dict[str, Any], path: Path) -> None:
    missing = [c for c in ("sample_id", "prediction") if c not in first and not (c == "prediction" and "boxes" in first)]
    if missing:
        raise SynthError(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; a predictions "
                         f"file has sample_id, prediction and optional prob_<class>, boxes, embedding "
                         f"(columns: {', '.join(map(str, first)) or 'none'})", file=str(path))


def _number(value: Any, path: Path, line: int, field: str) -> float:
    if isinstance(value, bool):
        raise SynthError(f"{value!r} is not a number", file=str(path), line=line, field=field)
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise SynthError(f"{value!r} is not a number", file=str(path), line=line, field=field) from None
    if not math.isfinite(x):
        raise SynthError(f"{value!r} is not a finite number (NaN and infinity are refused)", file=str(path),
                         line=line, field=field)
    return x


def _json_list(value: Any, path: Path, line: int, field: str) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise SynthError(f"not a JSON list: {value[:60]!r}", file=str(path), line=line, field=field) from None
    if not isinstance(value, (list, tuple)):
        raise SynthError(f"expected a list, got {type(value).__name__}", file=str(path), line=line, field=field)
    return list(value)


def _boxes(value: Any, path: Path, line: int) -> str | None:
    if value is None or value == "":
        return None
    out = []
    for i, box in enumerate(_json_list(value, path, line, "boxes")):
        where = f"boxes[{i}]"
        if not isinstance(box, dict) or "bbox" not in box or "class" not in box:
            raise SynthError("each box is {bbox: [x1, y1, x2, y2], class, score}", file=str(path), line=line,
                             field=where)
        bbox = [_number(v, path, line, f"{where}.bbox") for v in _json_list(box["bbox"], path, line, f"{where}.bbox")]
        if len(bbox) != 4 or bbox[2] < bbox[0] or bbox[3] < bbox[1]:
            raise SynthError(f"bbox {bbox} is not [x1, y1, x2, y2] with x2 >= x1, y2 >= y1", file=str(path),
                             line=line, field=where)
        score = _number(box.get("score", 1.0), path, line, f"{where}.score")
        out.append({"bbox": bbox, "class": str(box["class"]), "score": score})
    return canonical_json(out)


def _parse(rows: list[dict[str, Any]], path: Path) -> tuple[dict[str, list[Any]], list[str]]:
    """Columns of the validated rows and the classes of their prob_ columns (file order)."""
    if not rows:
        raise SynthError("no predictions in the file", file=str(path))
    _check_columns(rows[0], path)
    classes = [str(k)[5:] for k in rows[0] if str(k).startswith("prob_")]
    cols: dict[str, list[Any]] = {"sample_id": [], "prediction": [], "probs": [], "boxes": [], "embedding": [],
                                  "line": []}
    seen: dict[str, int] = {}
    dim = None
    offset = 2 if path.suffix.lower() == ".csv" else 1
    for i, row in enumerate(rows):
        line = i + offset
        sid, pred = row.get("sample_id"), row.get("prediction")
        if pred in (None, "") and row.get("boxes") not in (None, ""):
            pred = ""  # a detector's row: its boxes are the prediction
        elif sid in (None, "") or pred in (None, ""):
            raise SynthError("empty sample_id or prediction (a detector's rows give boxes instead)", file=str(path),
                             line=line)
        if sid in (None, ""):
            raise SynthError("empty sample_id", file=str(path), line=line)
        sid = str(sid)
        if sid in seen:
            raise SynthError(f"duplicate sample_id {sid} (first on line {seen[sid]})", file=str(path), line=line)
        seen[sid] = line
        if isinstance(pred, float):
            _number(pred, path, line, "prediction")
        probs = None
        if classes:
            row_classes = [str(k)[5:] for k in row if str(k).startswith("prob_")]
            if row_classes != classes:
                raise SynthError(f"{len(row_classes)} prob_ columns where the first row has {len(classes)}",
                                 file=str(path), line=line)
            probs = [_number(row[f"prob_{c}"], path, line, f"prob_{c}") for c in classes]
            if any(p < 0 or p > 1 for p in probs) or abs(sum(probs) - 1.0) > PROB_TOLERANCE:
                raise SynthError(f"probabilities {probs} do not sum to 1 (tolerance {PROB_TOLERANCE})",
                                 file=str(path), line=line)
        emb = row.get("embedding")
        if emb is not None and emb != "":
            emb = [_number(v, path, line, "embedding") for v in _json_list(emb, path, line, "embedding")]
            dim = len(emb) if dim is None else dim
            if len(emb) != dim or not emb:
                raise SynthError(f"embedding of length {len(emb)} where earlier rows have {dim}", file=str(path),
                                 line=line, field="embedding")
        else:
            emb = None
        cols["sample_id"].append(sid)
        cols["prediction"].append(str(pred))
        cols["probs"].append(probs)
        cols["boxes"].append(_boxes(row.get("boxes"), path, line))
        cols["embedding"].append(emb)
        cols["line"].append(line)
    return cols, classes


# -- import --------------------------------------------------------------------------------------

def import_predictions(ws: Workspace, file: str | Path, model: str, version: int | str | None = None,
                       replace: bool = False) -> dict[str, Any]:
    """Import a model's predictions for the samples of a manifest version (default: the newest) and commit
    a manifest version recording the import. Returns model, version (the new one), for_version, rows,
    unknown (ids not in for_version, left out), classes, sha256 and replaced."""
    from synth.store.commit import commit
    from synth.store.lineage import current_table

    check_name(model, "model name")
    path = Path(file)
    raw, sha = _read_rows(path)
    cols, classes = _parse(raw, path)
    for_version = data_version(ws, ws.manifest.resolve(version))
    manifest = current_table(ws, for_version, columns=["sample_id", "labels"])
    labels = dict(zip(manifest.column("sample_id").to_pylist(), manifest.column("labels").to_pylist()))
    known = [sid in labels for sid in cols["sample_id"]]
    unknown = known.count(False)
    if unknown == len(known):
        raise SynthError(f"none of the {unknown} sample ids is in version {for_version} (first: "
                         f"{cols['sample_id'][0]}); predictions are keyed by the manifest's sample_id",
                         file=str(path), field="sample_id")
    keep = [i for i, k in enumerate(known) if k]
    if classes:
        _check_classes(classes, [cols["prediction"][i] for i in keep], [labels[cols["sample_id"][i]] for i in keep],
                       path)
    with workspace_lock(ws):
        record_path = _record_path(ws, model, for_version)
        old = _read_record(ws, record_path)
        if old is not None and not replace:
            raise SynthError(f"model '{model}' already has predictions for version {for_version} (imported in "
                             f"version {old['version']}); pass --replace to replace them", field="--model")
        import_id = uuid.uuid4().hex
        table = pa.table({
            "model": pa.array([model] * len(keep), pa.string()),
            "for_version": pa.array([for_version] * len(keep), pa.int64()),
            "sample_id": pa.array([cols["sample_id"][i] for i in keep], pa.string()),
            "prediction": pa.array([cols["prediction"][i] for i in keep], pa.string()),
            "probs": pa.array([cols["probs"][i] for i in keep], pa.list_(pa.float64())),
            "boxes": pa.array([cols["boxes"][i] for i in keep], pa.string()),
            "embedding": pa.array([cols["embedding"][i] for i in keep], pa.list_(pa.float32())),
            "import_id": pa.array([import_id] * len(keep), pa.string()),
        }, schema=PREDICTIONS_SCHEMA)
        ds = _dataset(ws)
        lance.write_dataset(table, ds if ds is not None else predictions_uri(ws), schema=PREDICTIONS_SCHEMA,
                            mode="append" if ds is not None else "create",
                            storage_options=ws.manifest.storage_options)
        extra = {"predictions_model": model, "predictions_for_version": str(for_version),
                 "predictions_import": import_id, "predictions_sha256": sha, "predictions_rows": str(len(keep))}
        msg = f"predictions of {model} for version {for_version}: {len(keep)} samples" + \
            (f" ({unknown} unknown ids left out)" if unknown else "") + (" (replacing)" if old else "")
        new_version = commit(ws, None, msg, operation="predictions", extra=extra)
        record = {"model": model, "for_version": for_version, "version": new_version, "import_id": import_id,
                  "classes": classes, "sha256": sha, "rows": len(keep), "unknown": unknown, "file": path.name,
                  "has_boxes": any(b is not None for b in table.column("boxes").to_pylist()),
                  "embedding_dim": next((len(e) for e in cols["embedding"] if e), None)}
        _write_record(ws, record_path, record)
        if old is not None and ds is not None:
            # the record now names the new import: the old rows are unreachable, drop them
            lance.dataset(predictions_uri(ws), storage_options=ws.manifest.storage_options).delete(
                f"import_id = '{old['import_id']}'")
    return {**record, "replaced": old is not None}


def data_version(ws: Workspace, version: int) -> int:
    """The newest version at or before `version` that is not a predictions import: an import adds no rows,
    so predictions for it are predictions for the data version below it (and a second import of a model
    without --version meets the first one instead of silently starting a second set)."""
    ops = {info.version: info for info in ws.manifest.versions()}
    while version in ops and ops[version].operation == "predictions" and ops[version].parents:
        version = ops[version].parents[0]
    return version


def _check_classes(classes: list[str], predictions: list[str], labels_json: list[str | None], path: Path) -> None:
    """Every predicted class and every labelled class of the rows needs its prob_ column."""
    wanted = set(predictions)
    for text in labels_json:
        try:
            value = json.loads(text or "{}").get("class")
        except (ValueError, AttributeError):
            value = None
        if value is not None:
            wanted.add(str(value))
    missing = sorted(wanted - set(classes))
    if missing:
        raise SynthError(f"{len(classes)} prob_ columns ({', '.join(classes)}) but {len(wanted)} classes among the "
                         f"predictions and labels; no prob_ column for {', '.join(missing[:10])}", file=str(path))


def _read_record(ws: Workspace, path: str) -> dict[str, Any] | None:
    if not ws.fs.exists(path):
        return None
    return json.loads(ws.fs.cat_file(path))


def _write_record(ws: Workspace, path: str, record: dict[str, Any]) -> None:
    folder = path.rsplit("/", 1)[0]
    ws.fs.makedirs(folder, exist_ok=True)
    tmp = f"{folder}/.tmp-{uuid.uuid4().hex[:8]}.json"
    with ws.fs.open(tmp, "w") as fh:
        fh.write(json.dumps(record, sort_keys=True))
    ws.fs.mv(tmp, path)


# -- reading back --------------------------------------------------------------------------------

def list_predictions(ws: Workspace) -> list[dict[str, Any]]:
    """Every model's record, by model then version the ids refer to."""
    base = ws.path("predictions")
    if not ws.fs.exists(base):
        return []
    out = []
    for path in ws.fs.glob(f"{base}/*/v*.json"):
        record = json.loads(ws.fs.cat_file(path))
        out.append(record)
    return sorted(out, key=lambda r: (r["model"], r["for_version"]))


def load_predictions(ws: Workspace, model: str, version: int | str | None = None) -> tuple[pa.Table, dict[str, Any]]:
    """A model's predictions for a version (default: the newest) and its record. The predictions shown are
    those for the version itself, else for the newest earlier version that has them (the ids of a version
    stay in later versions unless a mix or split replaced them)."""
    check_name(model, "model name")
    v = ws.manifest.resolve(version)
    records = [r for r in list_predictions(ws) if r["model"] == model]
    if not records:
        known = sorted({r["model"] for r in list_predictions(ws)})
        raise SynthError(f"no predictions of model '{model}'; models: {', '.join(known) or 'none'}",
                         field="--predictions")
    usable = [r for r in records if r["for_version"] <= v]
    if not usable:
        raise SynthError(f"model '{model}' has predictions only for versions "
                         f"{', '.join(str(r['for_version']) for r in records)}, none at or before {v}",
                         field="--version")
    record = max(usable, key=lambda r: r["for_version"])
    ds = _dataset(ws)
    if ds is None:
        raise SynthError(f"predictions of '{model}' are recorded but {predictions_uri(ws)} is missing")
    table = ds.to_table(filter=f"import_id = '{record['import_id']}'")
    table = table.sort_by("sample_id")
    return table, record


__all__ = ["import_predictions", "load_predictions", "list_predictions", "MAX_PREDICTIONS_BYTES",
           "PREDICTIONS_SCHEMA", "predictions_uri", "data_version"]
