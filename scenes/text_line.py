"""Scene `text_line`: one word or line of text rendered by trdg, with transcript, character and word boxes."""
from __future__ import annotations

import contextlib
import io
import os
import tempfile
from typing import Any, Literal

import cv2
import numpy as np
from PIL import Image, ImageColor, ImageFilter
from pydantic import Field

from synth.text.trdg_shim import load_trdg
from synth.errors import SynthError
from synth import Sample, image as image_payload
from synth import Scene, SceneParams
from synth import seed_global_state
from synth.text.boxes import char_boxes, mask_ids, word_boxes
from synth.text.fonts import bundled_font_dir, font_name, fonts_covering, require_glyphs, resolve_font
from synth.text.layout import Layout, change_thickness, warp
from synth.text.sources import TextSource, check_source, generate_text
from synth.text.strokes import Pen, check_chars, draw_text, ink_box
from synth.text.variants import cross_sevens

BACKGROUNDS = {"noise": 0, "plain": 1, "quasicrystal": 2, "image": 3}
DISTORTIONS = {"none": 0, "sine": 1, "cosine": 2, "random": 3}
ORIENTATIONS = {"vertical": 0, "horizontal": 1, "both": 2}  # trdg's distortion orientation codes
ALIGNMENTS = {"left": 0, "center": 1, "right": 2}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
# trdg returns no image when text and background means are within 15 grey levels; we redraw with
# fresh global seeds this many times (helps noisy/image backgrounds), then switch to a contrast colour
RESEEDS = 3


class Margins(SceneParams):
    top: int = Field(5, ge=0, le=512, description="Margin above the text, pixels.")
    left: int = Field(5, ge=0, le=512, description="Margin left of the text, pixels.")
    bottom: int = Field(5, ge=0, le=512, description="Margin below the text, pixels.")
    right: int = Field(5, ge=0, le=512, description="Margin right of the text, pixels.")


