"""Label corrections: validated against the newest version, appended to the label lineage (labels.lance)
and committed as a new manifest version that names them."""
from __future__ import annotations

import csv
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import lance
import pyarrow as pa
import pyarrow.compute as pc

from synth.codecs.canonical import canonical_json
from synth.errors import SynthError
from synth.store.commit import RETRIES, RETRY_HINT, ConcurrentCommit, commit
from synth.store.lineage import LABELS_SCHEMA, labels_dataset, corrections, current_labels, labels_uri
from synth.store.lock import workspace_lock
from synth.store.workspace import Workspace


@dataclass
class Correction:
    sample_id: str
    labels: dict[str, Any]
    parents: list[str] | None = None  # default: the sample's current leaves (merging any branches)
    note: str | None = None
    base_version: int | None = None          # the version `labels` were resolved against (resolve_changes)
    request: dict[str, Any] | None = None     # the {"__replace__", "__set__"} asked for, to resolve again


def set_path(labels: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """Copy of labels with labels[a][b]... = value; integer parts index lists (objects.0.class)."""
    out = json.loads(json.dumps(labels))
    parts = dotted.split(".")
    node: Any = out
    for i, part in enumerate(parts[:-1]):
        node = _child(node, part, dotted)
    last = parts[-1]
    old = node.get(last) if isinstance(node, dict) else (node[int(last)] if isinstance(node, list) and
                                                          last.isdigit() and int(last) < len(node) else None)
    if isinstance(old, str) and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # `--set class=7` keeps a string label a string
    if isinstance(node, list):
        if not last.isdigit() or int(last) >= len(node):
            raise SynthError(f"no list item {last} in labels path '{dotted}'", field="--set")
        node[int(last)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise SynthError(f"labels path '{dotted}' goes through a {type(node).__name__}, not an object", field="--set")
    return out


def _child(node: Any, part: str, dotted: str) -> Any:
    if isinstance(node, list):
        if not part.isdigit() or int(part) >= len(node):
            raise SynthError(f"no list item {part} in labels path '{dotted}'", field="--set")
        return node[int(part)]
    if isinstance(node, dict):
        return node.setdefault(part, {})
    raise SynthError(f"labels path '{dotted}' goes through a {type(node).__name__}, not an object", field="--set")


def parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def commit_corrections(ws: Workspace, items: list[Correction], *, message: str, author: str | None = None) -> int:
    """Validate every correction against the newest version (semi-joins in DuckDB), then append them and
    commit one version. Corrections resolved against an older version (another correction landed since)
    are resolved again on the newest one, so no change is lost; the commit names the version it read, and
    a version committed in between makes it start over (at most RETRIES times, then a clear error)."""
    if not items:
        raise SynthError("no corrections given", field="corrections")
    for _ in range(RETRIES):
        with workspace_lock(ws):
            latest = ws.manifest.resolve(None)
            items = _rebase(ws, items, latest)
            rows, commit_id = _resolve(ws, items, latest, author)
            lance.write_dataset(rows, labels_uri(ws), schema=LABELS_SCHEMA,
                                mode="append" if labels_dataset(ws) is not None else "create",
                                storage_options=ws.manifest.storage_options)
            try:
                # rows written under a commit id no version names stay invisible (see synth.store.lineage)
                return commit(ws, None, message, operation="labels", expect_version=latest,
                              extra={"labels_commit": commit_id, "corrections": str(rows.num_rows)})
            except ConcurrentCommit:
                continue
    raise ConcurrentCommit(f"other processes kept committing to this workspace; {RETRY_HINT}")


def _rebase(ws: Workspace, items: list[Correction], latest: int) -> list[Correction]:
    """Resolve corrections made against an older version again, on the current labels of `latest`."""
    stale = [c for c in items if c.base_version is not None and c.base_version != latest]
    if not stale:
        return items
    if any(c.request is None for c in stale):
        raise ConcurrentCommit(f"version {latest} was committed after these corrections were made (on version "
                               f"{stale[0].base_version}); {RETRY_HINT}")
    again = iter(resolve_changes(ws, [Correction(c.sample_id, c.request or {}, c.parents, c.note) for c in stale],
                                 version=latest))
    stale_ids = {id(c) for c in stale}
    return [next(again) if id(c) in stale_ids else c for c in items]


def _resolve(ws: Workspace, items: list[Correction], latest: int, author: str | None) -> tuple[pa.Table, str]:
    """The labels.lance rows of the corrections, checked against version `latest`, under a fresh commit id."""
    commit_id = uuid.uuid4().hex
    asked = pa.table({
        "sample_id": pa.array([c.sample_id for c in items], pa.string()),
        "parents": pa.array([sorted(c.parents) if c.parents else None for c in items], pa.list_(pa.string())),
        "labels": pa.array([canonical_json(c.labels) for c in items], pa.string()),
        "note": pa.array([c.note for c in items], pa.string()),
        "position": pa.array(range(len(items)), pa.int64())})
    con = duckdb.connect()
    try:
        con.register("asked", asked)
        con.register("samples", ws.manifest.to_table(latest, columns=["sample_id"]))
        con.register("corr", corrections(ws, latest).select(["label_id", "sample_id", "parents"]))
        _check_corrections(con, latest)
        rows = con.sql(RESOLVE_SQL.format(commit=commit_id)).to_arrow_table()  # a uuid hex: safe to inline
    finally:
        con.close()
    n = rows.num_rows
    rows = rows.append_column("commit_id", pa.array([commit_id] * n, pa.string())) \
        .append_column("author", pa.array([author] * n, pa.string())) \
        .append_column("created", pa.array([time.time()] * n, pa.float64()))
    return rows.select(LABELS_SCHEMA.names).cast(LABELS_SCHEMA), commit_id


# default parents are the sample's leaves: its corrections nobody revised, else its root label
RESOLVE_SQL = """
with revised as (select distinct unnest(parents) as label_id from corr),
leaves as (select sample_id, list(label_id order by label_id) as ids
           from corr anti join revised using (label_id) group by 1),
chosen as (select a.*, coalesce(a.parents, l.ids, ['root:' || a.sample_id]) as p
           from asked a left join leaves l using (sample_id))
select left(sha256(sample_id || chr(10) || array_to_string(p, ';') || chr(10) || labels || chr(10) || '{commit}' || chr(10)
                   || position), 32) as label_id,
       sample_id, list_sort(p) as parents, labels, note, position
from chosen order by position
"""


def _check_corrections(con: duckdb.DuckDBPyConnection, latest: int) -> None:
    unknown = [r[0] for r in con.execute("select sample_id from asked anti join samples using (sample_id) "
                                         "order by position limit 6").fetchall()]
    if unknown:
        raise SynthError(f"unknown sample id(s) {', '.join(unknown[:5])}" + (" ..." if len(unknown) > 5 else "")
                         + f" (not in version {latest})", field="sample_id")
    bad = con.execute("""
        with wanted as (select sample_id, position, unnest(parents) as label_id from asked where parents is not null),
        known as (select sample_id, label_id from corr union all select sample_id, 'root:' || sample_id from samples)
        select w.sample_id, list(w.label_id order by w.label_id) from wanted w anti join known k
            on w.sample_id = k.sample_id and w.label_id = k.label_id
        group by w.sample_id, w.position order by w.position limit 1""").fetchall()
    if bad:
        raise SynthError(f"parent label(s) {', '.join(bad[0][1])} are not labels of sample {bad[0][0]}",
                         field="parents")


def read_corrections_csv(path: str | Path) -> list[Correction]:
    """CSV columns: sample_id, then either `labels` (a whole JSON object) or one column per label path
    to set (e.g. `class`, `objects.0.class`); optional `parents` (label ids separated by ;) and `note`.
    Columns named review_* are ignored, and rows with no label cell filled in are skipped (kept as is)."""
    path = Path(path)
    if not path.is_file():
        raise SynthError("no such file", file=str(path))
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        if "sample_id" not in fields:
            raise SynthError(f"needs a sample_id column; columns are {', '.join(fields) or 'none'}", file=str(path))
        raw = [(n + 2, r) for n, r in enumerate(reader)]
    # review_* columns are for the person reviewing (e.g. a label-issues file): shown, never applied
    sets = [f for f in fields if f not in ("sample_id", "labels", "parents", "note") and not f.startswith("review_")]
    if "labels" not in fields and not sets:
        raise SynthError("needs a `labels` JSON column or label-path columns (e.g. class)", file=str(path))
    rows = [_correction_row(path, line, r, sets) for line, r in raw]
    # a row whose label cells were left empty is a sample the reviewer kept as it is
    return [c for c in rows if c.labels.get("__replace__") is not None or c.labels.get("__set__")]


def _correction_row(path: Path, line: int, r: dict[str, str], sets: list[str]) -> Correction:
    labels: dict[str, Any] | None = None
    if r.get("labels"):
        try:
            labels = json.loads(r["labels"])
        except ValueError as exc:
            raise SynthError(f"labels is not JSON: {exc}", file=str(path), line=line, field="labels") from None
        if not isinstance(labels, dict):
            raise SynthError("labels must be a JSON object", file=str(path), line=line, field="labels")
    changes = {k: parse_value(r[k]) for k in sets if r.get(k) not in (None, "")}
    parents = [p for p in (r.get("parents") or "").split(";") if p] or None
    return Correction(r["sample_id"], {"__replace__": labels, "__set__": changes}, parents, r.get("note") or None)


def resolve_changes(ws: Workspace, items: list[Correction], version: int | None = None) -> list[Correction]:
    """Turn {"__replace__", "__set__"} requests into full label objects based on the current labels of
    `version` (default: the newest), remembering the version and the request for `commit_corrections`."""
    version = ws.manifest.resolve(version)
    leaves = current_labels(ws, version)
    wanted = leaves.filter(pc.is_in(leaves.column("sample_id"), value_set=pa.array([c.sample_id for c in items],
                                                                                   pa.string())))
    current = dict(zip(*(wanted.column(c).to_pylist() for c in ("sample_id", "labels"))))
    out = []
    for c in items:
        if c.sample_id not in current:
            raise SynthError(f"unknown sample id {c.sample_id}", field="sample_id")
        base = c.labels.get("__replace__") or json.loads(current[c.sample_id] or "{}")
        for key, value in c.labels.get("__set__", {}).items():
            base = set_path(base, key, value)
        out.append(Correction(c.sample_id, base, c.parents, c.note, version, c.labels))
    return out
