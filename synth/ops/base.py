"""An image with its labels (`AnnotatedImage`) and the `ImageOp` base: one warp moves pixels, masks,
surface maps and every label (boxes, quads, polygons, keypoints) together."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict

# Label coordinates are continuous: pixel (row i, col j) covers [j, j+1) x [i, i+1), so a box from a mask
# is [xmin, ymin, xmax + 1, ymax + 1]. OpenCV puts pixel centres on integers, hence the 0.5 shifts below.
GEOM_KEYS = ("box", "quad", "polygon", "keypoints")
PointFn = Callable[[np.ndarray], np.ndarray]


class OpParams(BaseModel):
    """Base of every op's params: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


@dataclass
class AnnotatedImage:
    """Pixels plus everything that must move with them.

    image: float32 HxWx3 RGB in [0, 1] (linear-ish working space); mask: int32 instance ids (0 = none);
    normals: float32 HxWx3 surface normals in the plane frame (None = flat); gloss: float32 HxW specular
    strength; plane_xy: float32 HxWx2 position of each pixel on the scene plane in mm (None = the pixel grid
    times `mm_per_px`); depth: float32 HxW distance to the camera in mm (set by the camera pose).
    """

    image: np.ndarray
    mask: np.ndarray | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    normals: np.ndarray | None = None
    gloss: np.ndarray | None = None
    plane_xy: np.ndarray | None = None
    depth: np.ndarray | None = None
    mm_per_px: float = 0.25
    camera_mm: tuple[float, float, float] | None = None  # camera centre in the plane frame, mm
    backdrop: np.ndarray | None = None  # float32 HxWx3 scene without its objects: fills what warps bring in

    @property
    def height(self) -> int:
        return self.image.shape[0]

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @classmethod
    def from_uint8(cls, image: np.ndarray, **kw: Any) -> AnnotatedImage:
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        return cls(image=image.astype(np.float32) * np.float32(1 / 255), **kw)

    def to_uint8(self) -> np.ndarray:
        return np.clip(self.image * 255 + 0.5, 0, 255).astype(np.uint8)

    def with_image(self, image: np.ndarray) -> AnnotatedImage:
        return replace(self, image=image.astype(np.float32, copy=False))

    def plane_coords(self) -> np.ndarray:
        """Position of every pixel centre on the scene plane, in mm."""
        if self.plane_xy is not None:
            return self.plane_xy
        ys, xs = np.mgrid[0:self.height, 0:self.width].astype(np.float32)
        return np.stack([xs + 0.5, ys + 0.5], axis=-1) * np.float32(self.mm_per_px)

    # --- geometry -----------------------------------------------------------------------------------
    def warp_homography(self, H: np.ndarray, size: tuple[int, int], border_value: float = 0.0,
                        image_border: int = cv2.BORDER_CONSTANT) -> AnnotatedImage:
        """Apply a 3x3 homography (continuous coordinates, src -> dst) to pixels, maps and labels."""
        w, h = size
        H_cv = _shift(-0.5) @ H @ _shift(0.5)  # OpenCV's integer-centred pixels
        def warp(a: np.ndarray | None, interp: int, border: int = cv2.BORDER_CONSTANT, value: float = 0.0) -> np.ndarray | None:
            if a is None:
                return None
            return cv2.warpPerspective(a, H_cv, (w, h), flags=interp, borderMode=border, borderValue=value)
        fwd = lambda pts: _apply_h(H, pts)  # noqa: E731
        return self._warped(warp, fwd, (w, h), image_border, border_value)

    def remap(self, inverse: PointFn, size: tuple[int, int] | None = None,
              dense: tuple[np.ndarray, np.ndarray] | None = None) -> AnnotatedImage:
        """Warp by `inverse` (dst point -> src point, continuous, vectorised over Nx2); labels move with
        the forward map, found by Newton iteration on `inverse`. `dense` is the same map already
        evaluated at every dst pixel centre (sx, sy), for ops that have a faster way to build it."""
        w, h = size or (self.width, self.height)
        if dense is None:
            ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
            grid = np.stack([xs.ravel() + 0.5, ys.ravel() + 0.5], axis=1)
            src = inverse(grid).astype(np.float32)
            dense = (src[:, 0].reshape(h, w), src[:, 1].reshape(h, w))
        mx, my = dense[0].astype(np.float32) - 0.5, dense[1].astype(np.float32) - 0.5
        m1, m2 = cv2.convertMaps(mx, my, cv2.CV_16SC2)  # fixed-point maps: several times faster remaps
        def warp(a: np.ndarray | None, interp: int, border: int = cv2.BORDER_CONSTANT, value: float = 0.0) -> np.ndarray | None:
            if a is None:
                return None
            if interp == cv2.INTER_NEAREST:
                return cv2.remap(a, mx, my, interp, borderMode=border, borderValue=value)
            return cv2.remap(a, m1, m2, interp, borderMode=border, borderValue=value)
        return self._warped(warp, lambda pts: invert_points(inverse, pts), (w, h), cv2.BORDER_REPLICATE, 0.0)

    def _warped(self, warp: Callable, fwd: PointFn, size: tuple[int, int], image_border: int,
                border_value: float) -> AnnotatedImage:
        lin, rep = cv2.INTER_LINEAR, cv2.BORDER_REPLICATE
        mask = warp(self.mask, cv2.INTER_NEAREST) if self.mask is not None else None
        if mask is not None and self.mask.dtype != np.int32:
            mask = mask.astype(self.mask.dtype)
        backdrop = warp(self.backdrop, lin, cv2.BORDER_REFLECT)
        if backdrop is None:
            image = warp(self.image, lin, image_border, border_value)
        else:  # what the warp brings in from beyond the frame is backdrop, never a mirrored (unlabelled) object
            inside = warp(np.ones(self.image.shape[:2], np.float32), lin)
            image = warp(self.image, lin) + backdrop * (1 - inside)[..., None]
        out = replace(self, image=image, mask=mask, normals=warp(self.normals, lin, rep), backdrop=backdrop,
                      gloss=warp(self.gloss, lin, rep), plane_xy=warp(self.plane_coords(), lin, rep),
                      depth=warp(self.depth, lin, rep), labels=move_labels(self.labels, fwd, size, mask))
        if out.normals is not None:
            out.normals /= np.maximum(np.linalg.norm(out.normals, axis=-1, keepdims=True), 1e-6)
        return out


