"""Planted data for the gap: small grey images drawn from a known distribution, written as real imports
(through the importer, --unlabeled) or as synthetic rows carrying the params that made them."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
import pytest

from synth.codecs.canonical import canonical_json
from synth.codecs.png import encode_png
from synth.store.commit import commit
from synth.store.manifest import rows_to_table
from synth.store.workspace import Workspace

SIZE = 24


def blob_image(rng: np.random.Generator, *, brightness: float, radius: float, background: float = 20.0,
               noise: float = 8.0) -> np.ndarray:
    """A bright disc on a dark, noisy background."""
    img = np.full((SIZE, SIZE), background, np.float64)
    cx, cy = SIZE / 2 + rng.uniform(-3, 3), SIZE / 2 + rng.uniform(-3, 3)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    img[(xx - cx) ** 2 + (yy - cy) ** 2 <= radius ** 2] = brightness
    img = cv2.GaussianBlur(img, (3, 3), 0.8) + rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def draw(seed: int, n: int, **overrides: Any) -> tuple[list[np.ndarray], list[dict[str, Any]]]:
    """n images of the base distribution (radius ~ U(4, 9), brightness ~ U(140, 220)) and their params;
    `overrides` maps a param to a function (params, rng) -> keyword changes of blob_image."""
    rng = np.random.default_rng(seed)
    images, params = [], []
    for _ in range(n):
        p = {"radius": float(rng.uniform(4, 9)), "brightness": float(rng.uniform(140, 220))}
        kw: dict[str, Any] = {}
        for name, f in overrides.items():
            p[name] = float(rng.uniform(0, 1))
            kw.update(f(p, rng))
        images.append(blob_image(rng, brightness=p["brightness"], radius=p["radius"], **kw))
        params.append(p)
    return images, params


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.open(str(tmp_path / "ws"), create=True)


@pytest.fixture
def add_real(tmp_path: Path) -> Callable[..., int]:
    """Write images (flat, or into class folders when `classes` is given) and import them as real."""
    from synth.data.importer import ImportOptions, import_data

    def add(ws: Workspace, images: list[np.ndarray], classes: list[str] | None = None, name: str = "real") -> int:
        root = tmp_path / name
        for i, img in enumerate(images):
            folder = root / classes[i] if classes else root
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"{i:04d}.png"), img)
        res = import_data(ws, "images", root, options=ImportOptions(unlabeled=classes is None))
        assert res.added == len(images)
        return res.version
    return add


def add_synthetic(ws: Workspace, images: list[np.ndarray], params: list[dict[str, Any]],
                  labels: list[dict[str, Any]] | None = None, recipe: str = "planted") -> int:
    """Commit images as synthetic rows of a recipe, each recording its params (as `generate` would)."""
    rows = []
    for i, (img, p) in enumerate(zip(images, params)):
        digest = ws.store.put(encode_png(img))
        sid = hashlib.sha256(f"{recipe}:{i}:{digest}".encode()).hexdigest()[:24]
        rows.append({"sample_id": sid, "origin": "synthetic", "recipe_name": recipe, "recipe_hash": recipe * 2,
                     "index": i, "seed": i, "params": canonical_json(p), "scene": "planted", "scene_version": "1",
                     "labels": canonical_json(labels[i] if labels else {}),
                     "payloads": canonical_json({"image": {"kind": "image", "hash": digest, "format": "png"}}),
                     "width": img.shape[1], "height": img.shape[0], "split": "train", "group_key": sid,
                     "source": None, "license": None, "note": None})
    return commit(ws, rows_to_table(rows), f"planted {recipe}", operation="generate")
