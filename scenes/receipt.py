"""`receipt`: a printed receipt (Faker content, trdg's bundled fonts) photographed on a table, with
every word's quad and transcript, line boxes, key fields, the sheet's corners and mask as labels."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from faker import Faker
from PIL import Image, ImageDraw, ImageFont
from pydantic import Field

from synth.errors import did_you_mean
from synth.ops import AnnotatedImage
from synth.ops import camera as cam
from synth.ops import lighting as light
from synth.ops import material as mat
from synth.ops.base import _apply_h, dense_map, upsample
from synth.ops.sheet import SheetSurface
from synth import Sample, Scene, SceneParams
from synth import image as image_payload, mask as mask_payload

MARGIN_MM = 5.0
HEADER_LINES, FOOTER_LINES = 5, 5  # store, 2 address, date, gap | subtotal, tax, total, payment, thanks


@cache
def font_dir() -> Path:
    from synth.text.trdg_shim import trdg_package_dir
    return Path(trdg_package_dir()) / "fonts" / "latin"


def font_names() -> list[str]:
    return sorted(p.stem for p in font_dir().glob("*.ttf"))


@cache
def load_font(name: str, size: int) -> ImageFont.FreeTypeFont:
    # basic layout: receipts are Latin (no shaping needed), and it lays out text twice as fast as raqm
    return ImageFont.truetype(str(font_dir() / f"{name}.ttf"), size, layout_engine=ImageFont.Layout.BASIC)


class ReceiptParams(SceneParams):
    width: int = Field(768, ge=64, le=4096, description="Photo width in pixels.")
    height: int = Field(1024, ge=64, le=4096, description="Photo height in pixels.")
    n_items: int = Field(8, ge=3, le=30, description="Line items on the receipt.")
    font: str = Field("RobotoCondensed-Regular", description="A latin font bundled with trdg (file stem).")
    font_size_px: int = Field(18, ge=8, le=64, description="Font size on the paper canvas.")
    px_per_mm: float = Field(6.0, ge=2, le=20, description="Paper canvas resolution.")
    paper_width_mm: float = Field(80.0, ge=40, le=120, description="Receipt roll width.")
    max_paper_length_mm: float = Field(400.0, ge=50, le=2000, description="Longest receipt allowed; more items is an error.")
    photo_effects: bool = Field(True, description="False: the flat printed sheet on a plain table, no camera or light.")
    crinkle: float = Field(0.2, ge=0, le=1, description="Receipt crinkliness.")
    curvature: float = Field(0.1, ge=0, le=1, description="Receipt curl along its length (0 flat, 1 tightly curled).")
    fold_angle_deg: float = Field(0.0, ge=0, le=60, description="A crease across the receipt, tilt of the far half.")
    alignment_deg: float = Field(0.0, ge=-180, le=180, description="Receipt rotation on the table relative to the camera.")
    ink_fade: float = Field(0.1, ge=0, le=1, description="Ink fadedness (per line and per glyph).")
    paper_gloss: float = Field(0.3, ge=0, le=1, description="Paper glossiness (thermal paper is glossy).")
    table: Literal["wood", "marble", "fabric", "paper", "noise", "plain"] = Field("wood", description="Table material.")
    flash: float = Field(0.0, ge=0, le=3, description="Camera flash strength (hot spot and glare).")
    camera_distance: float = Field(1.0, ge=0.3, le=5, description="Camera location: distance, 1 = receipt fills ~90% of the frame.")
    camera_tilt_deg: float = Field(0.0, ge=0, le=70, description="Camera location: angle off the table normal.")
    camera_pan_deg: float = Field(0.0, ge=-180, le=180, description="Camera location: azimuth of the tilt.")
    camera_yaw_deg: float = Field(0.0, ge=-20, le=20, description="Camera direction: left/right off the receipt.")
    camera_pitch_deg: float = Field(0.0, ge=-20, le=20, description="Camera direction: up/down off the receipt.")
    camera_roll_deg: float = Field(0.0, ge=-180, le=180, description="Camera direction: roll about the view axis.")
    exposure_ev: float = Field(0.0, ge=-3, le=3, description="Camera exposure in stops.")
    focal_length_mm: float = Field(4.7, ge=2, le=200, description="Camera lens focal length (a phone: ~4.7 mm on a 6.4 mm sensor).")
    sensor_width_mm: float = Field(6.4, gt=0, le=40, description="Sensor width.")
    focus_offset_mm: float = Field(0.0, ge=-500, le=500, description="Camera focal distance minus the receipt's distance.")
    f_number: float = Field(8.0, ge=1, le=32, description="Camera aperture size as an f-number (small = wide = blurrier).")
    ambient: float = Field(1.0, ge=0.1, le=2, description="Ambient brightness.")
    light_azimuth_deg: float = Field(45.0, ge=-180, le=180, description="Primary light location: azimuth.")
    light_elevation_deg: float = Field(60.0, ge=10, le=90, description="Primary light location: elevation.")
    light_intensity: float = Field(0.5, ge=0, le=3, description="Primary light strength.")
    iso: float = Field(100.0, ge=25, le=12800, description="Sensor ISO (noise).")
    motion_blur_px: float = Field(0.0, ge=0, le=40, description="Camera shake.")
    jpeg_quality: int = Field(95, ge=1, le=100, description="JPEG quality of the photo (100 = no round trip).")


class ReceiptScene(Scene):
    """A receipt on a table, photographed."""

    name = "receipt"
    version = "3"
    modality = "image"
    Params = ReceiptParams

    def check(self, p: ReceiptParams) -> None:
        if p.font not in font_names():
            raise ValueError(f"font '{p.font}' not found among trdg's bundled fonts{did_you_mean(p.font, font_names())};"
                             f" e.g. RobotoCondensed-Regular, DroidSans, OpenSans-Regular, Lato-Regular")
        need = paper_length_px(p) / p.px_per_mm
        if need > p.max_paper_length_mm:
            raise ValueError(f"n_items={p.n_items} needs {need:.0f} mm of paper at font_size_px={p.font_size_px}, "
                             f"more than max_paper_length_mm={p.max_paper_length_mm:.0f}; lower n_items or raise it")
        if not p.photo_effects and (paper_length_px(p) > p.height or p.paper_width_mm * p.px_per_mm > p.width):
            raise ValueError(f"a flat render (photo_effects: false) needs the {paper_length_px(p)} px paper to fit "
                             f"the {p.width}x{p.height} image; lower n_items or raise height")

    def render(self, p: ReceiptParams, rng: np.random.Generator) -> Sample:
        self.check(p)
        content = receipt_content(p.n_items, rng)
        paper, ink, labels = print_receipt(content, p)
        if p.photo_effects:
            out, extra, pixels = photograph(paper, ink, labels, p, rng)
        else:
            out, extra = flat(paper, ink, labels, p)
            pixels = out.to_uint8()
        mark_visibility(out)
        out.labels.update(extra)
        return Sample(payloads={"image": image_payload(pixels), "mask": mask_payload(out.mask.astype(np.uint8, copy=False))},
                        labels=out.labels, width=p.width, height=p.height)


def line_height(p: ReceiptParams) -> int:
    return int(round(p.font_size_px * 1.4))


def paper_length_px(p: ReceiptParams) -> int:
    lines = HEADER_LINES + p.n_items + FOOTER_LINES
    return int(2 * round(MARGIN_MM * p.px_per_mm) + lines * line_height(p))


@cache
def faker_en() -> Faker:
    """One Faker per process: building it costs more than a receipt's content."""
    return Faker("en_US")


