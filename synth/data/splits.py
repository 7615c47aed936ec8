"""Leak-free splits: a row's split is a hash of its group key (so all rows of a source photo, recipe
variant or speaker land together, and adding data never moves old rows), and splits named real-only
(test by default) hold real rows only, because a model must be evaluated on real data."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from synth.core.names import check_name
from synth.errors import SynthError
from synth.store.workspace import Workspace
from synth.store.commit import commit
from synth.store.hashing import row_hashes

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
    leaking_groups: list[dict[str, Any]] = field(default_factory=list)  # group present in two splits (first few)
    leaking_total: int = 0                                               # all such groups
    synthetic_in: dict[str, int] = field(default_factory=dict)          # real-only split -> synthetic rows
    real_rows: int = 0  # the real-only rule applies only to a version that holds real rows

    @property
    def ok(self) -> bool:
        return not self.leaking_total and not any(self.synthetic_in.values())

    @property
    def hint(self) -> str | None:
        """How to satisfy the real-only rule, when it is broken."""
        if not any(self.synthetic_in.values()):
            return None
        splits = ",".join(s for s, n in self.synthetic_in.items() if n)
        return (f"run `synth split` to move synthetic rows out of {splits} (it stays real-only), or "
                f"`synth split --real-only ''` if synthetic rows may be evaluated on")

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "ok": self.ok, "leaking_groups": self.leaking_groups,
                "leaking_total": self.leaking_total, "real_rows": self.real_rows,
                "synthetic_in": self.synthetic_in, "hint": self.hint}


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
        out[check_name(name.strip(), "split name")] = f
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
    unknown = set(real_only) - set(fractions)
    if unknown:
        raise SynthError(f"real-only split(s) {', '.join(sorted(unknown))} are not among {', '.join(fractions)}",
                         field="--real-only")
    base = ws.manifest.resolve(None)
    table = ws.manifest.to_table(base)
    keys = group_keys(table, group_key)
    origins = table.column("origin").to_pylist()
    split = bulk_assign(keys, fractions)
    open_splits = {n: f for n, f in fractions.items() if n not in real_only}
    total = sum(open_splits.values())
    real_groups = {(k, s) for k, s, o in zip(keys, split, origins) if o == "real" and s in real_only}
    moved = [i for i, (s, o) in enumerate(zip(split, origins)) if o != "real" and s in real_only]
    redrawn = bulk_assign([keys[i] for i in moved], {n: f / total for n, f in open_splits.items()}) if total else []
    for j, i in enumerate(moved):
        # moving a row whose group has real rows in the real-only split would put that group in two splits
        split[i] = EXCLUDED if (keys[i], split[i]) in real_groups or not total else redrawn[j]
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


def bulk_assign(keys: list[str], fractions: dict[str, float]) -> list[str]:
    """`plan.assign_split` for many keys in one DuckDB pass: the same 52-bit prefix of sha256(key) against
    the same running sums of the fractions."""
    names = list(fractions)
    if not keys or len(names) == 1:
        return [names[0]] * len(keys)
    bounds, acc = [], 0.0
    for name in names[:-1]:
        acc += fractions[name]
        bounds.append(acc)
    cases = " ".join(f"when u < {b!r} then {i}" for i, b in enumerate(bounds))
    con = duckdb.connect()
    try:
        con.register("k", pa.table({"key": pa.array(keys, pa.string())}))
        picked = con.sql(f"""select case {cases} else {len(names) - 1} end from (
            select cast(('0x' || left(sha256(key), 13))::bigint as double) / {float(1 << 52)!r} as u from k)""")
        index = picked.to_arrow_table().column(0).to_numpy()
    finally:
        con.close()
    return [names[i] for i in index]


def _with_split(table: pa.Table, split: list[str], keys: list[str]) -> pa.Table:
    table = table.combine_chunks()
    new_split, new_keys = pa.array(split, pa.string()), pa.array(keys, pa.string())
    changed = pc.or_(pc.fill_null(pc.not_equal(table.column("split"), new_split), True),
                     pc.fill_null(pc.not_equal(table.column("group_key"), new_keys), True)).combine_chunks()
    table = table.set_column(table.column_names.index("split"), "split", new_split)
    table = table.set_column(table.column_names.index("group_key"), "group_key", new_keys)
    hashes = table.column("row_hash").combine_chunks()
    if pc.any(changed).as_py():
        hashes = pc.replace_with_mask(hashes, changed, row_hashes(table.filter(changed)))
    return table.set_column(table.column_names.index("row_hash"), "row_hash", hashes)


def check(ws: Workspace, version: int | str | None = None, real_only: tuple[str, ...] | None = None,
          limit: int = 20) -> SplitCheck:
    """Groups (group_key) present in more than one split, and synthetic rows in real-only splits. A version
    without real rows (synthetic only, as generated) has no real-only rule to break: its test split is
    whatever the recipe's `split:` made it."""
    v = ws.manifest.resolve(version)
    if real_only is None:
        real_only = real_only_splits(ws, v)
    table = ws.manifest.to_table(v, columns=["sample_id", "group_key", "split", "origin"])
    con = duckdb.connect()
    try:
        con.register("t", table)
        con.execute(f"""create temp table leaks as
            select coalesce(group_key, sample_id) as g, list(distinct split order by split) as splits, count(*) as n
            from t where split is distinct from '{EXCLUDED}' group by 1 having count(distinct split) > 1""")
        total = con.execute("select count(*) from leaks").fetchone()[0]
        leaks = con.execute(f"select * from leaks order by g limit {int(limit)}").fetchall()
        synthetic = dict(con.execute("select split, count(*) from t where origin <> 'real' group by 1").fetchall())
        real = con.execute("select count(*) from t where origin = 'real'").fetchone()[0]
    finally:
        con.close()
    return SplitCheck(v, [{"group": g, "splits": s, "rows": n} for g, s, n in leaks], int(total),
                      {s: int(synthetic.get(s, 0)) for s in real_only} if real else {}, int(real))


def real_only_splits(ws: Workspace, version: int) -> tuple[str, ...]:
    """The real-only splits of the last split commit at or before version (default: test)."""
    ds = ws.manifest._dataset()
    for v in sorted((x["version"] for x in ds.versions() if x["version"] <= version), reverse=True):
        txn = ds.read_transaction(v)
        props = (txn.transaction_properties or {}) if txn is not None else {}
        if props.get("operation") == "split":
            return tuple(p for p in props.get("real_only", "").split(",") if p)
    return ("test",)
