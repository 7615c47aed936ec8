"""`import ... --unlabeled`: flat folders (and any layout) of images and audio, and text lines, come in
without classes, labeled {"unlabeled": true}."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf

from synth.data.importer import ImportOptions, import_data, scan_audio, scan_images, scan_text
from synth.errors import SynthError
from synth.store.workspace import Workspace


def _labels(ws: Workspace) -> list[dict]:
    return [json.loads(r["labels"]) for r in ws.manifest.to_table(columns=["labels"]).to_pylist()]


def test_flat_image_folder(tmp_path: Path) -> None:
    root = tmp_path / "flat"
    (root / "nested").mkdir(parents=True)
    for i in range(3):
        cv2.imwrite(str(root / f"{i}.png"), np.full((8, 8), 40 * i, np.uint8))
    cv2.imwrite(str(root / "nested" / "x.png"), np.full((8, 8), 200, np.uint8))
    with pytest.raises(SynthError, match="not inside a class folder.*--unlabeled"):
        scan_images(root)
    ws = Workspace.open(str(tmp_path / "ws"), create=True)
    res = import_data(ws, "images", root, options=ImportOptions(unlabeled=True))
    assert res.added == 4
    assert _labels(ws) == [{"unlabeled": True}] * 4
    items, _ = scan_images(root, unlabeled=True)  # the keyword the CLI passes
    assert len(items) == 4 and all("class" not in it.labels for it in items)


def test_flat_audio_folder_and_text(tmp_path: Path) -> None:
    root = tmp_path / "clips"
    root.mkdir()
    for i in range(2):
        sf.write(root / f"{i}.wav", np.sin(np.arange(800) * (i + 1) / 10).astype(np.float32), 8000)
    with pytest.raises(SynthError, match="--unlabeled"):
        scan_audio(root)
    items, _ = scan_audio(root, unlabeled=True)
    assert [it.labels for it in items] == [{"unlabeled": True}] * 2
    lines = tmp_path / "t.jsonl"
    lines.write_text(json.dumps({"text": "hi", "label": "greet"}) + "\n")
    assert scan_text(lines)[0][0].labels == {"class": "greet"}
    assert scan_text(lines, unlabeled=True)[0][0].labels == {"unlabeled": True}


def test_unlabeled_refuses_labels_and_other_kinds(tmp_path: Path) -> None:
    image_dir = tmp_path / "real"
    (image_dir / "cat").mkdir(parents=True)
    cv2.imwrite(str(image_dir / "cat" / "0.png"), np.zeros((8, 8), np.uint8))
    labels = tmp_path / "labels.csv"
    labels.write_text("file,label\ncat/0.png,cat\n")
    with pytest.raises(SynthError, match="leave out --labels"):
        scan_images(image_dir, labels, unlabeled=True)
    ws = Workspace.open(str(tmp_path / "ws"), create=True)
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n")
    with pytest.raises(SynthError, match="--unlabeled applies to images, audio, text"):
        import_data(ws, "table", table, options=ImportOptions(unlabeled=True))
    assert ws.manifest.latest_version() is None
