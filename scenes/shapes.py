"""`shapes`: procedural 2D objects on procedural backgrounds, with visible boxes, instance masks and
polygons; later objects occlude earlier ones and the image border clips them."""
from __future__ import annotations

import math
from typing import Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from synth import Choice, RandInt, Uniform, per_instance
from synth.ops import AnnotatedImage, PhotoParams, apply_photo_pipeline
from synth import Sample, image, mask
from synth import Scene, SceneParams

SHAPES = ("circle", "ellipse", "triangle", "rectangle", "star", "polygon")


class Background(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["flat", "gradient", "noise"] = Field("gradient", description="Procedural background type.")
    brightness: float = Field(0.5, ge=0, le=1, description="Mean background brightness (0 black, 1 white).")
    contrast: float = Field(0.3, ge=0, le=1, description="Spread of background intensities.")
    noise_scale: int = Field(16, ge=1, le=512, description="Feature size of the noise background, in pixels.")


class ShapesScene(Scene):
    name = "shapes"
    version = "3"
    modality = "image"

    class Params(SceneParams):
        width: int = Field(256, ge=16, le=4096, description="Image width in pixels.")
        height: int = Field(256, ge=16, le=4096, description="Image height in pixels.")
        num_objects: int = Field(4, ge=1, le=64, description="Objects drawn per image (some may end up hidden).")
        object_class: per_instance() = Field(default_factory=lambda: Choice(SHAPES),  # type: ignore[valid-type]
                                             description=f"Class of each object, from {', '.join(SHAPES)}.")
        size: per_instance(0.01, 1.0) = Field(default_factory=lambda: Uniform(0.1, 0.35),  # type: ignore[valid-type]
                                             description="Object radius as a fraction of the shorter image side.")
        aspect: per_instance(0.1, 1.0) = Field(default_factory=lambda: Uniform(0.5, 1.0),  # type: ignore[valid-type]
                                               description="Minor/major axis ratio (ellipses, rectangles).")
        rotation_deg: per_instance(-360, 360) = Field(default_factory=lambda: Uniform(0, 360),  # type: ignore[valid-type]
                                                      description="Rotation of each object in degrees.")
        polygon_vertices: per_instance(3, 16) = Field(default_factory=lambda: RandInt(5, 8),  # type: ignore[valid-type]
                                                      description="Vertex count of random polygons.")
        texture: per_instance() = Field(default_factory=lambda: Choice(["solid", "noise", "stripes", "checker"]),  # type: ignore[valid-type]
                                        description="Fill: solid, noise, stripes or checker.")
        border_margin: float = Field(0.1, ge=0, le=1.0, description="How far (fraction of size) centres may "
                                     "lie outside the image, so the border clips objects.")
        min_visible_pixels: int = Field(1, ge=1, description="Objects with fewer visible pixels get no label.")
        background: Background = Field(default_factory=Background)
        photo: PhotoParams = Field(default_factory=PhotoParams, description="Photograph the drawn scene: camera "
                                   "pose, lighting, lens/surface distortion, blur, noise (off by default).")

    def check(self, params: Params) -> None:
        for value in getattr(params.object_class, "values", lambda: None)() or []:
            if value not in SHAPES:
                raise ValueError(f"object_class: unknown shape '{value}'; allowed: {', '.join(SHAPES)}")

    def render(self, params: Params, rng: np.random.Generator) -> Sample:
        h, w = params.height, params.width
        canvas = _background(params.background, h, w, rng)
        backdrop = canvas.copy() if params.photo.enabled else None
        ids = np.zeros((h, w), np.uint8 if params.num_objects < 256 else np.uint16)
        drawn = []
        for k in range(1, params.num_objects + 1):
            obj = _draw_params(params, h, w, rng)
            poly = _outline(obj, rng)
            pts = np.round(poly).astype(np.int32)
            lo, hi = pts.min(0), pts.max(0) + 1
            x0, y0 = np.maximum(lo, 0)
            x1, y1 = np.minimum(hi, [w, h])
            if x1 <= x0 or y1 <= y0:  # entirely outside the frame
                continue
            own = np.zeros((y1 - y0, x1 - x0), np.uint8)  # work in the object's bounding box only
            cv2.fillPoly(own, [pts - [x0, y0]], 255)
            if obj["texture"] == "solid":
                cv2.fillPoly(canvas, [pts], obj["colour"])  # the same pixels as `own`, shifted
            else:
                fill = _fill(obj["texture"], obj["colour"], y1 - y0, x1 - x0, (x0, y0), rng)
                cv2.copyTo(fill, own, canvas[y0:y1, x0:x1])  # writes through the view: later objects occlude
            cv2.fillPoly(ids, [pts], k)
            clipped = lo.min() < 0 or hi[0] > w or hi[1] > h
            full_area = _full_area(pts) if clipped else cv2.countNonZero(own)
            drawn.append((k, obj, poly, full_area, (x0, y0, x1, y1)))
        objects, instance = _labels(ids, drawn, params.min_visible_pixels)
        if params.photo.enabled:
            canvas, instance, objects = _photograph(canvas, backdrop, instance, objects, params, rng)
        return Sample(payloads={"image": image(canvas), "mask": mask(instance)},
                      labels={"objects": objects}, width=w, height=h)


def _photograph(canvas: np.ndarray, backdrop: np.ndarray, instance: np.ndarray, objects: list[dict],
                p: ShapesScene.Params, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """The drawn scene through the photo pipeline; boxes come from the moved mask, so they stay on their
    pixels; objects the camera loses get no label, and area/visible polygons are re-measured."""
    ai = AnnotatedImage.from_uint8(canvas, mask=instance.astype(np.int32), labels={"objects": objects},
                                   backdrop=backdrop.astype(np.float32) * np.float32(1 / 255))
    ai = apply_photo_pipeline(ai, p.photo, rng)
    mask = ai.mask.astype(instance.dtype)
    counts = np.bincount(mask.ravel(), minlength=len(objects) + 1)
    kept = []
    for obj in ai.labels["objects"]:
        k = obj["instance_id"]
        if obj.get("box") is None or counts[k] < p.min_visible_pixels:
            mask[mask == k] = 0
            continue
        contours, _ = cv2.findContours((mask == k).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        obj.update(area=int(counts[k]), visible_polygons=[c.reshape(-1, 2).tolist() for c in contours if len(c) >= 3])
        kept.append(obj)
    return ai.to_uint8(), mask, kept


def _draw_params(p: ShapesScene.Params, h: int, w: int, rng: np.random.Generator) -> dict:
    side = min(h, w)
    radius = float(p.size.sample(rng)) * side
    margin = p.border_margin * radius
    return {
        "class": str(p.object_class.sample(rng)),
        "radius": radius,
        "aspect": float(p.aspect.sample(rng)),
        "rotation_deg": float(p.rotation_deg.sample(rng)),
        "vertices": int(p.polygon_vertices.sample(rng)),
        "texture": str(p.texture.sample(rng)),
        "center": [float(rng.uniform(-margin, w + margin)), float(rng.uniform(-margin, h + margin))],
        "colour": [int(c) for c in rng.integers(0, 256, 3)],
    }


def _outline(obj: dict, rng: np.random.Generator) -> np.ndarray:
    """The object's outline as a float polygon in pixel coordinates."""
    kind, r, aspect = obj["class"], obj["radius"], obj["aspect"]
    if kind == "circle":
        t = np.linspace(0, 2 * np.pi, 72, endpoint=False)
        pts = np.stack([np.cos(t), np.sin(t)], 1) * r
    elif kind == "ellipse":
        t = np.linspace(0, 2 * np.pi, 72, endpoint=False)
        pts = np.stack([np.cos(t), aspect * np.sin(t)], 1) * r
    elif kind == "triangle":
        t = np.array([90, 210, 330]) * np.pi / 180
        pts = np.stack([np.cos(t), np.sin(t)], 1) * r
    elif kind == "rectangle":
        pts = np.array([[-1, -aspect], [1, -aspect], [1, aspect], [-1, aspect]]) * r / math.sqrt(1 + aspect**2) * math.sqrt(2)
    elif kind == "star":
        t = np.arange(10) * np.pi / 5 - np.pi / 2
        radii = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
        pts = np.stack([np.cos(t) * radii, np.sin(t) * radii], 1)
    else:  # random simple polygon: sorted angles with jittered radii; its draws are recorded via the vertices
        n = obj["vertices"]
        t = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = r * rng.uniform(0.5, 1.0, n)
        pts = np.stack([np.cos(t) * radii, np.sin(t) * radii], 1)
    a = math.radians(obj["rotation_deg"])
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    out = pts @ rot.T + np.array(obj["center"])
    # OpenCV fills around integer pixel centres; labels use pixel-edge coordinates (pixel i spans [i, i+1],
    # as boxes and COCO do), so the labelled outline is shifted by half a pixel
    obj["polygon"] = np.round(out + 0.5, 3).tolist()
    return out


def _full_area(pts: np.ndarray) -> int:
    """Pixels the whole object would cover on an unbounded canvas (for its visible fraction)."""
    x0, y0 = pts.min(0)
    own = np.zeros((int(pts[:, 1].max() - y0) + 1, int(pts[:, 0].max() - x0) + 1), np.uint8)
    cv2.fillPoly(own, [pts - [x0, y0]], 1)
    return int(cv2.countNonZero(own)) or 1


def _fill(texture: str, colour: list[int], h: int, w: int, origin: tuple[int, int],
          rng: np.random.Generator) -> np.ndarray:
    """Textured fill of an h x w box whose top-left pixel is `origin` in the image (patterns are in image
    space)."""
    base = np.array(colour, np.float32)
    if texture == "noise":  # smooth shading: a coarse grid of colours, cubic-interpolated (uint8 saturates)
        small = rng.uniform(-60, 60, (max(2, h // 8), max(2, w // 8))).astype(np.float32)
        coarse = np.clip(small[:, :, None] + base, 0, 255).astype(np.uint8)
        return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    period = float(rng.uniform(6, 20))
    angle = float(rng.uniform(0, np.pi))
    c, s = math.cos(angle) / period, math.sin(angle) / period
    xs = np.arange(origin[0], origin[0] + w, dtype=np.float32)[None, :]
    ys = np.arange(origin[1], origin[1] + h, dtype=np.float32)[:, None]
    band = np.floor(xs * c + ys * s).astype(np.int32)  # stripe number across the stripes
    if texture == "checker":
        band += np.floor(ys * c - xs * s).astype(np.int32)  # plus the stripe number along them
    odd = (band & 1).astype(np.uint8)
    light, dark = np.clip(base + 50, 0, 255).astype(np.uint8), np.clip(base - 50, 0, 255).astype(np.uint8)
    return cv2.merge([cv2.LUT(odd, np.array([hi, lo] + [0] * 254, np.uint8)) for hi, lo in zip(light, dark)])


def _background(bg: Background, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    level = bg.brightness * 255
    spread = bg.contrast * 127
    tint = rng.uniform(-spread, spread, 3)
    if bg.kind == "flat":
        row = np.tile(np.clip(level + tint, 0, 255).astype(np.uint8), w)  # one row, then copied down:
        return np.broadcast_to(row, (h, 3 * w)).reshape(h, w, 3).copy()  # 25x faster than np.full
    if bg.kind == "gradient":
        angle = rng.uniform(0, 2 * np.pi)
        other = rng.uniform(-spread, spread, 3)
        slope = (2 * (other - tint)).astype(np.float32)
        # A linear ramp is reproduced exactly by bilinear interpolation, so it is sampled on a grid 8x
        # coarser (with a margin that keeps OpenCV's border clamping outside the frame) and resized.
        sh, sw = -(-h // 8) + 2, -(-w // 8) + 2
        ys = ((8 * np.arange(sh, dtype=np.float32) - 4.5) / h - 0.5) * math.sin(angle)
        xs = ((8 * np.arange(sw, dtype=np.float32) - 4.5) / w - 0.5) * math.cos(angle)
        coarse = (xs[None, :, None] + ys[:, None, None]) * slope + (level + tint).astype(np.float32)
        coarse = np.clip(coarse, 0, 255).astype(np.uint8)
        return cv2.resize(coarse, (8 * sw, 8 * sh), interpolation=cv2.INTER_LINEAR)[8:8 + h, 8:8 + w].copy()
    cells = (max(2, h // bg.noise_scale), max(2, w // bg.noise_scale), 3)
    small = np.clip(level + rng.uniform(-spread, spread, cells), 0, 255).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)  # uint8 resize saturates the overshoot


def _labels(ids: np.ndarray, drawn: list, min_pixels: int) -> tuple[list[dict], np.ndarray]:
    """Visible-part labels; instances renumbered 1..M in drawing order, hidden objects dropped."""
    objects = []
    counts = np.bincount(ids.ravel(), minlength=(drawn[-1][0] if drawn else 0) + 1)
    renumber = np.zeros(max(256, len(counts)), ids.dtype)
    for k, obj, _, full_area, (x0, y0, x1, y1) in drawn:
        visible = int(counts[k])
        if visible < min_pixels:
            continue
        region = cv2.compare(ids[y0:y1, x0:x1], k, cv2.CMP_EQ)  # an object's pixels lie inside its drawn box
        x, y, bw, bh = cv2.boundingRect(region)
        x, y = x + int(x0), y + int(y0)
        new_id = len(objects) + 1
        renumber[k] = new_id
        contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(int(x0), int(y0)))
        objects.append({
            "class": obj["class"], "instance_id": new_id,
            "box": [float(x), float(y), float(x + bw), float(y + bh)],
            "area": visible, "visible_fraction": round(min(1.0, visible / full_area), 4),
            "polygon": obj["polygon"],
            "visible_polygons": [c.reshape(-1, 2).tolist() for c in contours if len(c) >= 3],
            "center": [round(c + 0.5, 3) for c in obj["center"]], "radius": round(obj["radius"], 3),
            "aspect": round(obj["aspect"], 4), "rotation_deg": round(obj["rotation_deg"], 3),
            "colour": obj["colour"], "texture": obj["texture"],
        })
    if np.array_equal(renumber[:len(counts)], np.arange(len(counts))):
        return objects, ids  # nothing hidden or outside the frame: ids are the instance numbers already
    instance = cv2.LUT(ids, renumber[:256]) if ids.dtype == np.uint8 else renumber[ids]
    return objects, instance
