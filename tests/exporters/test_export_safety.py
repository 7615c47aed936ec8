"""Exports that stay inside OUT and lose nothing ("Nothing lost, nothing escapes"): split names that are
paths, stale and clobbered exports, CSV cells a spreadsheet would run as formulas."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pyarrow as pa
import pytest

from synth import api
from synth.cli import main
from synth.data.importer import import_data
from synth.errors import SynthError
from synth.exporters.audio import export_audio
from synth.exporters.coco import export_coco
from synth.exporters.hf import export_hf
from synth.exporters.records import escape_csv_cell, inside
from synth.exporters.tabular import export_tabular
from synth.exporters.webdataset import export_webdataset
from synth.exporters.yolo import export_yolo
from synth.store.workspace import Workspace

SHAPES = "name: s\nscene: shapes\ncount: {count}\nseed: 1\nparams: {{width: 32, height: 32, num_objects: 1}}\n" \
         "split: {{train: 0.5, val: 0.5}}\n"
PNG = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
WAV_HASH = "b" * 64


def _hostile_table(split: str) -> pa.Table:
    """One row, as a manifest holds it, whose split name is a path (the importer refuses such names;
    an exporter must not trust that every version came through it)."""
    payloads = {"image": {"kind": "image", "hash": "a" * 64, "format": "png"},
                "audio": {"kind": "audio", "hash": WAV_HASH, "format": "wav"},
                "row": {"kind": "row", "value": {"x": 1}}}
    labels = {"class": "cat", "objects": [{"class": "cat", "box": [1.0, 1.0, 5.0, 5.0]}]}
    return pa.Table.from_pylist([{"sample_id": "abc123", "split": split, "origin": "real", "width": 8, "height": 8,
                                  "labels": json.dumps(labels), "payloads": json.dumps(payloads), "params": "{}",
                                  "source": None, "license": None, "recipe_name": None, "index": 0}])


def _get(digest: str) -> bytes:
    return PNG if digest == "a" * 64 else b"RIFF"


@pytest.mark.parametrize("write", [
    lambda t, out: export_yolo(t, _get, out),
    lambda t, out: export_hf(t, _get, out),
    lambda t, out: export_webdataset(t, _get, out),
    lambda t, out: export_tabular(t, _get, out, "csv"),
    lambda t, out: export_audio(t, _get, out),
], ids=["yolo", "hf", "webdataset", "csv", "audio"])
def test_a_split_name_that_is_a_path_cannot_write_outside_out(tmp_path: Path, write) -> None:
    out = tmp_path / "a" / "b" / "out"
    with pytest.raises(SynthError, match="outside the output folder"):
        write(_hostile_table("../../X"), out)
    assert not [p for p in tmp_path.rglob("*X*")]


def test_coco_writes_inside_out_and_inside_refuses_escapes(tmp_path: Path) -> None:
    export_coco(_hostile_table("../../X"), _get, tmp_path / "out")  # split is only a field in COCO
    assert sorted(p.name for p in (tmp_path / "out").rglob("*")) == ["abc123.png", "annotations.json", "images"]
    assert inside(tmp_path, "a", "b.txt") == (tmp_path / "a" / "b.txt").resolve()
    for parts in (("..", "x"), ("/etc/passwd",), ("a/../../x",)):
        with pytest.raises(SynthError, match="outside the output folder"):
            inside(tmp_path / "out", *parts)


def _generate(tmp_path: Path, count: int, name: str = "ws") -> str:
    recipe = tmp_path / f"r{count}.yaml"
    recipe.write_text(SHAPES.format(count=count))
    ws = str(tmp_path / name)
    api.generate(recipe, ws, workers=1)
    return ws


def _ids(folder: Path) -> set[str]:
    return {p.stem for p in folder.rglob("*.png")}


def test_an_earlier_export_is_replaced_whole(tmp_path: Path) -> None:
    ws = _generate(tmp_path, 6)
    out = tmp_path / "out"
    api.export(out, "yolo", ws)
    assert len(_ids(out)) == 6 and (out / ".synth-export.json").exists()
    marker = json.loads((out / ".synth-export.json").read_text())
    assert marker["format"] == "yolo" and "data.yaml" in marker["files"]
    assert f"path: {out.resolve()}\n" in (out / "data.yaml").read_text()  # the final place, not the temp folder
    (out / "images" / "train" / "stale.png").write_bytes(PNG)  # as an older export of other splits left it
    marker["files"].append("images/train/stale.png")
    (out / ".synth-export.json").write_text(json.dumps(marker))
    api.export(out, "coco", ws)  # another export over it: nothing of the earlier one stays behind
    assert not (out / "labels").exists() and (out / "annotations.json").exists() and "stale" not in _ids(out)
    assert len(_ids(out)) == 6
    assert not [p for p in tmp_path.iterdir() if "synth-tmp" in p.name or "synth-old" in p.name]


def test_a_foreign_folder_is_refused_unless_overwrite(tmp_path: Path, capsys) -> None:
    ws = _generate(tmp_path, 2)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(SynthError, match="not empty.*--overwrite"):
        api.export(out, "coco", ws)
    assert (out / "thesis.tex").read_text() == "years of work" and not (out / "images").exists()
    try:
        main(["export", str(out), "--format", "coco", "-w", ws])
    except SystemExit as exc:
        assert exc.code == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and "Traceback" not in err
    api.export(out, "coco", ws, overwrite=True)
    assert not (out / "thesis.tex").exists() and (out / "annotations.json").exists()
    # an earlier export plus a file the user added: that file is not deleted silently
    (out / "notes.txt").write_text("mine")
    with pytest.raises(SynthError, match="notes.txt"):
        api.export(out, "coco", ws)
    assert (out / "notes.txt").exists()
    # an existing file is never turned into a folder
    with pytest.raises(SynthError, match="not a folder"):
        api.export(out / "notes.txt", "coco", ws, overwrite=True)


def test_an_interrupted_export_leaves_out_as_it_was(tmp_path: Path, monkeypatch) -> None:
    ws = _generate(tmp_path, 2)
    out = tmp_path / "out"
    api.export(out, "coco", ws)
    before = sorted(p.name for p in out.rglob("*"))

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr("synth.exporters.yolo.export_yolo", boom)
    with pytest.raises(RuntimeError):
        api.export(out, "yolo", ws)
    assert sorted(p.name for p in out.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_single_file_follows_the_same_rule(tmp_path: Path) -> None:
    ws = _generate(tmp_path, 2)
    target = tmp_path / "rows.csv"
    target.write_text("someone else's data\n")
    with pytest.raises(SynthError, match="not an earlier synth export.*--overwrite"):
        api.export(target, "csv", ws, single_file=True)
    assert target.read_text() == "someone else's data\n"
    res = api.export(target, "csv", ws, single_file=True, overwrite=True)
    assert res["files"] == [str(target)] and "sample_id" in target.read_text()
    api.export(target, "csv", ws, single_file=True)  # an earlier synth export: replaced without asking
    assert (tmp_path / ".rows.csv.synth-export.json").exists()


TABLE = "name,formula,amount,at\nalice,=HYPERLINK(\"http://x\"),-1.5,@SUM(A1)\nbob,+cmd|' /C calc'!A0,3,\tx\n"


def test_csv_cells_that_run_as_formulas_are_escaped(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text(TABLE)
    ws = str(tmp_path / "ws")
    import_data(Workspace.open(ws, create=True), "table", src)
    api.export(tmp_path / "out", "csv", ws, single_file=True)
    rows = {r["name"]: r for r in csv.DictReader((tmp_path / "out").open())}
    assert rows["alice"]["formula"] == "'=HYPERLINK(\"http://x\")" and rows["alice"]["at"] == "'@SUM(A1)"
    assert rows["bob"]["formula"].startswith("'+cmd") and rows["alice"]["amount"] == "-1.5"
    api.export(tmp_path / "out", "csv", ws, single_file=True, csv_escape=False)
    rows = {r["name"]: r for r in csv.DictReader((tmp_path / "out").open())}
    assert rows["alice"]["formula"] == "=HYPERLINK(\"http://x\")"


def test_no_csv_escape_flag_on_the_cli(tmp_path: Path, capsys) -> None:
    src = tmp_path / "t.csv"
    src.write_text("name,f\na,=1+1\n")
    ws = str(tmp_path / "ws")
    import_data(Workspace.open(ws, create=True), "table", src)
    for flag, expected in ((), "'=1+1"), (("--no-csv-escape",), "=1+1"):
        try:
            main(["export", str(tmp_path / "o.csv"), "--format", "csv", "--single-file", "-w", ws, "-q", *flag])
        except SystemExit as exc:
            assert exc.code == 0, capsys.readouterr().err
        assert next(csv.DictReader((tmp_path / "o.csv").open()))["f"] == expected


@pytest.mark.parametrize("cell, escaped", [
    ("=1+1", "'=1+1"), ("+SUM(A1)", "'+SUM(A1)"), ("-A1", "'-A1"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-1.5", "-1.5"), ("+3", "+3"), ("-2e5", "-2e5"), ("plain", "plain"), (-1.5, -1.5), ("", ""),
])
def test_escape_csv_cell(cell: object, escaped: object) -> None:
    assert escape_csv_cell(cell) == escaped
