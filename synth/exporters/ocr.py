"""OCR and document exports of word labels (`labels.words`: a quad or box and the text of each word, as the
receipt and text_line scenes write them):

- `coco-text`: COCO-Text (v2) JSON `cocotext.json` (`imgs`, `anns` with `bbox`, `mask` polygon,
  `utf8_string`, `legibility`, `class`, `language`; `imgToAnns`) and `images/`;
- `icdar2015`: `images/<split>/<id>.<ext>` and `gt/<split>/gt_<id>.txt`, one `x1,y1,...,x4,y4,transcript`
  line per word (clockwise from top-left; `###` marks a word not wholly in frame, "do not care");
- `paddleocr`: detection `det_gt_<split>.txt` (`path<TAB>[{"transcription", "points"}]`, `###` as above)
  and recognition crops `rec/<split>/*.png` with `rec_gt_<split>.txt` (`path<TAB>text`);
- `doctr`: docTR's detection layout `<split>/images/` + `<split>/labels.json` (`img_dimensions`,
  `img_hash`, `polygons`) and recognition `<split>/recognition/images/` + `labels.json` (`{crop: text}`);
- `ocr-crops`: word crops `<split>/<id>_<n>.png` and `<split>/labels.txt` (`file text`, as trdg writes for
  CRNN training);
- `sroie`: key-information extraction in SROIE's layout: `<split>/img/`, `<split>/box/<id>.txt` (word
  quads as ICDAR lines) and `<split>/entities/<id>.txt`, a JSON object of the key fields (SROIE's names:
  `company` for store, `date`, `address`, `total`; other fields under their own names).

Crops are the quad warped to an upright rectangle (perspective transform); only words wholly in frame
(`visible`, or inside the image) are cropped."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pyarrow as pa

from synth.errors import SynthError
from synth.exporters.hf_features import word_quad
from synth.exporters.records import by_split, inside

OCR_FORMATS = ("coco-text", "icdar2015", "paddleocr", "doctr", "ocr-crops", "sroie")
DONT_CARE = "###"
SROIE_NAMES = {"store": "company"}


def _words(r: dict[str, Any]) -> list[tuple[list[list[float]], str, bool]]:
    """(quad, text, wholly in frame) of each word of a row, in label order."""
    w, h = float(r.get("width") or 0), float(r.get("height") or 0)
    out = []
    for word in r["labels"].get("words") or []:
        q = word_quad(word)
        if q is None:
            continue
        inframe = all(0 <= x < w and 0 <= y < h for x, y in q) if w and h else True
        out.append((q, str(word.get("text", "")), bool(word.get("visible", inframe)) and inframe))
    return out


def _check(splits: dict[str, list[dict[str, Any]]], fmt: str) -> None:
    rows = [r for rs in splits.values() for r in rs]
    if not rows:
        raise SynthError(f"nothing to export as {fmt}: the version has no rows", field="--version")
    missing = [r["sample_id"] for r in rows if "image" not in r["payloads"] or not _words(r)]
    if missing:
        raise SynthError(f"cannot export {len(missing)} rows as {fmt}: they have no image or no word labels "
                         f"(labels.words with quads or boxes; e.g. {missing[0]}); OCR formats need a text "
                         "scene such as receipt or text_line", field="--format")


def _image_name(r: dict[str, Any]) -> str:
    return f"{r['sample_id']}.{r['payloads']['image'].get('format') or 'png'}"


def _icdar_line(quad: list[list[float]], text: str) -> str:
    return ",".join(str(int(round(v))) for pt in quad for v in pt) + "," + text


def crop(image: np.ndarray, quad: list[list[float]]) -> np.ndarray:
    """The quad (clockwise from top-left) warped to an upright rectangle as wide and tall as its sides."""
    q = np.asarray(quad, np.float32)
    width = int(round(max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3]))))
    height = int(round(max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1]))))
    width, height = max(width, 1), max(height, 1)
    target = np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    m = cv2.getPerspectiveTransform(q, target)
    return cv2.warpPerspective(image, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise SynthError("could not encode a word crop as PNG")
    return buf.tobytes()


class _Crops:
    """Word crops of one split: `<folder>/<id>_<n>.png`, with the pixels decoded once per image."""

    def __init__(self, out: Path, get_blob: Callable[[str], bytes]) -> None:
        self.out, self.get_blob, self.count = out, get_blob, 0

    def write(self, r: dict[str, Any], folder: str) -> list[tuple[str, str]]:
        """(path relative to OUT, text) of each word crop written."""
        words = [(q, t) for q, t, ok in _words(r) if ok and t.strip()]
        if not words:
            return []
        # OpenCV's own channel order in and out: the crop's bytes keep the image's colours
        pixels = cv2.imdecode(np.frombuffer(self.get_blob(r["payloads"]["image"]["hash"]), np.uint8),
                              cv2.IMREAD_UNCHANGED)
        written = []
        for n, (q, text) in enumerate(words):
            rel = f"{folder}/{r['sample_id']}_{n:04d}.png"
            path = inside(self.out, rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(_png(crop(pixels, q)))
            written.append((rel, text))
        self.count += len(written)
        return written


def export_ocr(table: pa.Table, get_blob: Callable[[str], bytes], out: str | Path, fmt: str) -> dict[str, Any]:
    out = Path(out)
    splits = by_split(table)
    _check(splits, fmt)
    writer = {"coco-text": _coco_text, "icdar2015": _icdar, "paddleocr": _paddle, "doctr": _doctr,
              "ocr-crops": _crops, "sroie": _sroie}[fmt]
    extra = writer(splits, get_blob, out) or {}
    words = sum(len(_words(r)) for rs in splits.values() for r in rs)
    return {"splits": {k: len(v) for k, v in splits.items()}, "images": sum(len(v) for v in splits.values()),
            "words": words, **extra}


def _copy_image(r: dict[str, Any], get_blob: Callable[[str], bytes], out: Path, rel: str) -> bytes:
    data = get_blob(r["payloads"]["image"]["hash"])
    path = inside(out, rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def _coco_text(splits: dict, get_blob: Callable[[str], bytes], out: Path) -> dict[str, Any]:
    imgs, anns, img_to_anns = {}, {}, {}
    for split, rs in splits.items():
        for r in rs:
            img_id = len(imgs) + 1
            name = _image_name(r)
            _copy_image(r, get_blob, out, f"images/{name}")
            imgs[str(img_id)] = {"id": img_id, "file_name": f"images/{name}", "width": int(r["width"]),
                                 "height": int(r["height"]), "set": split}
            img_to_anns[str(img_id)] = []
            for quad, text, ok in _words(r):
                q = np.asarray(quad, np.float64)
                x0, y0 = q.min(axis=0)
                x1, y1 = q.max(axis=0)
                ann_id = len(anns) + 1
                area = float(abs(np.dot(q[:, 0], np.roll(q[:, 1], 1)) - np.dot(q[:, 1], np.roll(q[:, 0], 1))) / 2)
                anns[str(ann_id)] = {"id": ann_id, "image_id": img_id, "bbox": [x0, y0, x1 - x0, y1 - y0],
                                     "mask": [float(v) for pt in quad for v in pt], "area": area,
                                     "utf8_string": text, "legibility": "legible" if ok else "illegible",
                                     "class": "machine printed", "language": "english"}
                img_to_anns[str(img_id)].append(ann_id)
    doc = {"imgs": imgs, "anns": anns, "imgToAnns": img_to_anns, "cats": {},
           "info": {"description": "exported by synth in the COCO-Text v2 layout", "version": "2.0"}}
    inside(out, "cocotext.json").write_text(json.dumps(doc, ensure_ascii=False))
    return {"annotations": len(anns)}


def _icdar(splits: dict, get_blob: Callable[[str], bytes], out: Path) -> None:
    for split, rs in splits.items():
        for r in rs:
            _copy_image(r, get_blob, out, f"images/{split}/{_image_name(r)}")
            lines = [_icdar_line(q, t if ok else DONT_CARE) for q, t, ok in _words(r)]
            path = inside(out, "gt", split, f"gt_{r['sample_id']}.txt")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _paddle(splits: dict, get_blob: Callable[[str], bytes], out: Path) -> dict[str, Any]:
    crops = _Crops(out, get_blob)
    for split, rs in splits.items():
        det, rec = [], []
        for r in rs:
            rel = f"images/{split}/{_image_name(r)}"
            _copy_image(r, get_blob, out, rel)
            words = [{"transcription": t if ok else DONT_CARE, "points": [[int(round(x)), int(round(y))] for x, y in q]}
                     for q, t, ok in _words(r)]
            det.append(f"{rel}\t{json.dumps(words, ensure_ascii=False)}")
            rec += [f"{p}\t{t}" for p, t in crops.write(r, f"rec/{split}")]
        inside(out, f"det_gt_{split}.txt").write_text("\n".join(det) + "\n", encoding="utf-8")
        inside(out, f"rec_gt_{split}.txt").write_text("\n".join(rec) + ("\n" if rec else ""), encoding="utf-8")
    return {"crops": crops.count}


def _doctr(splits: dict, get_blob: Callable[[str], bytes], out: Path) -> dict[str, Any]:
    crops = _Crops(out, get_blob)
    for split, rs in splits.items():
        det, rec = {}, {}
        for r in rs:
            name = _image_name(r)
            data = _copy_image(r, get_blob, out, f"{split}/images/{name}")
            det[name] = {"img_dimensions": [int(r["height"]), int(r["width"])],
                         "img_hash": hashlib.sha256(data).hexdigest(),
                         "polygons": [q for q, _, ok in _words(r) if ok]}
            for rel, text in crops.write(r, f"{split}/recognition/images"):
                rec[Path(rel).name] = text
        inside(out, split, "labels.json").write_text(json.dumps(det, ensure_ascii=False, indent=1))
        inside(out, split, "recognition", "labels.json").write_text(json.dumps(rec, ensure_ascii=False, indent=1))
    return {"crops": crops.count}


def _crops(splits: dict, get_blob: Callable[[str], bytes], out: Path) -> dict[str, Any]:
    crops = _Crops(out, get_blob)
    for split, rs in splits.items():
        lines = [f"{Path(p).name} {t}" for r in rs for p, t in crops.write(r, split)]
        inside(out, split).mkdir(parents=True, exist_ok=True)
        inside(out, split, "labels.txt").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
    return {"crops": crops.count}


def key_fields(labels: dict[str, Any]) -> dict[str, str]:
    """A row's key fields under SROIE's names (store -> company; address from the receipt's content)."""
    fields = labels.get("fields") if isinstance(labels.get("fields"), dict) else {}
    out = {SROIE_NAMES.get(k, k): str(v.get("text") if isinstance(v, dict) else v) for k, v in sorted(fields.items())}
    address = (labels.get("content") or {}).get("address")
    if "address" not in out and isinstance(address, list) and address:
        out["address"] = " ".join(str(a) for a in address)
    return out


def _sroie(splits: dict, get_blob: Callable[[str], bytes], out: Path) -> dict[str, Any]:
    rows = [r for rs in splits.values() for r in rs]
    missing = [r["sample_id"] for r in rows if not key_fields(r["labels"])]
    if missing:
        raise SynthError(f"cannot export {len(missing)} rows as sroie: they have no key fields (labels.fields; "
                         f"e.g. {missing[0]}); the receipt scene writes them", field="--format")
    for split, rs in splits.items():
        for r in rs:
            _copy_image(r, get_blob, out, f"{split}/img/{_image_name(r)}")
            box = inside(out, split, "box", f"{r['sample_id']}.txt")
            box.parent.mkdir(parents=True, exist_ok=True)
            box.write_text("\n".join(_icdar_line(q, t) for q, t, _ in _words(r)) + "\n", encoding="utf-8")
            ent = inside(out, split, "entities", f"{r['sample_id']}.txt")
            ent.parent.mkdir(parents=True, exist_ok=True)
            ent.write_text(json.dumps(key_fields(r["labels"]), ensure_ascii=False, indent=4), encoding="utf-8")
    return {"fields": sorted({k for r in rows for k in key_fields(r["labels"])})}
