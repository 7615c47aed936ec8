"""Small real-looking inputs written to tmp_path: class folders of PNGs, a COCO file, a synthetic set."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

SHAPES = """
name: tiny
scene: shapes
count: 12
seed: 3
params: {width: 48, height: 48, num_objects: 1}
split: {train: 0.8, val: 0.1, test: 0.1}
"""


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    root = tmp_path / "real"
    for c, base in (("cat", 10), ("dog", 120)):
        (root / c).mkdir(parents=True)
        for i in range(4):
            img = np.full((16, 20, 3), base + i * 20, np.uint8)
            cv2.rectangle(img, (2, 2), (8 + i, 9), (255, 0, 0), -1)
            cv2.imwrite(str(root / c / f"{i}.png"), img)
    return root


@pytest.fixture
def synthetic(ws_path: str, write_recipe):
    from synth import api
    return api.generate(write_recipe(SHAPES, "tiny.yaml"), ws_path, workers=1)
