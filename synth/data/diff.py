"""Diff of two versions: rows added/removed/changed, labels changed (current labels at each version),
and per-split and per-class counts before and after; computed in DuckDB."""
from __future__ import annotations

import os
from typing import Any

import duckdb
import pyarrow as pa

from ..errors import SynthError
from ..workspace import Workspace
from .lineage import with_current_labels

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
        q = con.execute
        added = q("select count(*) from b anti join a using (sample_id)").fetchone()[0]
        removed = q("select count(*) from a anti join b using (sample_id)").fetchone()[0]
        changed = q("select count(*) from a join b using (sample_id) where a.row_hash <> b.row_hash").fetchone()[0]
        relabeled = q("select a.sample_id from a join b using (sample_id) where a.labels is distinct from b.labels "
                      "order by 1").fetchall()
        moved = q("select count(*) from a join b using (sample_id) where a.split is distinct from b.split").fetchone()[0]
        out = {
            "a": va, "b": vb, "rows": {"a": ta.num_rows, "b": tb.num_rows},
            "added": int(added), "removed": int(removed), "changed": int(changed), "split_moved": int(moved),
            "labels_changed": len(relabeled),
            "splits": _before_after(q, "select coalesce(split, '-'), count(*) from {t} group by 1"),
            "classes": _before_after(q, CLASS_SQL),
            "examples": {
                "added": [r[0] for r in q(f"select sample_id from b anti join a using (sample_id) order by 1 "
                                          f"limit {examples}").fetchall()],
                "removed": [r[0] for r in q(f"select sample_id from a anti join b using (sample_id) order by 1 "
                                            f"limit {examples}").fetchall()],
                "labels_changed": [r[0] for r in relabeled[:examples]]},
        }
    finally:
        con.close()
    return out


def _before_after(q: Any, sql: str) -> dict[str, dict[str, int]]:
    before = dict(q(sql.format(t="a")).fetchall())
    after = dict(q(sql.format(t="b")).fetchall())
    return {str(k): {"a": int(before.get(k, 0)), "b": int(after.get(k, 0))}
            for k in sorted(set(before) | set(after), key=str)}
