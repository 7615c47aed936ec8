"""Mix: a training view built from rows of named sources at given versions, in a chosen ratio,
optionally stratified by a label; committed as a new version whose parents are the source versions."""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

import duckdb
import lance
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from synth.errors import SynthError
from synth.data.splits import real_only_splits
from synth.store.commit import commit
from synth.store.hashing import row_hashes
from synth.store.manifest import SCHEMA
from synth.store.workspace import Workspace

ORIGINS = ("real", "synthetic")
TAKE_BATCH = 65_536  # rows fetched per Lance take while committing: bounds the mix's peak memory


MOVED_TO = "train"  # where synthetic rows of a real-only split go (policy: test is real-only by default)


@dataclass
class MixResult:
    version: int
    rows: int
    taken: dict[str, int]
    duplicates: int
    real_only: list[str] = field(default_factory=list)  # splits kept real-only (empty: synthetic allowed)
    moved_to_train: int = 0                              # synthetic rows moved out of those splits to train
    balance: dict[str, Any] | None = None                # axes, target, and each cell's rows before/after
    table_rows: dict[str, int] | None = None             # tables mixed by rows: each source's table rows

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def parse_source(text: str) -> tuple[str, str | None]:
    """`real:v3`, `synthetic:7`, `shapes:baseline` (recipe name : version or tag), or `real` (latest)."""
    name, _, version = text.partition(":")
    if not name:
        raise SynthError(f"source '{text}' needs a name: real, synthetic, a recipe name or all", field="--from")
    return name, version or None


def parse_ratio(text: str | None) -> dict[str, float]:
    if not text:
        return {}
    out = {}
    for part in text.split(","):
        key, eq, value = part.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = math.nan
        if not eq or not key or math.isnan(weight):
            raise SynthError(f"'{part}' is not NAME=WEIGHT (e.g. real=1,synthetic=3)", field="--ratio")
        if weight < 0 or math.isinf(weight):
            raise SynthError(f"weight of '{key}' is {value}; weights must be finite and >= 0", field="--ratio")
        out[key.strip()] = weight
    if out and sum(out.values()) == 0:
        raise SynthError("all weights are 0", field="--ratio")
    return out


@dataclass
class _Source:
    """One source's selection keys (sample_id, _rowoffset, labels when stratifying), not its rows."""
    dataset: lance.LanceDataset
    keys: pa.Table
    version: int


def _source_keys(ws: Workspace, name: str, version: str | None, stratify: str | None,
                 extra: tuple[str, ...] = ()) -> _Source:
    v = ws.manifest.resolve(version)
    ds = ws.manifest.dataset(v)
    # only what choosing needs; the chosen rows are fetched by offset at commit time, in batches
    columns = ["sample_id", "_rowoffset"] + (["labels"] if stratify else [])
    columns += [c for c in extra if c not in columns]
    if name == "all":
        return _Source(ds, ds.to_table(columns=columns), v)
    column = "origin" if name in ORIGINS else "recipe_name"
    # the filter runs inside Lance, so only the source's rows are read
    keys = ds.to_table(columns=columns, filter=f"{column} = '{name.replace(chr(39), chr(39) * 2)}'")
    if keys.num_rows == 0:
        table = ds.to_table(columns=["origin", "recipe_name"])
        origins = sorted(set(table.column("origin").to_pylist()))
        recipes = sorted({r for r in table.column("recipe_name").to_pylist() if r})
        raise SynthError(f"source '{name}' has no rows at version {v}; origins there: {', '.join(origins) or 'none'}; "
                         f"recipes: {', '.join(recipes) or 'none'}", field="--from")
    return _Source(ds, keys, v)