class TextLineParams(SceneParams):
    text: TextSource = Field(default_factory=TextSource, description="Where the text comes from.")
    font: str = Field("any", description="Font file name (with or without extension) in the font set, or "
                      "'any': a font drawn from the sorted fonts that cover every character of the text.")
    font_dir: str = Field("", description="Folder of user fonts; empty uses trdg's bundled fonts for the language.")
    size: int = Field(32, ge=8, le=512, description="Line height in pixels (trdg's `size`, also the font size).")
    skew_deg: int = Field(0, ge=-45, le=45, description="Rotation of the text, degrees (trdg needs integers).")
    distortion: Literal["none", "sine", "cosine", "random"] = Field("none", description="trdg distortion.")
    distortion_orientation: Literal["vertical", "horizontal", "both"] = Field(
        "vertical", description="Axis the distortion displaces.")
    blur: float = Field(0.0, ge=0, le=10, description="Gaussian blur radius, applied after the labels are taken.")
    scan_resolution: int = Field(0, ge=0, le=1024, description="A low-resolution capture: the image is "
                                 "shrunk to N px on its longer side (area average) and scaled back (bicubic), "
                                 "as a coarse scanner or an 8x8 digit bitmap does; 0 keeps full resolution.")
    background: Literal["noise", "plain", "quasicrystal", "image"] = Field("noise", description="Background.")
    background_dir: str = Field("", description="Folder of background images for background 'image'.")
    text_color: str = Field("#282828", description="Text colour (any PIL colour string).")
    stroke_width: int = Field(0, ge=0, le=10, description="Outline width in pixels.")
    stroke_fill: str = Field("#282828", description="Outline colour.")
    character_spacing: int = Field(0, ge=0, le=50, description="Extra pixels between characters.")
    space_width: float = Field(1.0, ge=0.1, le=5, description="Width of a space, in multiples of the font's.")
    margins: Margins = Field(default_factory=Margins, description="Margins around the text.")
    width: int = Field(-1, ge=-1, le=8192, description="Fixed image width; -1 fits the text.")
    alignment: Literal["left", "center", "right"] = Field("left", description="Alignment when width is fixed.")
    orientation: Literal["horizontal", "vertical"] = Field("horizontal", description="Text direction.")
    layout: Layout = Field(default_factory=Layout, description="Geometry applied after trdg.")
    seven_crossbar: float = Field(0.0, ge=0, le=1, description="Probability that each '7' gets the crossbar of "
                                  "continental handwriting (no bundled font has it); crossed indices go in labels.")
    glyph_source: Literal["font", "hershey", "pen"] = Field(
        "font", description="What draws the glyphs: 'font' (trdg with `font`), 'hershey' (OpenCV's Hershey stroke "
        "fonts, printable ASCII) or 'pen' (a pen along jittered control points per digit; digits and spaces "
        "only). hershey and pen draw on background 'plain' or 'noise', horizontally, ignoring trdg's options.")
    hershey_font: Literal["any", "simplex", "plain", "duplex", "complex", "triplex", "complex_small",
                          "script_simplex", "script_complex"] = Field(
        "any", description="Hershey font for glyph_source 'hershey'; 'any' draws one per sample.")
    hershey_italic: float = Field(0.0, ge=0, le=1, description="Probability of OpenCV's italic Hershey variant.")
    pen_width: float = Field(0.1, ge=0.02, le=0.4, description="Stroke width of hershey/pen glyphs, as a fraction "
                             "of the digit height.")
    pen_pressure: float = Field(0.0, ge=0, le=1, description="Pen only: 0 keeps the width constant; toward 1 "
                                "strokes taper where the pen lands and lifts and swell between.")
    stroke_jitter: float = Field(0.0, ge=0, le=0.15, description="Pen only: standard deviation of each control "
                                 "point's random offset, as a fraction of the digit height.")
    one_style: Literal["any", "plain", "flag", "serif"] = Field(
        "any", description="Pen '1': a bare stem, a stem with a flag, or flag and base; 'any' draws one.")
    four_style: Literal["any", "open", "closed"] = Field(
        "any", description="Pen '4': open top (arm apart from the stem) or closed triangle; 'any' draws one.")
    nine_style: Literal["any", "straight", "curved"] = Field(
        "any", description="Pen '9': straight or curved tail; 'any' draws one.")
    seven_style: Literal["any", "straight", "curved"] = Field(
        "any", description="Pen '7': straight or curved stem (its crossbar is `seven_crossbar`); 'any' draws one.")
    ink_intensity: float = Field(1.0, ge=0.1, le=1, description="Hershey/pen: darkest ink as a fraction of the "
                                 "text colour's contrast with the page.")
    ink_bleed: float = Field(0.0, ge=0, le=1, description="Hershey/pen: ink spreading into the paper, a blur of "
                             "this many pen widths added around the strokes (labels keep the stroke itself).")
    grayscale: bool = Field(False, description="Return a single-channel image.")
    invert: bool = Field(False, description="Invert intensities (e.g. white digits on black, MNIST-style).")


