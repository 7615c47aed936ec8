"""Import real data (images, COCO, tables, text, audio) as one new manifest version with origin=real.

Everything is read, decoded and validated first; blobs are written and the version committed only
when the whole input is good, so bad input commits nothing. Sample ids come from the content hash,
so an exact duplicate (in the input or already in the workspace) is added once and counted."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import math
import warnings

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from PIL import Image

from synth.core.names import check_name
from synth.errors import SynthError
from synth.store.manifest import rows_to_table
from synth.recipe.plan import assign_split
from synth.codecs.canonical import canonical_json
from synth.store.workspace import Workspace

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
AUDIO_EXTS = {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif"}
DEFAULT_SPLIT = {"train": 0.8, "val": 0.1, "test": 0.1}
UNLABELED = {"unlabeled": True}
"""The labels of a sample imported with --unlabeled: no class, and a flag that says so."""
MAX_IMAGE_PIXELS = 100_000_000
"""Largest decoded image (width x height) an import reads; SYNTH_MAX_IMAGE_PIXELS raises or lowers it."""
BOX_TOLERANCE_PX = 1.0
"""How far (pixels) an imported COCO box may reach past the image edge (rounding in other tools)."""


def max_image_pixels() -> int:
    raw = os.environ.get("SYNTH_MAX_IMAGE_PIXELS")
    if raw is None or raw == "":
        return MAX_IMAGE_PIXELS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise SynthError(f"'{raw}' is not a positive whole number of pixels", field="SYNTH_MAX_IMAGE_PIXELS")
    return value


def _class_name(value: Any, file: str | None = None, line: int | None = None, what: str = "class name") -> str:
    """A class name of imported data, checked like every name that may become a path."""
    try:
        return check_name(str(value), what)
    except SynthError as exc:
        raise SynthError(exc.message, file=file, line=line, field=what) from None


@dataclass
class Item:
    """One validated input sample: its payload (a file to store or an inline value) and labels."""
    content_hash: str
    labels: dict[str, Any]
    source: str
    path: Path | None = None           # a file payload, stored (or linked) at commit time
    kind: str = "image"                # payload kind of the file
    fmt: str | None = None
    inline: dict[str, Any] | None = None  # {"kind": "text"|"row", "value": ...}
    width: int | None = None
    height: int | None = None


@dataclass
class ImportOptions:
    link: bool = False
    license: str | None = None
    note: str | None = None
    source: str | None = None
    message: str | None = None
    split: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SPLIT))
    unlabeled: bool = False
    """Images, audio, text: any folder layout (or any JSON fields) is accepted and every row is labeled
    {"unlabeled": true}; `import_data` passes it on to the scanner."""

    def __post_init__(self) -> None:
        _check_splits(self.split)


def _check_splits(split: dict[str, float]) -> None:
    """Split names become folder and file names in exports: checked here, where they enter."""
    for name in split:
        check_name(name, "--split")


@dataclass
class ImportResult:
    version: int | None
    added: int
    duplicates: int
    skipped: int
    kind: str

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


# -- paths ------------------------------------------------------------------------------------------

def safe_path(root: Path, rel: str, *, file: str | None = None, line: int | None = None) -> Path:
    """root/rel, refusing absolute paths, `..` and symlinks that lead outside root."""
    if os.path.isabs(rel) or rel.startswith("~"):
        raise SynthError(f"absolute path '{rel}' is not allowed; paths are relative to {root}", file=file, line=line)
    if ".." in Path(rel).parts:
        raise SynthError(f"path '{rel}' escapes the import root {root} ('..')", file=file, line=line)
    path = root / rel
    _inside(root, path, file=file, line=line)
    return path


def _inside(root: Path, path: Path, *, file: str | None = None, line: int | None = None) -> None:
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if os.path.commonpath([real_root, real]) != real_root:
        raise SynthError(f"'{path}' resolves to {real}, outside the import root {real_root} (symlink?)",
                         file=file or str(path), line=line)


def _walk(root: Path, exts: set[str]) -> tuple[list[Path], int]:
    """Files with the given extensions under root (sorted), refusing symlinks that leave root."""
    if not root.is_dir():
        raise SynthError("not a folder", file=str(root))
    found, skipped = [], 0
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            if os.path.islink(os.path.join(dirpath, d)):
                _inside(root, Path(dirpath, d))
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath, name)
            _inside(root, path)
            if path.suffix.lower() in exts:
                found.append(path)
            elif not name.startswith("."):
                skipped += 1
    return found, skipped


# -- decoding ---------------------------------------------------------------------------------------

def _image_item(path: Path, labels: dict[str, Any], where: str | None = None) -> Item:
    if not path.is_file():
        raise SynthError(f"no such image file {path}", file=where)
    data = path.read_bytes()
    if not data:
        raise SynthError("empty file (0 bytes), not a decodable image", file=str(path))
    _check_pixels(data, path)
    try:
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        arr = None
    if arr is None:
        raise SynthError("not a decodable image", file=str(path))
    if arr.shape[0] * arr.shape[1] > max_image_pixels():  # a format whose header Pillow could not read
        raise SynthError(f"image of {arr.shape[1]} x {arr.shape[0]} pixels is over the limit of "
                         f"{max_image_pixels():,} pixels; set SYNTH_MAX_IMAGE_PIXELS to raise it", file=str(path))
    ext = path.suffix.lower().lstrip(".").replace("jpeg", "jpg")
    return Item(hashlib.sha256(data).hexdigest(), labels, path.resolve().as_uri(), path=path, kind="image", fmt=ext,
                width=int(arr.shape[1]), height=int(arr.shape[0]))


def _check_pixels(data: bytes, path: Path) -> None:
    """Refuse an image whose header declares more than max_image_pixels(), before decoding it."""
    limit = max_image_pixels()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
    except Image.DecompressionBombError as exc:  # over twice Pillow's own limit: its message has the size
        found = re.search(r"\((\d+) pixels\)", str(exc))
        width, height, pixels = 0, 0, int(found.group(1)) if found else limit + 1
        if pixels <= limit:
            return  # our limit was raised past Pillow's: OpenCV decides (its own limit is 2**30 pixels)
    except Exception:  # not an image Pillow knows: OpenCV decides (and its own pixel limit applies)
        return
    else:
        pixels = width * height
    if pixels > limit:
        size = f"{width} x {height} pixels" if width else f"{pixels:,} pixels"
        raise SynthError(f"image of {size} is over the limit of {limit:,} pixels; set SYNTH_MAX_IMAGE_PIXELS to "
                         "raise it", file=str(path))


def _audio_item(path: Path, labels: dict[str, Any]) -> Item:
    import soundfile as sf
    data = path.read_bytes()
    try:
        sf.info(io.BytesIO(data))
    except Exception as exc:  # soundfile raises its own LibsndfileError and RuntimeError types
        raise SynthError(f"not a decodable audio file ({exc})", file=str(path)) from None
    return Item(hashlib.sha256(data).hexdigest(), labels, path.resolve().as_uri(), path=path, kind="audio",
                fmt=path.suffix.lower().lstrip("."))


# -- readers: each returns (items, skipped) without writing anything -------------------------------

def _no_labels_with_unlabeled(labels_file: str | Path | None) -> None:
    if labels_file is not None:
        raise SynthError("--unlabeled imports without labels; leave out --labels (or --unlabeled)",
                         file=str(labels_file), field="--unlabeled")


def scan_images(root: str | Path, labels_file: str | Path | None = None, *,
                unlabeled: bool = False) -> tuple[list[Item], int]:
    """Images in class folders ROOT/<class>/<image>, or listed in a labels file; with `unlabeled`, every
    image under ROOT (flat or nested; folder names are not classes) labeled {"unlabeled": true}."""
    root = Path(root)
    if unlabeled:
        _no_labels_with_unlabeled(labels_file)
        files, skipped = _walk(root, IMAGE_EXTS)
        if not files:
            raise SynthError(f"no images found (extensions: {', '.join(sorted(IMAGE_EXTS))})", file=str(root))
        return [_image_item(path, dict(UNLABELED)) for path in files], skipped
    if labels_file is None:
        files, skipped = _walk(root, IMAGE_EXTS)
        items = []
        for path in files:
            rel = path.relative_to(root)
            if len(rel.parts) < 2:
                raise SynthError(f"image {rel} is not inside a class folder; use ROOT/<class>/<image>, --labels, or "
                                 "--unlabeled for data without classes",
                                 file=str(path))
            items.append(_image_item(path, {"class": _class_name(rel.parts[0], str(path), what="class name (folder)")}))
        if not items:
            raise SynthError("no images found (class-per-folder layout: ROOT/<class>/<image>)", file=str(root))
        return items, skipped
    entries = read_labels_file(labels_file)
    return [_image_item(safe_path(root, rel, file=str(labels_file), line=line),
                        {"class": _class_name(label, str(labels_file), line)}, f"{labels_file}:{line}")
            for line, rel, label, _ in entries], 0


def read_labels_file(path: str | Path) -> list[tuple[int, str, str, dict[str, str]]]:
    """(line, relative file, label, other columns) from a CSV with columns file,label (or class) or a
    JSON object {file: label} / list of {"file", "label"}."""
    path = Path(path)
    if not path.is_file():
        raise SynthError("no such labels file", file=str(path))
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(_utf8(path))
        except ValueError as exc:
            raise SynthError(f"not valid JSON: {exc}", file=str(path)) from None
        if not isinstance(data, (dict, list)):
            raise SynthError("needs a JSON object {file: label} or a list of {\"file\", \"label\"}", file=str(path))
        pairs = list(data.items()) if isinstance(data, dict) else \
            [(d.get("file"), d.get("label", d.get("class"))) for d in data if isinstance(d, dict)]
        out = []
        for n, (f, lab) in enumerate(pairs, start=1):
            if not isinstance(f, str) or lab is None:
                raise SynthError(f"entry {n} needs a file and a label", file=str(path))
            out.append((n, f, str(lab), {}))
        return out
    with io.StringIO(_utf8(path), newline="") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        label_col = "label" if "label" in cols else "class" if "class" in cols else None
        if "file" not in cols or label_col is None:
            raise SynthError(f"needs columns file and label (or class); found {', '.join(cols) or 'none'}",
                             file=str(path))
        out = []
        for n, r in enumerate(reader, start=2):
            if not r.get("file") or r.get(label_col) in (None, ""):
                raise SynthError("empty file or label", file=str(path), line=n)
            out.append((n, r["file"], r[label_col], r))
        return out


def _utf8(path: Path) -> str:
    """A text file's content, refusing anything that is not UTF-8 (a BOM is allowed)."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SynthError(f"not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8", file=str(path)) from None


