"""Stroke-drawn glyphs for shapes the bundled fonts lack: OpenCV's Hershey stroke fonts, and a pen that
follows jittered control points per digit (serif/flag/plain 1, open/closed 4, straight/curved-tailed 9,
...). Both return what trdg returns to the text_line scene: an RGB image (ink on a light page) and a
glyph-id mask (pixel = 1 + character index), so crossbars, layout and boxes work on them unchanged.

Everything is drawn at SUPERSAMPLE times the size with OpenCV's anti-aliased lines, then area-averaged
down. Every random draw comes from the `rng` passed in; OpenCV's drawing itself is deterministic."""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from synth.errors import SynthError

SUPERSAMPLE = 4
GLYPH_HEIGHT = 0.7   # digit height as a fraction of the line height (`size`)
TOP = 0.15           # space above the digits, fraction of the line height
SPACE_ADVANCE = 0.4  # width of a space, in glyph heights
GAP = 0.18           # blank between pen glyphs, in glyph heights

HERSHEY_FONTS = {
    "simplex": cv2.FONT_HERSHEY_SIMPLEX,
    "plain": cv2.FONT_HERSHEY_PLAIN,
    "duplex": cv2.FONT_HERSHEY_DUPLEX,
    "complex": cv2.FONT_HERSHEY_COMPLEX,
    "triplex": cv2.FONT_HERSHEY_TRIPLEX,
    "complex_small": cv2.FONT_HERSHEY_COMPLEX_SMALL,
    "script_simplex": cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
    "script_complex": cv2.FONT_HERSHEY_SCRIPT_COMPLEX,
}
HERSHEY_CHARS = frozenset(chr(c) for c in range(32, 127))  # OpenCV's Hershey tables hold printable ASCII


# --- the pen's digits -------------------------------------------------------------------------------
# Unit box: x right, y down, the digit 1 high and about 0.6 wide. A stroke is a list of points the pen
# passes through (a Catmull-Rom spline joins them); a sharp corner is where one stroke ends and the next
# begins. Each digit has named styles; the scene's *_style params pick one, "any" draws one.

def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, n: int = 9) -> list[tuple]:
    """Points on an ellipse from angle `start` to `end` (degrees, 0 = right, 90 = down)."""
    a = np.radians(np.linspace(start, end, n))
    return [(cx + rx * np.cos(t), cy + ry * np.sin(t)) for t in a]


