"""Mix: a training view built from rows of named sources at given versions, in a chosen ratio,
optionally stratified by a label; committed as a new version whose parents are the source versions."""
from __future__ import annotations

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


def _source_keys(ws: Workspace, name: str, version: str | None, stratify: str | None) -> _Source:
    v = ws.manifest.resolve(version)
    ds = ws.manifest.dataset(v)
    # only what choosing needs; the chosen rows are fetched by offset at commit time, in batches
    columns = ["sample_id", "_rowoffset"] + (["labels"] if stratify else [])
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
                 moved: list[int]) -> pa.RecordBatchReader:
    """The chosen rows of every source, in choice order, TAKE_BATCH rows at a time; synthetic rows in a
    real-only split are moved to train (their row hash recomputed), counted in moved[0]."""
    def batches():
        for ds, offsets in parts:
            for start in range(0, len(offsets), TAKE_BATCH):
                # sources may be versions written under an older schema: cast to today's
                table = ds.take(offsets.slice(start, TAKE_BATCH)).cast(SCHEMA)
                if real_only:
                    table = _move_synthetic(table, real_only, moved)
                yield from table.to_batches()
    return pa.RecordBatchReader.from_batches(SCHEMA, batches())


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
        return [str(x) for (x,) in con.execute(f"select coalesce(json_extract_string(labels, ?), '') from t",
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


def mix(ws: Workspace, sources: list[str], ratio: str | dict[str, float] | None = None, *,
        max_rows: int | None = None, stratify: str | None = None, message: str | None = None,
        allow_synthetic_test: bool = False) -> MixResult:
    """Policy: the real-only splits (test, or those of the last `synth split`) hold real rows only; the
    mix moves synthetic rows found there to train, unless allow_synthetic_test. The mix replaces the
    newest version it saw when it started: if another process commits meanwhile, it commits nothing and
    raises ConcurrentCommit (exit 2)."""
    if not sources:
        raise SynthError("give at least one --from NAME:VERSION", field="--from")
    if max_rows is not None and max_rows < 1:
        raise SynthError("--max must be at least 1", field="--max")
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
    sources_ = {n: _source_keys(ws, n, v, stratify) for n, v in parsed}
    take = quotas({n: src.keys.num_rows for n, src in sources_.items()}, weights, max_rows)
    parts, seen, dupes = [], pa.array([], pa.string()), 0
    for n in names:
        part = _pick(sources_[n].keys, take[n], stratify)
        ids = part.column("sample_id").combine_chunks()
        if len(seen):
            fresh = pc.invert(pc.is_in(ids, value_set=seen))
            dupes += len(ids) - (pc.sum(fresh).as_py() or 0)
            part, ids = part.filter(fresh), ids.filter(fresh)
        seen = pa.concat_arrays([seen, ids])
        parts.append((sources_[n].dataset, part.column("_rowoffset").combine_chunks()))
    total = sum(len(offsets) for _, offsets in parts)
    if total == 0:
        raise SynthError("the mix is empty: check --ratio and --max", field="--ratio")
    parents = sorted({src.version for src in sources_.values()})
    spec = {"sources": sources, "ratio": weights, "max": max_rows, "stratify": stratify,
            "real_only": list(real_only), "synthetic_moved_to": MOVED_TO if real_only else None}
    msg = message or f"mix {' + '.join(f'{n}={take[n]}' for n in names)}"
    moved = [0]
    version = commit(ws, _chosen_rows(parts, real_only, moved), msg, operation="mix", replace=True, parents=parents,
                     expect_version=base, extra={"mix": json.dumps(spec)})
    return MixResult(version, total, take, dupes, list(real_only), moved[0])