def _chosen_rows(parts: list[tuple[lance.LanceDataset, pa.Array]], real_only: tuple[str, ...],
                 moved: list[int], repeats: list[np.ndarray | None] | None = None) -> pa.RecordBatchReader:
    """The chosen rows of every source, in choice order, TAKE_BATCH rows at a time; synthetic rows in a
    real-only split are moved to train (their row hash recomputed), counted in moved[0]. A row repeated
    by balancing (repeat index k > 0) gets the sample id `<id>~r<k>` and its row hash recomputed."""
    def batches():
        for i, (ds, offsets) in enumerate(parts):
            rep = repeats[i] if repeats else None
            for start in range(0, len(offsets), TAKE_BATCH):
                # sources may be versions written under an older schema: cast to today's
                table = ds.take(offsets.slice(start, TAKE_BATCH)).cast(SCHEMA)
                if rep is not None:
                    table = _mark_repeats(table, rep[start:start + TAKE_BATCH])
                if real_only:
                    table = _move_synthetic(table, real_only, moved)
                yield from table.to_batches()
    return pa.RecordBatchReader.from_batches(SCHEMA, batches())


def _mark_repeats(table: pa.Table, repeat: np.ndarray) -> pa.Table:
    """Repeated rows get distinct sample ids (`<id>~r<k>`, same group key, so a repeat stays in its
    row's split) and their row hash recomputed."""
    hit = repeat > 0
    if not hit.any():
        return table
    table = table.combine_chunks()
    ids = [sid if k == 0 else f"{sid}~r{k}" for sid, k in zip(table.column("sample_id").to_pylist(), repeat)]
    table = table.set_column(table.column_names.index("sample_id"), "sample_id", pa.array(ids, pa.string()))
    mask = pa.array(hit)
    hashes = pc.replace_with_mask(table.column("row_hash").combine_chunks(), mask, row_hashes(table.filter(mask)))
    return table.set_column(table.column_names.index("row_hash"), "row_hash", hashes)


def _move_synthetic(table: pa.Table, real_only: tuple[str, ...], moved: list[int]) -> pa.Table:
    """Rows not of origin real whose split is real-only go to MOVED_TO; the decision depends on the row
    alone, so the same mix always moves the same rows."""
    table = table.combine_chunks()
    hit = pc.and_(pc.fill_null(pc.not_equal(table.column("origin"), "real"), True),
                  pc.fill_null(pc.is_in(table.column("split"), value_set=pa.array(real_only, pa.string())), False))
    hit = hit.combine_chunks() if isinstance(hit, pa.ChunkedArray) else hit
    n = pc.sum(hit).as_py() or 0
    if not n:
        return table
    moved[0] += n
    split = pc.if_else(hit, pa.scalar(MOVED_TO, pa.string()), table.column("split"))
    table = table.set_column(table.column_names.index("split"), "split", split)
    hashes = pc.replace_with_mask(table.column("row_hash").combine_chunks(), hit, row_hashes(table.filter(hit)))
    return table.set_column(table.column_names.index("row_hash"), "row_hash", hashes)


def quotas(available: dict[str, int], ratio: dict[str, float], max_rows: int | None) -> dict[str, int]:
    """Largest counts in the exact ratio that the sources can supply, capped at max_rows in total."""
    if not ratio:
        take = dict(available)
    else:
        scale = min(available[k] / w for k, w in ratio.items() if w > 0)
        take = {k: math.floor(scale * ratio.get(k, 0) + 1e-9) for k in available}
    total = sum(take.values())
    if max_rows is not None and total > max_rows:
        weights = ratio or {k: float(n) for k, n in available.items()}
        scale = max_rows / sum(weights.values())
        take = {k: min(take[k], math.floor(scale * weights.get(k, 0) + 1e-9)) for k in available}
    return take


def _class_of(table: pa.Table, path: str) -> list[str]:
    con = duckdb.connect()
    try:
        con.register("t", table.select(["labels"]))
        json_path = "$." + ".".join(f'"{p}"' for p in path.split("."))
        return [str(x) for (x,) in con.execute("select coalesce(json_extract_string(labels, ?), '') from t",
                                                [json_path]).fetchall()]
    finally:
        con.close()


