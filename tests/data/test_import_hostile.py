"""Hostile imports ("Nothing lost, nothing escapes"): names that would become paths, oversized and empty
images, non-UTF-8 text, duplicate columns, malformed COCO; each a clear SynthError with nothing committed."""
from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from synth.core.names import MAX_NAME_LENGTH, check_name
from synth.data.importer import ImportOptions, import_data
from synth.errors import SynthError
from synth.store.workspace import Workspace


def _ws(path: str) -> Workspace:
    return Workspace.open(path, create=True)


def _nothing_committed(ws: Workspace) -> None:
    assert ws.manifest.latest_version() is None and not list(ws.store.iter_digests())


@pytest.mark.parametrize("name", ["../../X", "a/b", ".hidden", "", "x" * (MAX_NAME_LENGTH + 1), "a\\b", "..",
                                  "tab\there", "a b"])
def test_check_name_refuses_path_like_names(name: str) -> None:
    with pytest.raises(SynthError, match="split"):
        check_name(name, "split")


def test_check_name_allows_plain_names_and_spaces_in_class_names() -> None:
    assert check_name("train-2024_v1.0", "split") == "train-2024_v1.0"
    assert check_name("traffic light", "class name") == "traffic light"
    with pytest.raises(SynthError, match="allowed"):
        check_name("traffic light", "split")


def test_split_names_that_are_paths_are_refused(image_dir: Path, ws_path: str) -> None:
    with pytest.raises(SynthError, match=r"--split.*\.\./\.\./X"):
        ImportOptions(split={"../../X": 1.0})
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "import", "images", str(image_dir), "--split",
                           "../../X=1", "-w", ws_path], capture_output=True, text=True)
    assert proc.returncode == 2 and "../../X" in proc.stderr and "Traceback" not in proc.stderr
    assert not Path(ws_path).exists()


def test_class_names_from_folders_and_labels_files_are_checked(image_dir: Path, ws_path: str,
                                                               tmp_path: Path) -> None:
    ws = _ws(ws_path)
    labels = tmp_path / "labels.csv"
    labels.write_text("file,label\ncat/0.png,ok\ndog/1.png,../../etc\n")
    with pytest.raises(SynthError, match=r"labels.csv:3.*\.\./\.\./etc"):
        import_data(ws, "images", image_dir, labels)
    (image_dir / "cat").rename(image_dir / "c;at")
    with pytest.raises(SynthError, match="c;at"):
        import_data(ws, "images", image_dir)
    _nothing_committed(ws)


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height (the pixel data is a stub: never decoded)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_oversized_image_is_refused_before_decoding(image_dir: Path, ws_path: str, monkeypatch) -> None:
    (image_dir / "cat" / "huge.png").write_bytes(_png_header(30_000, 30_000))
    ws = _ws(ws_path)
    with pytest.raises(SynthError, match=r"huge.png.*900,000,000 pixels.*SYNTH_MAX_IMAGE_PIXELS"):
        import_data(ws, "images", image_dir)
    (image_dir / "cat" / "huge.png").write_bytes(_png_header(12_000, 10_000))  # under Pillow's own error limit
    with pytest.raises(SynthError, match=r"12000 x 10000 pixels is over the limit of 100,000,000"):
        import_data(ws, "images", image_dir)
    (image_dir / "cat" / "huge.png").unlink()
    monkeypatch.setenv("SYNTH_MAX_IMAGE_PIXELS", "100")  # the fixture's 20 x 16 images are now too large
    with pytest.raises(SynthError, match="20 x 16 pixels is over the limit of 100"):
        import_data(ws, "images", image_dir)
    monkeypatch.setenv("SYNTH_MAX_IMAGE_PIXELS", "lots")
    with pytest.raises(SynthError, match="SYNTH_MAX_IMAGE_PIXELS"):
        import_data(ws, "images", image_dir)
    monkeypatch.setenv("SYNTH_MAX_IMAGE_PIXELS", "320")
    assert import_data(ws, "images", image_dir).added == 8


def test_zero_byte_image(image_dir: Path, ws_path: str) -> None:
    (image_dir / "cat" / "empty.png").write_bytes(b"")
    ws = _ws(ws_path)
    with pytest.raises(SynthError, match=r"empty.png.*empty file"):
        import_data(ws, "images", image_dir)
    _nothing_committed(ws)


