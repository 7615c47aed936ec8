"""The gap with known answers: two draws of one distribution look alike, a planted shift does not, a
planted unrealistic parameter region ranks first, TSTR on digits beats chance; bad inputs are refused."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from synth.errors import SynthError
from synth.loop import format_report, gap
from synth.store.workspace import Workspace
from tests.conftest import RECIPES
from tests.loop.conftest import add_synthetic, draw


def test_two_draws_of_one_distribution_are_indistinguishable(ws: Workspace, add_real) -> None:
    real = add_real(ws, draw(1, 60)[0])
    syn = add_synthetic(ws, *draw(2, 60))
    report = gap(ws, syn, real, n_permutations=100)
    lo, hi = report.auc_ci
    assert lo <= 0.5 <= hi and abs(report.auc - 0.5) < 0.15
    assert report.mmd_p > 0.05
    assert report.tstr is None  # the real side was imported --unlabeled
    d = report.as_dict()
    assert set(d) >= {"auc", "auc_ci", "mmd", "mmd_p", "ks", "tstr", "params"}
    assert json.loads(json.dumps(d)) == d
    again = gap(ws, syn, real, n_permutations=100)  # deterministic
    assert again.as_dict() == d


def test_a_planted_shift_is_found(ws: Workspace, add_real) -> None:
    real = add_real(ws, draw(1, 60)[0])
    syn = add_synthetic(ws, *draw(2, 60, lighting=lambda p, rng: {"background": 70.0}))  # brighter background
    report = gap(ws, syn, real, n_permutations=100)
    assert report.auc > 0.9 and report.auc_ci[0] > 0.5
    assert report.mmd_p < 0.05
    top = [k["feature"] for k in report.ks[:10]]
    assert {"grey_p5", "grey_mean", "grey_p50"} & set(top)
    assert report.ks[0]["p_adj"] < 0.05
    assert "C2ST AUC" in format_report(report)


def test_an_unrealistic_parameter_region_ranks_first(ws: Workspace, add_real) -> None:
    real = add_real(ws, draw(1, 60)[0])
    images, params = draw(2, 100, grain=lambda p, rng: {"noise": 60.0} if p["grain"] > 0.8 else {})
    syn = add_synthetic(ws, images, params)
    report = gap(ws, syn, real, n_permutations=50, n_bins=5, min_support=10)
    first = report.params[0]
    assert first["param"] == "grain" and first["lo"] >= 0.75 and first["rank"] == 1
    assert first["support"] >= 10 and first["realism"] < report.params[1]["realism"]
    assert first["realism_ci"][1] < np.mean([e["realism"] for e in report.params[2:]])
    assert all(e["support"] >= 10 for e in report.params)
    curve = report.param_curves["grain"]
    assert [e["order"] for e in curve] == list(range(len(curve)))


def test_a_low_support_bin_is_not_ranked(ws: Workspace, add_real) -> None:
    real = add_real(ws, draw(1, 30)[0])
    images, params = draw(2, 40)
    for i in range(3):
        params[i]["rare"] = "yes"  # 3 samples: below the minimum support
    for p in params[3:]:
        p["rare"] = "no"
    report = gap(ws, add_synthetic(ws, images, params), real, n_permutations=20, min_support=10)
    assert not any(e["param"] == "rare" and e["bin"] == "yes" for e in report.params)
    assert any(e["bin"] == "yes" and not e["ranked"] for e in report.param_curves["rare"])


def test_user_embeddings_keyed_by_sample_id(ws: Workspace, add_real, tmp_path: Path) -> None:
    real = add_real(ws, draw(1, 40)[0])
    syn = add_synthetic(ws, *draw(2, 40))
    rows = ws.manifest.to_table(columns=["sample_id", "origin"]).to_pylist()
    rng = np.random.default_rng(0)
    ids = [r["sample_id"] for r in rows]
    vectors = rng.normal(size=(len(ids), 8)) + np.array([[1.5 if r["origin"] == "real" else 0.0] for r in rows])
    np.savez(tmp_path / "emb.npz", sample_id=np.array(ids), embedding=vectors)
    report = gap(ws, syn, real, embeddings=tmp_path / "emb.npz", n_permutations=50)
    assert report.auc > 0.8 and report.mmd_p < 0.05 and report.ks[0]["feature"] == "dim_0"
    np.savez(tmp_path / "short.npz", sample_id=np.array(ids[:-1]), embedding=vectors[:-1])
    with pytest.raises(SynthError, match="1 of 80 samples have no embedding"):
        gap(ws, syn, real, embeddings=tmp_path / "short.npz")


def test_tstr_on_digits(ws: Workspace, add_real) -> None:
    from sklearn.datasets import load_digits

    from synth import api

    digits = load_digits()
    pick = np.concatenate([np.flatnonzero(digits.target == d)[:12] for d in range(10)])
    images = [cv2.resize((digits.images[i] * 255 / 16).astype(np.uint8), (28, 28), interpolation=cv2.INTER_LINEAR)
              for i in pick]
    real = add_real(ws, images, classes=[str(digits.target[i]) for i in pick], name="digits")
    syn = api.generate(api.validate(RECIPES / "digits.yaml").with_count(200), ws, workers=2).version
    report = gap(ws, syn, real, n_permutations=50)
    t = report.tstr
    assert t is not None and t["classes"] == [str(d) for d in range(10)] and t["support"] == 120
    assert t["ci"][0] > 0.1, t  # better than chance (10 balanced classes)
    assert sum(map(sum, t["confusion"])) == 120
    assert all(v["support"] == 12 for v in t["per_class"].values())
    assert report.auc > 0.5  # rendered fonts are not handwriting
    assert all("real_error" in e for e in report.params)
    kernel = gap(ws, syn, real, n_permutations=10, probe="svm").tstr
    assert kernel is not None and "SVM" in kernel["probe"] and kernel["support"] == 120 and kernel["ci"][0] > 0.1


# -- bad inputs -------------------------------------------------------------------------------------

def test_different_modalities_are_refused(ws: Workspace, tmp_path: Path) -> None:
    from synth.data.importer import ImportOptions, import_data

    lines = tmp_path / "t.jsonl"
    lines.write_text("".join(json.dumps({"text": f"line {i}"}) + "\n" for i in range(25)))
    real = import_data(ws, "text", lines, options=ImportOptions(unlabeled=True)).version
    syn = add_synthetic(ws, *draw(2, 25))
    with pytest.raises(SynthError, match="different modalities.*image.*text"):
        gap(ws, syn, real)


def test_too_few_samples_are_refused(ws: Workspace, add_real) -> None:
    real = add_real(ws, draw(1, 10)[0])
    syn = add_synthetic(ws, *draw(2, 30))
    with pytest.raises(SynthError, match="real side has 10 samples.*at least 20"):
        gap(ws, syn, real)


def test_different_label_sets_are_refused_for_tstr(ws: Workspace, add_real) -> None:
    images, params = draw(1, 24)
    real = add_real(ws, images, classes=["a", "c"] * 12)
    syn = add_synthetic(ws, *draw(2, 24), labels=[{"class": c} for c in ["a", "b"] * 12])
    with pytest.raises(SynthError, match="only in synthetic: b; only in real: c"):
        gap(ws, syn, real)
    assert gap(ws, syn, real, tstr="off", n_permutations=10).tstr is None


def test_a_side_without_rows_is_refused(ws: Workspace, add_real) -> None:
    real = add_real(ws, draw(1, 24)[0])
    with pytest.raises(SynthError, match="holds no synthetic rows"):
        gap(ws, real, real)


def test_cli_json_and_html(ws: Workspace, add_real, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from synth.cli.loop import gap_cmd

    real = add_real(ws, draw(1, 24)[0])
    images, params = draw(2, 30, grain=lambda p, rng: {"noise": 60.0} if p["grain"] > 0.8 else {})
    syn = add_synthetic(ws, images, params)
    out = tmp_path / "report"
    args = ["--synthetic", str(syn), "--real", str(real), "-w", ws.root, "--seed", "1", "--min-support", "5"]
    res = CliRunner().invoke(gap_cmd, [*args, "--json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert 0 <= d["auc"] <= 1 and d["params"] and d["tstr"] is None
    assert {"index.html", "features.png", "params.png", "least_real.png", "most_real.png"} <= \
        {p.name for p in out.iterdir()}
    assert "Where the gap is" in (out / "index.html").read_text()
    text = CliRunner().invoke(gap_cmd, args)
    assert text.exit_code == 0 and "C2ST AUC" in text.output and "where the gap is" in text.output