def _pick(table: pa.Table, k: int, stratify: str | None) -> pa.Table:
    """The first k rows by sample id (ids are content/seed hashes: a fixed pseudo-random order),
    split across the stratify classes in proportion to their frequency (largest remainder)."""
    if k >= table.num_rows:
        return table
    # sort the id column alone and keep the chosen rows in scan order (a filter, no reordering of payload)
    order = pc.sort_indices(table.column("sample_id"))
    if stratify is None:
        return table.filter(_mask(table.num_rows, order.slice(0, k)))
    table = table.take(order)
    classes = pa.array(_class_of(table, stratify))
    names, counts = zip(*sorted((str(x["values"]), int(x["counts"])) for x in pc.value_counts(classes).to_pylist()))
    exact = [k * c / table.num_rows for c in counts]
    share = [math.floor(e) for e in exact]
    for i in sorted(range(len(names)), key=lambda i: (share[i] - exact[i], names[i]))[:k - sum(share)]:
        share[i] += 1
    parts = []
    for name, n in zip(names, share):
        idx = pc.indices_nonzero(pc.equal(classes, name))
        parts.append(table.take(idx.slice(0, n)))
    return pa.concat_tables(parts)


def _mask(n: int, indices: pa.Array) -> pa.Array:
    keep = np.zeros(n, bool)
    keep[indices.to_numpy()] = True
    return pa.array(keep)


DEFAULT_BINS = 4        # quantile bins of a numeric params axis without `:bins`
MISSING = "(missing)"   # the cell value of a row that lacks the axis


@dataclass(frozen=True)
class _Axis:
    """One balance axis: `label` (labels.class), `labels.<path>`, `params.<path>[:bins]` or a column."""
    text: str
    column: str           # manifest column read
    path: str | None      # path inside a JSON column (labels, params)
    bins: int | None      # quantile bins for numeric params values


def parse_axes(axes: list[str]) -> list[_Axis]:
    out = []
    for text in axes:
        text = text.strip()
        if not text:
            raise SynthError("empty balance axis", field="--balance")
        name, colon, bins_text = text.partition(":")
        bins = None
        if colon:
            if not name.startswith("params."):
                raise SynthError(f"'{text}': only params.<path> axes take :bins", field="--balance")
            if not bins_text.isdigit() or int(bins_text) < 1:
                raise SynthError(f"'{text}': bins must be a positive integer", field="--balance")
            bins = int(bins_text)
        if name == "label":
            out.append(_Axis(text, "labels", "class", None))
        elif name.startswith("labels."):
            out.append(_Axis(text, "labels", name.removeprefix("labels."), None))
        elif name.startswith("params."):
            out.append(_Axis(text, "params", name.removeprefix("params."), bins or DEFAULT_BINS))
        elif name in SCHEMA.names and name not in ("labels", "params", "payloads"):
            out.append(_Axis(text, name, None, None))
        else:  # a bare label path, as --stratify takes
            out.append(_Axis(text, "labels", name, None))
    return out


def _json_value(text: str | None, path: str) -> Any:
    """The value at a dotted path of a JSON object: a flat dotted key (params) or nested keys (labels)."""
    if not text:
        return None
    try:
        node = json.loads(text)
    except ValueError:
        return None
    if isinstance(node, dict) and path in node:
        return node[path]
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _axis_cells(table: pa.Table, axis: _Axis) -> list[str]:
    raw = table.column(axis.column).to_pylist()
    if axis.path is None:
        return [MISSING if v is None else str(v) for v in raw]
    values = [_json_value(v, axis.path) for v in raw]
    numeric = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if axis.bins is None or not numeric or len(numeric) != sum(v is not None for v in values):
        return [MISSING if v is None else v if isinstance(v, str) else json.dumps(v, sort_keys=True) for v in values]
    edges = np.unique(np.quantile(np.asarray(numeric, float), np.linspace(0, 1, axis.bins + 1)))
    names = [f"[{lo:.4g}, {hi:.4g}{']' if i == len(edges) - 2 else ')'}" for i, (lo, hi) in
             enumerate(zip(edges[:-1], edges[1:]))] or [f"[{edges[0]:.4g}, {edges[0]:.4g}]"]
    out = []
    for v in values:
        if v is None:
            out.append(MISSING)
        else:
            out.append(names[min(int(np.searchsorted(edges[1:-1], float(v), side="right")), len(names) - 1)])
    return out