def test_non_utf8_text_inputs(image_dir: Path, ws_path: str, tmp_path: Path) -> None:
    ws = _ws(ws_path)
    labels = tmp_path / "labels.csv"
    labels.write_bytes(b"file,label\ncat/0.png,caf\xe9\n")
    with pytest.raises(SynthError, match=r"labels.csv.*not UTF-8"):
        import_data(ws, "images", image_dir, labels)
    table = tmp_path / "t.csv"
    table.write_bytes(b"name,x\n\xff\xfe,1\n")
    with pytest.raises(SynthError, match=r"t.csv.*not UTF-8"):
        import_data(ws, "table", table)
    text = tmp_path / "t.jsonl"
    text.write_bytes(b'{"text": "caf\xe9"}\n')
    with pytest.raises(SynthError, match=r"t.jsonl.*not UTF-8"):
        import_data(ws, "text", text)
    coco = tmp_path / "ann.json"
    coco.write_bytes(b'{"images": [], "categories": [{"id": 1, "name": "caf\xe9"}]}')
    with pytest.raises(SynthError, match=r"ann.json.*not UTF-8"):
        import_data(ws, "coco", coco, image_dir)
    _nothing_committed(ws)


def test_duplicate_csv_column_is_refused(ws_path: str, tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("x,y,x\n1,2,3\n")
    ws = _ws(ws_path)
    with pytest.raises(SynthError, match=r"t.csv.*'x' appear more than once"):
        import_data(ws, "table", table)
    _nothing_committed(ws)


def _coco(**ann: object) -> dict:
    annotation = {"id": 1, "image_id": 1, "category_id": 5, "bbox": [2, 2, 7, 8], "iscrowd": 0}
    annotation.update(ann)
    return {"images": [{"id": 1, "file_name": "cat/0.png", "width": 20, "height": 16}],
            "categories": [{"id": 5, "name": "box"}], "annotations": [annotation]}


@pytest.mark.parametrize("coco, message", [
    (_coco(bbox=None), r"annotations\[0\].bbox.*4 finite numbers"),
    (_coco(bbox="2,2,7,8"), r"annotations\[0\].bbox"),
    (_coco(bbox=[2, 2, 7]), r"annotations\[0\].bbox"),
    (_coco(bbox=[2, 2, True, 8]), r"annotations\[0\].bbox"),
    (_coco(bbox=[2, 2, -7, 8]), "negative width"),
    (_coco(bbox=[15, 2, 30, 8]), r"outside the image \(20 x 16"),
    (_coco(bbox=[-5, 2, 7, 8]), "outside the image"),
    (_coco(category_id=99), "category id 99"),
    (_coco(keypoints=["a", 1, 2]), r"annotations\[0\].keypoints"),
    ({**_coco(), "categories": [{"id": 5}]}, r"categories\[0\].*string `name`"),
    ({**_coco(), "categories": [{"id": 5, "name": "../../x"}]}, r"categories\[0\].name.*\.\./\.\./x"),
    ({**_coco(), "categories": {"5": "box"}}, "`categories` must be a list"),
    ({**_coco(), "images": [{"id": 1}]}, r"images\[0\].*file_name"),
    ({**_coco(), "images": ["cat/0.png"]}, r"images\[0\]"),
    ({**_coco(), "annotations": [7]}, r"annotations\[0\].*not an object"),
    ([1, 2], "not a COCO file"),
])
def test_malformed_coco(image_dir: Path, ws_path: str, tmp_path: Path, coco: object, message: str) -> None:
    ann = tmp_path / "ann.json"
    ann.write_text(json.dumps(coco))
    ws = _ws(ws_path)
    with pytest.raises(SynthError, match=message):
        import_data(ws, "coco", ann, image_dir)
    _nothing_committed(ws)


def test_nan_boxes_are_refused_and_the_cli_exits_2(image_dir: Path, ws_path: str, tmp_path: Path) -> None:
    ann = tmp_path / "ann.json"
    ann.write_text(json.dumps(_coco()).replace("[2, 2, 7, 8]", "[NaN, 2, 7, 8]"))
    with pytest.raises(SynthError, match=r"ann.json.*NaN.*finite"):
        import_data(_ws(ws_path), "coco", ann, image_dir)
    proc = subprocess.run([sys.executable, "-m", "synth.cli", "import", "coco", str(ann), "--images", str(image_dir),
                           "-w", str(tmp_path / "ws2")], capture_output=True, text=True)
    assert proc.returncode == 2 and "NaN" in proc.stderr and "Traceback" not in proc.stderr


def test_a_box_on_the_edge_within_tolerance_is_kept(image_dir: Path, ws_path: str, tmp_path: Path) -> None:
    ann = tmp_path / "ann.json"
    ann.write_text(json.dumps(_coco(bbox=[0, 0, 20.5, 16])))
    assert import_data(_ws(ws_path), "coco", ann, image_dir).added == 1
