"""YOLO export: detection (class cx cy w h) or segmentation (class x1 y1 ...) layouts, split folders,
normalised coordinates and a data.yaml naming the classes (ids from 0, sorted names)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyarrow as pa

from synth.core.sample import decode_blob
from synth.exporters.coco import categories, rows
from synth.exporters.records import inside


def export_yolo(table: pa.Table, get_blob: Callable[[str], bytes], out: str | Path, task: str = "detect",
                image_key: str = "image", mask_key: str = "mask", dataset_path: str | Path | None = None) -> dict[str, Any]:
    """Write OUT/images/<split>/*, OUT/labels/<split>/*.txt and OUT/data.yaml (whose `path` is `dataset_path`,
    default OUT: the dispatcher writes into a temporary folder and moves it to its final place)."""
    out = Path(out)
    rs = rows(table)
    cats = {n: i - 1 for n, i in categories(rs).items()}
    splits = set()
    for r in rs:
        split = r.get("split") or "train"
        splits.add(split)
        images, labels = inside(out, "images", split), inside(out, "labels", split)
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
        pay = r["payloads"][image_key]
        inside(images, f"{r['sample_id']}.{pay.get('format') or 'png'}").write_bytes(get_blob(pay["hash"]))
        w, h = float(r["width"]), float(r["height"])
        mask = None
        if task == "segment" and mask_key in r["payloads"]:
            mask = decode_blob("mask", get_blob(r["payloads"][mask_key]["hash"]))
        lines = []
        for obj in r["labels"].get("objects", []):
            if obj.get("box") is None:
                continue
            if task == "segment":
                poly = _polygon(obj, mask)
                if poly is None:
                    continue
                coords = " ".join(f"{x / w:.6f} {y / h:.6f}" for x, y in poly)
                lines.append(f"{cats[obj['class']]} {coords}")
            else:
                x0, y0, x1, y1 = obj["box"]
                lines.append(f"{cats[obj['class']]} {(x0 + x1) / 2 / w:.6f} {(y0 + y1) / 2 / h:.6f} "
                             f"{(x1 - x0) / w:.6f} {(y1 - y0) / h:.6f}")
        inside(labels, f"{r['sample_id']}.txt").write_text("\n".join(lines) + ("\n" if lines else ""))
    names = "\n".join(f"  {i}: {n}" for n, i in sorted(cats.items(), key=lambda kv: kv[1]))
    split_lines = "\n".join(f"{s}: images/{s}" for s in sorted(splits))
    inside(out, "data.yaml").write_text(f"path: {Path(dataset_path or out).resolve()}\n{split_lines}\nnames:\n{names}\n")
    return {"classes": cats, "splits": sorted(splits), "images": len(rs)}


def _polygon(obj: dict, mask: np.ndarray | None) -> list[list[float]] | None:
    inst = obj.get("instance_id")
    if mask is not None and inst is not None:
        contours, _ = cv2.findContours((mask == inst).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            return None
        c = max(contours, key=cv2.contourArea).reshape(-1, 2).astype(float)
        return c.tolist() if len(c) >= 3 else None
    poly = obj.get("polygon") or obj.get("quad")
    if poly:
        return poly
    x0, y0, x1, y1 = obj["box"]
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