def _order_key(seed: int, sample_id: str) -> str:
    return hashlib.sha256(f"{seed}:{sample_id}".encode()).hexdigest()


def balance_rows(sample_ids: list[str], cells: list[tuple[str, ...]], target: int | None, max_repeat: int,
                 seed: int = 0) -> tuple[list[tuple[int, int]], int, dict[tuple[str, ...], tuple[int, int]]]:
    """The rule: each cell's rows are ordered by sha256(seed:sample_id) (deterministic, independent of row
    order); a cell larger than the target keeps its first `target` rows; a smaller one keeps all its rows
    and repeats them, round by round in the same order, up to the target or `max_repeat` copies of each
    row, whichever comes first. The target is the median non-empty cell size unless given.
    Returns (row index, repeat index) pairs, the target, and each cell's (before, after) counts."""
    members: dict[tuple[str, ...], list[int]] = {}
    for i, cell in enumerate(cells):
        members.setdefault(cell, []).append(i)
    if target is None:
        target = max(1, math.floor(float(np.median([len(m) for m in members.values()])) + 0.5))
    chosen: list[tuple[int, int]] = []
    counts = {}
    for cell in sorted(members):
        rows = sorted(members[cell], key=lambda i: _order_key(seed, sample_ids[i]))
        n = min(target, len(rows) * max_repeat)
        picked = [(i, r) for r in range(max_repeat) for i in rows][:n]
        chosen.extend(picked)
        counts[cell] = (len(rows), len(picked))
    return chosen, target, counts