def receipt_content(n_items: int, rng: np.random.Generator) -> dict:
    """Store, address, date/time, items, totals and payment: Faker seeded from the sample's stream."""
    import datetime as dt
    fake = faker_en()
    fake.seed_instance(int(rng.integers(2**31)))  # reseeds fully: earlier samples leave no trace
    when = fake.date_time_between_dates(dt.datetime(2019, 1, 1), dt.datetime(2025, 1, 1))
    items = []
    for _ in range(n_items):
        name = " ".join(fake.words(nb=int(rng.integers(1, 4)))).title()
        qty, price = int(rng.integers(1, 6)), round(float(rng.uniform(0.5, 40.0)), 2)
        items.append({"name": name, "qty": qty, "price": price})
    subtotal = round(sum(i["qty"] * i["price"] for i in items), 2)
    tax_rate = float(rng.choice([0.05, 0.07, 0.08, 0.1]))
    tax = round(subtotal * tax_rate, 2)
    card = str(rng.choice(["CASH", "VISA", "MASTERCARD", "AMEX"]))
    payment = card if card == "CASH" else f"{card} ****{fake.credit_card_number()[-4:]}"
    return {"store": fake.company().upper(), "address": [fake.street_address(), f"{fake.city()}, {fake.state_abbr()} {fake.zipcode()}"],
            "date": when.strftime("%Y-%m-%d"), "time": when.strftime("%H:%M"), "items": items, "subtotal": subtotal,
            "tax_rate": tax_rate, "tax": tax, "total": round(subtotal + tax, 2), "payment": payment}


