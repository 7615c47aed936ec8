"""The privacy section of `synth report table` and `synth fit`'s privacy options and holdout, with known
answers: a synthetic table that copies training rows fails the copy, DCR and membership checks; an independent
draw from the same distribution passes them; each fit option does what it records."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

from synth.errors import SynthError
from synth.report.table import ml_efficacy, privacy_report, quality_report
from synth.tabular.fit import fit_recipe, privacy_settings
from tests.table.test_cli_table import synth


def population(n: int, seed: int) -> pd.DataFrame:
    """Mixed rows from one fixed distribution: every call with another seed is an independent draw."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": 2 * x + rng.normal(scale=0.5, size=n), "z": rng.gamma(2.0, size=n),
                         "colour": rng.choice(["red", "green", "blue"], size=n, p=[0.5, 0.3, 0.2]),
                         "label": (x + rng.normal(scale=0.5, size=n) > 0).astype(int)})


TRAIN, HOLDOUT = population(400, 1), population(400, 2)


def test_copies_of_training_rows_fail_every_check():
    copies = TRAIN.sample(300, random_state=0).reset_index(drop=True)
    report = privacy_report(TRAIN, copies, HOLDOUT)
    assert report["exact_copies"] == {"rate": 1.0, "rows": 300, "holdout_rate": 0.0}
    assert report["dcr"]["synthetic_median"] == 0.0 and report["dcr"]["holdout_median"] > 0
    assert report["dcr"]["ratio"] == 0.0 and not report["dcr"]["passed"]
    assert report["dcr"]["closer_to_train_than_holdout"] == 1.0
    assert report["membership"]["distance_auc"] > 0.8 and not report["membership"]["passed"]
    assert report["passed"] is False


def test_an_independent_draw_passes():
    report = privacy_report(TRAIN, population(400, 3), HOLDOUT)
    assert report["exact_copies"]["rate"] == 0.0
    assert 0.9 <= report["dcr"]["ratio"] <= 1.15 and report["dcr"]["passed"]
    assert 0.35 <= report["dcr"]["closer_to_train_than_holdout"] <= 0.65
    assert report["membership"]["auc"] < 0.6 and report["membership"]["passed"]
    assert report["passed"] is True


def test_near_copies_are_caught_by_distance_not_by_equality():
    jitter = TRAIN.copy()
    jitter["x"] += 1e-3  # not equal to any training row, but right on top of them
    report = privacy_report(TRAIN, jitter, HOLDOUT)
    assert report["exact_copies"]["rate"] == 0.0
    assert report["dcr"]["ratio"] < 0.05 and report["passed"] is False


def test_exact_copies_match_across_dtypes():
    as_text = TRAIN.head(50).assign(label=lambda f: f["label"].astype(bool))  # 0/1 read back as True/False
    assert privacy_report(TRAIN, as_text, HOLDOUT)["exact_copies"]["rate"] == 1.0


def test_without_a_holdout_there_is_no_ratio():
    report = privacy_report(TRAIN, population(200, 4))
    assert report["dcr"]["ratio"] is None and "holdout" in report["dcr"]["note"] and report["passed"] is None


def test_holdout_tstr_reports_three_families_over_draws():
    ml = ml_efficacy(TRAIN, population(600, 5), "label", holdout=HOLDOUT, draws=3)
    assert ml["tested_on"] == "holdout" and ml["test_rows"] == 400 and ml["draws"] == 3
    assert set(ml["models"]) == {"forest", "linear", "boosting"}
    for m in ml["models"].values():
        assert len(m["draws"]) == 3 and m["train_synthetic_std"] >= 0
        assert m["train_real"] > 0.75 and m["train_synthetic"] > 0.75  # same distribution: as good as real
    # a synthetic table with the labels flipped trains models that are wrong on the holdout
    flipped = population(600, 5).assign(label=lambda f: 1 - f["label"])
    assert ml_efficacy(TRAIN, flipped, "label", holdout=HOLDOUT)["models"]["linear"]["train_synthetic"] < 0.3


def test_quality_report_drops_holdout_rows_from_real():
    whole = pd.concat([TRAIN, HOLDOUT], ignore_index=True)
    report = quality_report(whole, population(300, 6), holdout=HOLDOUT)
    assert report["rows"]["real"] == 400 and report["rows"]["real_rows_also_in_holdout"] == 400
    assert report["privacy"]["passed"] is True