def scan_coco(annotations: str | Path, images_dir: str | Path) -> tuple[list[Item], int]:
    ann_path, root = Path(annotations), Path(images_dir)
    where = str(ann_path)
    if not ann_path.is_file():
        raise SynthError("no such annotations file", file=where)
    try:
        coco = json.loads(_utf8(ann_path), parse_constant=_no_constant)
    except SynthError as exc:
        raise SynthError(exc.message, file=where) from None
    except ValueError as exc:
        raise SynthError(f"not valid JSON: {exc}", file=where) from None
    if not isinstance(coco, dict) or not isinstance(coco.get("images"), list):
        raise SynthError("not a COCO file: needs an `images` list", file=where)
    for key in ("categories", "annotations"):
        if not isinstance(coco.get(key, []), list):
            raise SynthError(f"`{key}` must be a list", file=where, field=key)
    cats: dict[Any, str] = {}
    for n, c in enumerate(coco.get("categories", [])):
        if not isinstance(c, dict) or not _is_id(c.get("id")) or not isinstance(c.get("name"), str):
            raise SynthError(f"category {n} needs an integer `id` and a string `name`", file=where,
                             field=f"categories[{n}]")
        cats[c["id"]] = _class_name(c["name"], where, what=f"categories[{n}].name")
    images: dict[Any, dict[str, Any]] = {}
    for n, im in enumerate(coco["images"]):
        if not isinstance(im, dict) or not _is_id(im.get("id")) or not isinstance(im.get("file_name"), str) \
                or not im["file_name"]:
            raise SynthError(f"image {n} needs an integer `id` and a string `file_name`", file=where,
                             field=f"images[{n}]")
        if im["id"] in images:
            raise SynthError(f"image id {im['id']} appears twice", file=where, field=f"images[{n}].id")
        images[im["id"]] = im
    objects: dict[Any, list[dict[str, Any]]] = {i: [] for i in images}
    for n, ann in enumerate(coco.get("annotations", [])):
        if not isinstance(ann, dict):
            raise SynthError(f"annotation {n} is not an object", file=where, field=f"annotations[{n}]")
        if ann.get("image_id") not in images:
            raise SynthError(f"annotation {ann.get('id')} refers to image id {ann.get('image_id')}, which is not in "
                             "`images`", file=where, field="annotations.image_id")
        if ann.get("category_id") not in cats:
            raise SynthError(f"annotation {ann.get('id')} has category id {ann.get('category_id')}; categories are "
                             f"{sorted(cats)}", file=where, field="annotations.category_id")
        objects[ann["image_id"]].append(_coco_object(ann, cats[ann["category_id"]], where, n))
    items = []
    for image_id, im in images.items():
        path = safe_path(root, im["file_name"], file=where)
        item = _image_item(path, {"objects": objects[image_id]}, where)
        for obj in objects[image_id]:
            _box_inside(obj["box"], item, where, image_id)
        items.append(item)
    return items, 0