def layout_lines(c: dict) -> list[tuple[str, str, str, str | None]]:
    """(left text, right text, alignment, key field of the line) for every printed line."""
    rows = [(c["store"], "", "center", "store"), (c["address"][0], "", "center", None), (c["address"][1], "", "center", None),
            (f"{c['date']} {c['time']}", "", "left", "date"), ("", "", "left", None)]
    rows += [(f"{i['qty']} x {i['name']}", f"{i['qty'] * i['price']:.2f}", "left", None) for i in c["items"]]
    rows += [("SUBTOTAL", f"{c['subtotal']:.2f}", "left", None), (f"TAX {c['tax_rate'] * 100:.0f}%", f"{c['tax']:.2f}", "left", None),
             ("TOTAL", f"{c['total']:.2f}", "left", "total"), (c["payment"], f"{c['total']:.2f}", "left", None),
             ("THANK YOU", "", "center", None)]
    return rows


def draw_run(ink: np.ndarray, text: str, x: int, baseline: int, font: ImageFont.FreeTypeFont) -> list[tuple[str, list[int]]]:
    """Rasterise a run of words at (x, baseline) into the ink canvas in one go; return each word with its
    exact ink box [x0, y0, x1, y1], found among the columns between the middles of the spaces around it."""
    bb = font.getbbox(text, anchor="ls")
    tile = Image.new("L", (bb[2] - bb[0] + 4, bb[3] - bb[1] + 4), 0)
    ImageDraw.Draw(tile).text((2 - bb[0], 2 - bb[1]), text, font=font, fill=255, anchor="ls")
    arr = np.asarray(tile)
    ox, oy = x + bb[0] - 2, baseline + bb[1] - 2
    half_space = font.getlength(" ") / 2
    out, start = [], 0
    for word in text.split(" "):
        if word:
            adv = font.getlength(text[:start]) + 2 - bb[0]  # the word's pen position in the tile
            c0, c1 = max(int(adv - half_space), 0), int(np.ceil(adv + font.getlength(word) + half_space))
            ys, xs = np.nonzero(arr[:, c0:c1])
            if len(xs):
                y0, y1, x0, x1 = ys.min(), ys.max() + 1, c0 + xs.min(), c0 + xs.max() + 1
                region = ink[oy + y0:oy + y1, ox + x0:ox + x1]
                if oy + y0 < 0 or ox + x0 < 0 or region.shape != (y1 - y0, x1 - x0):
                    raise ValueError(f"word '{word}' falls off the paper; lower font_size_px")
                np.maximum(region, arr[y0:y1, x0:x1].astype(np.float32) * np.float32(1 / 255), out=region)
                out.append((word, [int(ox + x0), int(oy + y0), int(ox + x1), int(oy + y1)]))
        start += len(word) + 1
    return out


def _fit(text: str, width: float, font: ImageFont.FreeTypeFont) -> str:
    """Shorten an item name until it fits: the printed text, and so the label, is what fits."""
    while text and font.getlength(text) > width:
        text = text[:-1].rstrip()
    return text


