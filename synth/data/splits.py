"""Leak-free splits: a row's split is a hash of its group key (so all rows of a source photo, recipe
variant or speaker land together, and adding data never moves old rows), and splits named real-only
(test by default) hold real rows only, because a model must be evaluated on real data."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from ..errors import SynthError
from ..manifest import HASHED, row_hash
from ..plan import assign_split
from ..workspace import Workspace

EXCLUDED = "excluded"  # synthetic rows that share a group with real rows of a real-only split
COLUMNS = ("sample_id", "group_key", "source", "recipe_name", "recipe_hash", "scene", "origin")


@dataclass
class SplitResult:
    version: int
    counts: dict[str, dict[str, int]]  # split -> origin -> rows
    excluded: int

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class SplitCheck:
    version: int
    leaking_groups: list[dict[str, Any]] = field(default_factory=list)  # group present in two splits
    synthetic_in: dict[str, int] = field(default_factory=dict)          # real-only split -> synthetic rows

    @property
    def ok(self) -> bool:
        return not self.leaking_groups and not any(self.synthetic_in.values())

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "ok": self.ok, "leaking_groups": self.leaking_groups,
                "synthetic_in": self.synthetic_in}


def parse_fractions(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for part in text.split(","):
        name, eq, value = part.partition("=")
        try:
            f = float(value)
        except ValueError:
            raise SynthError(f"'{part}' is not NAME=FRACTION (e.g. train=0.8,val=0.1,test=0.1)",
                             field="--fractions") from None
        if not eq or not name or not 0 <= f <= 1:
            raise SynthError(f"'{part}': fractions are NAME=F with 0 <= F <= 1", field="--fractions")
        out[name.strip()] = f
    if abs(sum(out.values()) - 1) > 1e-6:
        raise SynthError(f"fractions sum to {sum(out.values()):.6g}, not 1", field="--fractions")
    return out


def group_keys(table: pa.Table, key: str) -> list[str]:
    """The group key of each row: a manifest column, or labels.PATH / params.PATH from the JSON columns;
    rows without one fall back to their sample id (a group of one)."""
    if key in COLUMNS:
        expr = f'cast("{key}" as varchar)'
    elif key.startswith(("labels.", "params.")):
        col, _, path = key.partition(".")
        # params are flat with dotted names; labels are nested
        json_path = f'$."{path}"' if col == "params" else "$." + ".".join(f'"{p}"' for p in path.split("."))
        expr = f"json_extract_string({col}, '{json_path}')"
    else:
        raise SynthError(f"unknown group key '{key}'; use one of {', '.join(COLUMNS)}, labels.PATH or params.PATH",
                         field="--group-key")
    con = duckdb.connect()
    try:
        con.register("t", table)
        return [k for (k,) in con.execute(f"select coalesce({expr}, sample_id) from t").fetchall()]
    finally:
        con.close()


def assign_splits(ws: Workspace, fractions: dict[str, float], *, group_key: str = "sample_id",
                  real_only: tuple[str, ...] = ("test",), message: str | None = None) -> SplitResult:
    from .commit import commit

    unknown = set(real_only) - set(fractions)
    if unknown:
        raise SynthError(f"real-only split(s) {', '.join(sorted(unknown))} are not among {', '.join(fractions)}",
                         field="--real-only")
    base = ws.manifest.resolve(None)
    table = ws.manifest.to_table(base)
    keys = group_keys(table, group_key)
    origins = table.column("origin").to_pylist()
    split = [assign_split(k, fractions) for k in keys]
    open_splits = {n: f for n, f in fractions.items() if n not in real_only}
    total = sum(open_splits.values())
    real_groups = {(k, s) for k, s, o in zip(keys, split, origins) if o == "real" and s in real_only}
    for i, (k, s, o) in enumerate(zip(keys, split, origins)):
        if o != "real" and s in real_only:
            if (k, s) in real_groups or not total:
                split[i] = EXCLUDED  # moving it elsewhere would put its group in two splits
            else:
                split[i] = assign_split(k, {n: f / total for n, f in open_splits.items()})
    rows = _with_split(table, split, keys)
    spec = ",".join(f"{n}={f}" for n, f in fractions.items())
    msg = message or f"split {spec} by {group_key}, real-only: {', '.join(real_only) or 'none'}"
    version = commit(ws, rows, msg, operation="split", replace=True, expect_version=base,
                     extra={"split": spec, "group_key": group_key, "real_only": ",".join(real_only)})
    counts: dict[str, dict[str, int]] = {}
    for s, o in zip(split, origins):
        counts.setdefault(s, {}).setdefault(o, 0)
        counts[s][o] += 1
    return SplitResult(version, counts, split.count(EXCLUDED))


def _with_split(table: pa.Table, split: list[str], keys: list[str]) -> pa.Table:
    old_split = table.column("split").to_pylist()
    old_keys = table.column("group_key").to_pylist()
    hashes = table.column("row_hash").to_pylist()
    changed = [i for i in range(table.num_rows) if old_split[i] != split[i] or old_keys[i] != keys[i]]
    table = table.set_column(table.column_names.index("split"), "split", pa.array(split, pa.string()))
    table = table.set_column(table.column_names.index("group_key"), "group_key", pa.array(keys, pa.string()))
    if changed:
        sub = table.take(pa.array(changed, pa.int64())).select(HASHED).to_pylist()
        for i, r in zip(changed, sub):
            hashes[i] = row_hash(r)
    return table.set_column(table.column_names.index("row_hash"), "row_hash", pa.array(hashes, pa.string()))


def check(ws: Workspace, version: int | str | None = None, real_only: tuple[str, ...] | None = None,
          limit: int = 20) -> SplitCheck:
    """Groups (group_key) present in more than one split, and synthetic rows in real-only splits."""
    v = ws.manifest.resolve(version)
    if real_only is None:
        real_only = _policy(ws, v)
    table = ws.manifest.to_table(v, columns=["sample_id", "group_key", "split", "origin"])
    con = duckdb.connect()
    try:
        con.register("t", table)
        leaks = con.execute(f"""
            select coalesce(group_key, sample_id) as g, list(distinct split order by split) as splits, count(*) as n
            from t where split is distinct from '{EXCLUDED}' group by 1 having count(distinct split) > 1
            order by 1 limit {int(limit)}""").fetchall()
        synthetic = dict(con.execute("select split, count(*) from t where origin <> 'real' group by 1").fetchall())
    finally:
        con.close()
    return SplitCheck(v, [{"group": g, "splits": s, "rows": n} for g, s, n in leaks],
                      {s: int(synthetic.get(s, 0)) for s in real_only})


def _policy(ws: Workspace, version: int) -> tuple[str, ...]:
    """The real-only splits of the last split commit at or before version (default: test)."""
    ds = ws.manifest._dataset()
    for v in sorted((x["version"] for x in ds.versions() if x["version"] <= version), reverse=True):
        txn = ds.read_transaction(v)
        props = (txn.transaction_properties or {}) if txn is not None else {}
        if props.get("operation") == "split":
            return tuple(p for p in props.get("real_only", "").split(",") if p)
    return ("test",)
