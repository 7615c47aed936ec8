"""Label lineage: corrections are rows of a separate Lance dataset `labels.lance` that point to the
label(s) they revise (a DAG); the current labels are its leaves, selected with DuckDB SQL.

A sample's original label is the `labels` column of its manifest row, with the implicit id
`root:<sample_id>`. A correction commit appends rows to labels.lance under a fresh commit id and then
commits a manifest version whose properties name that commit id: the manifest commit is the single
point of truth, so a correction is visible at version V exactly when its commit is named by a version
<= V, and rows left by a crashed command (named by no version) are never visible."""
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

from ..errors import SynthError
from ..sample import canonical_json
from ..workspace import Workspace

LABELS_SCHEMA = pa.schema([
    ("label_id", pa.string()),
    ("sample_id", pa.string()),
    ("parents", pa.list_(pa.string())),
    ("labels", pa.string()),
    ("commit_id", pa.string()),
    ("author", pa.string()),
    ("note", pa.string()),
    ("created", pa.float64()),
    ("position", pa.int64()),
])

# versions are immutable, so what a version names never changes: cache it per manifest URI
_COMMITS_BY_VERSION: dict[str, dict[int, str | None]] = {}


def root_id(sample_id: str) -> str:
    return f"root:{sample_id}"


def labels_uri(ws: Workspace) -> str:
    return ws.manifest.uri.rsplit("/", 1)[0] + "/labels.lance"


def _labels_dataset(ws: Workspace) -> lance.LanceDataset | None:
    try:
        return lance.dataset(labels_uri(ws), storage_options=ws.manifest.storage_options)
    except (ValueError, OSError):
        return None


def visible_commits(ws: Workspace, version: int | None) -> list[str]:
    """Correction commit ids named by manifest versions <= version."""
    if version is None:
        return []
    ds = ws.manifest._dataset(required=False)
    if ds is None:
        return []
    cache = _COMMITS_BY_VERSION.setdefault(ws.manifest.uri, {})
    out = []
    for v in sorted(x["version"] for x in ds.versions()):
        if v > version:
            break
        if v not in cache:
            txn = ds.read_transaction(v)
            cache[v] = (txn.transaction_properties or {}).get("labels_commit") if txn is not None else None
        if cache[v]:
            out.append(cache[v])
    return out


def corrections(ws: Workspace, version: int | None, extra_commit: str | None = None) -> pa.Table:
    """The correction rows visible at a manifest version (plus an about-to-be-committed one)."""
    commits = visible_commits(ws, version) + ([extra_commit] if extra_commit else [])
    ds = _labels_dataset(ws)
    if ds is None or not commits:
        return LABELS_SCHEMA.empty_table()
    quoted = ", ".join("'" + c.replace("'", "") + "'" for c in commits)
    return ds.to_table(filter=f"commit_id IN ({quoted})")


def correction_ids(ws: Workspace, version: int | None, extra_commit: str | None = None) -> list[str]:
    return corrections(ws, version, extra_commit).column("label_id").to_pylist()


LEAVES_SQL = """
with nodes as (
    select sample_id, 'root:' || sample_id as label_id, labels, 0.0 as created, 0 as position from roots
    union all
    select c.sample_id, c.label_id, c.labels, c.created, c.position from corr c semi join roots using (sample_id)
), revised as (select distinct unnest(parents) as label_id from corr)
select sample_id, label_id, labels from (
    select *, row_number() over (partition by sample_id order by created desc, position desc) as rank
    from nodes anti join revised using (label_id))
where rank = 1
order by sample_id
"""


def current_labels(ws: Workspace, version: int | str | None = None) -> pa.Table:
    """(sample_id, label_id, labels) of every sample at a version: the leaf of its label DAG (the newest
    leaf where two corrections branched from the same label)."""
    v = ws.manifest.resolve(version)
    roots = ws.manifest.to_table(v, columns=["sample_id", "labels"])
    corr = corrections(ws, v)
    con = duckdb.connect()
    try:
        con.register("roots", roots)
        con.register("corr", corr)
        return con.sql(LEAVES_SQL).to_arrow_table()
    finally:
        con.close()


def with_current_labels(ws: Workspace, table: pa.Table, version: int) -> pa.Table:
    """The manifest rows of a version with their `labels` column replaced by the current labels."""
    corr = corrections(ws, version)
    if corr.num_rows == 0 or "labels" not in table.column_names:
        return table
    con = duckdb.connect()
    try:
        con.register("corr", corr)
        leaves = con.execute("""
            select sample_id, labels from (
                select *, row_number() over (partition by sample_id order by created desc, position desc) as rank
                from corr anti join (select distinct unnest(parents) as label_id from corr) using (label_id))
            where rank = 1""").fetchall()
    finally:
        con.close()
    current = dict(leaves)
    ids = table.column("sample_id").to_pylist()
    old = table.column("labels").to_pylist()
    new = pa.array([current.get(s, o) for s, o in zip(ids, old)], pa.string())
    return table.set_column(table.column_names.index("labels"), "labels", new)