class TextLineScene(Scene):
    name = "text_line"
    version = "1"
    modality = "image"
    Params = TextLineParams

    def check(self, params: TextLineParams) -> None:
        check_source(params.text)
        if params.glyph_source != "font":
            if params.background not in ("plain", "noise"):
                raise SynthError(f"glyph_source '{params.glyph_source}' draws on background 'plain' or 'noise'",
                                 field="background")
            if params.orientation != "horizontal":
                raise SynthError(f"glyph_source '{params.glyph_source}' draws horizontal text only",
                                 field="orientation")
            if params.text.kind == "literal":
                check_chars(params.text.literal, params.glyph_source)
            elif params.text.kind == "random":
                check_chars(params.text.charset, params.glyph_source)
        for colour, field in ((params.text_color, "text_color"), (params.stroke_fill, "stroke_fill")):
            try:
                ImageColor.getrgb(colour)
            except ValueError:
                raise SynthError(f"'{colour}' is not a colour (use e.g. '#282828' or 'black')", field=field)
        if params.background == "image":
            _background_images(params.background_dir)
        if params.text.kind == "random" and params.glyph_source == "font":
            font_dir = params.font_dir or bundled_font_dir(params.text.language)
            if params.font != "any":
                require_glyphs(params.text.charset, resolve_font(params.font, font_dir))
            elif not fonts_covering(params.text.charset, font_dir):
                raise SynthError(f"no font in {font_dir} covers every character of text.charset", field="font")

    def render(self, params: TextLineParams, rng: np.random.Generator) -> Sample:
        text = generate_text(params.text, rng)
        if params.glyph_source == "font":
            font = self._pick_font(text, params, rng)
            image, mask, redraw = self._draw(text, font, params, rng)
            rgb = np.asarray(image.convert("RGB"))
            ids = mask_ids(np.asarray(mask.convert("RGB")))
            glyph: dict[str, Any] = {}
        else:
            rgb, ids, glyph = self._draw_strokes(text, params, rng)
            font, redraw = glyph.pop("font"), {"text_color": params.text_color}
        rgb, ids, crossed = cross_sevens(rgb, ids, text, params.seven_crossbar,
                                         ImageColor.getrgb(redraw["text_color"])[:3], rng)
        if not params.layout.is_identity:
            dark = _luma(redraw["text_color"]) < float(rgb.mean())
            rgb, ids = change_thickness(rgb, ids, params.layout.thickness, dark)
            rgb, ids = warp(rgb, ids, params.layout, rng)
        if params.blur > 0:  # after the labels' mask, as trdg does (its own blur would smear the mask too)
            rgb = np.asarray(Image.fromarray(rgb).filter(ImageFilter.GaussianBlur(radius=params.blur)))
        if params.scan_resolution:
            rgb = _rescan(rgb, params.scan_resolution)
        out = np.asarray(Image.fromarray(rgb).convert("L")) if params.grayscale else rgb
        if params.invert:
            out = 255 - out
        chars = char_boxes(ids, text)
        labels: dict[str, Any] = {"transcript": text, "chars": chars, "words": word_boxes(chars, text),
                                  "font": font_name(font) if params.glyph_source == "font" else font, **redraw}
        if params.seven_crossbar > 0:
            labels["crossed_sevens"] = crossed
        if params.glyph_source != "font":
            labels["glyph_source"] = params.glyph_source
            labels.update({f"glyph_{k}": v for k, v in glyph.items()})
            labels["ink_box"] = ink_box(ids)
        if len(text) == 1 and params.text.kind in ("number", "literal"):  # single-glyph classification sets
            labels["class"] = text
        return Sample(payloads={"image": image_payload(np.ascontiguousarray(out))}, labels=labels,
                      width=out.shape[1], height=out.shape[0])

    def _draw_strokes(self, text: str, params: TextLineParams, rng: np.random.Generator):
        """Hershey or pen glyphs (synth.text.strokes), with the page they sit on and their id mask."""
        styles = {"1": params.one_style, "4": params.four_style, "7": params.seven_style, "9": params.nine_style}
        pen = Pen(width=params.pen_width, pressure=params.pen_pressure, jitter=params.stroke_jitter,
                  intensity=params.ink_intensity, bleed=params.ink_bleed, styles=styles)
        m = params.margins
        rgb, ids, info = draw_text(text, params.glyph_source, params.size, (m.top, m.left, m.bottom, m.right), pen,
                                   ImageColor.getrgb(params.text_color)[:3], params.background, rng,
                                   params.hershey_font, params.hershey_italic)
        if params.skew_deg:
            rgb, ids = _rotate(rgb, ids, params.skew_deg)
        return rgb, ids, info

    def _pick_font(self, text: str, params: TextLineParams, rng: np.random.Generator) -> str:
        font_dir = params.font_dir or bundled_font_dir(params.text.language)
        if params.font != "any":
            path = resolve_font(params.font, font_dir)
            require_glyphs(text, path)
            return path
        fonts = fonts_covering(text, font_dir)
        if not fonts:
            raise SynthError(f"no font in {font_dir} has glyphs for every character of {text!r}", field="font")
        return fonts[int(rng.integers(len(fonts)))]

    def _draw(self, text: str, font: str, params: TextLineParams, rng: np.random.Generator):
        """trdg's image and glyph mask, unblurred; redrawn deterministically if trdg declines."""
        colour = params.text_color
        for attempt in range(RESEEDS + 1):
            if attempt == RESEEDS:  # fixed colours on a plain page never change with the seed
                colour = _contrast_colour(params)
            trdg_seed = seed_global_state(rng)
            result = _call_trdg(text, font, colour, params, rng)
            if result is not None:
                return result[0], result[1], {"trdg_seed": trdg_seed, "redraws": attempt, "text_color": colour}
        raise SynthError(f"trdg could not render {text!r} even in the contrast colour {colour}", field="text_color")


