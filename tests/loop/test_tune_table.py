"""`synth tune` on a table recipe: the `tune:` block names values inside the `columns` mapping
(`columns.<name>.params.scale`), `synth fit --tune K` writes such a block for the worst-fitting marginals,
and the tuned variant nests its overrides so `extends:` merges them column by column."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

from synth import api
from synth.errors import RecipeError
from synth.recipe.loader import load_recipe, override_block


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real table (income log-normal, age normal, a category) imported into a workspace; a recipe whose
    income scale is far off (x4), with a tune: range that holds the real one."""
    root = tmp_path_factory.mktemp("tune_table")
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({"income": np.round(rng.lognormal(10, 0.4, n), 2), "age": np.round(rng.normal(40, 9, n), 1),
                          "plan": rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])})
    frame.to_csv(root / "real.csv", index=False)
    api.import_table(root / "real.csv", str(root / "ws"))
    (root / "recipe.yaml").write_text(f"""name: people
scene: table
count: 1
seed: 3
params:
  rows_per_sample: 200
  columns:
    income: {{type: numeric, dist: lognorm, params: {{s: 0.4, loc: 0, scale: {4 * np.exp(10):.1f}}}, min: 0,
             max: 1000000, round: 2}}
    age: {{type: numeric, dist: norm, params: {{loc: 40, scale: 9}}, round: 1}}
    plan: {{type: categorical, values: [basic, plus, pro], weights: [0.5, 0.3, 0.2]}}
tune:
  columns.income.params.scale: [{0.5 * np.exp(10):.1f}, {5 * np.exp(10):.1f}]
""")
    return root


def test_overrides_reach_inside_the_columns_mapping(table: Path) -> None:
    recipe = load_recipe(table / "recipe.yaml", {"params.columns.age.params.loc": 55.0})
    assert recipe.model.params["columns"]["age"]["params"] == {"loc": 55.0, "scale": 9}
    assert recipe.model.params["columns"]["income"]["params"]["s"] == 0.4  # siblings kept
    block = override_block(table / "recipe.yaml", {"params.columns.age.params.loc": 55.0, "params.seed_x": 1})
    assert block == {"columns": {"age": {"params": {"loc": 55.0}}}, "seed_x": 1}


def test_a_tune_range_a_column_rejects_names_the_tune_line(table: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((table / "recipe.yaml").read_text().replace("columns.income.params.scale: [",
                                                               "columns.age.params.scale: [-5, 3]\n  x: ["))
    with pytest.raises(RecipeError) as err:
        load_recipe(bad)
    assert err.value.line == 13 and "tune.columns.age.params.scale" in str(err.value.field)
    assert "outside the distribution" in str(err.value)


def test_c2st_tuning_finds_the_real_scale_and_writes_a_nested_variant(table: Path) -> None:
    res = api.tune(table / "recipe.yaml", str(table / "ws"), real=1, metric="c2st", trials=8, count_per_trial=2,
                   workers=1, out=table / "tuned.yaml")
    assert res.baseline > 0.9  # incomes 4x too large: trivially told apart
    assert res.best is not None and res.best.score < res.baseline - 0.2
    scale = res.best.overrides["params.columns.income.params.scale"]
    assert abs(np.log(scale / np.exp(10))) < abs(np.log(4))  # closer to the real scale than the recipe was
    written = YAML(typ="safe").load((table / "tuned.yaml").read_text())
    assert written["params"] == {"columns": {"income": {"params": {"scale": scale}}}}
    tuned = load_recipe(table / "tuned.yaml")
    income = tuned.model.params["columns"]["income"]
    assert income["params"] == {"s": 0.4, "loc": 0, "scale": scale} and income["round"] == 2
    assert set(tuned.model.params["columns"]) == {"income", "age", "plan"}


def test_fit_writes_a_tune_block_that_tune_accepts(table: Path, tmp_path: Path) -> None:
    out = tmp_path / "twin.yaml"
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "fit", str(table / "real.csv"), "-o", str(out),
                           "--tune", "2", "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    block = YAML(typ="safe").load(out.read_text())["tune"]
    assert sorted(block) == sorted(f"columns.{c}.params.{p}" for c in ("income", "age") for p in ("loc", "scale"))
    for path, (low, high) in block.items():
        fitted = YAML(typ="safe").load(out.read_text())["params"]["columns"][path.split(".")[1]]["params"]
        assert low < fitted[path.split(".")[-1]] < high
    res = api.tune(out, str(table / "ws"), real=1, metric="c2st", trials=2, count_per_trial=1, workers=1,
                   study="twin", out=tmp_path / "twin_tuned.yaml")
    assert len(res.trials) == 2 and all(t.state == "complete" for t in res.trials)
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "fit", str(table / "real.csv"), "-o", str(out),
                           "--tune", "-1"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_table_tstr_learns_the_class_from_the_other_columns_never_from_its_own(tmp_path: Path) -> None:
    """Real rows imported with --label y; a fitted twin keeps y's link to x (TSTR well above chance), a twin
    whose y is drawn apart from x does not (about 0.5). A probe that could read y off its own column would
    score 1.0 on both."""
    rng = np.random.default_rng(4)
    x = rng.normal(0, 1, 400)
    real = pd.DataFrame({"x": np.round(x, 3), "z": np.round(rng.normal(0, 1, 400), 3),
                         "y": np.where(x > 0, "pos", "neg")})
    real.to_csv(tmp_path / "real.csv", index=False)
    ws = str(tmp_path / "ws")
    api.import_table(tmp_path / "real.csv", ws, label="y")
    api.fit(tmp_path / "real.csv", tmp_path / "twin.yaml", target="y", rows_per_sample=400)
    twin = YAML(typ="safe").load((tmp_path / "twin.yaml").read_text())
    twin["name"], twin["params"]["correlation"] = "apart", []
    with (tmp_path / "apart.yaml").open("w") as fh:
        YAML().dump(twin, fh)
    accuracy = {}
    for name in ("twin", "apart"):
        version = api.generate(tmp_path / f"{name}.yaml", ws, workers=1).version
        report = api.gap(version, 1, ws, recipe=load_recipe(tmp_path / f"{name}.yaml").name, n_permutations=20)
        assert report.tstr is not None and report.tstr["classes"] == ["neg", "pos"]
        accuracy[name] = report.tstr["accuracy"]
    assert accuracy["twin"] > 0.8 and 0.35 < accuracy["apart"] < 0.65, accuracy
