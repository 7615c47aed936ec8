"""synth fit and the table quality report: a fitted twin reproduces the real table; bad CSVs fail cleanly
with exit code 2; the report scores a good twin above a shuffled one."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from scenes.table import TableParams, TableScene
from synth.cli.table import COMMANDS
from synth.errors import SynthError
from synth.tabular.fit import fit_recipe
from synth.report.table import quality_report

import click

REAL = "recipes/data/wine.csv"


@click.group()
def cli() -> None:
    pass


for command in COMMANDS:
    cli.add_command(command)


def run(args: list[str]):
    """Run like synth.cli.main does: SynthError -> message + exit code 2."""
    try:
        result = CliRunner().invoke(cli, args, standalone_mode=False, catch_exceptions=True)
    except SynthError as exc:  # pragma: no cover - CliRunner catches
        return 2, str(exc)
    if isinstance(result.exception, SynthError):
        return 2, str(result.exception)
    assert result.exception is None, result.exception
    return 0, result.output


def twin(recipe: dict, rows: int) -> pd.DataFrame:
    params = TableParams.model_validate({**recipe["params"], "rows_per_sample": rows})
    frame = TableScene().render(params, np.random.default_rng(0)).payloads["table"]
    from synth.tabular.blocks import decode_block
    return decode_block(frame.encode()[0], "parquet")


@pytest.fixture(scope="module")
def wine_recipe(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("fit") / "wine.yaml"
    code, text = run(["fit", REAL, "-o", str(out)])
    assert code == 0, text
    return YAML(typ="safe").load(out.read_text())


def test_fitted_recipe_is_readable_and_validates(wine_recipe):
    cols = wine_recipe["params"]["columns"]
    assert cols["target"]["type"] == "categorical" and cols["target"]["values"] == [0, 1, 2]
    assert cols["proline"]["type"] == "numeric" and cols["proline"]["round"] == 0
    TableScene().check(TableParams.model_validate(wine_recipe["params"]))


def test_twin_reproduces_marginals_and_correlations(wine_recipe):
    real = pd.read_csv(REAL)
    synth = twin(wine_recipe, 5000)
    report = quality_report(real, synth, target="target")
    assert report["column_shapes"]["score"] > 0.85
    assert report["pair_trends"]["score"] > 0.8  # SDMetrics' definition: strongly associated pairs only
    assert report["pair_trends_complete"]["score"] > 0.9
    r_real = real.corr(method="spearman").to_numpy()
    r_syn = synth.corr(method="spearman").to_numpy()
    assert np.abs(r_real - r_syn).max() < 0.2
    assert report["ml_efficacy"]["train_synthetic"] > 0.7


def test_report_ranks_a_broken_twin_lower(wine_recipe):
    real = pd.read_csv(REAL)
    good = twin(wine_recipe, 3000)
    rng = np.random.default_rng(1)
    broken = good.apply(lambda s: rng.permutation(s.to_numpy()))  # each column on its own: kills correlations
    broken["alcohol"] = broken["alcohol"] + 3  # and moves one marginal
    g, b = quality_report(real, good), quality_report(real, broken)
    assert b["pair_trends"]["score"] < g["pair_trends"]["score"] - 0.05
    assert b["column_shapes"]["columns"]["alcohol"] < 0.2 < g["column_shapes"]["columns"]["alcohol"]


def test_fit_datetimes_booleans_categoricals_and_missing_rates(tmp_path):
    rng = np.random.default_rng(0)
    n = 2000
    frame = pd.DataFrame({
        "when": pd.to_datetime("2022-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        "flag": rng.random(n) < 0.3,
        "colour": rng.choice(["red", "green", "blue"], n, p=[0.6, 0.3, 0.1]),
        "x": rng.gamma(2.0, 3.0, n),
    })
    frame.loc[rng.random(n) < 0.2, "x"] = np.nan
    frame.to_csv(tmp_path / "t.csv", index=False)
    cols = fit_recipe(tmp_path / "t.csv")["params"]["columns"]
    assert cols["when"]["type"] == "datetime" and cols["when"]["start"].startswith("2022-01")
    assert cols["flag"] == {"type": "boolean", "p": pytest.approx(frame["flag"].mean(), abs=1e-6), "dtype": "bool"}
    assert dict(zip(cols["colour"]["values"], cols["colour"]["weights"]))["red"] == pytest.approx(0.6, abs=0.03)
    assert cols["x"]["missing"] == pytest.approx(frame["x"].isna().mean(), abs=1e-6)
    assert cols["x"]["dist"] in ("gamma", "weibull_min", "lognorm")


def test_report_cli_writes_json_and_pngs(tmp_path, wine_recipe):
    synth = twin(wine_recipe, 500)
    synth.to_csv(tmp_path / "s.csv", index=False)
    code, text = run(["report", "table", "--real", REAL, "--synthetic", str(tmp_path / "s.csv"),
                      "--target", "target", "-o", str(tmp_path / "rep")])
    assert code == 0, text
    data = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert set(data) >= {"column_shapes", "pair_trends", "ml_efficacy"}
    assert (tmp_path / "rep" / "column_shapes.png").stat().st_size > 1000
    assert (tmp_path / "rep" / "correlations.png").stat().st_size > 1000


def test_fit_rejects_a_csv_with_no_rows(tmp_path):
    (tmp_path / "empty.csv").write_text("a,b\n")
    code, text = run(["fit", str(tmp_path / "empty.csv"), "-o", str(tmp_path / "o.yaml")])
    assert code == 2 and "no rows" in text


def test_fit_rejects_a_column_of_all_nulls(tmp_path):
    (tmp_path / "nulls.csv").write_text("a,b\n1,\n2,\n3,\n")
    code, text = run(["fit", str(tmp_path / "nulls.csv"), "-o", str(tmp_path / "o.yaml")])
    assert code == 2 and "column 'b' is all nulls" in text
    assert not (tmp_path / "o.yaml").exists()


def mixed_table(n: int, seed: int, coupled: bool = True) -> pd.DataFrame:
    """Dates, a category and a number that move together (later signups pick 'pro' and spend more)."""
    rng = np.random.default_rng(seed)
    day = rng.integers(0, 365, n)
    late = day > 180 if coupled else rng.random(n) < 0.5
    frame = pd.DataFrame({
        "signup": pd.to_datetime("2023-01-01") + pd.to_timedelta(day, unit="D"),
        "plan": np.where(late & (rng.random(n) < 0.8), "pro", "basic"),
        "spend": rng.normal(50, 5, n) + np.where(late, 30, 0),
    })
    frame.loc[rng.random(n) < 0.1, "signup"] = pd.NaT  # NaT must not turn into -2**63 in the correlation
    return frame


def test_pair_trends_score_datetime_and_categorical_pairs():
    real = mixed_table(3000, 0)
    pairs = quality_report(real, mixed_table(3000, 1))["pair_trends_complete"]["pairs"]
    assert pairs["signup|spend"]["metric"] == "correlation_similarity"
    assert pairs["signup|spend"]["real"] > 0.7 and pairs["signup|spend"]["score"] > 0.97
    assert pairs["signup|plan"]["metric"] == pairs["plan|spend"]["metric"] == "contingency_similarity"
    assert pairs["signup|plan"]["score"] > 0.9
    broken = quality_report(real, mixed_table(3000, 1, coupled=False))["pair_trends_complete"]["pairs"]
    assert broken["signup|plan"]["score"] < pairs["signup|plan"]["score"] - 0.15
    assert broken["signup|spend"]["score"] < 0.75


def test_dates_read_back_from_csv_are_scored_as_dates(tmp_path):
    real = mixed_table(2000, 0)
    real.to_csv(tmp_path / "real.csv", index=False)
    as_text = pd.read_csv(tmp_path / "real.csv")
    assert not pd.api.types.is_datetime64_any_dtype(as_text["signup"])  # CSV gave text
    report = quality_report(as_text, mixed_table(2000, 1))
    assert report["pair_trends"]["pairs"]["signup|spend"]["metric"] == "correlation_similarity"
    assert report["column_shapes"]["columns"]["signup"] > 0.9


def test_boolean_twin_of_a_0_1_column_scores_as_the_same_labels():
    x = np.arange(200.0)
    real = pd.DataFrame({"y": (x >= 100).astype(int), "x": x})
    twin_ = pd.DataFrame({"y": x >= 100, "x": x})  # fit makes 0/1 columns boolean: True must count as 1
    report = quality_report(real, twin_, target="y")
    assert report["column_shapes"]["columns"]["y"] == pytest.approx(1.0)
    assert report["ml_efficacy"]["train_synthetic"] > 0.95


def test_fit_target_is_declared_and_labelled(tmp_path):
    code, text = run(["fit", REAL, "-o", str(tmp_path / "w.yaml"), "--target", "target"])
    assert code == 0 and "target target" in text
    recipe = YAML(typ="safe").load((tmp_path / "w.yaml").read_text())
    assert recipe["params"]["target"] == {"name": "target"}
    assert recipe["params"]["columns"]["target"]["type"] == "categorical"  # still fitted with the copula
    params = TableParams.model_validate({**recipe["params"], "rows_per_sample": 300})
    labels = TableScene().render(params, np.random.default_rng(0)).labels
    assert labels["target"] == "target" and set(labels["target_counts"]) == {"0", "1", "2"}
    assert sum(labels["target_counts"].values()) == 300
