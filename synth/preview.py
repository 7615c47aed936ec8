"""Contact sheets: tiles with boxes, masks, quads and transcripts drawn on, sampled params beneath."""
from __future__ import annotations

import json
from typing import Any

import cv2
import numpy as np

from .ops.base import iter_geometric

TILE = 320


def draw_labels(image: np.ndarray, labels: dict, mask: np.ndarray | None = None) -> np.ndarray:
    out = image.copy() if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
    if mask is not None and mask.max() > 0:
        colours = np.array([[0, 0, 0]] + [[(37 * i) % 255, (91 * i) % 255, (173 * i) % 255] for i in range(1, 256)], np.uint8)
        tint = colours[np.clip(mask, 0, 255)]
        out = np.where(mask[..., None] > 0, (out * 0.7 + tint * 0.3).astype(np.uint8), out)
    for obj in iter_geometric(labels):
        for key, colour in (("quad", (0, 160, 255)), ("polygon", (0, 200, 0))):
            if obj.get(key):
                cv2.polylines(out, [np.round(np.asarray(obj[key])).astype(np.int32)], True, colour, 1)
        if obj.get("box") and "quad" not in obj:
            x0, y0, x1, y1 = (int(round(v)) for v in obj["box"])
            cv2.rectangle(out, (x0, y0), (x1 - 1, y1 - 1), (255, 0, 0), 1)
        for x, y, v in obj.get("keypoints") or []:
            if v > 0:
                cv2.circle(out, (int(x), int(y)), 4, (255, 0, 255), -1)
        if obj.get("text") and obj.get("box") and "quad" in obj:
            cv2.putText(out, str(obj["text"])[:20], (int(obj["box"][0]), int(obj["box"][1]) - 1),
                        cv2.FONT_HERSHEY_PLAIN, 0.6, (200, 0, 0), 1)
    return out


def contact_sheet(tiles: list[tuple[np.ndarray, dict, np.ndarray | None, dict]], columns: int = 4) -> np.ndarray:
    """tiles: (image, labels, mask, params) -> one RGB sheet with the params printed under each tile."""
    cells = []
    for image, labels, mask, params in tiles:
        drawn = draw_labels(image, labels, mask)
        s = TILE / max(drawn.shape[:2])
        drawn = cv2.resize(drawn, (int(drawn.shape[1] * s), int(drawn.shape[0] * s)), interpolation=cv2.INTER_AREA)
        cell = np.full((TILE + 120, TILE, 3), 255, np.uint8)
        cell[:drawn.shape[0], :drawn.shape[1]] = drawn
        text = [f"{k}={_fmt(v)}" for k, v in sorted(_flatten(params).items())]
        for i, line in enumerate(_wrap(text, 52)[:10]):
            cv2.putText(cell, line, (2, TILE + 11 + 11 * i), cv2.FONT_HERSHEY_PLAIN, 0.75, (0, 0, 0), 1)
        cells.append(cell)
    while len(cells) % columns:
        cells.append(np.full_like(cells[0], 255))
    rows_ = [np.hstack(cells[i:i + columns]) for i in range(0, len(cells), columns)]
    return np.vstack(rows_)


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, str):
        d = json.loads(d)
    out: dict[str, Any] = {}
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)


def _wrap(parts: list[str], width: int) -> list[str]:
    lines, cur = [], ""
    for p in parts:
        if cur and len(cur) + len(p) + 1 > width:
            lines.append(cur)
            cur = p
        else:
            cur = f"{cur} {p}".strip()
    return lines + ([cur] if cur else [])