PEN_DIGITS: dict[str, dict[str, list[list[tuple]]]] = {
    "0": {
        "oval": [_arc(0.3, 0.5, 0.27, 0.49, -90, 285, 16)],
        "narrow": [_arc(0.28, 0.5, 0.2, 0.49, -100, 270, 16)],
    },
    "1": {
        "plain": [[(0.30, 0.0), (0.28, 1.0)]],
        "flag": [[(0.02, 0.32), (0.30, 0.0)], [(0.30, 0.0), (0.28, 1.0)]],
        "serif": [[(0.04, 0.30), (0.30, 0.0)], [(0.30, 0.0), (0.28, 1.0)], [(0.12, 1.0), (0.46, 1.0)]],
    },
    "2": {
        "plain": [[(0.04, 0.25), (0.14, 0.06), (0.32, 0.0), (0.50, 0.08), (0.55, 0.26), (0.45, 0.48),
                   (0.24, 0.72), (0.03, 1.0)], [(0.03, 1.0), (0.58, 0.98)]],
        "loop": [[(0.04, 0.25), (0.14, 0.06), (0.32, 0.0), (0.50, 0.08), (0.55, 0.26), (0.45, 0.48),
                  (0.22, 0.74), (0.05, 0.94), (0.14, 1.0), (0.22, 0.9), (0.14, 0.84), (0.12, 0.96),
                  (0.34, 1.0), (0.58, 0.96)]],
    },
    "3": {
        "round": [[(0.05, 0.13), (0.24, 0.0), (0.46, 0.05), (0.52, 0.24), (0.28, 0.46)],
                  [(0.28, 0.46), (0.50, 0.57), (0.57, 0.78), (0.43, 0.96), (0.20, 1.0), (0.02, 0.88)]],
        "flat": [[(0.04, 0.0), (0.56, 0.0)], [(0.56, 0.0), (0.26, 0.42)],
                 [(0.26, 0.42), (0.50, 0.52), (0.58, 0.76), (0.43, 0.96), (0.20, 1.0), (0.02, 0.88)]],
    },
    "4": {
        "closed": [[(0.44, 0.0), (0.02, 0.68)], [(0.02, 0.68), (0.60, 0.68)], [(0.44, 0.0), (0.44, 1.0)]],
        "open": [[(0.10, 0.0), (0.04, 0.62)], [(0.04, 0.62), (0.60, 0.62)], [(0.44, 0.12), (0.44, 1.0)]],
    },
    "5": {
        "joined": [[(0.54, 0.0), (0.12, 0.0)], [(0.12, 0.0), (0.08, 0.44)],
                   [(0.08, 0.44), (0.30, 0.36), (0.50, 0.46), (0.57, 0.70), (0.44, 0.94), (0.20, 1.0),
                    (0.02, 0.90)]],
        "flag": [[(0.14, 0.02), (0.10, 0.44)],
                 [(0.10, 0.44), (0.30, 0.36), (0.50, 0.46), (0.57, 0.70), (0.44, 0.94), (0.20, 1.0),
                  (0.02, 0.90)], [(0.14, 0.02), (0.56, 0.0)]],
    },
    "6": {
        "round": [[(0.50, 0.02), (0.28, 0.14), (0.10, 0.42), (0.06, 0.72), (0.18, 0.95), (0.36, 1.0),
                   (0.53, 0.85), (0.50, 0.62), (0.32, 0.52), (0.14, 0.60), (0.07, 0.74)]],
        "straight": [[(0.44, 0.0), (0.10, 0.60)],
                     [(0.10, 0.60), (0.10, 0.82), (0.26, 1.0), (0.46, 0.94), (0.53, 0.74), (0.40, 0.56),
                      (0.22, 0.56), (0.10, 0.66)]],
    },
    "7": {
        "straight": [[(0.02, 0.02), (0.58, 0.02)], [(0.58, 0.02), (0.20, 1.0)]],
        "curved": [[(0.02, 0.04), (0.30, 0.0), (0.58, 0.02)], [(0.58, 0.02), (0.42, 0.36), (0.30, 0.70),
                                                               (0.26, 1.0)]],
    },
    "8": {  # written narrow: about half as wide as high
        "figure": [[(0.40, 0.10), (0.24, 0.0), (0.10, 0.10), (0.12, 0.30), (0.26, 0.47), (0.42, 0.64),
                    (0.45, 0.87), (0.26, 1.0), (0.06, 0.88), (0.08, 0.65), (0.26, 0.47), (0.38, 0.30),
                    (0.40, 0.10)]],
        "stacked": [_arc(0.26, 0.23, 0.15, 0.23, 90, 455, 12), _arc(0.26, 0.73, 0.2, 0.27, -90, 275, 14)],
    },
    "9": {
        "straight": [_arc(0.30, 0.25, 0.24, 0.25, 0, 365, 13), [(0.54, 0.22), (0.50, 1.0)]],
        "curved": [_arc(0.30, 0.25, 0.24, 0.25, 0, 365, 13),
                   [(0.54, 0.22), (0.54, 0.55), (0.46, 0.85), (0.28, 1.0), (0.08, 0.94)]],
    },
}
PEN_CHARS = frozenset(PEN_DIGITS) | {" "}


@dataclass(frozen=True)
class Pen:
    """How strokes are inked. Widths are fractions of the glyph height, so they do not depend on `size`."""

    width: float = 0.1          # pen (or Hershey line) width
    pressure: float = 0.0       # 0: constant width; 1: strokes taper to ~35% at their ends and swell between
    jitter: float = 0.0         # std of each control point's offset (pen only)
    intensity: float = 1.0      # darkest ink, as a fraction of the text colour's contrast with the page
    bleed: float = 0.0          # ink spreading into the paper: blur in pen widths, added on top of the stroke
    styles: dict[str, str] = field(default_factory=dict)  # digit -> style name or "any" (pen only)