def print_receipt(content: dict, p: ReceiptParams) -> tuple[np.ndarray, np.ndarray, dict]:
    """The paper canvas's ink coverage (0..1) and paper-space labels: words, lines, fields, corners."""
    font = load_font(p.font, p.font_size_px)
    pw, ph, m, lh = int(round(p.paper_width_mm * p.px_per_mm)), paper_length_px(p), int(round(MARGIN_MM * p.px_per_mm)), line_height(p)
    ink = np.zeros((ph, pw), np.float32)
    words, lines, fields = [], [], {}
    space = font.getlength(" ")
    for li, (left, right, align, key) in enumerate(layout_lines(content)):
        baseline = m + li * lh + int(round(p.font_size_px * 1.0))
        right_w = font.getlength(right) if right else 0.0
        left = _fit(left, pw - 2 * m - right_w - 2 * space, font)
        segs = [(left, m if align == "left" else int((pw - font.getlength(left)) / 2))] if left else []
        segs += [(right, int(pw - m - right_w))] if right else []
        line_words = []
        for text, x in segs:
            for w, box in draw_run(ink, text, x, baseline, font):
                q = [[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]]
                line_words.append({"text": w, "quad": q, "box": [float(v) for v in box], "line": li})
        if not line_words:
            continue
        lbox = _union([w["box"] for w in line_words])
        lines.append({"text": " ".join(w["text"] for w in line_words), "box": lbox, "index": li})
        if key:  # store: the whole line; date: the date word; total: the amount
            picked = line_words if key == "store" else [line_words[0] if key == "date" else line_words[-1]]
            fields[key] = {"text": " ".join(w["text"] for w in picked), "box": _union([w["box"] for w in picked])}
        words += line_words
    corners = [[0.0, 0.0], [float(pw), 0.0], [float(pw), float(ph)], [0.0, float(ph)]]
    labels = {"objects": [{"class": "receipt", "instance_id": 1, "box": [0.0, 0.0, float(pw), float(ph)],
                           "polygon": corners, "keypoints": [[x, y, 2] for x, y in corners]}],
              "words": words, "lines": lines, "fields": fields,
              "transcript": "\n".join(line["text"] for line in lines), "content": content}
    return np.ones((ph, pw), np.float32), ink, labels


def _union(boxes: list[list[float]]) -> list[float]:
    b = np.asarray(boxes, np.float64)
    return [float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max())]


def flat(paper: np.ndarray, ink: np.ndarray, labels: dict, p: ReceiptParams) -> tuple[AnnotatedImage, dict]:
    """White paper, black ink, grey table, integer placement: every non-white paper pixel is glyph ink."""
    ph, pw = ink.shape
    ox, oy = (p.width - pw) // 2, (p.height - ph) // 2
    img = np.full((p.height, p.width, 3), 0.5, np.float32)
    img[oy:oy + ph, ox:ox + pw] = (1 - ink)[..., None]
    mask = np.zeros((p.height, p.width), np.int32)
    mask[oy:oy + ph, ox:ox + pw] = 1
    from synth.ops.base import move_labels
    moved = move_labels(labels, lambda pts: pts + [ox, oy], (p.width, p.height), mask)
    return AnnotatedImage(image=img, mask=mask, labels=moved), {"draws": {"offset": [ox, oy]}}


def mark_visibility(img: AnnotatedImage) -> None:
    """A word or line is visible when its whole quad/box lies in the frame on receipt pixels (all items
    checked in one vectorised pass)."""
    items = img.labels.get("words", []) + img.labels.get("lines", [])
    if not items:
        return
    corners = np.full((len(items), 4, 2), -1.0)  # no quad and no box: outside
    for k, item in enumerate(items):
        if "quad" in item and len(item["quad"]) == 4:
            corners[k] = item["quad"]
        elif "quad" in item:  # any other outline: its corners' extremes decide
            q = np.asarray(item["quad"], np.float64)
            corners[k] = [q.min(axis=0), q.max(axis=0), q.min(axis=0), q.max(axis=0)]
        elif item.get("box"):
            x0, y0, x1, y1 = item["box"]
            corners[k] = [[x0, y0], [x1, y1], [x0, y0], [x1, y1]]
    inside = ((corners >= 0) & (corners < [img.width, img.height])).all(axis=(1, 2))
    centre = corners.mean(axis=1).astype(int)
    cx, cy = np.clip(centre[:, 0], 0, img.width - 1), np.clip(centre[:, 1], 0, img.height - 1)
    visible = inside & (img.mask[cy, cx] > 0)
    for item, v in zip(items, visible.tolist()):
        item["visible"] = v


