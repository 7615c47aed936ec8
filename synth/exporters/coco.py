"""COCO instances export: images, annotations (bbox, RLE or polygon segmentation, area, keypoints) and
categories with stable ids (sorted class names, from 1)."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from synth.core.sample import decode_blob
from synth.exporters.records import inside


def rows(table: pa.Table) -> list[dict[str, Any]]:
    out = []
    for r in table.to_pylist():
        r = dict(r)
        for k in ("labels", "payloads", "params"):
            if isinstance(r.get(k), str):
                r[k] = json.loads(r[k])
        out.append(r)
    return out


def categories(rs: list[dict]) -> dict[str, int]:
    names = sorted({o["class"] for r in rs for o in r["labels"].get("objects", [])})
    return {n: i + 1 for i, n in enumerate(names)}


def rle_encode(binary: np.ndarray) -> dict[str, Any]:
    """Uncompressed COCO RLE (column-major run lengths, starting with a run of zeros)."""
    flat = binary.T.ravel().astype(np.uint8)
    edges = np.r_[0, np.flatnonzero(np.diff(flat)) + 1, len(flat)]
    counts = np.diff(edges).tolist()
    if flat[0] == 1:
        counts = [0] + counts
    return {"size": [int(binary.shape[0]), int(binary.shape[1])], "counts": [int(c) for c in counts]}


def _polygon_area(poly: list[list[float]]) -> float:
    p = np.asarray(poly, np.float64)
    return float(abs(np.dot(p[:, 0], np.roll(p[:, 1], 1)) - np.dot(p[:, 1], np.roll(p[:, 0], 1))) / 2)


def export_coco(table: pa.Table, get_blob: Callable[[str], bytes], out: str | Path,
                image_key: str = "image", mask_key: str = "mask", segmentation: str = "rle") -> dict[str, Any]:
    """Write OUT/images/* and OUT/annotations.json; return the COCO dict."""
    out = Path(out)
    inside(out, "images").mkdir(parents=True, exist_ok=True)
    rs = rows(table)
    cats = categories(rs)
    coco: dict[str, Any] = {"images": [], "annotations": [], "categories": [
        {"id": i, "name": n, "supercategory": "object"} for n, i in cats.items()]}
    kp_counts: dict[str, int] = {}
    for img_id, r in enumerate(rs, start=1):
        pay = r["payloads"][image_key]
        name = f"{r['sample_id']}.{pay.get('format') or 'png'}"
        inside(out, "images", name).write_bytes(get_blob(pay["hash"]))
        coco["images"].append({"id": img_id, "file_name": f"images/{name}", "width": int(r["width"]),
                               "height": int(r["height"]), "split": r.get("split")})
        mask = decode_blob("mask", get_blob(r["payloads"][mask_key]["hash"])) if mask_key in r["payloads"] else None
        for obj in r["labels"].get("objects", []):
            if obj.get("box") is None:
                continue
            ann = _annotation(obj, mask, segmentation)
            ann.update(id=len(coco["annotations"]) + 1, image_id=img_id, category_id=cats[obj["class"]])
            if obj.get("keypoints"):
                kp_counts[obj["class"]] = len(obj["keypoints"])
            coco["annotations"].append(ann)
    for c in coco["categories"]:
        if c["name"] in kp_counts:
            c["keypoints"] = [f"k{i}" for i in range(kp_counts[c["name"]])]
            c["skeleton"] = []
    inside(out, "annotations.json").write_text(json.dumps(coco))
    return coco


def _annotation(obj: dict, mask: np.ndarray | None, segmentation: str) -> dict[str, Any]:
    x0, y0, x1, y1 = obj["box"]
    ann: dict[str, Any] = {"bbox": [x0, y0, x1 - x0, y1 - y0], "iscrowd": 0}
    inst = obj.get("instance_id")
    if mask is not None and inst is not None and segmentation == "rle":
        binary = mask == inst
        ann["segmentation"], ann["area"] = rle_encode(binary), float(binary.sum())
    else:
        poly = obj.get("polygon") or obj.get("quad") or [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
        ann["segmentation"] = [[float(v) for pt in poly for v in pt]]
        ann["area"] = _polygon_area(poly)
    if obj.get("keypoints"):
        ann["keypoints"] = [float(v) if i % 3 < 2 else int(v) for k in obj["keypoints"] for i, v in enumerate(k)]
        ann["num_keypoints"] = sum(1 for k in obj["keypoints"] if k[2] > 0)
    return ann
