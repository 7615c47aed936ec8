"""Predictions as versioned data: CSV, Parquet and JSONL imports keyed by sample id, several models side by
side, and every bad input refused with nothing written."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synth.data.predictions import import_predictions, list_predictions, load_predictions, predictions_uri
from synth.errors import SynthError
from synth.store.workspace import Workspace
from tests.conftest import RECIPES

CLASSES = ["circle", "square", "star"]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from synth.api import generate

    root = tmp_path_factory.mktemp("pred") / "ws"
    generate(RECIPES / "shapes.yaml", str(root), count=40, workers=1)
    return root


@pytest.fixture
def ws(base: Path, tmp_path: Path) -> Workspace:
    shutil.copytree(base, tmp_path / "ws")
    return Workspace.open(str(tmp_path / "ws"))


def ids(ws: Workspace) -> list[str]:
    return sorted(ws.manifest.to_table(columns=["sample_id"]).column("sample_id").to_pylist())


def rows_for(ws: Workspace, n: int | None = None) -> list[dict[str, Any]]:
    out = []
    for i, sid in enumerate(ids(ws)[:n]):
        probs = [0.1, 0.1, 0.1]
        probs[i % 3] = 0.8
        out.append({"sample_id": sid, "prediction": CLASSES[i % 3],
                    **{f"prob_{c}": p for c, p in zip(CLASSES, probs)}})
    return out


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    import csv

    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in r.items()})
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def snapshot(ws: Workspace) -> tuple[int, list[dict[str, Any]], bool]:
    return ws.manifest.latest_version(), list_predictions(ws), Path(predictions_uri(ws)).exists()


def test_csv_import_is_a_version_and_loads_back(ws: Workspace, tmp_path: Path) -> None:
    before = ws.manifest.latest_version()
    rows = rows_for(ws)
    res = import_predictions(ws, write_csv(tmp_path / "p.csv", rows), "resnet")
    assert res["version"] == before + 1 and res["for_version"] == before
    assert res["rows"] == len(rows) and res["unknown"] == 0 and res["classes"] == CLASSES
    info = ws.manifest.version_info(res["version"])
    assert info.operation == "predictions" and info.rows == len(ids(ws))  # no manifest rows added
    props = ws.manifest._props(ws.manifest._dataset(), res["version"])
    assert props["predictions_model"] == "resnet" and props["predictions_sha256"] == res["sha256"]
    table, meta = load_predictions(ws, "resnet")
    assert meta["sha256"] == res["sha256"] and table.num_rows == len(rows)
    got = {r["sample_id"]: r for r in table.to_pylist()}
    first = rows[0]
    assert got[first["sample_id"]]["prediction"] == first["prediction"]
    assert got[first["sample_id"]]["probs"] == pytest.approx([first[f"prob_{c}"] for c in CLASSES])
    assert table.schema.field("embedding").type == pa.list_(pa.float32())


def test_parquet_and_jsonl_with_boxes_and_embeddings(ws: Workspace, tmp_path: Path) -> None:
    rows = [{"sample_id": sid, "prediction": "star", "embedding": [0.5, float(i)],
             "boxes": [{"bbox": [1, 2, 30, 40], "class": "star", "score": 0.9}]} for i, sid in enumerate(ids(ws))]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "p.parquet")
    res = import_predictions(ws, tmp_path / "p.parquet", "detr")
    assert res["has_boxes"] and res["embedding_dim"] == 2 and res["classes"] == []
    res2 = import_predictions(ws, write_jsonl(tmp_path / "p.jsonl", rows), "yolo")
    assert res2["rows"] == len(rows)
    table, _ = load_predictions(ws, "yolo")
    row = table.to_pylist()[0]
    assert json.loads(row["boxes"])[0] == {"bbox": [1.0, 2.0, 30.0, 40.0], "class": "star", "score": 0.9}
    assert len(row["embedding"]) == 2


def test_two_models_side_by_side_and_replace(ws: Workspace, tmp_path: Path) -> None:
    rows = rows_for(ws)
    import_predictions(ws, write_csv(tmp_path / "a.csv", rows), "a")
    other = [{**r, "prediction": "circle", "prob_circle": 1.0, "prob_square": 0.0, "prob_star": 0.0} for r in rows]
    for_version = list_predictions(ws)[0]["for_version"]
    import_predictions(ws, write_csv(tmp_path / "b.csv", other), "b")  # the newest data version, not a's import
    assert [(r["model"], r["for_version"]) for r in list_predictions(ws)] == [("a", for_version), ("b", for_version)]
    a, _ = load_predictions(ws, "a")
    b, _ = load_predictions(ws, "b")
    assert set(b.column("prediction").to_pylist()) == {"circle"} and len(set(a.column("prediction").to_pylist())) == 3
    with pytest.raises(SynthError, match="already has predictions"):
        import_predictions(ws, write_csv(tmp_path / "b2.csv", rows), "b")
    res = import_predictions(ws, write_csv(tmp_path / "b2.csv", rows), "b", replace=True)
    assert res["for_version"] == for_version
    assert res["replaced"]
    b, _ = load_predictions(ws, "b")
    assert b.num_rows == len(rows) and len(set(b.column("prediction").to_pylist())) == 3
    import lance
    stored = lance.dataset(predictions_uri(ws)).to_table(columns=["model"]).column("model").to_pylist()
    assert stored.count("b") == len(rows)  # the replaced rows are gone
    a, _ = load_predictions(ws, "a")
    assert a.num_rows == len(rows)  # the other model is untouched


def test_some_unknown_ids_are_counted_and_left_out(ws: Workspace, tmp_path: Path) -> None:
    rows = rows_for(ws, 10) + [{**rows_for(ws, 1)[0], "sample_id": f"nope{i}"} for i in range(3)]
    res = import_predictions(ws, write_csv(tmp_path / "p.csv", rows), "m")
    assert res["rows"] == 10 and res["unknown"] == 3


def bad_cases(ws: Workspace, tmp_path: Path) -> list[tuple[str, Path, str]]:
    rows = rows_for(ws, 6)
    cases = []

    def csv_case(name: str, rs: list[dict[str, Any]], match: str) -> None:
        cases.append((name, write_csv(tmp_path / f"{name}.csv", rs), match))

    csv_case("all_unknown", [{**r, "sample_id": "x" + r["sample_id"]} for r in rows], "none of the")
    csv_case("sum", [{**rows[0], "prob_circle": 0.5}] + rows[1:], "do not sum to 1")
    csv_case("nan", [{**rows[0], "prob_circle": "nan"}] + rows[1:], "not a finite number")
    csv_case("inf", [{**rows[0], "prob_circle": "inf"}] + rows[1:], "not a finite number")
    csv_case("dupe", rows + [rows[0]], "duplicate sample_id")
    csv_case("missing", [{"sample_id": r["sample_id"], "label": "x"} for r in rows], "missing column")
    csv_case("no_id", [{"id": r["sample_id"], "prediction": "x"} for r in rows], "sample_id")
    few = [{k: v for k, v in r.items() if k != "prob_star"} for r in rows]
    few = [{**r, "prob_circle": r["prob_circle"] + (0.1 if r["prediction"] != "star" else 0.9)}
           for r in few]
    csv_case("fewer_prob_columns", [{**r, "prob_square": 1 - r["prob_circle"]} for r in few], "no prob_ column")
    csv_case("bad_embedding", [{"sample_id": r["sample_id"], "prediction": "x", "embedding": [1.0, math.inf]}
                               for r in rows], "not a finite number")
    (tmp_path / "latin1.csv").write_bytes("sample_id,prediction\n".encode() + rows[0]["sample_id"].encode() +
                                          ",caf\xe9\n".encode("latin-1"))
    cases.append(("latin1", tmp_path / "latin1.csv", "not UTF-8"))
    cases.append(("jsonl_nan", write_jsonl(tmp_path / "nan.jsonl", [{"sample_id": rows[0]["sample_id"],
                                                                     "prediction": "x", "embedding": [float("nan")]}]),
                  "not a finite number"))
    (tmp_path / "p.txt").write_text("x")
    cases.append(("format", tmp_path / "p.txt", "unknown predictions format"))
    return cases


def test_every_bad_input_is_refused_with_nothing_written(ws: Workspace, tmp_path: Path) -> None:
    before = snapshot(ws)
    for name, path, match in bad_cases(ws, tmp_path):
        with pytest.raises(SynthError, match=match):
            import_predictions(ws, path, "m")
        assert snapshot(ws) == before, name


def test_size_limit_and_duplicate_model_write_nothing(ws: Workspace, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "p.csv", rows_for(ws))
    monkeypatch.setenv("SYNTH_MAX_PREDICTIONS_BYTES", "100")
    before = snapshot(ws)
    with pytest.raises(SynthError, match="over the limit"):
        import_predictions(ws, path, "m")
    assert snapshot(ws) == before
    monkeypatch.delenv("SYNTH_MAX_PREDICTIONS_BYTES")
    res = import_predictions(ws, path, "m")
    table_before = load_predictions(ws, "m")[0]
    state = snapshot(ws)
    with pytest.raises(SynthError, match="already has predictions"):
        import_predictions(ws, path, "m", version=res["for_version"])
    assert snapshot(ws) == state and load_predictions(ws, "m")[0].equals(table_before)
    with pytest.raises(SynthError, match="cannot be used as a name"):
        import_predictions(ws, path, "../evil")


def test_cli_import_and_list(ws: Workspace, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from synth.cli.predict import predictions_group

    path = write_csv(tmp_path / "p.csv", rows_for(ws))
    res = CliRunner().invoke(predictions_group, ["import", str(path), "--model", "m", "-w", ws.root, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["rows"] == len(ids(ws))
    res = CliRunner().invoke(predictions_group, ["list", "-w", ws.root, "--json"])
    assert [r["model"] for r in json.loads(res.output)] == ["m"]
    res = CliRunner().invoke(predictions_group, ["list", "-w", ws.root])
    assert "m" in res.output and "circle" in res.output