class ImageOp:
    """A reusable operator: declared `Params`, a pure `apply(image, params, rng)`."""

    name: ClassVar[str]
    geometric: ClassVar[bool] = False
    Params: ClassVar[type[OpParams]]

    def apply(self, image: AnnotatedImage, p: Any, rng: np.random.Generator) -> AnnotatedImage:
        raise NotImplementedError

    def __call__(self, image: AnnotatedImage, p: Any = None, rng: np.random.Generator | None = None,
                 **kw: Any) -> AnnotatedImage:
        params = p if p is not None else self.Params(**kw)
        return self.apply(image, params, rng if rng is not None else np.random.default_rng(0))


# --- label movement ---------------------------------------------------------------------------------
def iter_geometric(labels: Any) -> Iterator[dict]:
    """Every dict in `labels` (recursively) that carries a box, quad, polygon or keypoints."""
    if isinstance(labels, dict):
        if any(k in labels for k in GEOM_KEYS):
            yield labels
        for v in labels.values():
            if isinstance(v, (dict, list)):
                yield from iter_geometric(v)
    elif isinstance(labels, list):
        for v in labels:
            if isinstance(v, (dict, list)):
                yield from iter_geometric(v)


def move_labels(labels: dict, fwd: PointFn, size: tuple[int, int], mask: np.ndarray | None) -> dict:
    """A deep copy of `labels` with every geometric label moved by `fwd` and boxes recomputed. All points
    of all labels go through `fwd` in one vectorised call (Newton inversion is per call, not per point)."""
    import copy
    out = copy.deepcopy(labels)
    objs = list(iter_geometric(out))
    chunks: list[np.ndarray] = []
    plan: list[list[tuple[str, int, int]]] = []
    n = 0
    for obj in objs:
        entries = []
        outline = None
        for key in ("quad", "polygon"):
            if obj.get(key):
                pts = np.asarray(obj[key], np.float64).reshape(-1, 2)
                outline = densify(pts) if outline is None else outline
                entries.append((key, n, n + len(pts))); chunks.append(pts); n += len(pts)
        if obj.get("keypoints"):
            kp = np.asarray(obj["keypoints"], np.float64).reshape(-1, 3)[:, :2]
            entries.append(("keypoints", n, n + len(kp))); chunks.append(kp); n += len(kp)
        if outline is None and obj.get("box") is not None:
            x0, y0, x1, y1 = obj["box"]
            outline = densify(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64))
        if outline is not None:
            entries.append(("outline", n, n + len(outline))); chunks.append(outline); n += len(outline)
        plan.append(entries)
    moved = fwd(np.concatenate(chunks)) if chunks else np.zeros((0, 2))
    boxes = mask_boxes(mask) if mask is not None else None
    for obj, entries in zip(objs, plan):
        _place(obj, {k: moved[a:b] for k, a, b in entries}, size, boxes)
    return out


