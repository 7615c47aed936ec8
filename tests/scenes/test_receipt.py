"""The receipt scene: glyph-exact word quads, labels that follow the photo, replay, and bad input."""
from __future__ import annotations

import numpy as np
import pytest

from scenes.receipt import ReceiptParams, ReceiptScene
from synth.ops.base import mask_boxes

SMALL = dict(width=384, height=512, px_per_mm=3.0, font_size_px=10, n_items=4)


def test_flat_word_quads_enclose_exactly_the_glyph_pixels():
    p = ReceiptParams(**SMALL, photo_effects=False)
    s = ReceiptScene().render(p, np.random.default_rng(4))
    img, mask = s.payloads["image"].data[..., 0], s.payloads["mask"].data
    ink = (img < 255) & (mask > 0)
    covered = np.zeros_like(ink)
    for w in s.labels["words"]:
        (x0, y0), (x1, y1) = w["quad"][0], w["quad"][2]
        x0, y0, x1, y1 = int(x0), int(y0), int(x1), int(y1)
        inside = ink[y0:y1, x0:x1]
        # tight: ink touches every side of the quad
        assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any(), w
        covered[y0:y1, x0:x1] = True
    assert ink.sum() > 500 and not (ink & ~covered).any()  # every glyph pixel lies in some word's quad
    assert s.labels["lines"][0]["text"] == s.labels["content"]["store"]
    assert s.labels["fields"]["total"]["text"] == f"{s.labels['content']['total']:.2f}"


def test_photo_labels_follow_the_receipt():
    p = ReceiptParams(**SMALL, crinkle=0.5, curvature=0.4, camera_tilt_deg=30, alignment_deg=20, flash=0.5)
    s = ReceiptScene().render(p, np.random.default_rng(1))
    mask = s.payloads["mask"].data
    rec = s.labels["objects"][0]
    assert rec["box"] == mask_boxes(mask)[1]
    x0, y0, x1, y1 = rec["box"]
    for x, y, v in rec["keypoints"]:
        if 0 <= x < p.width and 0 <= y < p.height:  # a corner in frame lies on the receipt's box edge region
            assert v == 2 and x0 - 3 <= x <= x1 + 3 and y0 - 3 <= y <= y1 + 3
        else:
            assert v < 2
    for w in s.labels["words"]:
        if w["visible"]:
            c = np.mean(w["quad"], axis=0).astype(int)
            assert mask[c[1], c[0]] == 1  # every visible word sits on the receipt
    assert sum(w["visible"] for w in s.labels["words"]) > 0.8 * len(s.labels["words"])
    assert set(s.labels["fields"]) == {"store", "date", "total"}


def test_render_is_deterministic():
    p = ReceiptParams(**SMALL, crinkle=0.3, iso=800, jpeg_quality=70)
    a = ReceiptScene().render(p, np.random.default_rng(7))
    b = ReceiptScene().render(p, np.random.default_rng(7))
    assert a.payloads["image"].data.tobytes() == b.payloads["image"].data.tobytes()
    assert a.labels_json() == b.labels_json()
    c = ReceiptScene().render(p, np.random.default_rng(8))
    assert c.labels["content"] != a.labels["content"]


def test_unknown_font_is_a_clear_error():
    with pytest.raises(ValueError, match="font 'RobotoCondenssed' not found.*did you mean 'RobotoCondensed"):
        ReceiptScene().check(ReceiptParams(font="RobotoCondenssed"))


def test_too_many_items_for_the_paper_is_an_error_not_clipped_text():
    with pytest.raises(ValueError, match="n_items=30 needs .* max_paper_length_mm=100"):
        ReceiptScene().check(ReceiptParams(n_items=30, max_paper_length_mm=100))
    with pytest.raises(ValueError, match="flat render"):
        ReceiptScene().check(ReceiptParams(**{**SMALL, "n_items": 30}, photo_effects=False))


def test_out_of_range_photo_params_are_rejected():
    from pydantic import ValidationError
    for bad in ({"jpeg_quality": 0}, {"jpeg_quality": 101}, {"focal_length_mm": 0}, {"motion_blur_px": -1},
                {"table": "glass"}, {"crinkliness": 0.2}):
        with pytest.raises(ValidationError):
            ReceiptParams(**bad)