def check_chars(text: str, source: str) -> None:
    allowed = PEN_CHARS if source == "pen" else HERSHEY_CHARS
    bad = sorted({c for c in text if c not in allowed})
    if bad:
        what = "digits 0-9 and spaces" if source == "pen" else "printable ASCII"
        raise SynthError(f"glyph_source '{source}' draws only {what}; the text has {''.join(bad)!r}", field="text")


def draw_text(text: str, source: str, size: int, margins: tuple[int, int, int, int], pen: Pen, ink: tuple,
              background: str, rng: np.random.Generator, hershey_font: str = "any",
              hershey_italic: float = 0.0) -> tuple[np.ndarray, np.ndarray, dict]:
    """`text` drawn with `source` ("hershey" or "pen") on a page `size` high plus margins (top, left,
    bottom, right). Returns (rgb uint8, ids int32, info) where info names the font and each glyph's style."""
    check_chars(text, source)
    if source == "hershey":
        name = hershey_font if hershey_font != "any" else sorted(HERSHEY_FONTS)[int(rng.integers(len(HERSHEY_FONTS)))]
        italic = hershey_italic > 0 and bool(rng.random() < hershey_italic)
        covers = _hershey_coverage(text, size, HERSHEY_FONTS[name] | (cv2.FONT_ITALIC if italic else 0), pen)
        info = {"font": f"hershey:{name}{'_italic' if italic else ''}"}
    elif source == "pen":
        covers, styles = _pen_coverage(text, size, pen, rng)
        info = {"font": "pen", "styles": styles}
    else:
        raise SynthError(f"unknown glyph source '{source}'", field="glyph_source")
    top, left, bottom, right = margins
    width = sum(c.shape[1] for c in covers)
    cov = np.zeros((top + size + bottom, left + max(width, 1) + right), np.float32)
    ids = np.zeros(cov.shape, np.int32)
    x = left
    for k, c in enumerate(covers):
        region = cov[top:top + size, x:x + c.shape[1]]
        np.maximum(region, c, out=region)
        ids[top:top + size, x:x + c.shape[1]][c >= 0.5] = k + 1
        x += c.shape[1]
    cov = _ink(cov, pen, size)
    page = _page(cov.shape, background, rng)
    colour = np.asarray(ink, np.float32)[:3]
    rgb = page[..., None] * (1 - cov[..., None]) + colour * cov[..., None]
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8), ids, info


def ink_box(ids: np.ndarray) -> list[int] | None:
    """[x0, y0, x1, y1] (exclusive ends) around every labelled pixel, or None when there is none."""
    ys, xs = np.nonzero(ids)
    if len(xs) == 0:
        return None
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


def _ink(cov: np.ndarray, pen: Pen, size: int) -> np.ndarray:
    if pen.bleed > 0:
        sigma = max(pen.bleed * pen.width * GLYPH_HEIGHT * size, 0.3)
        cov = np.maximum(cov, np.minimum(1.0, 1.5 * cv2.GaussianBlur(cov, (0, 0), sigma)))
    return cov * pen.intensity


def _page(shape: tuple[int, int], background: str, rng: np.random.Generator) -> np.ndarray:
    if background == "plain":
        return np.full(shape, 255.0, np.float32)
    if background == "noise":  # trdg's paper: Gaussian around 235, std 10, but from the render stream
        return np.clip(rng.normal(235.0, 10.0, shape), 0, 255).astype(np.float32)
    raise SynthError(f"glyph sources hershey and pen draw on background 'plain' or 'noise', not '{background}'",
                     field="background")


def _hershey_coverage(text: str, size: int, face: int, pen: Pen) -> list[np.ndarray]:
    s = SUPERSAMPLE
    h = GLYPH_HEIGHT * size * s
    thickness = max(1, int(round(pen.width * h)))
    (_, ref_h), _ = cv2.getTextSize("0", face, 1.0, 1)
    scale = h / ref_h
    out = []
    for ch in text:
        (w, _), _ = cv2.getTextSize(ch, face, scale, thickness)
        cell_w = int(np.ceil((w + thickness + 0.1 * h) / s)) * s
        canvas = np.zeros((size * s, cell_w), np.uint8)
        if ch != " ":
            base = int(round((TOP * size) * s + h))
            cv2.putText(canvas, ch, (thickness // 2 + int(0.05 * h), base), face, scale, 255, thickness, cv2.LINE_AA)
        out.append(_down(canvas))
    return out


def _pen_coverage(text: str, size: int, pen: Pen, rng: np.random.Generator) -> tuple[list[np.ndarray], list]:
    s = SUPERSAMPLE
    h = GLYPH_HEIGHT * size * s
    width = pen.width * h
    pad = width / 2 + 3 * pen.jitter * h + s
    out, styles = [], []
    for ch in text:
        if ch == " ":
            out.append(np.zeros((size, int(round(SPACE_ADVANCE * GLYPH_HEIGHT * size))), np.float32))
            styles.append(None)
            continue
        table = PEN_DIGITS[ch]
        style = pen.styles.get(ch, "any")
        if style == "any":
            names = sorted(table)
            style = names[int(rng.integers(len(names)))]
        styles.append(style)
        strokes = [np.asarray(st, np.float64) for st in table[style]]
        if pen.jitter > 0:
            strokes = [st + rng.normal(0.0, pen.jitter, st.shape) for st in strokes]
        x_min = min(float(st[:, 0].min()) for st in strokes)
        x_max = max(float(st[:, 0].max()) for st in strokes)
        cell_w = int(np.ceil(((x_max - x_min) * h + 2 * pad + GAP * h) / s)) * s
        canvas = np.zeros((size * s, cell_w), np.uint8)
        for st in strokes:
            pts = _spline(st)
            xy = np.stack([(pts[:, 0] - x_min) * h + pad + GAP * h / 2, pts[:, 1] * h + TOP * size * s], 1)
            _stroke(canvas, xy, width, pen.pressure, rng)
        out.append(_down(canvas))
    return out, styles


def _spline(points: np.ndarray, per_segment: int = 10) -> np.ndarray:
    """Centripetal-free (uniform) Catmull-Rom through the points; two points make a straight line."""
    if len(points) < 3:
        t = np.linspace(0, 1, per_segment + 1)[:, None]
        return points[0] + t * (points[-1] - points[0])
    p = np.vstack([2 * points[0] - points[1], points, 2 * points[-1] - points[-2]])
    t = np.linspace(0, 1, per_segment, endpoint=False)[:, None]
    t2, t3 = t * t, t * t * t
    segs = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        segs.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                           + (-p0 + 3 * p1 - 3 * p2 + p3) * t3))
    segs.append(points[-1:])
    return np.vstack(segs)


def _stroke(canvas: np.ndarray, xy: np.ndarray, width: float, pressure: float, rng: np.random.Generator) -> None:
    n = len(xy)
    t = np.linspace(0.0, 1.0, n)
    if pressure > 0:  # thin where the pen lands and lifts, a slow random swell between
        phase, freq = rng.uniform(0, 2 * np.pi), rng.uniform(0.5, 1.5)
        profile = (0.35 + 0.65 * np.sqrt(np.sin(np.pi * t))) * (1 + 0.25 * np.sin(2 * np.pi * freq * t + phase))
        widths = width * ((1 - pressure) + pressure * profile)
    else:
        widths = np.full(n, width)
    shift = 4  # sub-pixel coordinates: OpenCV takes fixed point with this many fractional bits
    pts = np.rint(xy * (1 << shift)).astype(np.int64)
    for i in range(n - 1):
        thick = max(1, int(round((widths[i] + widths[i + 1]) / 2)))
        cv2.line(canvas, (int(pts[i, 0]), int(pts[i, 1])), (int(pts[i + 1, 0]), int(pts[i + 1, 1])), 255, thick,
                 cv2.LINE_AA, shift)


def _down(canvas: np.ndarray) -> np.ndarray:
    s = SUPERSAMPLE
    h, w = canvas.shape[0] // s, canvas.shape[1] // s
    return cv2.resize(canvas, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