def _no_constant(name: str) -> float:
    raise SynthError(f"{name} is not a number COCO allows: every number must be finite")


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _numbers(value: Any, where: str, field: str, count: int | None = None) -> list[float]:
    """A list of finite numbers (of `count` of them), or a SynthError naming the field."""
    ok = isinstance(value, list) and (count is None or len(value) == count) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    if not ok:
        size = f"{count} " if count else ""
        raise SynthError(f"needs a list of {size}finite numbers, got {str(value)[:80]}", file=where, field=field)
    return [float(v) for v in value]


def _coco_object(ann: dict[str, Any], name: str, where: str = "", n: int = 0) -> dict[str, Any]:
    x, y, w, h = _numbers(ann.get("bbox"), where, f"annotations[{n}].bbox", 4)
    if w < 0 or h < 0:
        raise SynthError(f"bbox {ann['bbox']} has a negative width or height", file=where,
                         field=f"annotations[{n}].bbox")
    obj: dict[str, Any] = {"class": name, "box": [x, y, x + w, y + h]}
    seg = ann.get("segmentation")
    if isinstance(seg, list) and seg and isinstance(seg[0], list) and len(seg[0]) >= 6:
        poly = _numbers(seg[0], where, f"annotations[{n}].segmentation")
        obj["polygon"] = [[poly[i], poly[i + 1]] for i in range(0, len(poly) - 1, 2)]
    if ann.get("keypoints"):
        k = _numbers(ann["keypoints"], where, f"annotations[{n}].keypoints")
        obj["keypoints"] = [[k[i], k[i + 1], int(k[i + 2])] for i in range(0, len(k) - 2, 3)]
    return obj


