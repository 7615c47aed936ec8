"""Label lineage (DAG, leaves, history, CSV corrections) and exports that read back with the client
libraries: datasets (Image features), webdataset, CSV/JSONL, audio folder, COCO with current labels."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synth.store import lineage
from synth.data.corrections import Correction, commit_corrections, read_corrections_csv, resolve_changes
from synth.exporters.dispatch import export_version
from synth.data.importer import import_data
from synth.errors import SynthError
from synth.store.workspace import Workspace


def _correct(ws: Workspace, sid: str, cls: str, parents: list[str] | None = None) -> int:
    items = resolve_changes(ws, [Correction(sid, {"__set__": {"class": cls}}, parents)])
    return commit_corrections(ws, items, message=f"{sid} -> {cls}")


def test_dag_history_and_consensus_merge(image_dir: Path, ws_path: str) -> None:
    ws = Workspace.open(ws_path, create=True)
    v1 = import_data(ws, "images", image_dir).version
    sid = ws.manifest.to_table().column("sample_id")[0].as_py()
    root = lineage.root_id(sid)
    _correct(ws, sid, "a")
    _correct(ws, sid, "b", parents=[root])  # a second annotator revises the original too: two leaves
    hist = lineage.history(ws, sid)
    assert [n["leaf"] for n in hist] == [False, True, True] and hist[2]["current"]
    merged = _correct(ws, sid, "consensus", parents=[hist[1]["label_id"], hist[2]["label_id"]])
    hist = lineage.history(ws, sid)
    assert hist[-1]["parents"] == sorted([hist[1]["label_id"], hist[2]["label_id"]]) and hist[-1]["version"] == merged
    assert [n["label_id"] for n in hist if n["leaf"]] == [hist[-1]["label_id"]]
    now = lineage.current_labels(ws)
    current = dict(zip(now.column("sample_id").to_pylist(), now.column("labels").to_pylist()))
    assert json.loads(current[sid]) == {"class": "consensus"}
    then = lineage.current_labels(ws, v1)
    old = dict(zip(then.column("sample_id").to_pylist(), then.column("labels").to_pylist()))
    assert json.loads(old[sid])["class"] in ("cat", "dog")
    with pytest.raises(SynthError, match="not labels of sample"):
        _correct(ws, sid, "x", parents=["root:someone-else"])


def test_corrections_csv_validates_before_commit(image_dir: Path, ws_path: str, tmp_path: Path) -> None:
    ws = Workspace.open(ws_path, create=True)
    import_data(ws, "images", image_dir)
    ids = ws.manifest.to_table().column("sample_id").to_pylist()
    bad = tmp_path / "bad.csv"
    bad.write_text(f"sample_id,class\n{ids[0]},x\nnot-a-sample,y\n")
    before = ws.manifest.latest_version()
    with pytest.raises(SynthError, match="not-a-sample"):
        commit_corrections(ws, resolve_changes(ws, read_corrections_csv(bad)), message="m")
    assert ws.manifest.latest_version() == before
    good = tmp_path / "good.csv"
    good.write_text(f"sample_id,class,note\n{ids[0]},x,typo\n{ids[1]},y,\n")
    v = commit_corrections(ws, resolve_changes(ws, read_corrections_csv(good)), message="m")
    assert lineage.history(ws, ids[0])[-1] | {"created": 0} == lineage.history(ws, ids[0])[-1] | {"created": 0}
    assert lineage.history(ws, ids[0])[-1]["note"] == "typo" and lineage.history(ws, ids[0])[-1]["version"] == v


def test_hf_export_loads_with_datasets_at_any_version(image_dir: Path, ws_path: str, tmp_path: Path) -> None:
    import datasets
    ws = Workspace.open(ws_path, create=True)
    v1 = import_data(ws, "images", image_dir, options=None).version
    sid = sorted(ws.manifest.to_table().column("sample_id").to_pylist())[0]
    v2 = _correct(ws, sid, "lynx")
    for version, expected in ((v1, None), (v2, "lynx")):
        out = tmp_path / f"hf{version}"
        export_version(ws, "hf", out, version, shard_rows=3)
        ds = datasets.load_dataset(str(out))
        assert sum(len(ds[s]) for s in ds) == 8
        split = next(s for s in ds if sid in ds[s]["sample_id"])
        assert isinstance(ds[split].features["image"], datasets.Image)
        row = ds[split][ds[split]["sample_id"].index(sid)]
        assert row["image"].size == (20, 16)
        names = ds[split].features["label"].names  # a ClassLabel: ids, names in the feature
        assert (names[row["label"]] == "lynx") == (expected == "lynx")
        assert "configs:" in (out / "README.md").read_text()


def test_webdataset_and_coco_use_current_labels(image_dir: Path, ws_path: str, tmp_path: Path) -> None:
    import webdataset as wds
    ws = Workspace.open(ws_path, create=True)
    import_data(ws, "images", image_dir)
    sid = sorted(ws.manifest.to_table().column("sample_id").to_pylist())[0]
    _correct(ws, sid, "lynx")
    res = export_version(ws, "webdataset", tmp_path / "wds", shard_rows=2)
    shards = sorted(str(tmp_path / "wds" / n) for names in res["shards"].values() for n in names)
    samples = list(wds.WebDataset(shards, shardshuffle=False).decode("rgb"))
    assert len(samples) == 8
    got = {s["__key__"]: s for s in samples}
    assert res["classes"][got[sid]["cls"]] == "lynx" and got[sid]["class.txt"] == "lynx"
    assert got[sid]["json"]["labels"] == {"class": "lynx"}
    assert got[sid]["png"].shape == (16, 20, 3)


def test_tabular_and_audio_exports(ws_path: str, tmp_path: Path) -> None:
    ws = Workspace.open(ws_path, create=True)
    (tmp_path / "t.csv").write_text("x,label\n1,a\n2,b\n3,a\n")
    import_data(ws, "table", tmp_path / "t.csv", "label")
    clips = tmp_path / "clips"
    for c in ("yes", "no"):
        (clips / c).mkdir(parents=True)
        sf.write(clips / c / "1.wav", np.full(400, 0.1 if c == "yes" else -0.1, np.float32), 8000)
    import_data(ws, "audio", clips)
    export_version(ws, "csv", tmp_path / "csv")
    export_version(ws, "jsonl", tmp_path / "jsonl")
    rows = [r for f in sorted((tmp_path / "csv").glob("*.csv")) for r in csv.DictReader(f.open())]
    assert sorted((r["x"], r["label"]) for r in rows) == [("1", "a"), ("2", "b"), ("3", "a")]
    lines = [json.loads(x) for f in (tmp_path / "jsonl").glob("*.jsonl") for x in f.read_text().splitlines()]
    assert sorted(x["labels"]["target"] for x in lines) == ["a", "a", "b"]
    export_version(ws, "audio", tmp_path / "audio")
    metas = list((tmp_path / "audio").glob("*/metadata.csv"))
    entries = [(m.parent / r["file_name"], r["label"]) for m in metas for r in csv.DictReader(m.open())]
    assert sorted(lab for _, lab in entries) == ["no", "yes"]
    for path, lab in entries:
        samples, sr = sf.read(path)
        assert sr == 8000 and np.sign(samples.mean()) == (1 if lab == "yes" else -1)