def _place(obj: dict, moved: dict[str, np.ndarray], size: tuple[int, int], boxes: dict | None) -> None:
    w, h = size
    for key in ("quad", "polygon"):
        if key in moved:
            obj[key] = np.round(moved[key], 3).tolist()
    if "keypoints" in moved:
        pts = moved["keypoints"]
        inside = (pts[:, 0] >= 0) & (pts[:, 0] <= w) & (pts[:, 1] >= 0) & (pts[:, 1] <= h)  # corners lie on the edge
        obj["keypoints"] = [[round(float(x), 3), round(float(y), 3), int(0 if v == 0 else (2 if ok else 1))]
                            for (x, y), (_, _, v), ok in zip(pts, obj["keypoints"], inside)]
    if "box" not in obj:
        return
    inst = obj.get("instance_id")
    if boxes is not None and inst is not None:
        box = boxes.get(int(inst))
    else:
        box = clip_box(_bounds(moved["outline"]), w, h) if "outline" in moved else None
    obj["box"] = box
    if box is None:
        obj["visible"] = False


def densify(poly: np.ndarray, per_edge: int = 16) -> np.ndarray:
    """Points along a closed polygon's edges, so a curved warp of a straight edge keeps its bulge."""
    nxt = np.roll(poly, -1, axis=0)
    t = np.linspace(0, 1, per_edge, endpoint=False)[None, :, None]
    return (poly[:, None, :] * (1 - t) + nxt[:, None, :] * t).reshape(-1, 2)


def _bounds(pts: np.ndarray) -> list[float]:
    return [float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max())]


def clip_box(box: list[float], w: int, h: int) -> list[float] | None:
    x0, y0, x1, y1 = max(box[0], 0.0), max(box[1], 0.0), min(box[2], float(w)), min(box[3], float(h))
    if x1 <= x0 or y1 <= y0:
        return None
    return [round(x0, 3), round(y0, 3), round(x1, 3), round(y1, 3)]


def mask_boxes(mask: np.ndarray) -> dict[int, list[float]]:
    """Tight box of every instance id in a mask, in continuous pixel-edge coordinates."""
    out: dict[int, list[float]] = {}
    ids = np.unique(mask)
    for i in ids[ids != 0]:
        ys, xs = np.nonzero(mask == i)
        out[int(i)] = [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]
    return out


# --- point maths ------------------------------------------------------------------------------------
def _shift(d: float) -> np.ndarray:
    return np.array([[1, 0, d], [0, 1, d], [0, 0, 1]], np.float64)


def _apply_h(H: np.ndarray, pts: np.ndarray) -> np.ndarray:
    pts = np.asarray(pts, np.float64).reshape(-1, 2)
    hom = np.c_[pts, np.ones(len(pts))] @ H.T
    return hom[:, :2] / hom[:, 2:3]


def invert_points(inverse: PointFn, targets: np.ndarray, iters: int = 40, tol: float = 1e-5) -> np.ndarray:
    """Solve inverse(p) = q for every q by damped Newton steps with a finite-difference Jacobian."""
    q = np.asarray(targets, np.float64).reshape(-1, 2)
    if len(q) == 0:
        return q
    p = q.copy()
    eps = 0.25
    for _ in range(iters):
        r = inverse(p) - q
        if np.abs(r).max() < tol:
            break
        jx = (inverse(p + [eps, 0]) - inverse(p - [eps, 0])) / (2 * eps)
        jy = (inverse(p + [0, eps]) - inverse(p - [0, eps])) / (2 * eps)
        det = jx[:, 0] * jy[:, 1] - jy[:, 0] * jx[:, 1]
        det = np.where(np.abs(det) < 1e-9, 1e-9, det)
        dx = (jy[:, 1] * r[:, 0] - jy[:, 0] * r[:, 1]) / det
        dy = (-jx[:, 1] * r[:, 0] + jx[:, 0] * r[:, 1]) / det
        step = np.stack([dx, dy], axis=1)
        p -= np.clip(step, -50, 50)  # damping keeps a far first guess from overshooting
    return p


def sample_field(field_: np.ndarray, pts: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Bilinear sample of an HxW(xC) field at continuous points (given in units where one field cell is
    `scale` pixels), replicating the border so the result is defined everywhere."""
    h, w = field_.shape[:2]
    x = np.clip(pts[:, 0] / scale - 0.5, 0, w - 1.000001)
    y = np.clip(pts[:, 1] / scale - 0.5, 0, h - 1.000001)
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = x - x0, y - y0
    if field_.ndim == 3:
        fx, fy = fx[:, None], fy[:, None]
    top = field_[y0, x0] * (1 - fx) + field_[y0, x1] * fx
    bot = field_[y1, x0] * (1 - fx) + field_[y1, x1] * fx
    return top * (1 - fy) + bot * fy