def _box_inside(box: list[float], item: Item, where: str, image_id: Any) -> None:
    x0, y0, x1, y1 = box
    w, h, tol = item.width or 0, item.height or 0, BOX_TOLERANCE_PX
    if x0 < -tol or y0 < -tol or x1 > w + tol or y1 > h + tol:
        raise SynthError(f"box {[round(v, 2) for v in box]} (xyxy) of image {image_id} lies outside the image "
                         f"({w} x {h} pixels)", file=where, field="annotations.bbox")


def scan_table(path: str | Path, label: str | None = None) -> tuple[list[Item], int]:
    path = Path(path)
    if not path.is_file():
        raise SynthError("no such file", file=str(path))
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq
            table = pq.read_table(path)
        elif path.suffix.lower() == ".csv":
            import pyarrow.csv as pcsv
            _utf8(path)  # pyarrow would read other bytes as an opaque binary column
            table = pcsv.read_csv(path)
        else:
            raise SynthError("tables are read from .csv or .parquet", file=str(path))
    except pa.ArrowInvalid as exc:
        raise SynthError(f"cannot read table: {exc}", file=str(path)) from None
    dupes = sorted({c for c in table.column_names if table.column_names.count(c) > 1})
    if dupes:
        raise SynthError(f"column name(s) {', '.join(repr(c) for c in dupes)} appear more than once; rename them "
                         "so no column is dropped", file=str(path))
    if label is not None and label not in table.column_names:
        raise SynthError(f"no column '{label}'; columns are {', '.join(table.column_names)}", file=str(path),
                         field="--label")
    items = []
    for n, record in enumerate(table.to_pylist()):
        record = json.loads(canonical_json(record))  # dates, decimals -> JSON values
        labels = {}
        if label is not None:
            value = record[label]
            labels = {"target": value, **({"class": str(value)} if isinstance(value, (str, bool)) else {})}
        items.append(Item(hashlib.sha256(canonical_json(record).encode()).hexdigest(), labels,
                          f"{path.resolve().as_uri()}#row={n}", inline={"kind": "row", "value": record}))
    return items, 0


