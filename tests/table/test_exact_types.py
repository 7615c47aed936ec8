"""Exact types: a table fitted by `synth fit`, generated through the engine and exported comes back with the
real table's dtypes (int, whole-number float, float, bool, 0/1 int, category, text, datetime, text dates,
nullable int, missing values) and the same category spellings, from Parquet and from CSV."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synth import api
from synth.tabular.fit import fit_recipe, write_recipe


def real_table(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "age": rng.integers(18, 90, n),                                   # int64
        "visits": np.round(rng.gamma(2, 5, n)).astype(float),             # whole-number floats: stay float64
        "score": rng.normal(0, 1, n).round(3),                            # float64 with missing values
        "member": rng.random(n) < 0.3,                                    # bool
        "churn": (rng.random(n) < 0.4).astype(int),                       # 0/1 int64: not True/False
        "plan": pd.Categorical(rng.choice(["pro", "basic", "plus"], n), categories=["basic", "plus", "pro"]),
        "city": rng.choice(["Oslo", "Bergen", "Tromsø"], n),              # text with missing values
        "signup": pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        "kids": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 25, n)), dtype="Int64"),
        "day": (pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")).strftime("%m/%d/%Y"),
    })
    frame.loc[rng.random(n) < 0.1, "score"] = np.nan
    frame.loc[rng.random(n) < 0.1, "city"] = None
    return frame


def generated(tmp_path, real_path, fmt: str) -> pd.DataFrame:
    recipe = fit_recipe(real_path, rows_per_sample=200)
    write_recipe(recipe, tmp_path / "twin.yaml")
    api.generate(tmp_path / "twin.yaml", str(tmp_path / "ws"), count=3, workers=1)
    out = tmp_path / f"out.{fmt}"
    api.export(out, fmt, str(tmp_path / "ws"), single_file=True)
    return pd.read_parquet(out) if fmt == "parquet" else pd.read_csv(out)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_parquet_table_round_trips_its_dtypes(tmp_path, fmt):
    real = real_table()
    real.to_parquet(tmp_path / "real.parquet", index=False)
    real = pd.read_parquet(tmp_path / "real.parquet")
    synth = generated(tmp_path, tmp_path / "real.parquet", fmt)
    assert len(synth) == 600 and list(synth.columns) == list(real.columns)
    if fmt == "csv":  # what a CSV reader makes of the export equals what it makes of the real table as CSV
        real.to_csv(tmp_path / "real_again.csv", index=False)
        real = pd.read_csv(tmp_path / "real_again.csv")
        assert synth["signup"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert synth.dtypes.to_dict() == real.dtypes.to_dict()
    assert set(synth["churn"]) == {0, 1} and synth["visits"].dtype == np.float64
    assert synth["score"].isna().any() and synth["city"].isna().any() and synth["kids"].isna().any()
    assert set(synth["city"].dropna()) == {"Oslo", "Bergen", "Tromsø"}
    assert synth["day"].str.fullmatch(r"\d{2}/\d{2}/\d{4}").all()  # text dates keep their spelling
    if fmt == "parquet":
        assert list(synth["plan"].cat.categories) == ["basic", "plus", "pro"]  # the table's category order
        assert synth["kids"].dtype == "Int64" and synth["member"].dtype == bool


def test_csv_table_round_trips_its_dtypes(tmp_path):
    real_table().to_csv(tmp_path / "real.csv", index=False)
    real = pd.read_csv(tmp_path / "real.csv")
    synth = generated(tmp_path, tmp_path / "real.csv", "csv")
    assert synth.dtypes.to_dict() == real.dtypes.to_dict()
    raw = (tmp_path / "out.csv").read_text().splitlines()
    assert raw[0] == ",".join(real.columns)
    churn = {line.split(",")[4] for line in raw[1:]}
    assert churn == {"0", "1"}  # not True/False
    assert all(line.split(",")[1].endswith(".0") for line in raw[1:])  # visits: whole-number floats


def test_bad_dtype_in_a_recipe_is_refused():
    from pydantic import ValidationError

    from scenes.table import TableParams
    with pytest.raises(ValidationError, match="'integer' is not a pandas dtype"):
        TableParams.model_validate({"columns": {"x": {"type": "numeric", "dtype": "integer"}}})
