"""The contact sheet draws labels on every tile and prints the params that vary between tiles."""
from __future__ import annotations

import numpy as np

from scenes.receipt import ReceiptParams, ReceiptScene
from synth.report.preview import TILE, contact_sheet, draw_labels, varying_keys


def test_contact_sheet_has_a_tile_per_sample_with_labels_drawn():
    p = ReceiptParams(width=200, height=260, px_per_mm=2.0, font_size_px=8, n_items=3, photo_effects=False)
    s = ReceiptScene().render(p, np.random.default_rng(0))
    img = s.payloads["image"].data
    drawn = draw_labels(img, s.labels, s.payloads["mask"].data)
    assert (drawn != img).any(axis=2).sum() > 200  # quads, boxes, corners drawn
    params = [dict(p.model_dump(), crinkle=0.1 * i) for i in range(5)]
    sheet = contact_sheet([(img, s.labels, s.payloads["mask"].data, q) for q in params], columns=4)
    assert sheet.shape[1] == 4 * TILE + 3 * 4 and sheet.shape[0] % 2 == 0 and sheet.shape[0] // 2 > TILE
    caption = sheet[TILE + 2:sheet.shape[0] // 2, :TILE]
    assert (caption < 128).any()  # fields and the varying param printed under the tile
    assert (sheet[sheet.shape[0] // 2:, 3 * (TILE + 4):] == 255).all()  # the 8th cell is empty


def test_only_params_that_vary_are_captioned():
    assert varying_keys([{"a": 1, "b": 2}, {"a": 1, "b": 3}]) == ["b"]
    assert varying_keys([{"a": 1, "b": 2}]) == ["a", "b"]
