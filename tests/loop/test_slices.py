"""Slices with known answers: a planted failing region of a recipe param ranks first, a tiny all-wrong bin
does not, metadata of real rows is sliced too, and `--tag` saves the worst slice."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from synth.data.predictions import import_predictions
from synth.errors import SynthError
from synth.loop.slices import save_slice, slices
from synth.store.workspace import Workspace
from tests.loop.conftest import add_synthetic

CLASSES = ["a", "b", "c"]
N = 300


def planted(ws: Workspace, tmp_path: Path, *, rare: int = 0) -> tuple[dict[str, dict], Path]:
    """N synthetic rows (size ~ U(0.08, 0.3), texture of 3 values) with class labels; predictions wrong
    exactly when size > 0.25, plus 3% random errors elsewhere. `rare` extra rows carry texture 'rare' and
    are all wrong (a tiny bin)."""
    rng = np.random.default_rng(0)
    n = N + rare
    params = [{"size": float(rng.uniform(0.08, 0.3)), "texture": str(rng.choice(["solid", "noise", "stripes"])),
               "rotation": float(rng.uniform(0, 360))} for _ in range(n)]
    for p in params[N:]:
        p.update(texture="rare", size=0.1)
    labels = [{"class": CLASSES[i % 3]} for i in range(n)]
    images = [np.full((8, 8), i % 256, np.uint8) for i in range(n)]
    add_synthetic(ws, images, params, labels)
    table = ws.manifest.to_table(columns=["sample_id", "index"]).sort_by("index")
    truth = {}
    path = tmp_path / "pred.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sample_id", "prediction"])
        for sid, i in zip(table.column("sample_id").to_pylist(), table.column("index").to_pylist()):
            wrong = params[i]["size"] > 0.25 or i >= N or rng.random() < 0.03
            pred = CLASSES[(i + 1) % 3] if wrong else CLASSES[i % 3]
            truth[sid] = {"wrong": wrong, **params[i]}
            w.writerow([sid, pred])
    return truth, path


def test_planted_failing_param_region_ranks_first(ws: Workspace, tmp_path: Path) -> None:
    truth, path = planted(ws, tmp_path)
    import_predictions(ws, path, "m")
    found = slices(ws, "m", min_support=20)
    first = found[0]
    assert first["column"] == "params.size" and first["kind"] == "param"
    assert first["significant"] and first["lift"] > 2
    lo = first["where"][0]["lo"]
    assert lo > 0.2  # the top quantile bin of size, where every size > 0.25 lives
    expected_support = sum(1 for t in truth.values() if t["size"] >= lo)
    assert first["support"] == expected_support
    assert first["errors"] == sum(1 for t in truth.values() if t["size"] >= lo and t["wrong"])
    assert first["ci"][0] <= first["error_rate"] <= first["ci"][1]
    overall = sum(t["wrong"] for t in truth.values()) / len(truth)
    assert first["lift"] == pytest.approx(first["error_rate"] / overall)
    assert all(s["support"] >= 20 for s in found)
    assert {s["kind"] for s in found} >= {"param", "metadata", "pair"}
    # ranked: significant ones first, each group by lift
    flags = [s["significant"] for s in found]
    assert flags == sorted(flags, reverse=True)
    # the size bins below the planted region are not flagged; pairs only where they add to both halves
    assert not any(s["significant"] for s in found if s["column"] == "params.size" and s["where"][0]["hi"] < 0.25)
    assert not any(s["kind"] == "pair" and s["column"].startswith("params.size") for s in found)
    assert all(s["lift"] < first["lift"] for s in found[1:])


def test_tiny_all_wrong_bin_does_not_rank_first(ws: Workspace, tmp_path: Path) -> None:
    _, path = planted(ws, tmp_path, rare=3)
    import_predictions(ws, path, "m")
    found = slices(ws, "m", min_support=1, pairs=False)
    rare = next(s for s in found if s["column"] == "params.texture" and s["bin"] == "rare")
    assert rare["error_rate"] == 1.0 and rare["support"] == 3
    assert found[0]["column"] == "params.size"
    assert found.index(rare) > 0
    assert all(s["column"] != "params.texture" or s["bin"] != "rare" for s in slices(ws, "m", min_support=20))


def test_by_metadata_and_unknown_columns(ws: Workspace, tmp_path: Path) -> None:
    _, path = planted(ws, tmp_path)
    import_predictions(ws, path, "m")
    only = slices(ws, "m", by=["size"], min_support=10)
    assert {s["column"] for s in only if s["kind"] != "pair"} == {"params.size"}
    labels = slices(ws, "m", by=["labels.class"], pairs=False)
    assert {s["bin"] for s in labels} == set(CLASSES) and all(s["kind"] == "metadata" for s in labels)
    with pytest.raises(SynthError, match="nothing to slice by"):
        slices(ws, "m", by=["nope"])
    with pytest.raises(SynthError, match="no predictions of model"):
        slices(ws, "other")


def test_real_rows_are_sliced_by_metadata(ws: Workspace, tmp_path: Path, add_real) -> None:
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, (8, 8), dtype=np.uint8) for _ in range(60)]
    add_real(ws, images, classes=["a" if i % 2 else "b" for i in range(60)])
    table = ws.manifest.to_table(columns=["sample_id", "labels", "split"])
    path = tmp_path / "p.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sample_id", "prediction"])
        for sid, labels, split in zip(*(table.column(c).to_pylist() for c in ("sample_id", "labels", "split"))):
            cls = json.loads(labels)["class"]
            w.writerow([sid, cls if cls == "a" else "a"])  # every 'b' is wrong
    import_predictions(ws, path, "m")
    found = slices(ws, "m", min_support=5)
    assert (found[0]["column"], found[0]["bin"]) == ("labels.class", "b")
    assert found[0]["error_rate"] == 1.0 and found[0]["kind"] == "metadata"
    assert any(s["column"] == "split" for s in found)


def test_tag_saves_worst_slice(ws: Workspace, tmp_path: Path) -> None:
    truth, path = planted(ws, tmp_path)
    import_predictions(ws, path, "m")
    rec = save_slice(ws, "hard-size", "m")
    saved = json.loads(Path(ws.path("slices", "hard-size.json")).read_text())
    assert saved["slice"]["column"] == "params.size" and saved["sample_ids"] == rec["sample_ids"]
    lo = saved["slice"]["where"][0]["lo"]
    assert set(saved["sample_ids"]) == {s for s, t in truth.items() if t["size"] >= lo}
    assert ws.manifest.resolve("hard-size") == ws.manifest.latest_version()


def test_cli_slices(ws: Workspace, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from synth.cli.predict import slices_cmd

    _, path = planted(ws, tmp_path)
    import_predictions(ws, path, "m")
    res = CliRunner().invoke(slices_cmd, ["--predictions", "m", "-w", ws.root, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out[0]["column"] == "params.size"
    res = CliRunner().invoke(slices_cmd, ["--predictions", "m", "-w", ws.root, "--tag", "worst", "--by", "size"])
    assert res.exit_code == 0, res.output
    assert "params.size" in res.output and "tagged version" in res.output


def test_html_report(ws: Workspace, tmp_path: Path) -> None:
    """-o writes a page whose figures exist and whose table names the planted slice first."""
    import re

    from click.testing import CliRunner

    from synth.cli.predict import slices_cmd

    _, path = planted(ws, tmp_path)
    import_predictions(ws, path, "m")
    res = CliRunner().invoke(slices_cmd, ["--predictions", "m", "-w", ws.root, "-o", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    page = (tmp_path / "rep" / "index.html").read_text()
    images = re.findall(r'<img src="([^"]+)"', page)
    assert "forest.png" in images and any(i.startswith("param_") for i in images)
    assert all((tmp_path / "rep" / i).stat().st_size > 1000 for i in images)
    first_row = re.search(r"<tr><td>1</td><td>([^<]+)</td>", page)
    assert first_row and first_row.group(1) == "params.size"


def test_columns_holding_the_same_rows_are_one_slice(ws: Workspace, tmp_path: Path) -> None:
    """A param that makes the label (a digit's text.literal is its class) gives the same rows per value as
    labels.class: one slice, named by the param (what focus acts on), the label listed under same_as."""
    rng = np.random.default_rng(2)
    params = [{"letter": CLASSES[i % 3], "size": float(rng.uniform(0, 1))} for i in range(N)]
    add_synthetic(ws, [np.full((8, 8), i % 256, np.uint8) for i in range(N)], params,
                  [{"class": CLASSES[i % 3]} for i in range(N)])
    table = ws.manifest.to_table(columns=["sample_id", "index"]).sort_by("index")
    path = tmp_path / "pred.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sample_id", "prediction"])
        for sid, i in zip(table.column("sample_id").to_pylist(), table.column("index").to_pylist()):
            wrong = CLASSES[i % 3] == "c" and rng.random() < 0.6
            w.writerow([sid, "a" if wrong else CLASSES[i % 3]])
    import_predictions(ws, path, "m")
    found = slices(ws, "m", min_support=20)
    first = next(s for s in found if s["kind"] != "pair")
    assert (first["column"], first["bin"]) == ("params.letter", "c") and first["same_as"] == ["labels.class=c"]
    assert not any(s["column"] == "labels.class" for s in found)
    assert not any(s["kind"] == "pair" and "labels.class" in s["column"] for s in found)