def mix(ws: Workspace, sources: list[str], ratio: str | dict[str, float] | None = None, *,
        max_rows: int | None = None, stratify: str | None = None, message: str | None = None,
        allow_synthetic_test: bool = False, balance: list[str] | None = None,
        balance_target: int | None = None, max_repeat: int = 3, seed: int = 0) -> MixResult:
    """Policy: the real-only splits (test, or those of the last `synth split`) hold real rows only; the
    mix moves synthetic rows found there to train, unless allow_synthetic_test. The mix replaces the
    newest version it saw when it started: if another process commits meanwhile, it commits nothing and
    raises ConcurrentCommit (exit 2).
    `balance` (axes such as `label`, `params.size:4`, `labels.color`, `origin`) balances the chosen rows
    over the cross product of the axes after ratio and max: see balance_rows for the seeded rule;
    repeated rows get sample ids `<id>~r<k>`."""
    if not sources:
        raise SynthError("give at least one --from NAME:VERSION", field="--from")
    if max_rows is not None and max_rows < 1:
        raise SynthError("--max must be at least 1", field="--max")
    axes = parse_axes(balance) if balance else []
    if balance_target is not None and balance_target < 1:
        raise SynthError("--balance-target must be at least 1", field="--balance-target")
    if max_repeat < 1:
        raise SynthError("--max-repeat must be at least 1", field="--max-repeat")
    weights = parse_ratio(ratio) if isinstance(ratio, str) or ratio is None else dict(ratio)
    parsed = [parse_source(s) for s in sources]
    names = [n for n, _ in parsed]
    if len(set(names)) != len(names):
        raise SynthError("each source name may appear once", field="--from")
    unknown = set(weights) - set(names)
    if unknown:
        raise SynthError(f"--ratio names {', '.join(sorted(unknown))}, which is not a --from source "
                         f"({', '.join(names)})", field="--ratio")
    if weights:
        weights = {n: weights.get(n, 0.0) for n in names}
    base = ws.manifest.resolve(None)
    real_only = () if allow_synthetic_test else real_only_splits(ws, base)
    extra = tuple(dict.fromkeys([a.column for a in axes] + (["labels", "payloads"] if weights else [])))
    sources_ = {n: _source_keys(ws, n, v, stratify, extra) for n, v in parsed}
    block_rows = {n: _table_rows(src.keys) for n, src in sources_.items()} if weights else {}
    by_rows = bool(block_rows) and all(r is not None for r in block_rows.values()) \
        and any(int(r.max()) != 1 for r in block_rows.values() if len(r))  # type: ignore[union-attr]
    if by_rows:  # a generated table's sample is a block of rows, an imported table's one row: weigh rows
        take, rows_taken = _row_quotas(sources_, block_rows, weights, max_rows)  # type: ignore[arg-type]
    else:
        take = quotas({n: src.keys.num_rows for n, src in sources_.items()}, weights, max_rows)
    empty = [n for n in names if weights.get(n, 0) > 0 and take[n] == 0]
    if empty:
        have = ", ".join(f"{n}: {sources_[n].keys.num_rows} samples"
                         + (f" ({int(block_rows[n].sum())} table rows)" if by_rows else "") for n in names)
        raise SynthError(f"--ratio {','.join(f'{k}={w:g}' for k, w in weights.items())} would take nothing from "
                         f"{', '.join(empty)} ({have}): lower the other weights, raise --max, or add rows to "
                         f"{', '.join(empty)}", field="--ratio")
    parts, seen, dupes, kept = [], pa.array([], pa.string()), 0, []
    for n in names:
        part = _pick(sources_[n].keys, take[n], stratify)
        ids = part.column("sample_id").combine_chunks()
        if len(seen):
            fresh = pc.invert(pc.is_in(ids, value_set=seen))
            dupes += len(ids) - (pc.sum(fresh).as_py() or 0)
            part, ids = part.filter(fresh), ids.filter(fresh)
        seen = pa.concat_arrays([seen, ids])
        parts.append((sources_[n].dataset, part.column("_rowoffset").combine_chunks()))
        kept.append(part)
    repeats, balanced = None, None
    if axes:
        parts, repeats, balanced = _balanced_parts(parts, kept, axes, balance_target, max_repeat, seed)
    total = sum(len(offsets) for _, offsets in parts)
    if total == 0:
        raise SynthError("the mix is empty: check --ratio and --max", field="--ratio")
    parents = sorted({src.version for src in sources_.values()})
    spec = {"sources": sources, "ratio": weights, "max": max_rows, "stratify": stratify,
            "real_only": list(real_only), "synthetic_moved_to": MOVED_TO if real_only else None}
    if balanced:
        spec["balance"] = {k: balanced[k] for k in ("axes", "target", "max_repeat", "seed")}
    msg = message or f"mix {' + '.join(f'{n}={take[n]}' for n in names)}"
    moved = [0]
    version = commit(ws, _chosen_rows(parts, real_only, moved, repeats), msg, operation="mix", replace=True, parents=parents,
                     expect_version=base, extra={"mix": json.dumps(spec)})
    return MixResult(version, total, take, dupes, list(real_only), moved[0], balanced,
                     rows_taken if by_rows else None)


def _table_rows(keys: pa.Table) -> np.ndarray | None:
    """Table rows each sample holds (a generated block: labels.rows; an imported row: 1), in the order of
    `keys`; None when the source is not all table data."""
    out = []
    for labels, payloads in zip(keys.column("labels").to_pylist(), keys.column("payloads").to_pylist()):
        pays = json.loads(payloads or "{}")
        if any(p.get("kind") == "row" for p in pays.values()):
            out.append(1)
        elif "table" in pays:  # a generated block: the `table` payload (Parquet or CSV bytes)
            rows = json.loads(labels or "{}").get("rows")
            if not isinstance(rows, int):
                return None
            out.append(rows)
        else:
            return None
    return np.asarray(out, np.int64)


