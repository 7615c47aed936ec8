"""text_line: char boxes hold their own glyph, transcripts round-trip, trdg fidelity, determinism, bad input."""
from __future__ import annotations

import multiprocessing as mp
import random

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from scenes.text_line import TextLineParams, TextLineScene
from synth.text.trdg_shim import load_trdg, trdg_package_dir
from synth.errors import SynthError
from synth.text.fonts import bundled_font_dir, resolve_font

SCENE = TextLineScene()
PLAIN = dict(background="plain", text_color="#000000", margins={"top": 4, "left": 4, "bottom": 4, "right": 4})
CHARSET = "ABDEFGHKMNPRTYabdefghmnrty2345679"  # no look-alikes (l/I/1, O/0) or case twins (w/W, s/S)


def render(seed: int = 0, **kw):
    params = TextLineParams(**kw)
    SCENE.check(params)
    return SCENE.render(params, np.random.default_rng(seed))


def _glyph_template(ch: str, font_path: str, size: int) -> np.ndarray:
    font = ImageFont.truetype(font_path, size)
    canvas = Image.new("L", (size * 3, size * 3), 0)
    ImageDraw.Draw(canvas).text((size, size), ch, font=font, fill=255)
    arr = np.asarray(canvas) > 127
    ys, xs = np.nonzero(arr)
    return arr[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    b = cv2.resize(b.astype(np.uint8), (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA) > 0
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.mark.parametrize("font", ["Roboto-Regular", "OpenSans-Bold", "Lato-Medium"])
def test_each_char_box_holds_the_ink_of_exactly_its_character(font):
    path = resolve_font(font, bundled_font_dir())
    for seed in range(3):
        smp = render(seed, text={"kind": "random", "charset": CHARSET, "words": 2, "min_chars": 4, "max_chars": 6},
                     font=font, size=64, character_spacing=3, **PLAIN)
        ink = np.asarray(Image.fromarray(smp.payloads["image"].data).convert("L")) < 128
        covered = np.zeros_like(ink)
        for c in smp.labels["chars"]:
            x0, y0, x1, y1 = (int(v) for v in c["box"])
            crop = ink[y0:y1, x0:x1]
            assert crop.any(), f"box of {c['char']!r} holds no ink"
            scores = {cand: _iou(crop, _glyph_template(cand, path, 64)) for cand in CHARSET}
            assert max(scores, key=scores.get) == c["char"], (c, sorted(scores.items(), key=lambda kv: -kv[1])[:3])
            covered[max(y0 - 1, 0):y1 + 1, max(x0 - 1, 0):x1 + 1] = True
        # antialiased edges may reach one pixel past the (aliased) mask; nothing beyond that
        assert not (ink & ~covered).any(), "ink outside every character box"


def test_transcript_round_trip_and_word_boxes():
    smp = render(3, text={"kind": "dictionary", "words": 4}, **PLAIN)
    text = smp.labels["transcript"]
    assert " ".join(w["text"] for w in smp.labels["words"]) == text
    assert "".join(c["char"] for c in smp.labels["chars"]) == text.replace(" ", "")
    for w in smp.labels["words"]:
        assert text[w["start"]:w["end"]] == w["text"]
        inner = [c["box"] for c in smp.labels["chars"] if w["start"] <= c["index"] < w["end"]]
        assert w["box"][0] == min(b[0] for b in inner) and w["box"][2] == max(b[2] for b in inner)


def test_image_matches_raw_trdg_with_the_same_global_seed():
    """Our call (blur applied by us after taking the mask) gives trdg's own pixels: the call trdg's
    `GeneratorFromStrings.next` makes, argument for argument (that module also imports arabic_reshaper and
    python-bidi for right-to-left text, which synth installs without: trdg comes with --no-deps)."""
    import os

    params = TextLineParams(text={"kind": "dictionary", "words": 2}, font="Roboto-Regular", background="noise",
                            skew_deg=3, distortion="sine", blur=1.0)
    rng = np.random.default_rng(11)
    smp = SCENE.render(params, rng)
    seed = smp.labels["trdg_seed"]
    data_generator = load_trdg()
    image_dir = os.path.join("..", os.path.join(trdg_package_dir(), "generators"), "images")
    random.seed(seed); np.random.seed(seed); cv2.setRNGSeed(seed)
    raw = data_generator.FakeTextDataGenerator.generate(
        1, smp.labels["transcript"], resolve_font("Roboto-Regular", bundled_font_dir()), None, 32, None,
        3, False, 1.0, False, 0, 1, 0, False, 0, -1, 0, "#282828,#282828", 0, 1.0, 0, (5, 5, 5, 5), False, False,
        False, image_dir, 0, "#282828,#282828", "RGB", 0)
    assert np.array_equal(np.asarray(raw.convert("RGB")), smp.payloads["image"].data)


KINDS = [dict(text={"kind": "random", "words": 2}, background="noise", distortion="random", blur=0.7),
         dict(text={"kind": "faker", "faker_provider": "name"}, background="quasicrystal", skew_deg=-4),
         dict(text={"kind": "number", "number_format": "#"}, background="plain",
              layout={"canvas_width": 28, "canvas_height": 28, "elastic_alpha": 2.0, "shear": 0.2}, grayscale=True)]


def _render_bytes(job):
    index, kw = job
    random.seed(12345 + index); np.random.seed(999)  # junk global state must not leak into the output
    smp = TextLineScene().render(TextLineParams(**kw), np.random.default_rng(index))
    return smp.payloads["image"].encode()[0], smp.labels


def test_same_bytes_in_process_and_across_two_workers():
    jobs = [(i, KINDS[i % len(KINDS)]) for i in range(6)]
    here = [_render_bytes(j) for j in reversed(jobs)][::-1]
    with mp.get_context("spawn").Pool(2) as pool:
        there = pool.map(_render_bytes, jobs, chunksize=1)
    assert here == there


def test_trdg_decline_is_redrawn_deterministically(tmp_path):
    # trdg drops a draw whose text mean ((R+G)/3 over glyph pixels) is within 15 of the background mean;
    # a solid grey page and text #b4b4b4 are always declined, whatever the seed
    Image.new("RGB", (64, 64), (120, 120, 120)).save(tmp_path / "grey.png")
    kw = dict(background="image", background_dir=str(tmp_path), text_color="#b4b4b4")
    a, b = render(5, **kw), render(5, **kw)
    assert a.labels["redraws"] == 3 and a.labels["text_color"] == "#000000"
    assert np.array_equal(a.payloads["image"].data, b.payloads["image"].data)
    assert a.labels["chars"] and all(c["box"] for c in a.labels["chars"])


def test_missing_glyphs_name_the_characters_and_the_font():
    with pytest.raises(SynthError, match=r"Roboto-Regular.*'✓' \(U\+2713\)"):
        render(text={"kind": "random", "charset": "ab✓"}, font="Roboto-Regular")
    with pytest.raises(SynthError, match="no font .* covers"):
        render(text={"kind": "random", "charset": "ab✓"})


@pytest.mark.parametrize("kw, message", [
    (dict(text={"language": "klingon"}), "unknown language 'klingon'"),
    (dict(text={"kind": "faker", "faker_provider": "citty"}), "unknown Faker provider 'citty'.*did you mean 'city'"),
    (dict(font="Robotto-Regular"), "did you mean 'Roboto-Regular'"),
    (dict(text_color="blurple"), "not a colour"),
    (dict(background="image", background_dir="/nonexistent"), "background_dir"),
])
def test_bad_input_is_a_clear_synth_error(kw, message):
    with pytest.raises(SynthError, match=message) as err:
        render(**kw)
    assert err.value.exit_code == 2


def test_empty_word_list_is_an_error(tmp_path):
    empty = tmp_path / "words.txt"
    empty.write_text("\n  \n")
    with pytest.raises(SynthError, match="is empty"):
        render(text={"kind": "wordlist", "wordlist": str(empty)})
    (tmp_path / "ok.txt").write_text("Zürich\nGenève\n")
    smp = render(text={"kind": "wordlist", "wordlist": str(tmp_path / "ok.txt"), "words": 2}, **PLAIN)
    assert set(smp.labels["transcript"].split()) <= {"Zürich", "Genève"}


def test_crossed_seven_bar_is_ink_inside_the_seven_box(tmp_path):
    seven = tmp_path / "seven.txt"
    seven.write_text("7\n")
    import numpy as np
    from scenes.text_line import TextLineParams, TextLineScene
    base = dict(text={"kind": "wordlist", "wordlist": str(seven)}, font="Roboto-Regular", size=64,
                background="plain", text_color="#000000")
    plain = TextLineScene().render(TextLineParams(**base), np.random.default_rng(3))
    crossed = TextLineScene().render(TextLineParams(**base, seven_crossbar=1.0), np.random.default_rng(3))
    assert crossed.labels["crossed_sevens"] == [0] and "crossed_sevens" not in plain.labels
    x0, y0, x1, y1 = (int(v) for v in crossed.labels["chars"][0]["box"])
    ink = crossed.payloads["image"].data.min(axis=2) < 128
    extra = ink & ~(plain.payloads["image"].data.min(axis=2) < 128)
    ys, xs = np.nonzero(extra)
    assert len(xs) > 20  # the bar was drawn...
    assert xs.min() >= x0 and xs.max() < x1 and ys.min() >= y0 and ys.max() < y1  # ...inside the 7's box
    assert np.ptp(ys) < np.ptp(xs)  # and it is horizontal
