"""Cost of pretext labels: (A) shapes generation with patch_position + MAE vs without; (B) `ssl apply`
over N stored images vs the loop a training script would otherwise run (decode, mask, np.save).

    .venv/bin/python benchmarks/ssl_overhead.py [--count 200] [--images 10000] [--runs 3] [--workers 2]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from synth import api
from synth.store.manifest import rows_to_table
from synth.core.sample import image

ROOT = Path(__file__).resolve().parents[1]
SSL_BLOCK = """
ssl:
  - task: patch_position
    params: {patch_size: 64, gap: 16, jitter: 4}
  - task: mae
    params: {patch_size: 16, mask_ratio: 0.75}
"""


def recipes(tmp: Path) -> tuple[Path, Path]:
    base = tmp / "shapes_base.yaml"
    base.write_text(f"extends: {ROOT / 'recipes' / 'shapes.yaml'}\nname: bench_shapes\n")
    ssl = tmp / "shapes_ssl_bench.yaml"
    ssl.write_text(f"extends: {ROOT / 'recipes' / 'shapes.yaml'}\nname: bench_shapes\n{SSL_BLOCK}")
    return base, ssl


def time_generate(recipe: Path, tmp: Path, count: int, workers: int) -> float:
    ws = tmp / f"ws-{time.perf_counter_ns()}"
    started = time.perf_counter()
    api.generate(recipe, str(ws), count=count, workers=workers)
    elapsed = time.perf_counter() - started
    shutil.rmtree(ws)
    return elapsed


def photo(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth image with a few rectangles: compresses like real photos do, unlike noise."""
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    img = np.stack([np.add.outer(ramp, ramp[::-1]) / 2] * 3, axis=2).astype(np.uint8)
    for _ in range(4):
        x0, y0 = rng.integers(0, size - 16, 2)
        w, h = rng.integers(8, size // 2, 2)
        cv2.rectangle(img, (int(x0), int(y0)), (int(x0 + w), int(y0 + h)), [int(c) for c in rng.integers(0, 256, 3)], -1)
    return img


def stored_images(tmp: Path, n: int, size: int) -> tuple[Path, Path]:
    """A workspace with n real image rows, and the same PNGs as plain files for the baseline."""
    ws_path, files = tmp / "images-ws", tmp / "files"
    files.mkdir()
    ws = api.open_workspace(str(ws_path), create=True)
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        data, ext = image(photo(rng, size)).encode()
        (files / f"{i:06d}.png").write_bytes(data)
        sid = hashlib.sha256(f"bench-{i}".encode()).hexdigest()[:16]
        refs = {"image": {"kind": "image", "hash": ws.store.put(data), "format": ext}}
        rows.append({"sample_id": sid, "origin": "real", "labels": "{}", "payloads": json.dumps(refs),
                     "split": "train", "group_key": sid})
    ws.manifest.commit(rows_to_table(rows), "bench import", operation="import")
    return ws_path, files


def time_ssl_apply(ws_path: Path, tmp: Path, workers: int) -> float:
    copy = tmp / f"apply-{time.perf_counter_ns()}"
    shutil.copytree(ws_path, copy)
    from synth.data.pretext import apply_to_version
    started = time.perf_counter()
    result = apply_to_version(api.open_workspace(str(copy)), "mae", {}, workers=workers)
    elapsed = time.perf_counter() - started
    assert result.committed
    shutil.rmtree(copy)
    return elapsed


def time_script_loop(files: Path, tmp: Path) -> float:
    """What a training script does by hand: decode each PNG, draw an MAE mask, save it next to it."""
    out = tmp / f"masks-{time.perf_counter_ns()}"
    out.mkdir()
    started = time.perf_counter()
    for i, path in enumerate(sorted(files.iterdir())):
        img = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
        n = (img.shape[0] // 16) * (img.shape[1] // 16)
        rng = np.random.default_rng(i)
        ids_restore = np.argsort(np.argsort(rng.random(n)))
        mask = (ids_restore >= n - round(0.75 * n)).astype(np.uint8)
        np.save(out / f"{path.stem}-mask.npy", mask)
        np.save(out / f"{path.stem}-ids.npy", ids_restore.astype(np.int32))
    elapsed = time.perf_counter() - started
    shutil.rmtree(out)
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=200, help="Shapes samples per generation run.")
    ap.add_argument("--images", type=int, default=10_000, help="Stored images for ssl apply.")
    ap.add_argument("--size", type=int, default=128, help="Side of the stored images.")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2, help="Workers for the parallel ssl apply run.")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        base, ssl = recipes(tmp)
        time_generate(base, tmp, 8, 1)  # warm imports and caches before measuring
        plain, labelled = [], []
        for _ in range(args.runs):  # interleaved, so drift in machine load hits both alike
            plain.append(time_generate(base, tmp, args.count, 1))
            labelled.append(time_generate(ssl, tmp, args.count, 1))
        p, s = statistics.median(plain), statistics.median(labelled)
        print(f"\nA. shapes 256x256, {args.count} samples, 1 worker, median of {args.runs}")
        print(f"{'variant':<34}{'seconds':>9}{'samples/s':>11}{'ratio':>8}")
        print(f"{'generate, no ssl':<34}{p:>9.2f}{args.count / p:>11.1f}{1.0:>8.2f}")
        print(f"{'generate + patch_position + mae':<34}{s:>9.2f}{args.count / s:>11.1f}{s / p:>8.2f}")
        print(f"added cost: {100 * (s / p - 1):+.1f}% (target <= 20%)")

        ws_path, files = stored_images(tmp, args.images, args.size)
        single, multi, loop = [], [], []
        for _ in range(args.runs):
            loop.append(time_script_loop(files, tmp))
            single.append(time_ssl_apply(ws_path, tmp, 1))
            multi.append(time_ssl_apply(ws_path, tmp, args.workers))
        b = statistics.median(loop)
        print(f"\nB. MAE labels on {args.images} stored {args.size}px images, median of {args.runs}")
        print(f"{'variant':<48}{'seconds':>9}{'images/s':>10}{'ratio':>8}")
        print(f"{'hand loop: cv2 decode + numpy + np.save, 1 proc':<48}{b:>9.2f}{args.images / b:>10.0f}{1.0:>8.2f}")
        for label, times in (("synth ssl apply --task mae, 1 worker", single),
                             (f"synth ssl apply --task mae, {args.workers} workers", multi)):
            a = statistics.median(times)
            print(f"{label:<48}{a:>9.2f}{args.images / a:>10.0f}{b / a:>8.2f}")

if __name__ == "__main__":
    main()
