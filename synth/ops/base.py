"""An image with its labels (`AnnotatedImage`) and the `ImageOp` base: one warp moves pixels, masks,
surface maps and every label (boxes, quads, polygons, keypoints) together."""
from __future__ import annotations

import gc
import pickle
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

    image: float32 HxWx3 RGB in [0, 1] (linear-ish working space), or uint8 HxWx3 in [0, 255] for op chains
    that never leave 8 bits (warps, blurs, noise, JPEG have uint8 paths; light and colour ops call
    `as_float()` first); mask: integer instance ids (0 = none);
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
    # (H plane px -> image px, mm per plane px, camera centre, optical axis) after a camera pose: plane_xy
    # and depth are computed from it on first use, so an op chain that never reads them never pays for them
    camera_geometry: tuple | None = None

    @property
    def height(self) -> int:
        return self.image.shape[0]

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def is_uint8(self) -> bool:
        return self.image.dtype == np.uint8

    @classmethod
    def from_uint8(cls, image: np.ndarray, keep_uint8: bool = False, **kw: Any) -> AnnotatedImage:
        """Wrap an 8-bit RGB (or gray) image; `keep_uint8` keeps it 8-bit (no float copy) for chains of ops
        that have uint8 paths, otherwise it becomes float32 in [0, 1]."""
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
        out = cls(image=image, **kw)
        return out if keep_uint8 else out.as_float()

    def as_float(self) -> AnnotatedImage:
        """This image with float32 [0, 1] pixels (itself when they already are): for ops that compute light."""
        if not self.is_uint8:
            return self
        return replace(self, image=np.multiply(self.image, np.float32(1 / 255), dtype=np.float32))

    def to_uint8(self) -> np.ndarray:
        if self.is_uint8:
            return self.image
        # max(., 0) then a saturating, rounding scale: two SIMD passes instead of numpy's four
        return cv2.convertScaleAbs(cv2.max(self.image, 0.0), alpha=255)

    def with_image(self, image: np.ndarray) -> AnnotatedImage:
        """A copy with new pixels: uint8 stays 8-bit (0..255), anything else becomes float32 (0..1)."""
        if image.dtype == np.uint8:
            return replace(self, image=image)
        return replace(self, image=image.astype(np.float32, copy=False))

    def plane_coords(self) -> np.ndarray:
        """Position of every pixel centre on the scene plane, in mm."""
        if self.plane_xy is None and self.camera_geometry is not None:
            self._materialise_geometry()
        if self.plane_xy is not None:
            return self.plane_xy
        ys, xs = np.mgrid[0:self.height, 0:self.width].astype(np.float32)
        return np.stack([xs + 0.5, ys + 0.5], axis=-1) * np.float32(self.mm_per_px)

    def depth_map(self) -> np.ndarray | None:
        """Distance to the camera of every pixel (mm), or None before any camera pose."""
        if self.depth is None and self.camera_geometry is not None:
            self._materialise_geometry()
        return self.depth

    def _materialise_geometry(self) -> None:
        H, mm, C, axis = self.camera_geometry
        self.plane_xy, self.depth = plane_and_depth(H, mm, C, axis, self.width, self.height)
        self.camera_geometry = None

    # --- geometry -----------------------------------------------------------------------------------
    def warp_homography(self, H: np.ndarray, size: tuple[int, int], border_value: float = 0.0,
                        image_border: int = cv2.BORDER_CONSTANT) -> AnnotatedImage:
        """Apply a 3x3 homography (continuous coordinates, src -> dst) to pixels, maps and labels."""
        w, h = size
        # the inverse map once, reused by every array that moves: two remaps (image, mask) from one map are
        # much cheaper than two warpPerspective calls, each of which recomputes it
        mx, my = homography_maps(_shift(-0.5) @ H @ _shift(0.5), w, h)  # OpenCV's integer-centred pixels
        def warp(a: np.ndarray | None, interp: int, border: int = cv2.BORDER_CONSTANT, value: float = 0.0) -> np.ndarray | None:
            if a is None:
                return None
            return cv2.remap(a, mx, my, interp, borderMode=border, borderValue=value)
        fwd = lambda pts: _apply_h(H, pts)  # noqa: E731
        return self._warped(warp, fwd, (w, h), image_border, border_value)

    def remap(self, inverse: PointFn, size: tuple[int, int] | None = None,
              dense: tuple[np.ndarray, np.ndarray] | None = None, forward: PointFn | None = None,
              image_border: int = cv2.BORDER_REPLICATE, cv_maps: tuple[np.ndarray, np.ndarray] | None = None,
              ) -> AnnotatedImage:
        """Warp by `inverse` (dst point -> src point, continuous, vectorised over Nx2); labels move with
        `forward` (src -> dst), by default found by Newton iteration on `inverse`. `dense` is the same map
        already evaluated at every dst pixel centre (sx, sy), for ops that have a faster way to build it;
        `cv_maps` the same again in OpenCV's convention (sx - 0.5, sy - 0.5, float32), used as given: two
        h x w maps, or one h x w x 2 map and None.
        `image_border`: what the image shows beyond the source (replicated edge, or 0 = transparent)."""
        w, h = size or (self.width, self.height)
        if cv_maps is None and dense is None:
            ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
            grid = np.stack([xs.ravel() + 0.5, ys.ravel() + 0.5], axis=1)
            src = inverse(grid).astype(np.float32)
            dense = (src[:, 0].reshape(h, w), src[:, 1].reshape(h, w))
        if cv_maps is None:
            cv_maps = (np.subtract(dense[0], 0.5, dtype=np.float32), np.subtract(dense[1], 0.5, dtype=np.float32))
        mx, my = cv_maps
        # float maps straight into every remap: OpenCV rounds them to 1/32 px per block on the fly, as
        # fast as precomputed fixed-point maps, and nearest (label masks) gets exact rounding
        def warp(a: np.ndarray | None, interp: int, border: int = cv2.BORDER_CONSTANT, value: float = 0.0) -> np.ndarray | None:
            if a is None:
                return None
            return cv2.remap(a, mx, my, interp, borderMode=border, borderValue=value)
        fwd = forward if forward is not None else (lambda pts: invert_points(inverse, pts))
        return self._warped(warp, fwd, (w, h), image_border, 0.0)

    def _warped(self, warp: Callable, fwd: PointFn, size: tuple[int, int], image_border: int,
                border_value: float) -> AnnotatedImage:
        lin, rep = cv2.INTER_LINEAR, cv2.BORDER_REPLICATE
        if self.backdrop is not None and self.is_uint8:  # the backdrop blend below is float arithmetic
            return self.as_float()._warped(warp, fwd, size, image_border, border_value)
        if self.camera_geometry is not None:  # a later warp moves the camera's maps with the pixels
            self._materialise_geometry()
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
                      gloss=warp(self.gloss, lin, rep), plane_xy=warp(self.plane_xy, lin, rep),
                      depth=warp(self.depth, lin, rep), labels=move_labels(self.labels, fwd, size, mask))
        if out.normals is not None:
            out.normals /= np.maximum(np.linalg.norm(out.normals, axis=-1, keepdims=True), 1e-6)
        return out
    # plane_xy = None means "each pixel lies where it is drawn": true of a sheet deformed on its plane,
    # so surface warps leave it None; only after the camera pose does it hold a real map to warp.


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


def copy_labels(labels: dict) -> dict:
    """A deep copy of labels: a pickle round trip is several times faster than copy.deepcopy (and twice
    as fast as a JSON one), and keeps every value's type as deepcopy does. The cyclic garbage collector
    waits meanwhile: the copy makes thousands of containers (a tree, no cycles), and collections that
    the allocations would trigger, each walking every live object, cost more than the copy itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(pickle.dumps(labels, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        if was_enabled:
            gc.enable()


def move_labels(labels: dict, fwd: PointFn, size: tuple[int, int], mask: np.ndarray | None) -> dict:
    """A deep copy of `labels` with every geometric label moved by `fwd` and boxes recomputed. All points
    of all labels go through `fwd` in one vectorised call (Newton inversion is per call, not per point),
    and every outline (polygon or box edges, densified) in one batch after them."""
    out = copy_labels(labels)
    objs = list(iter_geometric(out))
    chunks: list[np.ndarray] = []
    plan: list[list[tuple[str, int, int]]] = []
    outlines: list[np.ndarray | None] = []
    n = 0
    for obj in objs:
        entries = []
        outline = None
        for key in ("quad", "polygon"):
            if obj.get(key):
                pts = np.asarray(obj[key], np.float64).reshape(-1, 2)
                outline = pts if outline is None else outline
                entries.append((key, n, n + len(pts))); chunks.append(pts); n += len(pts)
        if obj.get("keypoints"):
            kp = np.asarray(obj["keypoints"], np.float64).reshape(-1, 3)[:, :2]
            entries.append(("keypoints", n, n + len(kp))); chunks.append(kp); n += len(kp)
        if outline is None and obj.get("box") is not None:
            x0, y0, x1, y1 = obj["box"]
            outline = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
        plan.append(entries)
        outlines.append(outline)
    has_outline = [o is not None for o in outlines]
    dense, counts = densify_many([o for o in outlines if o is not None])
    everything = np.concatenate(chunks + [dense]) if chunks else dense
    moved = fwd(everything) if len(everything) else np.zeros((0, 2))
    bounds = _bounds_many(moved[n:], counts)
    # boxes from the moved mask, only for the instances a label asks for (one compare per id, no histogram)
    wanted = {int(o["instance_id"]) for o in objs if o.get("box") is not None and o.get("instance_id") is not None}
    boxes = mask_boxes(mask, wanted) if mask is not None else None
    rounded = np.round(moved[:n], 3).tolist()  # every label point rounded and listed at once
    k = 0
    for obj, entries, has in zip(objs, plan, has_outline):
        _place(obj, {key: moved[a:b] for key, a, b in entries}, {key: rounded[a:b] for key, a, b in entries},
               size, boxes, bounds[k] if has else None)
        k += has
    return out


def _place(obj: dict, moved: dict[str, np.ndarray], rounded: dict[str, list], size: tuple[int, int],
           boxes: dict | None, outline_bounds: list[float] | None) -> None:
    w, h = size
    for key in ("quad", "polygon"):
        if key in moved:
            obj[key] = rounded[key]
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
        box = clip_box(outline_bounds, w, h) if outline_bounds is not None else None
    obj["box"] = box
    if box is None:
        obj["visible"] = False


def densify(poly: np.ndarray, per_edge: int = 16, spacing_px: float = 8.0) -> np.ndarray:
    """Points along a closed polygon's edges, so a curved warp of a straight edge keeps its bulge: one
    every `spacing_px` along each edge, at most `per_edge` (short edges of small labels need few)."""
    return densify_many([poly], per_edge, spacing_px)[0]


def densify_many(polys: list[np.ndarray], per_edge: int = 16,
                 spacing_px: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
    """`densify` of many closed polygons in one vectorised pass: (all their points, in order, and how
    many belong to each polygon)."""
    if not polys:
        return np.zeros((0, 2)), np.zeros(0, np.int64)
    sizes = np.array([len(p) for p in polys], np.int64)
    pts = np.concatenate(polys).astype(np.float64, copy=False)
    first = np.cumsum(sizes) - sizes
    following = np.arange(len(pts)) + 1
    following[first + sizes - 1] = first  # each polygon's last vertex closes back to its first
    nxt = pts[following]
    counts = np.clip(np.ceil(np.hypot(*(nxt - pts).T) / spacing_px), 1, per_edge).astype(np.int64)
    edge = np.repeat(np.arange(len(pts)), counts)
    t = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)) / np.repeat(counts, counts)
    dense = pts[edge] * (1 - t[:, None]) + nxt[edge] * t[:, None]
    return dense, np.add.reduceat(counts, first)


def _bounds_many(pts: np.ndarray, counts: np.ndarray) -> list[list[float]]:
    """[xmin, ymin, xmax, ymax] of each consecutive run of `counts` points."""
    if len(counts) == 0:
        return []
    first = np.cumsum(counts) - counts
    lo, hi = np.minimum.reduceat(pts, first, axis=0), np.maximum.reduceat(pts, first, axis=0)
    return np.c_[lo, hi].tolist()


def clip_box(box: list[float], w: int, h: int) -> list[float] | None:
    x0, y0, x1, y1 = max(box[0], 0.0), max(box[1], 0.0), min(box[2], float(w)), min(box[3], float(h))
    if x1 <= x0 or y1 <= y0:
        return None
    return [round(x0, 3), round(y0, 3), round(x1, 3), round(y1, 3)]


def mask_boxes(mask: np.ndarray, ids: set[int] | None = None) -> dict[int, list[float]]:
    """Tight box of every instance id in a mask (or of those in `ids` that occur), in continuous
    pixel-edge coordinates."""
    if ids is None:
        ids = set(_mask_ids(mask))
    out: dict[int, list[float]] = {}
    for i in sorted(ids - {0}):
        x, y, w, h = cv2.boundingRect((mask == i).view(np.uint8))
        if w > 0:
            out[int(i)] = [float(x), float(y), float(x + w), float(y + h)]
    return out


def _mask_ids(mask: np.ndarray) -> list[int]:
    if mask.dtype == np.uint8:  # OpenCV's histogram is several times faster than np.bincount
        return np.flatnonzero(cv2.calcHist([mask], [0], None, [256], [0, 256])[:, 0]).tolist()
    flat = mask.ravel()
    if flat.size and flat.min() >= 0 and flat.max() < 1 << 16:
        return np.flatnonzero(np.bincount(flat)).tolist()
    return np.unique(flat).tolist()


def dense_map(fn: Callable[[np.ndarray], np.ndarray], w: int, h: int, step: int = 4) -> np.ndarray:
    """A smooth map of points (Nx2 -> NxC) evaluated at every pixel centre of a w x h image, as h x w x C
    float32: exactly on a grid every `step` pixels (one ring beyond the frame), bilinear in between. Far
    cheaper than evaluating `fn` per pixel; within a small fraction of a pixel for maps smooth at that scale."""
    nx, ny = -(-w // step) + 2, -(-h // step) + 2
    # node j sits at x = step * (j - 1) + step / 2; cv2.resize by `step` puts the centre of output pixel
    # i at node coordinate (i + 0.5) / step - 0.5, i.e. at x = i + 0.5 - step: so crop `step` pixels
    gx = step * (np.arange(nx, dtype=np.float64) - 1) + step / 2
    gy = step * (np.arange(ny, dtype=np.float64) - 1) + step / 2
    xs, ys = np.meshgrid(gx, gy)
    val = np.asarray(fn(np.c_[xs.ravel(), ys.ravel()]), np.float32).reshape(ny, nx, -1)
    # output pixel i (centre x = i + 0.5) lies at node coordinate (x - step / 2) / step + 1
    return upsample(val, step, w, h, offset=(0.5 - step / 2) / step + 1)


def upsample(low: np.ndarray, factor: int, w: int, h: int, offset: float | None = None) -> np.ndarray:
    """Bilinear upsampling to w x h (h x w x C). By default low-res pixel k covers output pixels
    [k * factor, (k + 1) * factor), as after an INTER_AREA downsample; `offset` is the low-res coordinate
    of output pixel 0's centre otherwise."""
    off = (0.5 / factor - 0.5) if offset is None else offset
    # cv2.resize by exactly `factor` samples output pixel j at low-res (j + 0.5) / factor - 0.5: the same
    # sampling shifted by `crop` pixels. Resizing and cropping is several times faster than a general warp.
    crop = (off + 0.5) * factor - 0.5
    k = int(round(crop))
    lh, lw = low.shape[:2]
    if abs(crop - k) < 1e-6 and k >= 0 and lh * factor >= h + k and lw * factor >= w + k:
        big = cv2.resize(low, (lw * factor, lh * factor), interpolation=cv2.INTER_LINEAR)
        return big[k:k + h, k:k + w].reshape(h, w, -1)
    M = np.array([[1 / factor, 0, off], [0, 1 / factor, off]], np.float64)
    out = cv2.warpAffine(low, M, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(h, w, -1)


# --- point maths ------------------------------------------------------------------------------------
def homography_maps(H: np.ndarray, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Source position (x, y), float32 h x w each, of every destination pixel under homography H
    (src -> dst, OpenCV pixel centres): the maps cv2.warpPerspective builds internally, with the
    projective division done once per pixel by broadcasting rows against columns."""
    Hi = np.linalg.inv(H)
    Hi = Hi.astype(np.float32)
    u = np.arange(w, dtype=np.float32)
    v = np.arange(h, dtype=np.float32)[:, None]
    scale = Hi[2, 0] * u + (Hi[2, 1] * v + Hi[2, 2])
    np.reciprocal(scale, out=scale)
    mx = Hi[0, 0] * u + (Hi[0, 1] * v + Hi[0, 2])
    mx *= scale
    my = Hi[1, 0] * u + (Hi[1, 1] * v + Hi[1, 2])
    my *= scale
    return mx, my


def _shift(d: float) -> np.ndarray:
    return np.array([[1, 0, d], [0, 1, d], [0, 0, 1]], np.float64)


def _apply_h(H: np.ndarray, pts: np.ndarray) -> np.ndarray:
    pts = np.asarray(pts, np.float64).reshape(-1, 2)
    x, y = pts[:, 0], pts[:, 1]  # row by row: no homogeneous Nx3 copy, no matmul of a 3-wide inner product
    out = np.empty_like(pts)
    w = H[2, 0] * x + H[2, 1] * y + H[2, 2]
    np.divide(H[0, 0] * x + H[0, 1] * y + H[0, 2], w, out=out[:, 0])
    np.divide(H[1, 0] * x + H[1, 1] * y + H[1, 2], w, out=out[:, 1])
    return out


def invert_points(inverse: PointFn, targets: np.ndarray, iters: int = 40, tol: float = 1e-5) -> np.ndarray:
    """Solve inverse(p) = q for every q by damped Newton steps with a finite-difference Jacobian.
    One vectorised call of `inverse` per step (the point and its four offsets stacked); points leave the
    loop once solved, or once they stop improving after a few steps (a target outside the warp's image
    has no solution: it keeps the iterate that came closest)."""
    q = np.asarray(targets, np.float64).reshape(-1, 2)
    p = q.copy()
    eps = 0.25
    offsets = np.array([[0, 0], [eps, 0], [-eps, 0], [0, eps], [0, -eps]], np.float64)
    best, best_p = np.full(len(q), np.inf), q.copy()
    active = np.arange(len(q))
    for it in range(iters):
        if len(active) == 0:
            break
        pa, n = p[active], len(active)
        ev = inverse((pa[None] + offsets[:, None]).reshape(-1, 2)).reshape(5, n, 2)
        r = ev[0] - q[active]
        err = np.abs(r).max(axis=1)
        improved = err < best[active]
        best[active[improved]] = err[improved]
        best_p[active[improved]] = pa[improved]
        # solved, or (after the first steps) no longer getting closer: keep the best iterate
        done = (err < tol) | ((it >= 8) & ~improved)
        jx, jy = (ev[1] - ev[2]) / (2 * eps), (ev[3] - ev[4]) / (2 * eps)
        det = jx[:, 0] * jy[:, 1] - jy[:, 0] * jx[:, 1]
        det = np.where(np.abs(det) < 1e-9, 1e-9, det)
        step = np.stack([(jy[:, 1] * r[:, 0] - jy[:, 0] * r[:, 1]) / det,
                         (-jx[:, 1] * r[:, 0] + jx[:, 0] * r[:, 1]) / det], axis=1)
        go = ~done
        p[active[go]] = pa[go] - np.clip(step[go], -50, 50)  # damping keeps a far first guess from overshooting
        active = active[go]
    if len(active):  # out of steps: the last iterate of the points still moving is their best guess
        last = np.abs(inverse(p[active]) - q[active]).max(axis=1)
        better = last < best[active]
        best_p[active[better]] = p[active[better]]
    return best_p


def sample_field(field_: np.ndarray, pts: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Bilinear sample of an HxW(xC) field at continuous points (given in units where one field cell is
    `scale` pixels), replicating the border so the result is defined everywhere."""
    h, w = field_.shape[:2]
    if h < 2 or w < 2:
        return _sample_field_small(field_, pts, scale)
    x = pts[:, 0] / scale - 0.5
    y = pts[:, 1] / scale - 0.5
    np.clip(x, 0, w - 1.000001, out=x)
    np.clip(y, 0, h - 1.000001, out=y)
    x0, y0 = x.astype(np.intp), y.astype(np.intp)  # floor: both are >= 0 now
    fx, fy = x - x0, y - y0
    # four gathers by flat index (x0 + 1 and y0 + 1 stay inside: x < w - 1, y < h - 1)
    flat = field_.reshape(h * w, -1)
    i00 = y0 * w + x0
    f00, f01, f10, f11 = (np.take(flat, i, axis=0) for i in (i00, i00 + 1, i00 + w, i00 + w + 1))
    fx, fy = fx[:, None], fy[:, None]
    top = f00 * (1 - fx) + f01 * fx
    bot = f10 * (1 - fx) + f11 * fx
    out = top * (1 - fy) + bot * fy
    return out if field_.ndim == 3 else out[:, 0]


def _sample_field_small(field_: np.ndarray, pts: np.ndarray, scale: float) -> np.ndarray:
    h, w = field_.shape[:2]
    x = np.clip(pts[:, 0] / scale - 0.5, 0, max(w - 1.000001, 0))
    y = np.clip(pts[:, 1] / scale - 0.5, 0, max(h - 1.000001, 0))
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = x - x0, y - y0
    if field_.ndim == 3:
        fx, fy = fx[:, None], fy[:, None]
    top = field_[y0, x0] * (1 - fx) + field_[y0, x1] * fx
    bot = field_[y1, x0] * (1 - fx) + field_[y1, x1] * fx
    return top * (1 - fy) + bot * fy


def plane_and_depth(H: np.ndarray, mm_per_px: float, C: np.ndarray, axis: np.ndarray, w: int, h: int,
                    step: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Plane position (mm) and depth along the optical axis (mm) of every output pixel, computed on a
    coarse grid and interpolated: both are smooth, so this is exact to well under a pixel's worth."""
    Hinv = np.linalg.inv(H)

    def plane_and_z(q: np.ndarray) -> np.ndarray:
        pts = _apply_h(Hinv, q) * mm_per_px
        return np.c_[pts, (np.c_[pts, np.zeros(len(pts))] - C) @ axis]
    m = dense_map(plane_and_z, w, h, step)
    return np.ascontiguousarray(m[..., :2]), np.maximum(m[..., 2], 1.0)