def scan_text(path: str | Path, text_field: str = "text", *, unlabeled: bool = False) -> tuple[list[Item], int]:
    """JSON lines with a string field `text_field`; the other fields become labels (`label` as the class),
    or, with `unlabeled`, are ignored and every row is labeled {"unlabeled": true}."""
    path = Path(path)
    if not path.is_file():
        raise SynthError("no such file", file=str(path))
    items = []
    with io.StringIO(_utf8(path)) as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as exc:
                raise SynthError(f"not valid JSON: {exc}", file=str(path), line=n) from None
            if not isinstance(rec, dict) or not isinstance(rec.get(text_field), str):
                raise SynthError(f"each line needs a string field '{text_field}'", file=str(path), line=n,
                                 field=text_field)
            text = rec.pop(text_field)
            rec.pop("id", None)
            labels = dict(UNLABELED) if unlabeled else {("class" if k == "label" else k): v for k, v in rec.items()}
            if "intent" in labels or "spans" in labels:
                labels.setdefault("text", text)  # the utterance convention keeps the text with its spans
            items.append(Item(hashlib.sha256(text.encode()).hexdigest(), labels, f"{path.resolve().as_uri()}#line={n}",
                              inline={"kind": "text", "value": text}))
    if not items:
        raise SynthError("no records", file=str(path))
    return items, 0


def scan_audio(root: str | Path, labels_file: str | Path | None = None, *,
               unlabeled: bool = False) -> tuple[list[Item], int]:
    """Audio in class folders ROOT/<class>/<file>, or listed in a labels file (with optional events); with
    `unlabeled`, every audio file under ROOT labeled {"unlabeled": true}."""
    root = Path(root)
    if unlabeled:
        _no_labels_with_unlabeled(labels_file)
        files, skipped = _walk(root, AUDIO_EXTS)
        if not files:
            raise SynthError(f"no audio files found (extensions: {', '.join(sorted(AUDIO_EXTS))})", file=str(root))
        return [_audio_item(path, dict(UNLABELED)) for path in files], skipped
    if labels_file is None:
        files, skipped = _walk(root, AUDIO_EXTS)
        items = []
        for path in files:
            rel = path.relative_to(root)
            if len(rel.parts) < 2:
                raise SynthError(f"audio file {rel} is not inside a class folder; use --labels, or --unlabeled for "
                                 "data without classes", file=str(path))
            items.append(_audio_item(path, {"class": _class_name(rel.parts[0], str(path), what="class name (folder)")}))
        return items, skipped
    by_file: dict[str, dict[str, Any]] = {}
    order: list[tuple[int, str]] = []
    for line, rel, label, cols in read_labels_file(labels_file):
        label = _class_name(label, str(labels_file), line)
        if rel not in by_file:
            by_file[rel] = {}
            order.append((line, rel))
        if cols.get("onset_s") not in (None, "") and cols.get("offset_s") not in (None, ""):
            try:
                event = {"class": label, "onset_s": float(cols["onset_s"]), "offset_s": float(cols["offset_s"])}
            except ValueError:
                raise SynthError("onset_s/offset_s must be numbers", file=str(labels_file), line=line) from None
            by_file[rel].setdefault("events", []).append(event)
        else:
            by_file[rel]["class"] = label
    items = []
    for line, rel in order:
        path = safe_path(root, rel, file=str(labels_file), line=line)
        if not path.is_file():
            raise SynthError(f"unknown file '{rel}' (not under {root})", file=str(labels_file), line=line)
        items.append(_audio_item(path, by_file[rel]))
    return items, 0