def current_table(ws: Workspace, version: int | str | None = None, columns: list[str] | None = None) -> pa.Table:
    v = ws.manifest.resolve(version)
    return with_current_labels(ws, ws.manifest.to_table(v, columns=columns), v)


# -- corrections ---------------------------------------------------------------------------------

@dataclass
class Correction:
    sample_id: str
    labels: dict[str, Any]
    parents: list[str] | None = None  # default: the sample's current leaves (merging any branches)
    note: str | None = None


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
    """Validate every correction against the latest version (semi-joins in DuckDB), then append them and
    commit one version."""
    from .commit import commit

    if not items:
        raise SynthError("no corrections given", field="corrections")
    latest = ws.manifest.resolve(None)
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
    lance.write_dataset(rows.select(LABELS_SCHEMA.names).cast(LABELS_SCHEMA), labels_uri(ws), schema=LABELS_SCHEMA,
                        mode="append" if _labels_dataset(ws) is not None else "create",
                        storage_options=ws.manifest.storage_options)
    return commit(ws, None, message, operation="labels", extra={"labels_commit": commit_id,
                                                                "corrections": str(n)})


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
    to set (e.g. `class`, `objects.0.class`); optional `parents` (label ids separated by ;) and `note`."""
    path = Path(path)
    if not path.is_file():
        raise SynthError("no such file", file=str(path))
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        if "sample_id" not in fields:
            raise SynthError(f"needs a sample_id column; columns are {', '.join(fields) or 'none'}", file=str(path))
        raw = [(n + 2, r) for n, r in enumerate(reader)]
    sets = [f for f in fields if f not in ("sample_id", "labels", "parents", "note")]
    if "labels" not in fields and not sets:
        raise SynthError("needs a `labels` JSON column or label-path columns (e.g. class)", file=str(path))
    return [_correction_row(path, line, r, sets) for line, r in raw]


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


def resolve_changes(ws: Workspace, items: list[Correction]) -> list[Correction]:
    """Turn {"__replace__", "__set__"} requests into full label objects based on the current labels."""
    leaves = current_labels(ws)
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
        out.append(Correction(c.sample_id, base, c.parents, c.note))
    return out


def history(ws: Workspace, sample_id: str, version: int | str | None = None) -> list[dict[str, Any]]:
    """Every label of a sample at a version, oldest first, with parents, the version that committed it and
    whether it is a leaf (current)."""
    v = ws.manifest.resolve(version)
    row = ws.manifest.dataset(v).to_table(columns=["sample_id", "labels"], filter=_eq("sample_id", sample_id))
    if row.num_rows == 0:
        raise SynthError(f"no sample {sample_id} in version {v}", field="SAMPLE")
    corr = corrections(ws, v).filter(pc.equal(pc.field("sample_id"), sample_id)) \
        if corrections(ws, v).num_rows else LABELS_SCHEMA.empty_table()
    version_of = _commit_versions(ws, v)
    nodes = [{"label_id": root_id(sample_id), "parents": [], "labels": json.loads(row.column("labels")[0].as_py()
             or "{}"), "version": None, "author": None, "note": "original", "created": None}]
    for r in sorted(corr.to_pylist(), key=lambda r: (r["created"], r["position"])):
        nodes.append({"label_id": r["label_id"], "parents": r["parents"], "labels": json.loads(r["labels"]),
                      "version": version_of.get(r["commit_id"]), "author": r["author"], "note": r["note"],
                      "created": r["created"]})
    revised = {p for n in nodes for p in n["parents"]}
    current = current_labels_for(nodes, revised)
    for n in nodes:
        n["leaf"] = n["label_id"] not in revised
        n["current"] = n["label_id"] == current
    return nodes


def current_labels_for(nodes: list[dict[str, Any]], revised: set[str]) -> str:
    leaves = [n for n in nodes if n["label_id"] not in revised]
    return leaves[-1]["label_id"] if leaves else nodes[-1]["label_id"]


def _commit_versions(ws: Workspace, version: int) -> dict[str, int]:
    visible_commits(ws, version)
    return {c: v for v, c in _COMMITS_BY_VERSION.get(ws.manifest.uri, {}).items() if c and v <= version}


def _eq(column: str, value: str) -> str:
    return f"{column} = '{value.replace(chr(39), chr(39) * 2)}'"
