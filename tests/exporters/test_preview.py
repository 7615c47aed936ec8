"""The contact sheet draws labels and params for every tile."""
from __future__ import annotations

import numpy as np

from scenes.receipt import ReceiptParams, ReceiptScene
from synth.preview import TILE, contact_sheet, draw_labels


def test_contact_sheet_has_a_tile_per_sample_with_labels_drawn():
    p = ReceiptParams(width=200, height=260, px_per_mm=2.0, font_size_px=8, n_items=3, photo_effects=False)
    s = ReceiptScene().render(p, np.random.default_rng(0))
    img = s.payloads["image"].data
    drawn = draw_labels(img, s.labels, s.payloads["mask"].data)
    assert (drawn != img).any(axis=2).sum() > 200  # quads, boxes, corners drawn
    sheet = contact_sheet([(img, s.labels, s.payloads["mask"].data, p.model_dump())] * 5, columns=4)
    assert sheet.shape == (2 * (TILE + 120), 4 * TILE, 3)
    assert (sheet[TILE + 5:TILE + 120, :TILE] < 128).any()  # params text under the tile