def test_privacy_settings_defaults_and_checks():
    assert privacy_settings(False) is None
    assert privacy_settings(True) == {"clip_quantile": 0.01, "correlation_noise": 0.05, "min_category_count": 10,
                                      "smoothing": 0.3}
    assert privacy_settings(False, clip_quantile=0.05) == {"clip_quantile": 0.05}
    with pytest.raises(SynthError, match="clip-quantile"):
        privacy_settings(False, clip_quantile=0.7)
    with pytest.raises(SynthError, match="min-category-count"):
        privacy_settings(True, min_category_count=0)


def test_fit_privacy_options_change_the_recipe(tmp_path):
    frame = population(1000, 7)
    frame.loc[:4, "colour"] = "violet"  # 5 rows: rarer than the minimum count
    frame.to_csv(tmp_path / "t.csv", index=False)
    plain = fit_recipe(tmp_path / "t.csv")
    private = fit_recipe(tmp_path / "t.csv", privacy={"clip_quantile": 0.05, "correlation_noise": 0.2,
                                                      "min_category_count": 10})
    assert "privacy" not in plain["params"]
    assert private["params"]["privacy"] == {"clip_quantile": 0.05, "correlation_noise": 0.2,
                                            "min_category_count": 10, "seed": pytest.approx(private["params"]
                                                                                            ["privacy"]["seed"])}
    x = private["params"]["columns"]["x"]
    assert x["min"] == pytest.approx(np.quantile(frame["x"], 0.05), abs=1e-3)
    assert x["max"] == pytest.approx(np.quantile(frame["x"], 0.95), abs=1e-3)
    assert "violet" in plain["params"]["columns"]["colour"]["values"]
    colours = private["params"]["columns"]["colour"]
    assert "violet" not in colours["values"] and "other" in colours["values"]
    assert dict(zip(colours["values"], colours["weights"]))["other"] == pytest.approx(0.005, abs=1e-4)
    pairs = {tuple(p[:2]): p[2] for p in plain["params"]["correlation"]}
    noisy = {tuple(p[:2]): p[2] for p in private["params"]["correlation"]}
    assert any(abs(noisy.get(k, 0) - v) > 0.05 for k, v in pairs.items())
    from scenes.table import TableParams, TableScene
    params = TableParams.model_validate({**private["params"], "rows_per_sample": 50})
    sample = TableScene().render(params, np.random.default_rng(0))
    assert sample.labels["privacy"]["clip_quantile"] == 0.05


def cli(*args, capsys) -> tuple[int, str]:
    code, out, err = synth(*args, capsys=capsys)
    return code, out + err


def test_fit_holdout_and_report_through_the_cli(tmp_path, capsys):
    frame = pd.concat([TRAIN, HOLDOUT], ignore_index=True)
    frame.to_csv(tmp_path / "t.csv", index=False)
    recipe = tmp_path / "twin.yaml"
    code, out = cli("fit", tmp_path / "t.csv", "-o", recipe, "--holdout-fraction", "0.3", "--privacy",
                    "--json", capsys=capsys)
    assert code == 0, out
    info = json.loads(out)
    held = pd.read_csv(info["holdout"])
    assert info["holdout"] == str(tmp_path / "twin.holdout.csv") and len(held) == info["holdout_rows"]
    assert 180 <= len(held) <= 300 and info["rows"] == 800 - len(held)
    assert info["privacy"]["clip_quantile"] == 0.01 and info["privacy"]["smoothing"] == 0.3
    assert not list(tmp_path.glob(".*tmp"))
    # the fit never saw the held-out rows: same file, same seed, same split
    params = YAML(typ="safe").load(recipe.read_text())["params"]
    assert params["privacy"]["min_category_count"] == 10
    synthetic = population(500, 8)
    synthetic.to_csv(tmp_path / "s.csv", index=False)
    code, out = cli("report", "table", "--real", tmp_path / "t.csv", "--holdout", info["holdout"],
                    "--synthetic", tmp_path / "s.csv", "--fitted", recipe, "--target", "label",
                    "-o", tmp_path / "rep", capsys=capsys)
    assert code == 0, out
    assert "DCR ratio" in out and "pass" in out and "membership AUC" in out and "not differential privacy" in out
    assert "clip_quantile 0.01" in out and "forest" in out and "boosting" in out
    data = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert data["rows"]["real"] == 800 - len(held) and data["privacy"]["settings"]["min_category_count"] == 10
    assert data["ml_efficacy"]["tested_on"] == "holdout"