# -- commit -----------------------------------------------------------------------------------------

def import_items(ws: Workspace, kind: str, items: list[Item], skipped: int, opts: ImportOptions) -> ImportResult:
    from synth.store.commit import commit_rows

    _check_splits(opts.split)
    existing = _existing_real_ids(ws)
    rows, seen, dupes = [], set(existing), 0
    start = _next_index(ws)
    for item in items:
        sid = item.content_hash[:24]
        if sid in seen:
            dupes += 1
            continue
        seen.add(sid)
        rows.append(_row(ws, item, sid, start + len(rows), opts))
    version, added = ws.manifest.latest_version(), 0
    if rows:
        msg = opts.message or f"import {kind}: {len(rows)} real samples"
        done = commit_rows(ws, rows_to_table(rows), msg, operation="import", extra={"import": kind})
        # a concurrent import of the same files may have committed some of them first: those are duplicates
        version, added = done.version, done.added
        dupes += len(rows) - added
    return ImportResult(version, added, dupes, skipped, kind)


def _row(ws: Workspace, item: Item, sid: str, index: int, opts: ImportOptions) -> dict[str, Any]:
    if item.inline is not None:
        payloads = {item.inline["kind"]: item.inline}
    else:
        assert item.path is not None
        payload = {"kind": item.kind, "hash": item.content_hash, "format": item.fmt}
        if opts.link:
            payload["uri"] = item.path.resolve().as_uri()
        else:
            data = item.path.read_bytes()
            if hashlib.sha256(data).hexdigest() != item.content_hash:
                raise SynthError("file changed while importing", file=str(item.path))
            ws.store.put(data)
        payloads = {item.kind: payload}
    return {"sample_id": sid, "origin": "real", "recipe_name": None, "recipe_hash": None, "index": index,
            "seed": None, "params": "{}", "scene": None, "scene_version": None,
            "labels": canonical_json(item.labels), "payloads": canonical_json(payloads),
            "width": item.width, "height": item.height, "split": assign_split(sid, opts.split),
            "group_key": sid, "source": opts.source or item.source, "license": opts.license, "note": opts.note}


def _existing_real_ids(ws: Workspace) -> set[str]:
    ds = ws.manifest._dataset(required=False)
    if ds is None:
        return set()
    return set(ds.to_table(columns=["sample_id"], filter="origin = 'real'").column("sample_id").to_pylist())


def _next_index(ws: Workspace) -> int:
    ds = ws.manifest._dataset(required=False)
    if ds is None:
        return 0
    t = ds.to_table(columns=["index"], filter="origin = 'real'")
    return int(pc.max(t.column("index")).as_py() or -1) + 1 if t.num_rows else 0


UNLABELED_KINDS = ("images", "audio", "text")
"""The import kinds whose scanner takes `unlabeled=True`."""

SCANNERS: dict[str, Callable[..., tuple[list[Item], int]]] = {
    "images": scan_images, "coco": scan_coco, "table": scan_table, "text": scan_text, "audio": scan_audio}


def import_data(ws: Workspace, kind: str, *args: Any, options: ImportOptions | None = None,
                **kwargs: Any) -> ImportResult:
    """Scan and validate the input with the reader for `kind`, then commit it as one version."""
    if kind not in SCANNERS:
        raise SynthError(f"unknown import kind '{kind}'; allowed: {', '.join(SCANNERS)}")
    opts = options or ImportOptions()
    if opts.link and kind in ("table", "text"):
        raise SynthError("--link applies to file payloads (images, coco, audio); tables and text live inline",
                         field="--link")
    if opts.unlabeled:
        if kind not in UNLABELED_KINDS:
            raise SynthError(f"--unlabeled applies to {', '.join(UNLABELED_KINDS)}; {kind} imports carry their own "
                             "labels (or none)", field="--unlabeled")
        kwargs["unlabeled"] = True
    items, skipped = SCANNERS[kind](*args, **kwargs)
    return import_items(ws, kind, items, skipped, opts)
