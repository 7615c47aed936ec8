"""Every task gives the same labels and payload bytes in one process or spread over worker processes."""
from __future__ import annotations

import hashlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pyarrow as pa
import pytest

from ssl_tasks.base import parquet_bytes
from synth.errors import SynthError
from synth.core.sample import Payload, Sample, audio, image, text
from synth.core.scene import get_task, task_names
from synth.core.seeding import rng_for

SMALL = {
    "patch_position": {"patch_size": 16, "gap": 8, "jitter": 2},
    "jigsaw": {"n_permutations": 100, "crop_size": 60, "tile_size": 16},
    "simclr_views": {"size": 32},
}


def _sample(task: str, index: int) -> Sample:
    rng = np.random.default_rng(index)
    modalities = get_task(task).modalities
    if "image" in modalities:
        return Sample(payloads={"image": image(rng.integers(0, 256, (72, 80, 3), dtype=np.uint8))})
    if "audio" in modalities:
        return Sample(payloads={"audio": audio(rng.normal(0, 0.1, 8000).astype(np.float32), 16000)})
    if "text" in modalities:
        return Sample(payloads={"text": text(" ".join(rng.choice(["a", "b", "c", "d", "e"], 60)))})
    table = pa.table({"x": rng.normal(size=20), "y": rng.integers(0, 5, 20)})
    return Sample(payloads={"table": Payload("bytes", parquet_bytes(table), format="parquet")})


def _fingerprint(task: str, index: int) -> str:
    sample = _sample(task, index)
    get_task(task)().apply(sample, SMALL.get(task), rng_for(42, index, f"ssl.{task}"))
    digest = hashlib.sha256(sample.labels_json().encode())
    for name in sorted(sample.payloads):
        payload = sample.payloads[name]
        digest.update(name.encode())
        digest.update(str(payload.data).encode() if payload.inline else payload.encode()[0])
    return digest.hexdigest()


def test_same_bytes_in_one_process_and_across_two_workers():
    jobs = [(task, index) for task in task_names() for index in range(3)]
    serial = [_fingerprint(*job) for job in jobs]
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: no state shared with this one
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        parallel = list(pool.map(_fingerprint, *zip(*reversed(jobs))))
    assert serial == list(reversed(parallel))
    assert len(set(serial)) == len(serial)  # different samples and tasks really differ


def test_unknown_task_is_refused_with_suggestion():
    with pytest.raises(SynthError, match="unknown pretext task 'jigsw' \\(did you mean 'jigsaw'\\?\\)"):
        get_task("jigsw")


def test_unknown_param_is_refused():
    with pytest.raises(SynthError, match="ssl.rotation.params.angle"):
        get_task("rotation")().apply(_sample("rotation", 0), {"angle": 90}, np.random.default_rng(0))
