"""Import of real data: layouts, dedupe, provenance, and every bad input refused with nothing committed."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synth.data.importer import ImportOptions, import_data
from synth.errors import SynthError
from synth.store.workspace import Workspace


def _ws(path: str) -> Workspace:
    return Workspace.open(path, create=True)


def test_class_folders_dedupe_and_provenance(image_dir: Path, ws_path: str) -> None:
    (image_dir / "dog" / "copy.png").write_bytes((image_dir / "cat" / "0.png").read_bytes())
    ws = _ws(ws_path)
    res = import_data(ws, "images", image_dir, options=ImportOptions(license="CC-BY-4.0", note="pilot"))
    assert (res.added, res.duplicates) == (8, 1)
    again = import_data(ws, "images", image_dir)
    assert (again.added, again.duplicates, again.version) == (0, 9, res.version)
    rows = ws.manifest.to_table().to_pylist()
    assert {r["origin"] for r in rows} == {"real"} and {r["license"] for r in rows} == {"CC-BY-4.0"}
    assert sorted(json.loads(r["labels"])["class"] for r in rows) == ["cat"] * 4 + ["dog"] * 4
    for r in rows:
        p = json.loads(r["payloads"])["image"]
        assert ws.store.exists(p["hash"]) and r["source"].startswith("file://") and r["width"] == 20


def test_labels_csv_and_link(image_dir: Path, ws_path: str, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("file,label\ncat/0.png,tabby\ndog/1.png,terrier\n")
    ws = _ws(ws_path)
    import_data(ws, "images", image_dir, labels, options=ImportOptions(link=True))
    rows = ws.manifest.to_table().to_pylist()
    assert sorted(json.loads(r["labels"])["class"] for r in rows) == ["tabby", "terrier"]
    for r in rows:
        p = json.loads(r["payloads"])["image"]
        assert p["uri"].startswith("file://") and not ws.store.exists(p["hash"])


@pytest.mark.parametrize("line, message", [
    ("../outside.png,x", "escapes"), ("/etc/passwd,x", "absolute"), ("cat/nope.png,x", "no such image"),
])
def test_bad_labels_file_commits_nothing(image_dir: Path, ws_path: str, tmp_path: Path, line: str,
                                         message: str) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text(f"file,label\ncat/0.png,a\n{line}\n")
    (tmp_path / "outside.png").write_bytes((image_dir / "cat" / "0.png").read_bytes())
    ws = _ws(ws_path)
    with pytest.raises(SynthError, match=message):
        import_data(ws, "images", image_dir, labels)
    assert ws.manifest.latest_version() is None and not list(ws.store.iter_digests())


def test_symlink_outside_and_undecodable(image_dir: Path, ws_path: str, tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(b"x")
    os.symlink(tmp_path / "secret.png", image_dir / "cat" / "link.png")
    ws = _ws(ws_path)
    with pytest.raises(SynthError, match="outside the import root"):
        import_data(ws, "images", image_dir)
    os.unlink(image_dir / "cat" / "link.png")
    (image_dir / "cat" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(SynthError, match="not a decodable image"):
        import_data(ws, "images", image_dir)
    assert ws.manifest.latest_version() is None


def _coco(image_dir: Path, **bad: int) -> dict:
    return {"images": [{"id": 1, "file_name": "cat/0.png", "width": 20, "height": 16},
                       {"id": 2, "file_name": "dog/1.png", "width": 20, "height": 16}],
            "categories": [{"id": 5, "name": "box"}],
            "annotations": [{"id": 1, "image_id": bad.get("image_id", 1), "category_id": bad.get("category_id", 5),
                             "bbox": [2, 2, 7, 8], "segmentation": [[2, 2, 9, 2, 9, 10, 2, 10]], "iscrowd": 0}]}


def test_coco_import_maps_to_scene_labels(image_dir: Path, ws_path: str, tmp_path: Path) -> None:
    ann = tmp_path / "ann.json"
    ann.write_text(json.dumps(_coco(image_dir)))
    ws = _ws(ws_path)
    import_data(ws, "coco", ann, image_dir)
    labels = [json.loads(r["labels"]) for r in ws.manifest.to_table().to_pylist()]
    objs = [o for lab in labels for o in lab["objects"]]
    assert objs == [{"class": "box", "box": [2.0, 2.0, 9.0, 10.0],
                     "polygon": [[2.0, 2.0], [9.0, 2.0], [9.0, 10.0], [2.0, 10.0]]}]


@pytest.mark.parametrize("bad, message", [({"image_id": 9}, "image id 9"), ({"category_id": 7}, "category id 7")])
def test_coco_dangling_ids(image_dir: Path, ws_path: str, tmp_path: Path, bad: dict, message: str) -> None:
    ann = tmp_path / "ann.json"
    ann.write_text(json.dumps(_coco(image_dir, **bad)))
    with pytest.raises(SynthError, match=message):
        import_data(_ws(ws_path), "coco", ann, image_dir)


def test_table_text_audio(ws_path: str, tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("x,y,label\n1,2.5,a\n3,4.5,b\n1,2.5,a\n")
    (tmp_path / "t.jsonl").write_text('{"text": "hi there", "label": "greet"}\n{"text": "bye", "label": "bye"}\n')
    audio = tmp_path / "clips"
    (audio / "dog").mkdir(parents=True)
    sf.write(audio / "dog" / "a.wav", np.zeros(800, np.float32), 8000)
    (audio / "ev.csv").write_text("file,label,onset_s,offset_s\ndog/a.wav,bark,0.01,0.05\ndog/a.wav,bark,0.06,0.09\n")
    ws = _ws(ws_path)
    assert import_data(ws, "table", tmp_path / "t.csv", "label").duplicates == 1
    assert import_data(ws, "text", tmp_path / "t.jsonl").added == 2
    assert import_data(ws, "audio", audio, audio / "ev.csv").added == 1
    rows = {json.loads(r["payloads"]).popitem()[0]: json.loads(r["labels"]) for r in ws.manifest.to_table().to_pylist()}
    assert rows["audio"]["events"][1] == {"class": "bark", "onset_s": 0.06, "offset_s": 0.09}
    assert rows["text"]["class"] in ("greet", "bye") and rows["row"]["class"] in ("a", "b")
    with pytest.raises(SynthError, match="line 1"):
        (tmp_path / "bad.jsonl").write_text("{nope\n")
        import_data(ws, "text", tmp_path / "bad.jsonl")


def test_cli_bad_input_exit_2(image_dir: Path, ws_path: str, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("file,label\n../../etc/passwd,x\n")
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "import", "images", str(image_dir), "--labels",
                           str(labels), "-w", ws_path], capture_output=True, text=True)
    assert proc.returncode == 2 and "escapes the import root" in proc.stderr and "Traceback" not in proc.stderr
    assert not Path(ws_path).exists()
