"""Marginals beyond one hump: a Gaussian mixture (size by BIC) and empirical quantiles are candidates of
`synth fit`, written readably in the recipe, and drawn by the table scene."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.datasets import load_iris

from scenes.table import TableParams, TableScene
from synth.report.table import column_shapes
from synth.tabular.blocks import decode_block
from synth.tabular.fit import CANDIDATES, fit_numeric, fit_recipe


def draw(params: dict, rows: int) -> pd.DataFrame:
    p = TableParams.model_validate({**params, "rows_per_sample": rows})
    return decode_block(TableScene().render(p, np.random.default_rng(0)).payloads["table"].encode()[0], "parquet")


def iris() -> pd.DataFrame:
    frame = load_iris(as_frame=True).frame
    frame["species"] = frame.pop("target").map({0: "setosa", 1: "versicolor", 2: "virginica"})
    return frame


def test_bimodal_iris_petal_length_is_a_mixture_and_its_shape_improves(tmp_path):
    real = iris()
    real.to_csv(tmp_path / "iris.csv", index=False)
    recipe = fit_recipe(tmp_path / "iris.csv")
    spec = recipe["params"]["columns"]["petal length (cm)"]
    assert spec["dist"] == "mixture" and len(spec["components"]) == 2
    small, large = spec["components"]  # setosa's short petals, then the other two species
    assert small["weight"] == pytest.approx(1 / 3, abs=0.02) and small["loc"] == pytest.approx(1.46, abs=0.05)
    assert large["loc"] == pytest.approx(real["petal length (cm)"][50:].mean(), abs=0.1)
    # the same recipe with the best one-hump family instead: the mixture's column shape is clearly better
    values = real["petal length (cm)"].to_numpy()
    best = min(CANDIDATES, key=lambda n: _ks(values, n))
    one_hump = {**spec, "dist": best, "params": _params(values, best)}
    one_hump.pop("components")
    mixed = column_shapes(real, draw(recipe["params"], 5000))["petal length (cm)"]
    params = {**recipe["params"], "columns": {**recipe["params"]["columns"], "petal length (cm)": one_hump}}
    single = column_shapes(real, draw(params, 5000))["petal length (cm)"]
    assert mixed > 0.9 and mixed > single + 0.03


def _fit(values: np.ndarray, name: str) -> tuple:
    family = getattr(stats, name)
    return (values.min(), values.max() - values.min()) if name == "uniform" else family.fit(values)


def _ks(values: np.ndarray, name: str) -> float:
    return stats.kstest(values, getattr(stats, name)(*_fit(values, name)).cdf).statistic


def _params(values: np.ndarray, name: str) -> dict:
    family = getattr(stats, name)
    names = [*(family.shapes.split(", ") if family.shapes else []), "loc", "scale"]
    return {k: float(v) for k, v in zip(names, _fit(values, name))}


def test_a_one_hump_column_keeps_its_family():
    values = np.random.default_rng(1).gamma(3.0, 2.0, 2000)
    assert fit_numeric(values)["dist"] in CANDIDATES


def test_a_spiky_column_gets_empirical_quantiles_that_reproduce_it():
    rng = np.random.default_rng(2)
    values = np.where(rng.random(3000) < 0.4, 0.0, rng.lognormal(2.0, 0.5, 3000)).round(2)  # zero-inflated
    fitted = fit_numeric(values)
    assert fitted["dist"] == "empirical" and len(fitted["quantiles"]) == 101
    spec = {"type": "numeric", "dist": "empirical", "params": {}, "quantiles": fitted["quantiles"],
            "min": 0.0, "max": float(values.max()), "round": 2}
    out = draw({"columns": {"v": spec}}, 4000)["v"]
    assert (out == 0).mean() == pytest.approx(0.4, abs=0.03)
    assert 1 - stats.ks_2samp(values, out).statistic > 0.95


def test_recipe_checks_mixture_and_empirical_fields():
    with pytest.raises(ValueError, match="components"):
        TableParams.model_validate({"columns": {"v": {"type": "numeric", "dist": "mixture"}}})
    with pytest.raises(ValueError, match="ascending"):
        TableParams.model_validate({"columns": {"v": {"type": "numeric", "dist": "empirical",
                                                      "quantiles": [3.0, 1.0]}}})


def test_empirical_quantiles_stay_ascending_when_rounding_meets_the_range():
    """Values with more than 6 decimals (scikit-learn's diabetes): rounded quantiles must not cross min/max."""
    from sklearn.datasets import load_diabetes
    s4 = load_diabetes(as_frame=True).frame["s4"].to_numpy()
    fitted = fit_numeric(s4)
    assert fitted["dist"] == "empirical"  # many tied values: no family or mixture fits
    q = fitted["quantiles"]
    assert q[0] == s4.min() and q[-1] == s4.max() and all(b >= a for a, b in zip(q, q[1:]))
    spec = {"type": "numeric", "min": float(s4.min()), "max": float(s4.max()), **fitted}
    spec.pop("ks", None)
    assert len(draw({"columns": {"s4": spec}}, 100)) == 100
