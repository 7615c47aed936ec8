"""OCR and document exports of receipt word labels, each read back with a parser written from the format's
description (COCO-Text v2, ICDAR 2015 gt files, PaddleOCR det/rec label files, docTR labels.json, trdg-style
crops + labels.txt, SROIE entities) and compared with the manifest's words, quads and key fields."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from synth import api
from tests.exporters.conftest import ROOT, current_rows, generated

# close up, so that some words leave the frame (ICDAR's "###", COCO-Text's illegible)
RECEIPTS = """
name: receipts_close
scene: receipt
count: 2
seed: 9
params: {width: 192, height: 256, px_per_mm: 2.5, font_size_px: 8, n_items: 3, camera_distance: 0.7}
"""


@pytest.fixture(scope="module")
def receipts(tmp_path_factory) -> tuple[Path, str, dict[str, dict]]:
    root = tmp_path_factory.mktemp("ocr")
    ws = generated(root, "receipts", RECEIPTS)
    return root, ws, current_rows(ws)


def _words(row: dict) -> list[tuple[list[list[float]], str, bool]]:
    w, h = row["width"], row["height"]
    return [(wd["quad"], wd["text"], wd["visible"] and all(0 <= x < w and 0 <= y < h for x, y in wd["quad"]))
            for wd in row["labels"]["words"]]


def _rounded(quad: list[list[float]]) -> list[int]:
    return [int(round(v)) for pt in quad for v in pt]


def _icdar_file(path: Path) -> list[tuple[list[int], str]]:
    """ICDAR 2015 gt: x1,y1,x2,y2,x3,y3,x4,y4,transcript (the transcript may hold commas)."""
    out = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        *coords, text = line.split(",", 8)
        out.append(([int(c) for c in coords], text))
    return out


def _image(sid: str, row: dict) -> str:
    return f"{sid}.{row['payloads']['image']['format']}"


def _split_of(row: dict) -> str:
    return row["split"] or "train"


def test_receipts_carry_many_words_some_out_of_frame(receipts) -> None:
    _, _, rows = receipts
    assert all(len(r["labels"]["words"]) > 20 for r in rows.values())


def test_coco_text(receipts) -> None:
    root, ws, rows = receipts
    res = api.export(root / "ct", "coco-text", ws)
    doc = json.loads((root / "ct" / "cocotext.json").read_text())
    assert res["annotations"] == len(doc["anns"]) == sum(len(r["labels"]["words"]) for r in rows.values())
    for img_id, img in doc["imgs"].items():
        sid = Path(img["file_name"]).stem
        row = rows[sid]
        assert (root / "ct" / img["file_name"]).is_file() and img["set"] == _split_of(row)
        anns = [doc["anns"][str(a)] for a in doc["imgToAnns"][img_id]]
        words = _words(row)
        assert [a["utf8_string"] for a in anns] == [t for _, t, _ in words]
        assert [a["legibility"] for a in anns] == ["legible" if ok else "illegible" for _, _, ok in words]
        for a, (quad, _, _) in zip(anns, words):
            poly = np.asarray(a["mask"]).reshape(-1, 2)
            np.testing.assert_allclose(poly, quad)
            x, y, w, h = a["bbox"]
            np.testing.assert_allclose([x, y, x + w, y + h], [*poly.min(0), *poly.max(0)])
            assert a["image_id"] == img["id"]


def test_icdar2015(receipts) -> None:
    root, ws, rows = receipts
    api.export(root / "icdar", "icdar2015", ws)
    dont_care = 0
    for sid, row in rows.items():
        split = _split_of(row)
        assert (root / "icdar" / "images" / split / _image(sid, row)).is_file()
        got = _icdar_file(root / "icdar" / "gt" / split / f"gt_{sid}.txt")
        want = [(_rounded(q), t if ok else "###") for q, t, ok in _words(row)]
        assert got == want
        dont_care += sum(1 for _, t in got if t == "###")
    assert 0 < dont_care < sum(len(r["labels"]["words"]) for r in rows.values())


def test_paddleocr_detection_and_recognition(receipts) -> None:
    root, ws, rows = receipts
    res = api.export(root / "paddle", "paddleocr", ws)
    crops = 0
    for split in res["splits"]:
        for line in (root / "paddle" / f"det_gt_{split}.txt").read_text(encoding="utf-8").splitlines():
            path, labels = line.split("\t")
            assert (root / "paddle" / path).is_file()
            row = rows[Path(path).stem]
            words = _words(row)
            assert [w["transcription"] for w in json.loads(labels)] == [t if ok else "###" for _, t, ok in words]
            assert [sum(w["points"], []) for w in json.loads(labels)] == [_rounded(q) for q, _, _ in words]
        for line in (root / "paddle" / f"rec_gt_{split}.txt").read_text(encoding="utf-8").splitlines():
            path, text = line.split("\t")
            sid, n = Path(path).stem.rsplit("_", 1)
            legible = [(q, t) for q, t, ok in _words(rows[sid]) if ok and t.strip()]
            quad, want = legible[int(n)]
            assert text == want
            crop = cv2.imread(str(root / "paddle" / path))
            q = np.asarray(quad)
            assert abs(crop.shape[1] - np.linalg.norm(q[1] - q[0])) <= 2
            assert abs(crop.shape[0] - np.linalg.norm(q[3] - q[0])) <= 2
            crops += 1
    assert crops == res["crops"] == sum(1 for r in rows.values() for _, t, ok in _words(r) if ok and t.strip())


def test_doctr_labels(receipts) -> None:
    root, ws, rows = receipts
    api.export(root / "doctr", "doctr", ws)
    for split in {_split_of(r) for r in rows.values()}:
        labels = json.loads((root / "doctr" / split / "labels.json").read_text())
        for name, lab in labels.items():
            path = root / "doctr" / split / "images" / name
            assert lab["img_hash"] == hashlib.sha256(path.read_bytes()).hexdigest()
            assert list(cv2.imread(str(path)).shape[:2]) == lab["img_dimensions"]
            row = rows[Path(name).stem]
            want = [q for q, _, ok in _words(row) if ok]
            assert np.asarray(lab["polygons"]).shape == (len(want), 4, 2)
            np.testing.assert_allclose(lab["polygons"], want)
        rec = json.loads((root / "doctr" / split / "recognition" / "labels.json").read_text())
        assert rec and all((root / "doctr" / split / "recognition" / "images" / f).is_file() for f in rec)


def test_recognition_crops_with_labels_file(receipts, tmp_path) -> None:
    root, ws, rows = receipts
    api.export(root / "crops", "ocr-crops", ws)
    got = {}
    for labels in (root / "crops").glob("*/labels.txt"):
        for line in labels.read_text(encoding="utf-8").splitlines():
            name, text = line.split(" ", 1)
            assert cv2.imread(str(labels.parent / name)) is not None
            got[name] = text
    want = {f"{sid}_{n:04d}.png": t for sid, r in rows.items()
            for n, t in enumerate(t for _, t, ok in _words(r) if ok and t.strip())}
    assert got == want
    # a text_line version: boxes become quads, one word per image
    digits = generated(tmp_path, "digits", ROOT / "recipes" / "digits.yaml", 3)
    api.export(tmp_path / "dcrops", "ocr-crops", digits)
    lines = sorted(p.read_text().strip() for p in (tmp_path / "dcrops").glob("*/labels.txt"))
    assert sorted(line.split(" ", 1)[1] for text in lines for line in text.splitlines()) == ["0", "1", "2"]


def test_sroie_key_fields(receipts) -> None:
    root, ws, rows = receipts
    res = api.export(root / "sroie", "sroie", ws)
    assert res["fields"] == ["address", "company", "date", "total"]
    for sid, row in rows.items():
        split, fields = _split_of(row), row["labels"]["fields"]
        ent = json.loads((root / "sroie" / split / "entities" / f"{sid}.txt").read_text(encoding="utf-8"))
        assert ent == {"company": fields["store"]["text"], "date": fields["date"]["text"],
                       "total": fields["total"]["text"], "address": " ".join(row["labels"]["content"]["address"])}
        boxes = _icdar_file(root / "sroie" / split / "box" / f"{sid}.txt")
        assert [t for _, t in boxes] == [t for _, t, _ in _words(row)]
        assert (root / "sroie" / split / "img" / _image(sid, row)).is_file()


@pytest.mark.parametrize("fmt,recipe,message", [
    ("icdar2015", "shapes", "no word labels"), ("sroie", "digits", "no key fields")])
def test_versions_without_words_or_fields_are_refused(tmp_path, run_cli, fmt, recipe, message) -> None:
    from tests.exporters.conftest import shapes_recipe
    source = shapes_recipe(2, 32, 32) if recipe == "shapes" else ROOT / "recipes" / "digits.yaml"
    ws = generated(tmp_path, recipe, source, 2)
    res = run_cli("export", str(tmp_path / "out"), "--format", fmt, "-w", ws, cwd=tmp_path)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()