def photograph(paper: np.ndarray, ink: np.ndarray, labels: dict, p: ReceiptParams,
               rng: np.random.Generator) -> tuple[AnnotatedImage, dict, np.ndarray]:
    """Paper (fade, crinkle, curl, fold) -> camera pose onto the table, all in ONE 8-bit remap -> light
    (computed at a quarter of the resolution: it is smooth) -> optics and sensor."""
    ph, pw = ink.shape
    paper_rgb = np.array([rng.uniform(0.93, 0.99), rng.uniform(0.92, 0.98), rng.uniform(0.88, 0.96)], np.float32)
    ink_rgb = np.full(3, rng.uniform(0.05, 0.22), np.float32) + np.array([0, 0, rng.uniform(0, 0.08)], np.float32)
    paper_share, ink_share, labels = print_on_paper(ink, paper_rgb, labels, p, rng)
    surface = SheetSurface(pw, ph, p.crinkle, ph / (0.2 + 1.6 * p.curvature) if p.curvature > 0 else None,
                           p.fold_angle_deg, rng)
    crease = surface.crease((ph, pw))
    if crease is not None:  # darkens paper and ink alike
        paper_share, ink_share = paper_share * crease, ink_share * crease
    # 8-bit RGBA from here on: the photo is 8-bit, and a 4-channel 8-bit remap costs a quarter of a float one
    sheet = AnnotatedImage(image=sheet_rgba(paper_share, ink_share, paper_rgb, ink_rgb), mask=np.ones((ph, pw), np.uint8),
                           labels=labels, mm_per_px=1 / p.px_per_mm)

    mm = 1 / p.px_per_mm
    fpx = p.focal_length_mm / p.sensor_width_mm * p.width
    fill = max(ph / (0.9 * p.height), pw / (0.9 * p.width))  # paper px per photo px at the reference distance
    distance = fpx * fill / p.px_per_mm * p.camera_distance
    pose = cam.CameraPose.Params(width=p.width, height=p.height, focal_length_mm=p.focal_length_mm,
                                 sensor_width_mm=p.sensor_width_mm, distance_mm=distance, tilt_deg=p.camera_tilt_deg,
                                 pan_deg=p.camera_pan_deg, roll_deg=p.camera_roll_deg, yaw_deg=p.camera_yaw_deg,
                                 pitch_deg=p.camera_pitch_deg)
    H_cam, C, axis = cam.CameraPose().geometry(pw, ph, mm, pose)
    H = H_cam @ sheet_rotation(p.alignment_deg, pw, ph)
    H_inv = np.linalg.inv(H)
    to_sheet = lambda q: surface.inverse(_apply_h(H_inv, q))  # noqa: E731
    cv_map = dense_map(lambda q: to_sheet(q) - 0.5, p.width, p.height, step=4)  # OpenCV's integer pixel centres
    photo = sheet.remap(to_sheet, size=(p.width, p.height), cv_maps=(cv_map, None),
                        forward=lambda pts: _apply_h(H, surface.forward(pts)), image_border=cv2.BORDER_CONSTANT)
    photo.camera_mm = (float(C[0]), float(C[1]), float(-C[2]))
    table_rgb = TABLE_COLOURS[p.table][int(rng.integers(len(TABLE_COLOURS[p.table])))]
    table = table_image(photo, p.table, table_rgb, H_cam, mm, rng)
    low = low_res_geometry(H_cam, mm, C, axis, p.width, p.height)
    pixels = light_scene(photo, table, low, p, surface, H_inv, distance, ph * mm, rng)
    return photo, {"draws": {"paper_rgb": paper_rgb.round(4).tolist(), "ink_rgb": ink_rgb.round(4).tolist(),
                             "table_rgb": list(table_rgb), "camera_distance_mm": round(distance, 2),
                             "camera_mm": [round(v, 2) for v in photo.camera_mm]}}, pixels


