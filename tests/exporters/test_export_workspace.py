"""`synth export` and `synth preview` on a real generated workspace: COCO read back by pycocotools and
checked against the manifest, YOLO layouts, the contact sheet's tiles, and bad input (exit code 2)."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from synth import api
from synth.core.sample import decode_blob

SHAPES = """
name: shapes_small
scene: shapes
count: 6
seed: 3
params:
  width: 96
  height: 80
  num_objects: {randint: [2, 5]}
  size: {uniform: [0.15, 0.4]}
split: {train: 0.5, val: 0.5}
"""
RECEIPTS = """
name: receipts_small
scene: receipt
count: 2
seed: 5
params:
  width: 192
  height: 256
  px_per_mm: 2.5
  font_size_px: 8
  n_items: 3
  camera_tilt_deg: {uniform: [5, 20]}
  alignment_deg: {uniform: [-20, 20]}
"""


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """One workspace holding shapes and receipts rows, made by the real engine."""
    root = tmp_path_factory.mktemp("export")
    for name, text in (("shapes_small.yaml", SHAPES), ("receipts_small.yaml", RECEIPTS)):
        (root / name).write_text(text)
        api.generate(root / name, workspace=str(root / "ws"), workers=1)
    return root


def manifest_rows(root: Path) -> tuple[list[dict], object]:
    ws = api.open_workspace(str(root / "ws"))
    rows = ws.manifest.to_table().to_pylist()
    for r in rows:
        r["labels"], r["payloads"] = json.loads(r["labels"]), json.loads(r["payloads"])
    return rows, ws


def test_coco_export_of_a_generated_workspace_reads_back_in_pycocotools(workspace, run_cli):
    res = run_cli("export", "--format", "coco", "-w", "ws", "coco", cwd=workspace)
    assert res.returncode == 0, res.stderr
    rows, ws = manifest_rows(workspace)
    assert len(rows) == 8
    coco = COCO(str(workspace / "coco" / "annotations.json"))
    cats = coco.loadCats(coco.getCatIds())
    names = sorted({o["class"] for r in rows for o in r["labels"]["objects"]})
    assert [c["name"] for c in cats] == names and [c["id"] for c in cats] == list(range(1, len(names) + 1))
    by_file = {Path(im["file_name"]).stem: im for im in coco.loadImgs(coco.getImgIds())}
    assert set(by_file) == {r["sample_id"] for r in rows}
    n_ann = 0
    for r in rows:
        im = by_file[r["sample_id"]]
        assert (im["width"], im["height"]) == (r["width"], r["height"])
        assert (workspace / "coco" / im["file_name"]).read_bytes() == ws.store.get(r["payloads"]["image"]["hash"])
        mask = decode_blob("mask", ws.store.get(r["payloads"]["mask"]["hash"]))
        anns = sorted(coco.loadAnns(coco.getAnnIds(imgIds=[im["id"]])), key=lambda a: a["id"])
        objs = [o for o in r["labels"]["objects"] if o.get("box")]
        assert len(anns) == len(objs) > 0
        for ann, obj in zip(anns, objs):
            n_ann += 1
            assert coco.loadCats(ann["category_id"])[0]["name"] == obj["class"]
            binary = coco.annToMask(ann)
            assert (binary == (mask == obj["instance_id"])).all()
            assert ann["area"] == binary.sum() == obj.get("area", binary.sum())
            x0, y0, x1, y1 = obj["box"]
            assert np.allclose(ann["bbox"], [x0, y0, x1 - x0, y1 - y0])
            assert np.allclose(mask_utils.toBbox(coco.annToRLE(ann)), ann["bbox"])  # box = bounds of the mask
            if obj["class"] == "receipt":
                assert ann["num_keypoints"] == sum(k[2] > 0 for k in obj["keypoints"])
                assert np.allclose(np.reshape(ann["keypoints"], (-1, 3))[:, :2], np.asarray(obj["keypoints"])[:, :2])
    assert n_ann == len(coco.getAnnIds())


def test_yolo_detection_and_segmentation_of_a_generated_workspace(workspace, run_cli):
    for fmt in ("yolo", "yolo-seg"):
        res = run_cli("export", "--format", fmt, "-w", "ws", fmt, cwd=workspace)
        assert res.returncode == 0, res.stderr
    rows, _ = manifest_rows(workspace)
    names = sorted({o["class"] for r in rows for o in r["labels"]["objects"]})
    data = (workspace / "yolo" / "data.yaml").read_text()
    assert all(f"  {i}: {n}" in data for i, n in enumerate(names))
    for r in rows:
        split = r["split"] or "train"
        det = (workspace / "yolo" / "labels" / split / f"{r['sample_id']}.txt").read_text().split("\n")[:-1]
        objs = [o for o in r["labels"]["objects"] if o.get("box")]
        assert len(det) == len(objs)
        for line, obj in zip(det, objs):
            c, cx, cy, w, h = line.split()
            x0, y0, x1, y1 = obj["box"]
            assert names[int(c)] == obj["class"]
            assert np.allclose([float(cx), float(cy), float(w), float(h)],
                               [(x0 + x1) / 2 / r["width"], (y0 + y1) / 2 / r["height"],
                                (x1 - x0) / r["width"], (y1 - y0) / r["height"]], atol=1e-5)
        seg = (workspace / "yolo-seg" / "labels" / split / f"{r['sample_id']}.txt").read_text().split("\n")[:-1]
        for line in seg:
            xy = np.array(line.split()[1:], float).reshape(-1, 2)
            assert len(xy) >= 3 and xy.min() >= 0 and xy.max() <= 1
        assert (workspace / "yolo" / "images" / split / f"{r['sample_id']}.png").exists()


def test_preview_of_a_version_and_of_a_recipe_draws_one_tile_per_sample(workspace, run_cli):
    res = run_cli("preview", "--version", "1", "-w", "ws", "-n", "5", "--columns", "2", "--tile", "128",
                  "-o", "sheet.png", cwd=workspace)
    assert res.returncode == 0, res.stderr
    assert "(5 tiles)" in res.stdout
    sheet = cv2.imread(str(workspace / "sheet.png"))
    rows_px = sheet.shape[0] / 3  # 5 tiles in 2 columns: 3 rows
    assert sheet.shape[1] == 2 * 128 + 4 and rows_px == int(rows_px) and rows_px > 128
    cells = [sheet[int(r * rows_px):int(r * rows_px) + 128, c * 132:c * 132 + 128] for r in range(3) for c in range(2)]
    assert all((cell != 255).any() for cell in cells[:5]) and (cells[5] == 255).all()  # 5 drawn, 1 blank
    red = (sheet[..., 2] > 180) & (sheet[..., 1] < 80) & (sheet[..., 0] < 80)
    assert red.sum() > 50  # the object boxes are drawn
    res = run_cli("preview", "receipts_small.yaml", "-n", "2", "-o", "r.png", cwd=workspace)
    assert res.returncode == 0, res.stderr
    assert "(2 tiles)" in res.stdout and cv2.imread(str(workspace / "r.png")).shape[1] == 2 * 320 + 4


@pytest.mark.parametrize("args, message", [
    (("export", "--format", "voc", "-w", "ws", "out"), "unknown export format 'voc'"),
    (("export", "--format", "coco", "--version", "99", "-w", "ws", "out"), "no version 99"),
    (("export", "--format", "coco", "-w", "nowhere", "out"), "no workspace"),
    (("preview", "--version", "nosuchtag", "-w", "ws"), "no version or tag named 'nosuchtag'"),
    (("preview",), "give a RECIPE"),
    (("preview", "missing.yaml"), "missing.yaml"),
])
def test_bad_export_and_preview_input_is_a_clean_error(workspace, run_cli, args, message):
    res = run_cli(*args, cwd=workspace)
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr
