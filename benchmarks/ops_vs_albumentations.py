"""synth.ops vs albumentations 2.0.8 on the same 512x512 images, one thread each: images/s and the ratio.

Both sides go uint8 in -> uint8 out (ours through the ops' uint8 paths: the image stays 8-bit). Geometric ops carry an instance mask and a box on both sides (ours also
moves the box from the mask, albumentations through BboxParams). Prints the median of RUNS runs, the two
sides' runs alternating.
Same parameters on both sides: Gaussian sigma 2 with a 13-tap kernel; motion blur 9 px at 30 degrees (a line
kernel of 7 taps on both sides); JPEG quality 80, both through libjpeg-turbo with the same settings (ours hands
it RGB through imagecodecs, so luma is weighed from the right channels; albumentations hands RGB to OpenCV,
which reads it as BGR).
Run: .venv/bin/python benchmarks/ops_vs_albumentations.py [--runs 5] [--images 24] [--only jpeg,defocus]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import albumentations as A
import cv2
import numpy as np

from scenes.shapes import ShapesScene
from synth.ops import AnnotatedImage
from synth.ops import camera as cam
from synth.ops import distortion as dist

SIZE = 512
Item = tuple[np.ndarray, np.ndarray, list[float]]


def images(n: int) -> list[Item]:
    """Shapes renders (textured objects on textured backgrounds), with a mask and one object's box."""
    p = ShapesScene.Params(width=SIZE, height=SIZE, num_objects=5)
    out = []
    for i in range(n):
        s = ShapesScene().render(p, np.random.default_rng(i))
        obj = s.labels["objects"][0]
        out.append((s.payloads["image"].data, s.payloads["mask"].data.astype(np.uint8), obj["box"]))
    return out


def ours(op: cam.ImageOp, geometric: bool, **params: object) -> Callable[[Item], np.ndarray]:
    """uint8 in -> uint8 out through one op, as a one-op pipeline would be used."""
    p = op.Params(**params)
    rng = np.random.default_rng(0)

    def run(item: Item) -> np.ndarray:
        return op.apply(annotated(item, geometric, op, keep_uint8=True), p, rng).to_uint8()
    run.in_chain = lambda items: in_chain(op, p, rng, items, geometric)  # type: ignore[attr-defined]
    return run


def annotated(item: Item, geometric: bool, op: cam.ImageOp, keep_uint8: bool = False) -> AnnotatedImage:
    image, mask, box = item
    labels = {"objects": [{"class": "x", "box": box}]} if geometric else {}
    ai = AnnotatedImage.from_uint8(image, keep_uint8=keep_uint8, mask=mask if geometric else None, labels=labels)
    if isinstance(op, cam.DefocusBlur):  # a plane at the distance that gives a 4 px circle of confusion
        ai.depth = np.full((SIZE, SIZE), DEFOCUS_DEPTH, np.float32)
    return ai


def in_chain(op: cam.ImageOp, p: object, rng: np.random.Generator, items: list[Item], geometric: bool) -> Callable:
    """The op alone on float32 pixels, as one step of a pipeline that lights in float (float in, float out)."""
    ready = [annotated(item, geometric, op) for item in items]
    cycle = iter(range(10**9))
    return lambda _item: op.apply(ready[next(cycle) % len(ready)], p, rng)


def theirs(transform: A.BasicTransform, geometric: bool) -> Callable[[Item], np.ndarray]:
    bbox = A.BboxParams(format="pascal_voc", label_fields=["classes"], clip=True) if geometric else None
    compose = A.Compose([transform], bbox_params=bbox, seed=0)

    def run(item: Item) -> np.ndarray:
        image, mask, box = item
        if geometric:
            return compose(image=image, mask=mask, bboxes=[box], classes=[0])["image"]
        return compose(image=image)["image"]
    return run


def defocus_depth(radius_px: float) -> float:
    """Depth at which DefocusBlur's thin-lens circle of confusion is `radius_px` (bisection)."""
    op, p = cam.DefocusBlur(), cam.DefocusBlur.Params(focal_length_mm=26, f_number=2, focus_distance_mm=300, sensor_width_mm=6.4)
    lo, hi = 300.0, 1e5
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if op.coc_px(np.array([mid], np.float32), SIZE, p)[0] < radius_px else (lo, mid)
    return lo


