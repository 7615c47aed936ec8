"""Label lineage: corrections are rows of a separate Lance dataset `labels.lance` that point to the
label(s) they revise (a DAG); the current labels are its leaves, selected with DuckDB SQL.

A sample's original label is the `labels` column of its manifest row, with the implicit id
`root:<sample_id>`. A correction commit appends rows to labels.lance under a fresh commit id and then
commits a manifest version whose properties name that commit id: the manifest commit is the single
point of truth, so a correction is visible at version V exactly when its commit is named by a version
<= V, and rows left by a crashed command (named by no version) are never visible."""
from __future__ import annotations

import json
from typing import Any

import duckdb
import lance
import pyarrow as pa
import pyarrow.compute as pc

from synth.errors import SynthError
from synth.store.workspace import Workspace

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


def labels_dataset(ws: Workspace) -> lance.LanceDataset | None:
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
    ds = labels_dataset(ws)
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