def test_fit_holdout_bad_fraction_and_mismatched_holdout(tmp_path, capsys):
    TRAIN.to_csv(tmp_path / "t.csv", index=False)
    code, out = cli("fit", tmp_path / "t.csv", "-o", tmp_path / "r.yaml", "--holdout-fraction", "1.5", capsys=capsys)
    assert code == 2 and "holdout-fraction" in out and not (tmp_path / "r.yaml").exists()
    assert not list(tmp_path.glob("r.holdout*")) and not list(tmp_path.glob(".*tmp"))
    HOLDOUT[["x", "y"]].to_csv(tmp_path / "h.csv", index=False)
    code, out = cli("report", "table", "--real", tmp_path / "t.csv", "--holdout", tmp_path / "h.csv",
                    "--synthetic", tmp_path / "t.csv", "-o", tmp_path / "rep", capsys=capsys)
    assert code == 2 and "holdout's columns differ" in out
    code, out = cli("fit", tmp_path / "t.csv", "-o", tmp_path / "r.yaml", "--smoothing", "2", capsys=capsys)
    assert code == 2 and "--smoothing" in out and not (tmp_path / "r.yaml").exists()
    code, out = cli("fit", tmp_path / "t.csv", "-o", tmp_path / "r.yaml", "--smoothing", "0.2", capsys=capsys)
    assert code == 0 and YAML(typ="safe").load((tmp_path / "r.yaml").read_text())["params"]["privacy"] == {
        "smoothing": 0.2, "seed": 0}


def test_smoothing_widens_each_continuous_marginal_by_the_noise_it_adds(tmp_path):
    """Known answer: a normal column fitted on values + N(0, (s*std)^2) has std std * sqrt(1 + s^2); the
    copula correlation shrinks by 1 / (1 + s^2); the same seed gives the same recipe; categories are untouched."""
    frame = population(4000, 3)
    frame.to_csv(tmp_path / "t.csv", index=False)
    plain = fit_recipe(tmp_path / "t.csv")
    smooth = fit_recipe(tmp_path / "t.csv", privacy={"smoothing": 0.5})
    assert smooth == fit_recipe(tmp_path / "t.csv", privacy={"smoothing": 0.5})
    assert smooth["params"]["privacy"]["smoothing"] == 0.5
    x, x0 = smooth["params"]["columns"]["x"], plain["params"]["columns"]["x"]
    from scipy import stats
    sd, sd0 = (getattr(stats, c["dist"])(**c["params"]).std() for c in (x, x0))  # a one-hump family each
    assert sd == pytest.approx(sd0 * np.sqrt(1.25), rel=0.03)
    assert x["min"] == x0["min"] and x["max"] == x0["max"]
    pairs = {tuple(p[:2]): p[2] for p in plain["params"]["correlation"]}
    noised = {tuple(p[:2]): p[2] for p in smooth["params"]["correlation"]}
    assert noised[("x", "y")] == pytest.approx(pairs[("x", "y")] / 1.25, abs=0.03)
    assert smooth["params"]["columns"]["colour"] == plain["params"]["columns"]["colour"]


def test_correlation_noise_on_a_wide_table_still_gives_a_valid_recipe(tmp_path):
    """30 correlated columns + noise: the written pairs (4 decimals, |r| >= 0.01) must stay positive definite."""
    from sklearn.datasets import load_breast_cancer
    from scenes.table import TableParams
    load_breast_cancer(as_frame=True).frame.to_csv(tmp_path / "b.csv", index=False)
    recipe = fit_recipe(tmp_path / "b.csv", privacy={"correlation_noise": 0.05})
    params = TableParams.model_validate(recipe["params"])
    assert len(params.correlation) > 300


def test_report_on_a_workspace_lists_the_privacy_options_the_blocks_record(tmp_path, capsys):
    from synth import api
    frame = pd.concat([TRAIN, HOLDOUT], ignore_index=True)
    frame.to_csv(tmp_path / "t.csv", index=False)
    code, out = cli("fit", tmp_path / "t.csv", "-o", tmp_path / "twin.yaml", "--holdout-fraction", "0.3",
                    "--clip-quantile", "0.02", "--rows-per-sample", "200", "-q", capsys=capsys)
    assert code == 0, out
    api.generate(str(tmp_path / "twin.yaml"), str(tmp_path / "ws"), count=2, workers=1)
    code, out = cli("report", "table", "--real", tmp_path / "t.csv", "--holdout", tmp_path / "twin.holdout.csv",
                    "-w", tmp_path / "ws", "--target", "label", "--draws", "2", "-o", tmp_path / "rep",
                    capsys=capsys)
    assert code == 0, out
    assert "fit options     clip_quantile 0.02" in out and "exact copies    0.0%" in out