DEFOCUS_DEPTH = defocus_depth(4.0)
PAIRS: list[tuple[str, Callable, Callable]] = [
    ("perspective", ours(cam.CameraPose(), True, width=SIZE, height=SIZE, distance_mm=SIZE * 0.25 * 26 / 6.4 * 0.95,
                                                tilt_deg=25, pan_deg=30, roll_deg=5),
     theirs(A.Perspective(scale=(0.08, 0.08), keep_size=True, p=1), True)),
    ("gaussian_blur", ours(cam.GaussianBlur(), False, sigma_px=2.0),
     theirs(A.GaussianBlur(blur_limit=(13, 13), sigma_limit=(2.0, 2.0), p=1), False)),
    ("defocus", ours(cam.DefocusBlur(), False, focal_length_mm=26, f_number=2, focus_distance_mm=300, sensor_width_mm=6.4),
     theirs(A.Defocus(radius=(4, 4), alias_blur=(0.1, 0.1), p=1), False)),
    ("motion_blur", ours(cam.MotionBlur(), False, length_px=9, angle_deg=30),
     theirs(A.MotionBlur(blur_limit=(9, 9), angle_range=(30, 30), direction_range=(0, 0), allow_shifted=False, p=1), False)),
    ("noise", ours(cam.SensorNoise(), False, iso=1600),
     theirs(A.GaussNoise(std_range=(0.05, 0.05), p=1), False)),
    ("jpeg", ours(cam.JpegQuality(), False, quality=80),
     theirs(A.ImageCompression(quality_range=(80, 80), p=1), False)),
    ("optical_distortion", ours(dist.LensDistortion(), True, k1=-0.2),
     theirs(A.OpticalDistortion(distort_limit=(0.2, 0.2), mode="camera", p=1), True)),
    ("elastic", ours(dist.Elastic(), True, alpha_px=8, sigma_px=20),
     theirs(A.ElasticTransform(alpha=60, sigma=20, p=1), True)),
]


def rates(fns: list[Callable[[Item], np.ndarray]], items: list[Item], runs: int) -> list[float]:
    """Median images/s of each function; their runs alternate (a, b, c, a, b, c, ...), so a slow spell of
    a shared machine falls on all of them alike instead of on whichever happened to run then."""
    for fn in fns:
        fn(items[0])  # warm-up (imports, caches)
    per_fn: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, out in zip(fns, per_fn):
            t = time.perf_counter()
            for item in items:
                fn(item)
            out.append(len(items) / (time.perf_counter() - t))
    return [statistics.median(r) for r in per_fn]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--images", type=int, default=24)
    ap.add_argument("--only", default="", help="comma-separated op names (default: all)")
    args = ap.parse_args()
    only = {n for n in args.only.split(",") if n}
    unknown = only - {name for name, _, _ in PAIRS}
    if unknown:
        ap.error(f"unknown op(s) {sorted(unknown)}; choose from {[name for name, _, _ in PAIRS]}")
    cv2.setNumThreads(1)  # per-worker throughput; both sides call the same OpenCV, so this binds both
    assert cv2.getNumThreads() == 1
    items = images(args.images)
    print(f"{args.images} images {SIZE}x{SIZE}, median of {args.runs} runs, load average {os.getloadavg()[0]:.1f}")
    print("synth: uint8 -> op (uint8 path) -> uint8; float chain: the op alone on float32 pixels (a float pipeline's step)")
    print(f"{'op':<20}{'synth img/s':>12}{'albu img/s':>12}{'ratio':>8}{'float chain':>12}{'ratio':>8}")
    for name, mine, other in PAIRS:
        if only and name not in only:
            continue
        a, b, c = rates([mine, other, mine.in_chain(items)], items, args.runs)
        print(f"{name:<20}{a:>12.1f}{b:>12.1f}{a / b:>7.2f}x{c:>12.1f}{c / b:>7.2f}x")


if __name__ == "__main__":
    main()