def print_on_paper(ink: np.ndarray, paper_rgb: np.ndarray, labels: dict, p: ReceiptParams,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
    """The flat sheet as two float planes, (grained paper share, ink share), with the ink faded per line
    and glyph: its colour is paper colour * paper share + ink colour * ink share. Returns the labels with
    the drawn fades."""
    ph, pw = ink.shape
    fade = mat.InkFade.Params(line_fade=p.ink_fade, glyph_fade=p.ink_fade * 0.8, paper_rgb=tuple(paper_rgb))
    keep, labels = mat.InkFade().kept_ink(labels, (ph, pw), fade, rng)  # faded print: the paper shows through
    grain = mat.procedural_albedo("paper", ph // 2, pw // 2, pw / 8, rng)
    grain = cv2.resize(grain, (pw, ph), interpolation=cv2.INTER_LINEAR)  # finer than the photo resolves
    ink = cv2.multiply(ink, keep)
    return cv2.multiply(grain, cv2.subtract(1.0, ink)), ink, labels


def sheet_rgba(paper: np.ndarray, ink: np.ndarray, paper_rgb: np.ndarray, ink_rgb: np.ndarray) -> np.ndarray:
    """8-bit RGBA of the printed sheet, each channel one weighted sum of the two planes rounded once;
    alpha is all 255 (it becomes the sheet's anti-aliased coverage in the warp)."""
    planes = [cv2.addWeighted(paper, 255 * float(pc), ink, 255 * float(ic), 0.0, dtype=cv2.CV_8U)
              for pc, ic in zip(paper_rgb, ink_rgb)]
    return cv2.merge(planes + [np.full(paper.shape, 255, np.uint8)])


def sheet_rotation(alignment_deg: float, pw: int, ph: int) -> np.ndarray:
    """The receipt's rotation on the table about its centre (sheet px -> table-plane px)."""
    a = np.deg2rad(alignment_deg)
    cx, cy = pw / 2, ph / 2
    return np.array([[np.cos(a), -np.sin(a), cx - cx * np.cos(a) + cy * np.sin(a)],
                     [np.sin(a), np.cos(a), cy - cx * np.sin(a) - cy * np.cos(a)], [0, 0, 1]])


TABLE_GLOSS = {"wood": 0.15, "marble": 0.35, "plain": 0.05}
TABLE_COLOURS = {"wood": [(0.55, 0.36, 0.2), (0.4, 0.25, 0.13), (0.7, 0.55, 0.38)], "marble": [(0.85, 0.85, 0.83), (0.3, 0.3, 0.32)],
                 "fabric": [(0.25, 0.3, 0.45), (0.5, 0.2, 0.2), (0.35, 0.4, 0.3)], "paper": [(0.6, 0.5, 0.35)],
                 "noise": [(0.45, 0.45, 0.45), (0.3, 0.32, 0.35)], "plain": [(0.35, 0.35, 0.38), (0.6, 0.58, 0.55)]}
TABLE_TEXTURE_PX = 320  # the table's texture is drawn this large and stretched: it is out of focus anyway


def table_image(photo: AnnotatedImage, kind: str, colour: tuple, H_cam: np.ndarray, mm: float,
                rng: np.random.Generator) -> np.ndarray:
    """The table as the photo sees it, 8-bit RGB: a texture laid out on the table plane (so it is seen in
    the same perspective), drawn small and stretched; `expose` lays the sheet over it. A texel spans about
    three photo pixels, so the perspective remap runs at half resolution and a 2x bilinear resize finishes it."""
    to_plane = np.linalg.inv(H_cam)
    frame = np.array([[0, 0], [photo.width, 0], [0, photo.height], [photo.width, photo.height]], np.float64)
    corners = _apply_h(to_plane, frame) * mm  # a plane seen through a homography: extremes at corners
    lo = corners.min(axis=0)
    res = max(float((corners.max(axis=0) - lo).max()) / TABLE_TEXTURE_PX, 0.05)  # mm per texture pixel
    tw, th = (((corners.max(axis=0) - lo) / res).astype(int) + 2).tolist()
    tex = cv2.convertScaleAbs(mat.procedural_texture(kind, th, tw, 60.0 / res, colour, rng), alpha=255)
    hw, hh = -(-photo.width // 2), -(-photo.height // 2)  # half-res pixel k covers photo pixels [2k, 2k + 2)
    lookup = dense_map(lambda q: (_apply_h(to_plane, 2 * q) * mm - lo) / res - 0.5, hw, hh, step=4)
    half = cv2.remap(tex, lookup, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return upsample(half, 2, photo.width, photo.height)


def low_res_geometry(H_cam: np.ndarray, mm: float, C: np.ndarray, axis: np.ndarray, w: int, h: int) -> np.ndarray:
    """Plane position (mm, 2 channels) and depth (mm) on the quarter-resolution grid that light and defocus
    use: pixel k there covers photo pixels [4k, 4k + 4)."""
    to_plane = np.linalg.inv(np.diag([1 / LIGHT_SCALE, 1 / LIGHT_SCALE, 1.0]) @ H_cam)

    def plane_and_z(q: np.ndarray) -> np.ndarray:
        xy = _apply_h(to_plane, q) * mm
        return np.c_[xy, (np.c_[xy, np.zeros(len(xy))] - C) @ axis]
    return dense_map(plane_and_z, -(-w // LIGHT_SCALE), -(-h // LIGHT_SCALE), step=2)


def light_scene(photo: AnnotatedImage, table: np.ndarray, low: np.ndarray, p: ReceiptParams, surface: SheetSurface,
                H_inv: np.ndarray, distance: float, length_mm: float, rng: np.random.Generator) -> np.ndarray:
    """Light (quarter-resolution gain and glare maps) and exposure, then the camera's 8-bit side: defocus,
    motion blur, sensor noise and JPEG. Returns the photo's pixels."""
    light = light_maps(photo, low[..., :2], p, surface, H_inv, length_mm)
    # the 8-bit side runs in BGR, the order OpenCV's JPEG encoder reads (blur and noise treat channels alike)
    pixels = expose(photo.image, table, light, p.exposure_ev, bgr=True)
    lens = cam.DefocusBlur.Params(focal_length_mm=p.focal_length_mm, f_number=p.f_number, sensor_width_mm=p.sensor_width_mm,
                                  focus_distance_mm=max(distance + p.focus_offset_mm, p.focal_length_mm * 1.05))
    radius = cam.DefocusBlur().coc_px(low[..., 2], p.width, lens)
    if float(radius.max()) >= 0.3:
        pixels = cam.defocus(pixels, radius, LIGHT_SCALE)
    angle = float(rng.uniform(-180, 180))
    if p.motion_blur_px >= 1:
        pixels = cv2.filter2D(pixels, -1, cam.motion_kernel(p.motion_blur_px, angle))
    pixels = cam.sensor_noise_uint8(pixels, cam.SensorNoise.Params(iso=p.iso), rng)
    if p.jpeg_quality == 100:
        return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    _, buf = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, p.jpeg_quality])  # the phone's own JPEG
    return cv2.imdecode(buf, cv2.IMREAD_COLOR_RGB)


def expose(sheet: np.ndarray, table: np.ndarray, light: np.ndarray, exposure_ev: float, bgr: bool = False) -> np.ndarray:
    """The 8-bit photo: the warped sheet (RGBA, colour premultiplied by its coverage: the warp faded it
    toward 0 at the edges) over the table, times the light's gain plus its glare, exposed by the meter.
    `light` holds quarter-resolution (table gain, table glare, sheet - table gain, sheet - table glare);
    the gain and glare of a pixel blend the two by the sheet's full-resolution coverage, so its edge stays
    crisp. Works on colour planes: a per-pixel gain then needs no 3-channel float copy. `bgr`: the planes
    are merged in OpenCV's order."""
    h, w = table.shape[:2]
    *sheet_rgb, cover = cv2.split(sheet)
    uncovered = cv2.bitwise_not(cover)
    colour = [cv2.add(cv2.multiply(t, uncovered, scale=1 / 255), s)  # premultiplied "over"
              for t, s in zip(cv2.split(table), sheet_rgb)]
    glare = bool(light[..., 1].any() or light[..., 3].any())  # only a flash adds glare
    maps = [upsample(np.ascontiguousarray(light[..., i]), LIGHT_SCALE, w, h)[..., 0] if glare or i % 2 == 0 else None
            for i in range(4)]
    # a phone's meter on every 8th pixel, then one scale folded into the full-resolution maps
    a = cover[::8, ::8].astype(np.float32) / 255
    sub = np.dstack([c[::8, ::8] for c in colour]).astype(np.float32) / 255
    sub *= (maps[0][::8, ::8] + maps[2][::8, ::8] * a)[..., None]
    if glare:
        sub += (maps[1][::8, ::8] + maps[3][::8, ::8] * a)[..., None]
    exposure = metered_gain(sub) * 2.0 ** exposure_ev

    def full(i: int, scale: float) -> np.ndarray:  # (table map + difference * coverage) * scale, per pixel
        return cv2.scaleAdd(maps[i], scale, cv2.multiply(maps[i + 2], cover, scale=scale / 255, dtype=cv2.CV_32F))
    gain = full(0, exposure)  # colour is 0..255 already; light is never negative; saturates at white
    if glare:
        shine = full(1, exposure * 255)
        lit = [cv2.add(cv2.multiply(c, gain, dtype=cv2.CV_32F), shine, dtype=cv2.CV_8U) for c in colour]
    else:
        lit = [cv2.multiply(c, gain, dtype=cv2.CV_8U) for c in colour]
    return cv2.merge(lit[::-1] if bgr else lit)


def metered_gain(sample: np.ndarray) -> float:
    """A phone's auto exposure: bring the mean toward mid grey, but never push the brightest few percent
    (white paper) into clipping, nor lift a dark scene by more than 16x."""
    mean, bright = float(sample.mean()), float(np.percentile(sample.max(axis=-1), 97))
    return min(0.55 / max(mean, 1e-3), 0.9 / max(bright, 1e-3), 16.0)


LIGHT_SCALE = 4


def light_maps(photo: AnnotatedImage, xy: np.ndarray, p: ReceiptParams, surface: SheetSurface,
               H_inv: np.ndarray, length_mm: float) -> np.ndarray:
    """Quarter-resolution (table gain, table glare, sheet - table gain, sheet - table glare): each photo
    pixel's light is image * gain + glare. The light ops run on quarter-resolution proxies whose two channels
    start at 1 and 0 (channel 0 - channel 1 is the gain, channel 1 the glare): one for the sheet (its slopes,
    its gloss) and one for the table (flat, with the sheet's cast shadow)."""
    w, h = -(-photo.width // LIGHT_SCALE), -(-photo.height // LIGHT_SCALE)
    mm = 1 / p.px_per_mm
    to_photo = np.diag([LIGHT_SCALE, LIGHT_SCALE, 1.0])
    g = dense_map(lambda q: surface.slopes(_apply_h(H_inv @ to_photo, q)), w, h, step=2)
    ca, sa = float(np.cos(np.deg2rad(p.alignment_deg))), float(np.sin(np.deg2rad(p.alignment_deg)))
    gx, gy = g[..., 0] * ca - g[..., 1] * sa, g[..., 0] * sa + g[..., 1] * ca  # the slopes turn with the sheet
    inv_len = 1 / np.sqrt(gx * gx + gy * gy + 1)  # the unit normal of slopes (gx, gy) is (-gx, -gy, 1) / |.|
    normals = np.dstack([-gx * inv_len, -gy * inv_len, inv_len])
    xy = np.ascontiguousarray(xy)
    on = cv2.resize(photo.mask, (w, h), interpolation=cv2.INTER_AREA) > 0  # 0/1 mask: the rounded mean
    start = np.dstack([np.ones((h, w), np.float32), np.zeros((h, w), np.float32)])
    common = dict(plane_xy=xy, camera_mm=photo.camera_mm, mm_per_px=mm)
    sheet = AnnotatedImage(image=start, normals=normals.astype(np.float32),
                           gloss=np.full((h, w), p.paper_gloss, np.float32), **common)
    table = AnnotatedImage(image=start.copy(), mask=on.astype(np.int32),
                           gloss=np.full((h, w), TABLE_GLOSS.get(p.table, 0.02), np.float32), **common)
    lift = 1.0 + 12.0 * p.curvature + 4.0 * p.crinkle + 0.2 * p.fold_angle_deg
    table = light.CastShadow()(table, azimuth_deg=p.light_azimuth_deg, elevation_deg=p.light_elevation_deg,
                               lift_mm=lift, softness_px=(2 + lift) / LIGHT_SCALE, darkness=0.45)
    s_img, t_img = (shine(proxy, p, length_mm).image for proxy in (sheet, table))
    return np.dstack([t_img[..., 0] - t_img[..., 1], t_img[..., 1],
                      (s_img[..., 0] - s_img[..., 1]) - (t_img[..., 0] - t_img[..., 1]), s_img[..., 1] - t_img[..., 1]])


def shine(proxy: AnnotatedImage, p: ReceiptParams, length_mm: float) -> AnnotatedImage:
    """The lamp (primary light), ambient, directional share, flash and vignetting on a lighting proxy."""
    centre = proxy.plane_xy[proxy.height // 2, proxy.width // 2]
    az, el = np.deg2rad(p.light_azimuth_deg), np.deg2rad(p.light_elevation_deg)
    reach = 3 * length_mm
    proxy = light.PointLight()(proxy, x_mm=float(centre[0] + reach * np.cos(el) * np.cos(az)),
                               y_mm=float(centre[1] + reach * np.cos(el) * np.sin(az)),
                               height_mm=float(reach * np.sin(el)), intensity=p.light_intensity)
    proxy = light.AmbientLight()(proxy, level=p.ambient)
    proxy = light.DirectionalLight()(proxy, azimuth_deg=p.light_azimuth_deg, elevation_deg=p.light_elevation_deg,
                                     strength=0.6)
    proxy = light.CameraFlash()(proxy, strength=p.flash, glare=p.flash * 1.2)
    return cam.Vignetting()(proxy, strength=0.25)
