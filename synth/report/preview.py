"""Contact sheets: tiles with boxes, masks, quads, key fields and word transcripts drawn on, and the
params that vary between tiles (the sampled ones) printed beneath each tile."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

TILE = 320
FONT = cv2.FONT_HERSHEY_PLAIN
CAPTION_LINE_PX = 12
CAPTION_LINES = 14
WORD_TEXT_MIN_PX = 12  # smaller words get their transcript in the caption instead
BOX_RGB, POLY_RGB, QUAD_RGB, FIELD_RGB, KEYPOINT_RGB = (230, 30, 30), (0, 200, 0), (255, 140, 0), (200, 0, 200), (255, 0, 255)


def _palette() -> np.ndarray:
    i = np.arange(256)
    colours = np.stack([(37 * i) % 255, (91 * i + 80) % 255, (173 * i + 40) % 255], axis=1).astype(np.uint8)
    colours[0] = 0
    return colours


def draw_labels(image: np.ndarray, labels: dict, mask: np.ndarray | None = None, tile: int | None = None) -> np.ndarray:
    """The image scaled to fit `tile` pixels (None: as is), with labels drawn at that scale so thin lines
    and text stay legible however large the source image is."""
    rgb = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
    s = 1.0 if tile is None else tile / max(rgb.shape[:2])
    size = (max(1, round(rgb.shape[1] * s)), max(1, round(rgb.shape[0] * s)))
    out = rgb.copy() if s == 1.0 else cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    if mask is not None and mask.max() > 0:
        m = mask if s == 1.0 else cv2.resize(mask.astype(np.uint16), size, interpolation=cv2.INTER_NEAREST)
        tint = _palette()[np.clip(m, 0, 255).astype(np.int64)]
        out = np.where(m[..., None] > 0, (out * 0.8 + tint * 0.2).astype(np.uint8), out)
        for inst in np.unique(m[m > 0]):  # outline each instance so touching ones stay apart
            contours, _ = cv2.findContours((m == inst).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(out, contours, -1, tuple(int(c) for c in _palette()[int(inst) % 256]), 1)
    pts = lambda a: np.round(np.asarray(a, np.float64).reshape(-1, 2) * s * 4).astype(np.int32)  # noqa: E731  (shift=2)
    for obj in labels.get("objects", []):
        if obj.get("polygon"):
            cv2.polylines(out, [pts(obj["polygon"])], True, POLY_RGB, 1, cv2.LINE_AA, shift=2)
        if obj.get("box"):
            _box(out, obj["box"], s, BOX_RGB, str(obj.get("class", "")))
        for x, y, v in obj.get("keypoints") or []:
            if v > 0:
                cv2.circle(out, (round(x * s), round(y * s)), 3, KEYPOINT_RGB, -1, cv2.LINE_AA)
    words = [w for w in labels.get("words", []) if w.get("quad")]
    for w in words:
        cv2.polylines(out, [pts(w["quad"])], True, QUAD_RGB, 1, cv2.LINE_AA, shift=2)
        q = np.asarray(w["quad"], np.float64) * s
        if np.ptp(q[:, 1]) >= WORD_TEXT_MIN_PX and w.get("text"):  # on the image only where it can be read
            _text(out, str(w["text"]), (q[:, 0].min(), q[:, 1].min() - 1), (160, 0, 0))
    if not words:  # line boxes only when there are no word quads (they would hide the quads)
        for line in labels.get("lines", []):
            if line.get("box"):
                _box(out, line["box"], s, QUAD_RGB, "")
    for name, f in (labels.get("fields") or {}).items():
        if f.get("box"):
            _box(out, f["box"], s, FIELD_RGB, name)
    return out


def _box(out: np.ndarray, box: list[float], s: float, colour: tuple, tag: str) -> None:
    x0, y0, x1, y1 = (v * s for v in box)
    cv2.rectangle(out, (round(x0), round(y0)), (max(round(x1) - 1, round(x0)), max(round(y1) - 1, round(y0))), colour, 1)
    if tag:
        _text(out, tag, (x0, y0 - 1), colour)


def _text(out: np.ndarray, text: str, at: tuple[float, float], colour: tuple, scale: float = 0.8) -> None:
    """Text on a white strip so it reads on any background."""
    (tw, th), base = cv2.getTextSize(text, FONT, scale, 1)
    x = int(np.clip(at[0], 0, max(out.shape[1] - tw, 0)))
    y = int(np.clip(at[1], th + 1, out.shape[0] - base))
    cv2.rectangle(out, (x, y - th - 1), (x + tw, y + base - 1), (255, 255, 255), -1)
    cv2.putText(out, text, (x, y), FONT, scale, colour, 1, cv2.LINE_AA)


def contact_sheet(tiles: list[tuple[np.ndarray, dict, np.ndarray | None, dict]], columns: int = 4,
                  tile: int = TILE) -> np.ndarray:
    """tiles: (image, labels, mask, params) -> one RGB sheet, `columns` wide, captions under each tile."""
    if not tiles:
        raise ValueError("contact_sheet needs at least one tile")
    flat = [_flatten(t[3]) for t in tiles]
    keys = varying_keys(flat)
    captions = [(_wrap(_summary(labels), tile - 4) + _wrap([f"{k}={_fmt(p[k])}" for k in keys if k in p], tile - 4))
                [:CAPTION_LINES] for (_, labels, _, _), p in zip(tiles, flat)]
    caption_px = max(len(c) for c in captions) * CAPTION_LINE_PX + 6
    cells = []
    for (image, labels, mask, _), lines in zip(tiles, captions):
        drawn = draw_labels(image, labels, mask, tile)
        cell = np.full((tile + caption_px, tile, 3), 255, np.uint8)
        cell[:drawn.shape[0], :drawn.shape[1]] = drawn
        for i, line in enumerate(lines):
            cv2.putText(cell, line, (2, tile + 12 + CAPTION_LINE_PX * i), FONT, 0.8, (0, 0, 0), 1, cv2.LINE_AA)
        cells.append(cell)
    while len(cells) % columns:
        cells.append(np.full_like(cells[0], 255))
    gap = np.full((cells[0].shape[0], 4, 3), 200, np.uint8)  # grey gutter between tiles
    rows_ = [np.hstack([c for cell in cells[i:i + columns] for c in (cell, gap)][:-1]) for i in range(0, len(cells), columns)]
    return np.vstack(rows_)


def varying_keys(params: list[dict[str, Any]]) -> list[str]:
    """Params whose values differ between tiles (what the recipe samples); all of them for one tile."""
    keys = sorted({k for p in params for k in p})
    if len(params) < 2:
        return keys
    return [k for k in keys if len({json.dumps(p.get(k), sort_keys=True, default=str) for p in params}) > 1]


def _summary(labels: dict) -> list[str]:
    """One caption line about the labels: object classes, or the key fields of a document."""
    fields = labels.get("fields") or {}
    if fields:  # a document: its key fields, then the first lines of its transcript
        lines = str(labels.get("transcript", "")).splitlines()[:4]
        return [f"{k}={v.get('text', '')}" for k, v in fields.items()] + [f"| {t}" for t in lines]
    objs = labels.get("objects") or []
    if objs:
        counts: dict[str, int] = {}
        for o in objs:
            counts[str(o.get("class"))] = counts.get(str(o.get("class")), 0) + 1
        return [f"{plural(len(objs), 'object')}:"] + [f"{k} x{n}" for k, n in sorted(counts.items())]
    if labels.get("transcript"):
        return [str(labels["transcript"]).splitlines()[0][:60]]
    return []


def plural(n: int, noun: str) -> str:
    """`1 object`, `3 objects`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def write_sheet(ws: Any, version: int | str | None, count: int, out: str | Path, columns: int = 4,
                tile: int = TILE) -> int:
    """A contact sheet of a version's first `count` rows (by sample index) written to `out` (.png or .jpg);
    returns the number of tiles."""
    from synth.core.sample import decode_blob
    from synth.errors import SynthError
    from synth.exporters.records import require_images

    table = ws.manifest.to_table(version=version)
    table = table.sort_by("index").slice(0, count) if "index" in table.column_names else table.slice(0, count)
    require_images(table, "preview")
    tiles = []
    for r in table.select(["payloads", "labels", "params"]).to_pylist():
        pays = json.loads(r["payloads"])
        image = decode_blob("image", ws.store.get(pays["image"]["hash"]))
        mask = decode_blob("mask", ws.store.get(pays["mask"]["hash"])) if "mask" in pays else None
        tiles.append((image, json.loads(r["labels"] or "{}"), mask, json.loads(r["params"] or "{}")))
    sheet = contact_sheet(tiles, columns=min(columns, len(tiles)), tile=tile)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        raise SynthError(f"could not write {out}: use a .png or .jpg name", field="-o")
    return len(tiles)


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, str):
        d = json.loads(d)
    out: dict[str, Any] = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict) and not _is_distribution(v):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _is_distribution(v: dict) -> bool:
    return len(v) == 1 and next(iter(v)) in {"uniform", "loguniform", "normal", "truncnormal", "triangular",
                                             "randint", "bernoulli", "choice", "const"}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, dict) and _is_distribution(v):
        name, arg = next(iter(v.items()))
        return f"{name}{json.dumps(arg, separators=(',', ':'))}"[:40]
    return str(v)


def _wrap(parts: list[str], width_px: int) -> list[str]:
    """Greedy wrap by rendered width; a part wider than a line is cut."""
    lines, cur = [], ""
    fits = lambda t: cv2.getTextSize(t, FONT, 0.8, 1)[0][0] <= width_px  # noqa: E731
    for p in parts:
        while not fits(p) and len(p) > 4:
            p = p[:-1]
        cand = f"{cur}  {p}" if cur else p
        if cur and not fits(cand):
            lines.append(cur)
            cur = p
        else:
            cur = cand
    return lines + ([cur] if cur else [])