def _call_trdg(text: str, font: str, colour: str, p: TextLineParams, rng: np.random.Generator):
    generator = load_trdg().FakeTextDataGenerator
    # trdg prints its "mean pixel is too similar" notice to stdout, which may carry a user's data
    with _background_folder(p, rng) as image_dir, contextlib.redirect_stdout(io.StringIO()):
        return generator.generate(
            0, text, font, None, p.size, None, p.skew_deg, False, 0, False,
            BACKGROUNDS[p.background], DISTORTIONS[p.distortion], ORIENTATIONS[p.distortion_orientation],
            False, 0, p.width, ALIGNMENTS[p.alignment], f"{colour},{colour}",
            0 if p.orientation == "horizontal" else 1, p.space_width, p.character_spacing,
            (p.margins.top, p.margins.left, p.margins.bottom, p.margins.right), False, 1, False, image_dir,
            p.stroke_width, f"{p.stroke_fill},{p.stroke_fill}", "RGB", 0)


class _background_folder:
    """trdg picks a background from os.listdir, whose order depends on the file system; we pick the
    file from the sorted listing with the render stream and hand trdg a folder holding only that file."""

    def __init__(self, p: TextLineParams, rng: np.random.Generator) -> None:
        self.files = _background_images(p.background_dir) if p.background == "image" else ()
        self.rng = rng
        self.tmp: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> str:
        if not self.files:
            return "."
        chosen = self.files[int(self.rng.integers(len(self.files)))]
        self.tmp = tempfile.TemporaryDirectory(prefix="synth-bg-")
        os.symlink(os.path.abspath(chosen), os.path.join(self.tmp.name, os.path.basename(chosen)))
        return self.tmp.name

    def __exit__(self, *exc: object) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()


def _background_images(folder: str) -> tuple[str, ...]:
    if not folder or not os.path.isdir(folder):
        raise SynthError(f"background 'image' needs background_dir, a folder of images; got '{folder}'",
                         field="background_dir")
    files = tuple(os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.lower().endswith(IMAGE_SUFFIXES))
    if not files:
        raise SynthError(f"background_dir '{folder}' holds no images ({', '.join(IMAGE_SUFFIXES)})",
                         field="background_dir")
    return files


def _rotate(rgb: np.ndarray, ids: np.ndarray, degrees: float):
    """Counter-clockwise rotation (trdg's skew sense) on a canvas grown to hold the corners."""
    h, w = ids.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    new_w, new_h = int(np.ceil(h * sin + w * cos)), int(np.ceil(h * cos + w * sin))
    m[0, 2] += new_w / 2 - w / 2
    m[1, 2] += new_h / 2 - h / 2
    page = tuple(int(v) for v in np.median(rgb.reshape(-1, 3), axis=0))
    out = cv2.warpAffine(rgb, m, (new_w, new_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=page)
    out_ids = cv2.warpAffine(ids.astype(np.float32), m, (new_w, new_h), flags=cv2.INTER_NEAREST,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return out, out_ids.astype(np.int32)


def _luma(colour: str) -> float:
    r, g, b = ImageColor.getrgb(colour)[:3]
    return 0.299 * r + 0.587 * g + 0.114 * b


def _contrast_colour(p: TextLineParams) -> str:
    # trdg's backgrounds are light except user images; dark text unless the requested text is dark already
    return "#ffffff" if _luma(p.text_color) < 60 else "#000000"


def _rescan(rgb: np.ndarray, size: int) -> np.ndarray:
    """Down to `size` px on the longer side and back: detail finer than the capture is lost, edges soften."""
    h, w = rgb.shape[:2]
    if max(h, w) <= size:
        return rgb
    scale = size / max(h, w)
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
