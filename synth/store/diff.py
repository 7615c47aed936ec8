"""Diff of two versions: rows added/removed/changed, labels changed (current labels at each version),
and per-split and per-class counts before and after; computed in DuckDB."""
from __future__ import annotations

import os
from typing import Any

import duckdb
import pyarrow as pa

from synth.errors import SynthError
from synth.store.workspace import Workspace
from synth.store.lineage import with_current_labels

COLUMNS = ["sample_id", "row_hash", "split", "labels"]

CLASS_SQL = """
with objs as (select unnest(json_extract_string(labels, '$.objects[*].class')) as cls from {t}
              where json_type(labels, '$.objects') = 'ARRAY'),
     flat as (select json_extract_string(labels, '$.class') as cls from {t} where labels like '%"class"%')
select cls, count(*) from (select cls from objs union all select cls from flat) where cls is not null group by 1
"""


def _side(ws: Workspace, version: int | str) -> tuple[pa.Table, int]:
    v = ws.manifest.resolve(version)
    return with_current_labels(ws, ws.manifest.to_table(v, columns=COLUMNS), v), v


def same_workspace(a: Workspace, b: Workspace) -> bool:
    return os.path.realpath(a.manifest.uri) == os.path.realpath(b.manifest.uri) if "://" not in a.manifest.uri \
        else a.manifest.uri == b.manifest.uri


def diff(ws: Workspace, a: int | str, b: int | str, other: Workspace | None = None, examples: int = 10) -> dict[str, Any]:
    if other is not None and not same_workspace(ws, other):
        raise SynthError(f"versions of different workspaces cannot be diffed ({ws.root} vs {other.root}): "
                         "version numbers belong to one workspace's history", field="VERSION")
    ta, va = _side(ws, a)
    tb, vb = _side(ws, b)
    con = duckdb.connect()
    try:
        con.register("a", ta)
        con.register("b", tb)
        out = {"a": va, "b": vb, "rows": {"a": ta.num_rows, "b": tb.num_rows}, **_compare(con, examples)}
    finally:
        con.close()
    return out


def _compare(con: duckdb.DuckDBPyConnection, examples: int) -> dict[str, Any]:
    """One full outer join on sample_id gives every count; classes of b are those of a corrected by the
    rows whose labels differ, so label JSON is parsed once per side only where it matters."""
    con.execute("""create temp table j as
        select coalesce(a.sample_id, b.sample_id) as sample_id, a.sample_id is null as added,
               b.sample_id is null as removed, a.labels is distinct from b.labels as relabeled,
               a.row_hash <> b.row_hash as changed, a.split is distinct from b.split as moved
        from a full outer join b on a.sample_id = b.sample_id""")
    added, removed, changed, moved, relabeled = con.execute("""
        select count_if(added), count_if(removed), count_if(changed), count_if(moved and not added and not removed),
               count_if(relabeled and not added and not removed) from j""").fetchone()

    def ids(where: str) -> list[str]:
        return [r[0] for r in con.execute(f"select sample_id from j where {where} order by 1 limit {int(examples)}")
                .fetchall()]

    classes_a = dict(con.execute(CLASS_SQL.format(t="a")).fetchall())
    gone = dict(con.execute(CLASS_SQL.format(t="(select a.labels from a semi join (select sample_id from j "
                                             "where removed or relabeled) d using (sample_id))")).fetchall())
    new = dict(con.execute(CLASS_SQL.format(t="(select b.labels from b semi join (select sample_id from j "
                                            "where added or relabeled) d using (sample_id))")).fetchall())
    classes_b = {k: classes_a.get(k, 0) - gone.get(k, 0) + new.get(k, 0) for k in set(classes_a) | set(new)}
    split_sql = "select coalesce(split, '-'), count(*) from {t} group by 1"
    return {
        "added": int(added), "removed": int(removed), "changed": int(changed), "split_moved": int(moved),
        "labels_changed": int(relabeled),
        "splits": _pair(dict(con.execute(split_sql.format(t="a")).fetchall()),
                        dict(con.execute(split_sql.format(t="b")).fetchall())),
        "classes": _pair(classes_a, {k: n for k, n in classes_b.items() if n}),
        "examples": {"added": ids("added"), "removed": ids("removed"),
                     "labels_changed": ids("relabeled and not added and not removed")},
    }


def _pair(before: dict[Any, int], after: dict[Any, int]) -> dict[str, dict[str, int]]:
    return {str(k): {"a": int(before.get(k, 0)), "b": int(after.get(k, 0))}
            for k in sorted(set(before) | set(after), key=str)}
