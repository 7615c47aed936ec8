"""COCO export of a generated tabletop3d workspace, read back with pycocotools."""
from __future__ import annotations

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from synth.exporters.coco import export_coco
from synth.core.sample import decode_blob


def test_coco_export_of_tabletop3d_matches_the_masks(in_process_run, tmp_path):
    ws = in_process_run.ws
    export_coco(ws.manifest.to_table(), ws.store.get, tmp_path)
    coco = COCO(str(tmp_path / "annotations.json"))
    names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
    assert len(coco.getImgIds()) == len(in_process_run.samples)
    checked = 0
    for img_id, sample in zip(sorted(coco.getImgIds()), in_process_run.samples):
        info = coco.loadImgs(img_id)[0]
        stored = decode_blob("image", (tmp_path / info["file_name"]).read_bytes())
        assert np.array_equal(stored, sample.image)
        assert (info["width"], info["height"]) == (sample.image.shape[1], sample.image.shape[0])
        anns = sorted(coco.loadAnns(coco.getAnnIds(imgIds=[img_id])), key=lambda a: a["id"])
        assert len(anns) == len(sample.labels["objects"])  # fully hidden objects get no annotation
        for ann, obj in zip(anns, sample.labels["objects"]):
            binary = sample.mask == obj["instance_id"]
            assert np.array_equal(coco.annToMask(ann).astype(bool), binary)
            assert ann["area"] == binary.sum() == obj["visible_pixels"]
            ys, xs = np.nonzero(binary)
            bbox = [xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()]
            assert np.allclose(ann["bbox"], bbox)
            assert np.allclose(mask_utils.toBbox(coco.annToRLE(ann)), bbox)
            assert names[ann["category_id"]] == obj["class"]
            checked += 1
    assert checked >= 2
