"""Tabular corruption: VIME (Yoon et al. 2020) and SCARF (Bahri et al. 2022).

Both replace cells with values of the same column taken from other rows, so a task needs more than one
row. It works on a table block (a Parquet `bytes` payload: corruption within the block) or on a single
`row` payload with a reference pool: the rows of the manifest version (`synth ssl apply` sets it), or
`params.reference`, a Parquet/CSV file. The `mask` target marks exactly the cells whose value changed;
a draw that picks an equal value leaves the cell unchanged and unmarked.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from synth.errors import SynthError
from synth import Payload, Sample, array, row

from .base import Task, TaskParams, parquet_bytes, read_parquet, table_block_name

# (rng, rows, columns) -> boolean matrix of cells to replace
CellPicker = Callable[[np.random.Generator, int, int], np.ndarray]


class TabularParams(TaskParams):
    columns: list[str] | None = Field(None, description="Columns to corrupt (e.g. leave out the target); "
                                                        "default: all columns.")
    reference: str | None = Field(None, description="Parquet or CSV file of rows to draw replacement values from "
                                                    "when the sample is a single row; default: the pool given "
                                                    "by `synth ssl apply` (the whole manifest version).")


class TabularCorruption(Task):
    """Shared flow; subclasses say which cells to replace (`pick`)."""

    modalities = ("table",)
    pool: pa.Table | None = None
    # VIME permutes each column; SCARF draws each replacement from a random row independently
    independent_draws = False

    def use_pool(self, table: pa.Table) -> TabularCorruption:
        """Rows to draw replacement values from when samples carry a single `row` payload."""
        self.pool = table
        return self

    def pick(self, p: Any) -> CellPicker:
        raise NotImplementedError

    def run(self, sample: Sample, p: Any, rng: np.random.Generator) -> dict[str, Any]:
        block = table_block_name(sample)
        if block is not None:
            return self._run_block(sample, block, p, rng)
        payload = sample.payloads.get("row")
        if payload is None or payload.kind != "row":
            raise self.refuse(sample, "a table block (Parquet 'bytes' payload) or a 'row' payload")
        return self._run_row(sample, dict(payload.data), p, rng)

    def _columns(self, available: list[str], p: Any) -> list[str]:
        cols = p.columns if p.columns is not None else available
        missing = [c for c in cols if c not in available]
        if missing:
            raise SynthError(f"column '{missing[0]}' is not in the table; columns: {', '.join(available)}",
                             field=f"ssl.{self.name}.params.columns")
        return cols

    def _run_block(self, sample: Sample, name: str, p: Any, rng: np.random.Generator) -> dict[str, Any]:
        table = read_parquet(sample.payloads[name].data)
        cols = self._columns(table.column_names, p)
        n = table.num_rows
        if n < 2:
            raise SynthError(f"table block '{name}' has {n} row; corruption draws values from other rows",
                             field=f"ssl.{self.name}")
        replace = self.pick(p)(rng, n, len(cols))
        changed = np.zeros((n, len(cols)), dtype=np.uint8)
        for j, col in enumerate(cols):
            source = rng.integers(0, n, size=n) if self.independent_draws else rng.permutation(n)
            original = table.column(col)
            donor = original.take(pa.array(source))
            new = pc.if_else(pa.array(replace[:, j]), donor, original)
            changed[:, j] = ~_same(new, original)
            table = table.set_column(table.column_names.index(col), col, new)
        corrupted = Payload("bytes", parquet_bytes(table), format="parquet")
        return {
            "columns": cols,
            "num_rows": n,
            "num_changed": int(changed.sum()),
            "original": name,
            "payloads": {"corrupted": self.put(sample, "corrupted", corrupted),
                         "mask": self.put(sample, "mask", array(changed))},
        }

    def _run_row(self, sample: Sample, values: dict[str, Any], p: Any, rng: np.random.Generator) -> dict[str, Any]:
        pool, pool_id = self._pool(p)
        cols = self._columns(list(values), p)
        absent = [c for c in cols if c not in pool.column_names]
        if absent:
            raise SynthError(f"reference pool has no column '{absent[0]}'", field=f"ssl.{self.name}.params.reference")
        replace = self.pick(p)(rng, 1, len(cols))[0]
        donors = rng.integers(0, pool.num_rows, size=len(cols))
        corrupted, mask, original = dict(values), [], {}
        for j, col in enumerate(cols):
            new = pool.column(col)[int(donors[j])].as_py() if replace[j] else values[col]
            differs = not _same_value(new, values[col])
            mask.append(int(differs))
            if differs:
                corrupted[col] = new
                original[col] = values[col]
        return {
            "columns": cols,
            "mask": mask,
            "original": original,
            "donor_rows": [int(d) if r else None for d, r in zip(donors, replace)],
            "pool": pool_id,
            "payloads": {"row": self.put(sample, "row", row(corrupted))},
        }

    def _pool(self, p: Any) -> tuple[pa.Table, dict[str, Any]]:
        if p.reference is not None:
            path = Path(p.reference)
            if not path.is_file():
                raise SynthError(f"reference file {path} does not exist", field=f"ssl.{self.name}.params.reference")
            data = path.read_bytes()
            table = _read_reference(path, data)
            return table, {"source": str(path), "sha256": hashlib.sha256(data).hexdigest(), "rows": table.num_rows}
        if self.pool is None or self.pool.num_rows < 2:
            raise SynthError(f"'{self.name}' on a single 'row' payload needs other rows for its column-wise "
                             f"draws: give params.reference (Parquet/CSV), use a table scene that renders blocks, "
                             f"or run `synth ssl apply`, which uses the whole version as the pool",
                             field=f"ssl.{self.name}")
        return self.pool, {"source": "version", "rows": self.pool.num_rows}


def _read_reference(path: Path, data: bytes) -> pa.Table:
    if path.suffix.lower() == ".csv":
        import io

        import pyarrow.csv as pacsv
        return pacsv.read_csv(io.BytesIO(data))
    return read_parquet(data)


def _same(a: pa.Array | pa.ChunkedArray, b: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Elementwise equality where null == null and NaN == NaN (a value copied onto itself is no change)."""
    eq = pc.fill_null(pc.equal(a, b), False)
    eq = pc.or_(eq, pc.and_(pc.is_null(a), pc.is_null(b)))
    if pa.types.is_floating(a.type):
        eq = pc.or_(eq, pc.fill_null(pc.and_(pc.is_nan(a), pc.is_nan(b)), False))
    return np.asarray(eq.to_numpy(zero_copy_only=False), dtype=bool)


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return bool(a == b)


