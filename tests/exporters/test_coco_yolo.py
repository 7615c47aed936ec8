"""COCO and YOLO exports read by real clients (pycocotools) and checked against the manifest rows."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow as pa
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from scenes.receipt import ReceiptParams, ReceiptScene
from synth.exporters.coco import export_coco
from synth.exporters.yolo import export_yolo
from synth.codecs.canonical import canonical_json


def _table(n: int = 3) -> tuple[pa.Table, dict[str, bytes]]:
    """Manifest rows as the engine writes them (columns per COMMON.md), from real receipt renders."""
    store, rows = {}, []
    p = ReceiptParams(width=256, height=320, px_per_mm=2.5, font_size_px=8, n_items=3, camera_tilt_deg=20)
    for i in range(n):
        s = ReceiptScene().render(p, np.random.default_rng(i))
        pays = {}
        for name, pl in s.payloads.items():
            data, fmt = pl.encode("png")
            h = hashlib.sha256(data).hexdigest()
            store[h] = data
            pays[name] = {"hash": h, "uri": f"objects/{h}", "kind": pl.kind, "format": fmt}
        rows.append({"sample_id": f"s{i}", "origin": "synthetic", "recipe_name": "t", "index": i, "scene": "receipt",
                     "params": canonical_json(p.model_dump()), "labels": s.labels_json(), "payloads": json.dumps(pays),
                     "width": s.width, "height": s.height, "split": "train" if i else "val"})
    return pa.Table.from_pylist(rows), store


def test_coco_export_loads_in_pycocotools_and_matches_the_manifest(tmp_path):
    table, store = _table()
    export_coco(table, store.__getitem__, tmp_path)
    coco = COCO(str(tmp_path / "annotations.json"))
    assert len(coco.getImgIds()) == 3 and [c["id"] for c in coco.loadCats(coco.getCatIds())] == [1]
    for img_id, row in zip(coco.getImgIds(), table.to_pylist()):
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[img_id]))
        labels = json.loads(row["labels"])
        assert len(anns) == len(labels["objects"]) == 1
        from synth.core.sample import decode_blob
        mask = decode_blob("mask", store[json.loads(row["payloads"])["mask"]["hash"]])
        m = coco.annToMask(anns[0])
        assert (m == (mask == 1)).all() and anns[0]["area"] == m.sum()
        x0, y0, x1, y1 = labels["objects"][0]["box"]
        assert np.allclose(mask_utils.toBbox(coco.annToRLE(anns[0])), [x0, y0, x1 - x0, y1 - y0])
        assert len(anns[0]["keypoints"]) == 12
        assert (tmp_path / coco.loadImgs(img_id)[0]["file_name"]).exists()


def test_yolo_detection_and_segmentation_layouts(tmp_path):
    table, store = _table(2)
    export_yolo(table, store.__getitem__, tmp_path / "det")
    export_yolo(table, store.__getitem__, tmp_path / "seg", task="segment")
    data = (tmp_path / "det" / "data.yaml").read_text()
    assert "train: images/train" in data and "0: receipt" in data
    row = table.to_pylist()[1]
    cls, cx, cy, w, h = (tmp_path / "det" / "labels" / "train" / "s1.txt").read_text().split()
    x0, y0, x1, y1 = json.loads(row["labels"])["objects"][0]["box"]
    assert cls == "0" and np.isclose(float(cx), (x0 + x1) / 2 / 256, atol=1e-5) and np.isclose(float(w), (x1 - x0) / 256, atol=1e-5)
    seg = (tmp_path / "seg" / "labels" / "train" / "s1.txt").read_text().split()
    xs = np.array(seg[1::2], float)
    assert len(seg) >= 7 and xs.min() >= 0 and xs.max() <= 1
