"""Stroke glyph sources of text_line (synth/text/strokes.py): every digit renders at 28x28, the same bytes
for the same seed, the ink box label holds the ink, and out-of-range params fail validation."""
from __future__ import annotations

import numpy as np
import pytest

from scenes.text_line import TextLineParams, TextLineScene
from synth.api import validate
from synth.errors import RecipeError, SynthError
from synth.text.strokes import PEN_DIGITS

SCENE = TextLineScene()
SOURCES = ["hershey", "pen"]


def digit_params(digit: str, source: str, **kw) -> TextLineParams:
    base = dict(text={"kind": "literal", "literal": digit}, glyph_source=source, size=64, background="plain",
                text_color="#000000", margins={"top": 4, "left": 4, "bottom": 4, "right": 4},
                pen_width=0.1, pen_pressure=0.5, stroke_jitter=0.04, ink_bleed=0.3, ink_intensity=0.9,
                seven_crossbar=0.5, skew_deg=-8,
                layout={"canvas_width": 28, "canvas_height": 28, "scale": 0.8, "aspect": 0.8, "shear": 0.2,
                        "rotation": 5, "elastic_alpha": 20, "elastic_sigma": 4},
                grayscale=True, invert=True)
    base.update(kw)
    params = TextLineParams(**base)
    SCENE.check(params)
    return params


def render(params: TextLineParams, seed: int):
    return SCENE.render(params, np.random.default_rng(seed))


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("digit", list("0123456789"))
def test_every_digit_renders_at_28x28_with_its_class_and_an_ink_box_around_the_ink(source, digit):
    for seed in range(3):
        smp = render(digit_params(digit, source), seed)
        img = smp.payloads["image"].data
        assert img.shape == (28, 28) and img.dtype == np.uint8
        assert smp.labels["class"] == digit and smp.labels["glyph_source"] == source
        ink = img >= 128  # white ink on black after invert
        assert ink.sum() >= 10, "no visible ink"
        x0, y0, x1, y1 = smp.labels["ink_box"]
        assert 0 <= x0 < x1 <= 28 and 0 <= y0 < y1 <= 28
        ys, xs = np.nonzero(ink)
        # antialiased edges and the linear resampling may reach one pixel past the (nearest-neighbour) mask
        assert xs.min() >= x0 - 1 and xs.max() < x1 + 1 and ys.min() >= y0 - 1 and ys.max() < y1 + 1
        inside = ink[y0:y1, x0:x1].sum()
        assert inside >= 0.9 * ink.sum()
        assert smp.labels["chars"][0]["box"] == [float(v) for v in smp.labels["ink_box"]]


@pytest.mark.parametrize("source", SOURCES)
def test_same_seed_same_bytes_other_seed_other_bytes(source):
    params = digit_params("4", source, hershey_italic=0.5)
    a, b = render(params, 11), render(params, 11)
    assert a.payloads["image"].data.tobytes() == b.payloads["image"].data.tobytes()
    assert a.labels == b.labels
    c = render(params, 12)
    assert c.payloads["image"].data.tobytes() != a.payloads["image"].data.tobytes()


def test_styles_are_honoured_and_recorded():
    for digit, field, styles in (("1", "one_style", ["plain", "flag", "serif"]), ("4", "four_style", ["open", "closed"]),
                                 ("7", "seven_style", ["straight", "curved"]), ("9", "nine_style", ["straight", "curved"])):
        assert sorted(PEN_DIGITS[digit]) == sorted(styles)
        images = []
        for style in styles:
            smp = render(digit_params(digit, "pen", **{field: style, "stroke_jitter": 0.0}), 3)
            assert smp.labels["glyph_styles"] == [style]
            images.append(smp.payloads["image"].data.tobytes())
        assert len(set(images)) == len(styles)


def test_hershey_font_is_recorded_and_multi_character_lines_get_one_box_per_glyph():
    smp = render(digit_params("2024", "hershey", hershey_font="script_simplex", layout={}, skew_deg=0), 0)
    assert smp.labels["font"] == "hershey:script_simplex"
    boxes = [c["box"] for c in smp.labels["chars"]]
    assert len(boxes) == 4 and all(boxes[i][2] <= boxes[i + 1][0] + 1 for i in range(3))
    smp = render(digit_params("2024", "pen", layout={}, skew_deg=0, background="noise"), 0)
    assert [c["char"] for c in smp.labels["chars"]] == list("2024")


def test_fonts_path_unchanged_by_the_new_defaults():
    """The new params default to the font path and draw nothing from the stream there."""
    kw = dict(text={"kind": "literal", "literal": "7"}, font="Roboto-Regular", size=32, background="plain",
              text_color="#000000")
    a = SCENE.render(TextLineParams(**kw), np.random.default_rng(5))
    b = SCENE.render(TextLineParams(**kw, pen_width=0.3, stroke_jitter=0.1, one_style="serif"),
                     np.random.default_rng(5))
    assert a.payloads["image"].data.tobytes() == b.payloads["image"].data.tobytes()
    assert "glyph_source" not in a.labels and "ink_box" not in a.labels


def test_pen_refuses_letters_and_unsupported_backgrounds():
    with pytest.raises(SynthError, match="digits 0-9"):
        digit_params("A", "pen")
    with pytest.raises(SynthError, match="background"):
        digit_params("3", "pen", background="quasicrystal")


def _recipe(tmp_path, extra: str) -> str:
    if "glyph_source" not in extra:
        extra = "  glyph_source: pen\n" + extra
    path = tmp_path / "r.yaml"
    path.write_text("name: strokes\nscene: text_line\ncount: 4\nseed: 1\nparams:\n"
                    "  text.kind: literal\n  text.literal: {cycle: ['0', '1', '2', '3']}\n"
                    "  background: plain\n" + extra)
    return str(path)


def test_small_recipe_validates(tmp_path):
    validate(_recipe(tmp_path, "  pen_width: {uniform: [0.05, 0.2]}\n  one_style: {choice: [flag, serif]}\n"
                                "  layout.size_normalise: 0.71\n"))


@pytest.mark.parametrize("extra", [
    "  pen_width: 0.9\n",
    "  pen_width: {uniform: [0.01, 0.2]}\n",
    "  stroke_jitter: 0.5\n",
    "  pen_pressure: -0.1\n",
    "  ink_intensity: 0.0\n",
    "  ink_bleed: 2\n",
    "  one_style: wavy\n",
    "  four_style: {choice: [open, shut]}\n",
    "  glyph_source: crayon\n",
    "  glyph_source: hershey\n  hershey_font: gothic\n",
    "  layout.size_normalise: 1.5\n",
    "  layout.rotation: 90\n",
])
def test_out_of_bounds_params_are_rejected(tmp_path, extra):
    with pytest.raises(RecipeError):
        validate(_recipe(tmp_path, extra))