class VimeParams(TabularParams):
    mask_prob: float = Field(0.3, gt=0, lt=1, description="p_m, the Bernoulli probability that a cell is "
                                                          "corrupted (paper's experiments: 0.3).")


class Vime(TabularCorruption):
    """VIME: each cell is replaced with probability p_m by the value of the column-wise permuted table."""

    name = "vime"
    version = "1"
    Params = VimeParams

    def pick(self, p: VimeParams) -> CellPicker:
        return lambda rng, n, d: rng.random((n, d)) < p.mask_prob


class ScarfParams(TabularParams):
    corruption_rate: float = Field(0.6, gt=0, lt=1, description="Fraction of a row's features replaced "
                                                                "(paper: 0.6), floor(rate * features) per row.")


class Scarf(TabularCorruption):
    """SCARF: per row, a random subset of floor(rate * d) features takes values from other random rows
    (draws from each feature's empirical marginal)."""

    name = "scarf"
    version = "1"
    Params = ScarfParams
    independent_draws = True

    def pick(self, p: ScarfParams) -> CellPicker:
        def cells(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
            k = int(np.floor(p.corruption_rate * d))
            chosen = np.argsort(rng.random((n, d)), axis=1)[:, :k]
            out = np.zeros((n, d), dtype=bool)
            np.put_along_axis(out, chosen, True, axis=1)
            return out
        return cells
