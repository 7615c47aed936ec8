"""VIME / SCARF: the mask marks exactly the changed cells; values come from the same column of other rows."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from ssl_helpers import apply_task
from ssl_tasks.base import parquet_bytes, read_parquet
from synth.errors import SynthError
from synth.core.sample import Payload, Sample, row
from synth.core.scene import get_task
from synth.core.seeding import rng_for


def _table(n: int = 60, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    income = rng.normal(50_000, 9_000, n)
    income[::13] = np.nan
    return pa.table({
        "age": rng.integers(18, 90, n),
        "income": income,
        "city": pa.array([["Lyon", "Oslo", "Quito", None][i] for i in rng.integers(0, 4, n)]),
        "churn": rng.integers(0, 2, n).astype(bool),
    })


def _block(table: pa.Table) -> Sample:
    return Sample(payloads={"table": Payload("bytes", parquet_bytes(table), format="parquet")})


def _same(x: object, y: object) -> bool:
    return x == y or (x is None and y is None) or (isinstance(x, float) and isinstance(y, float)
                                                    and np.isnan(x) and np.isnan(y))


def _cells_differ(a: pa.Table, b: pa.Table, cols: list[str]) -> np.ndarray:
    out = np.zeros((a.num_rows, len(cols)), dtype=np.uint8)
    for j, col in enumerate(cols):
        for i, (x, y) in enumerate(zip(a.column(col).to_pylist(), b.column(col).to_pylist())):
            out[i, j] = not _same(x, y)
    return out


@pytest.mark.parametrize("task,params", [("vime", {"mask_prob": 0.3}), ("vime", {"mask_prob": 0.8}),
                                         ("scarf", {"corruption_rate": 0.6}),
                                         ("scarf", {"corruption_rate": 0.5, "columns": ["age", "city"]})])
def test_mask_marks_exactly_the_changed_cells(task, params):
    for index in range(6):
        original = _table(seed=index)
        sample = _block(original)
        label = apply_task(task, sample, params, index=index)
        corrupted = read_parquet(sample.payloads[label["payloads"]["corrupted"]].data)
        mask = sample.payloads[label["payloads"]["mask"]].data
        cols = label["columns"]
        assert cols == params.get("columns", original.column_names)
        np.testing.assert_array_equal(mask, _cells_differ(original, corrupted, cols))
        assert label["num_changed"] == int(mask.sum()) > 0
        for col in set(original.column_names) - set(cols):
            assert not _cells_differ(original, corrupted, [col]).any()
        for j, col in enumerate(cols):  # every new value is one the column already held
            values = original.column(col).to_pylist()
            for i in np.flatnonzero(mask[:, j]):
                new = corrupted.column(col)[int(i)].as_py()
                assert new in values or (isinstance(new, float) and np.isnan(new))
        if task == "scarf":
            assert (mask.sum(axis=1) <= int(params["corruption_rate"] * len(cols))).all()


def test_vime_corruption_rate_near_mask_prob():
    table = _table(n=400, seed=9)
    sample = _block(table)
    mask = sample.payloads[apply_task("vime", sample, {"mask_prob": 0.3})["payloads"]["mask"]].data
    # a permuted value equals the original with the column's collision probability, so the changed
    # share sits below p_m but well above zero
    assert 0.15 < mask.mean() < 0.3


def test_row_with_version_pool_and_reference_file(tmp_path):
    pool = _table(n=50, seed=3)
    values = {"age": 33, "income": 1.5, "city": "Paris", "churn": False}
    for index in range(20):
        sample = Sample(payloads={"row": row(dict(values))})
        task = get_task("scarf")().use_pool(pool)
        task.apply(sample, {"corruption_rate": 0.5}, rng_for(1, index, "ssl.scarf"))
        label = sample.labels["ssl"]["scarf"]
        new = sample.payloads[label["payloads"]["row"]].data
        changed = [int(not _same(new[c], values[c])) for c in label["columns"]]
        assert label["mask"] == changed and sum(changed) <= 2
        assert label["original"] == {c: values[c] for c, m in zip(label["columns"], changed) if m}
        for c, donor in zip(label["columns"], label["donor_rows"]):
            if donor is not None:
                assert _same(new[c], pool.column(c)[donor].as_py())
    path = tmp_path / "ref.csv"
    pacsv.write_csv(pool.drop_columns(["city"]), path)
    sample = Sample(payloads={"row": row({"age": 33, "income": 1.5})})
    label = apply_task("vime", sample, {"mask_prob": 0.9, "reference": str(path)})
    assert label["pool"]["rows"] == 50 and len(label["pool"]["sha256"]) == 64


def test_single_row_without_pool_is_refused():
    with pytest.raises(SynthError, match="needs other rows"):
        apply_task("vime", Sample(payloads={"row": row({"a": 1})}))


def test_unknown_column_is_refused():
    with pytest.raises(SynthError, match="column 'salary' is not in the table"):
        apply_task("scarf", _block(_table()), {"columns": ["salary"]})


def test_text_sample_is_refused():
    from synth.core.sample import text
    with pytest.raises(SynthError, match="accepts table samples"):
        apply_task("vime", Sample(payloads={"text": text("x")}))