def _row_quotas(sources: dict[str, _Source], block_rows: dict[str, np.ndarray], weights: dict[str, float],
                max_rows: int | None) -> tuple[dict[str, int], dict[str, int]]:
    """Samples to take from each table source so that its *table rows* come near the ratio (--max counts
    table rows). Blocks are indivisible: a block source takes the number of blocks (in the order _pick
    takes them) whose rows come closest to its row quota, at least one when weighted; row sources are then
    trimmed to the ratio against the rows the blocks give. A result more than 2x off the ratio is refused.
    Returns (samples, table rows) per source."""
    available = {n: int(r.sum()) for n, r in block_rows.items()}
    row_take = quotas(available, weights, max_rows)
    cums = {n: np.cumsum(block_rows[n][np.asarray(pc.sort_indices(src.keys.column("sample_id")))])
            for n, src in sources.items()}
    blocks = [n for n in sources if len(block_rows[n]) and int(block_rows[n].max()) > 1]
    rows = dict(row_take)
    for n in blocks:
        cum = np.concatenate([[0], cums[n]])
        k = int(np.argmin(np.abs(cum - row_take[n])))
        rows[n] = int(cum[max(k, 1 if weights.get(n, 0) > 0 else 0)])
    weighted = [n for n in blocks if weights.get(n, 0) > 0]
    if weighted:
        scale = min(rows[n] / weights[n] for n in weighted)
        for n in sources:
            if n not in blocks:
                rows[n] = min(available[n], math.floor(scale * weights.get(n, 0) + 1e-9))
    total = sum(rows.values())
    asked = sum(weights.values())
    off = [n for n in sources if weights.get(n, 0) > 0 and total and
           not 0.5 <= (rows[n] / total) / (weights[n] / asked) <= 2]
    if max_rows is not None and total > max_rows:
        off = [n for n in blocks if rows[n]]
    if off:
        sizes = ", ".join(f"{n}: {available[n]} table rows" + (f" in blocks of {int(block_rows[n].max())}"
                                                               if n in blocks else "") for n in sources)
        raise SynthError(f"--ratio {','.join(f'{k}={w:g}' for k, w in weights.items())} cannot be met by table "
                         f"rows ({sizes}; a generated block is not split): the closest mix is "
                         f"{', '.join(f'{n}={rows[n]}' for n in sources)} rows"
                         + (f", over --max {max_rows}" if max_rows is not None and total > max_rows else "")
                         + ". Generate more or smaller blocks "
                         "(rows_per_sample), or change the ratio", field="--ratio")
    take = {n: int(np.searchsorted(cums[n], rows[n], side="right")) for n in sources}
    return take, {n: int(cums[n][take[n] - 1]) if take[n] else 0 for n in sources}


def _balanced_parts(parts: list[tuple[lance.LanceDataset, pa.Array]], kept: list[pa.Table], axes: list[_Axis],
                    target: int | None, max_repeat: int, seed: int) \
        -> tuple[list[tuple[lance.LanceDataset, pa.Array]], list[np.ndarray], dict[str, Any]]:
    """The parts after balancing, each source's rows in their chosen order (repeats after the original),
    with the repeat index of every row, and the report of cells before/after."""
    keys = pa.concat_tables([t.select(["sample_id"] + list(dict.fromkeys(a.column for a in axes))) for t in kept])
    source_of = np.concatenate([np.full(t.num_rows, i) for i, t in enumerate(kept)])
    per_axis = [_axis_cells(keys, a) for a in axes]
    cells = list(zip(*per_axis))
    chosen, target, counts = balance_rows(keys.column("sample_id").to_pylist(), cells, target, max_repeat, seed)
    chosen.sort(key=lambda c: (c[1], c[0]))  # originals in mix order, then each round of repeats
    starts = np.cumsum([0] + [t.num_rows for t in kept])
    out_parts, out_repeats = [], []
    for s, (ds, offsets) in enumerate(parts):
        mine = [(i - starts[s], r) for i, r in chosen if source_of[i] == s]
        idx = pa.array([i for i, _ in mine], pa.int64())
        out_parts.append((ds, offsets.take(idx)))
        out_repeats.append(np.array([r for _, r in mine], np.int64))
    report = {"axes": [a.text for a in axes], "target": target, "max_repeat": max_repeat, "seed": seed,
              "cells_before": len(counts), "repeated": sum(1 for _, r in chosen if r > 0),
              "cells": [{"cell": dict(zip([a.text for a in axes], cell)), "before": b, "after": a}
                        for cell, (b, a) in sorted(counts.items())]}
    return out_parts, out_repeats, report
