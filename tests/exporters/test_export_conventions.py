"""`synth export` conventions with the real clients: `--json` prints the whole summary, the summary names the
classes, WebDataset shards feed a `DataLoader(num_workers=2)` and masks decode as instance-id arrays, and a
YOLO export of a classification-only version is refused (exit 2, nothing written)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from synth import api
from synth.core.sample import decode_blob
from synth.exporters.webdataset import shard_chunks
from synth.store.lineage import current_table
from synth.store.payloads import blob_getter
from tests.exporters.conftest import ROOT, current_rows, generated, shapes_recipe

SHAPES = shapes_recipe(11, 48, 40, seed=4)


@pytest.fixture(scope="module")
def shapes_ws(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("conventions")
    generated(root, "shapes", SHAPES)
    return root


def _mask(ws: str, row: dict) -> np.ndarray:
    w = api.open_workspace(ws)
    get = blob_getter(w, current_table(w, w.manifest.resolve(None)))
    return decode_blob("mask", get(row["payloads"]["mask"]["hash"]))


def test_json_prints_the_whole_summary_and_text_names_the_classes(shapes_ws: Path, run_cli) -> None:
    ws = str(shapes_ws / "ws_shapes")
    res = run_cli("export", str(shapes_ws / "hf"), "--format", "hf", "-w", ws, "--json", cwd=shapes_ws)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)  # one JSON object, not cut
    assert len(res.stdout) > 200 and sorted(got["files"]) == ["train", "validation"]
    names = sorted({o["class"] for r in current_rows(ws).values() for o in r["labels"]["objects"]})
    assert got["classes"] == names and len(names) >= 2
    res = run_cli("export", str(shapes_ws / "wds_text"), "--format", "webdataset", "-w", ws, cwd=shapes_ws)
    assert res.returncode == 0 and "classes " + ", ".join(names) in res.stdout and "[]" not in res.stdout


def test_shard_chunks_cover_rows_in_order() -> None:
    rows = list(range(11))
    assert [len(c) for c in shard_chunks(rows, 1000)] == [2, 3, 3, 3]
    assert [len(c) for c in shard_chunks(rows[:2], 1000)] == [1, 1]
    assert [len(c) for c in shard_chunks(rows, 2)] == [1, 2, 2, 2, 2, 2]
    assert [x for c in shard_chunks(rows, 3) for x in c] == rows


def test_webdataset_feeds_a_two_worker_dataloader_and_masks_are_masks(shapes_ws: Path) -> None:
    import torch  # installed by `make setup` (scripts/setup.sh); a missing one fails here, never skips
    import webdataset as wds
    ws = str(shapes_ws / "ws_shapes")
    res = api.export(shapes_ws / "wds", "webdataset", ws)  # the default shard size
    counts = res["splits"]
    assert counts["train"] >= 4
    assert all(len(res["shards"][s]) == min(n, 4) for s, n in counts.items())
    urls = [str(shapes_ws / "wds" / n) for n in res["shards"]["train"]]
    loader = torch.utils.data.DataLoader(
        wds.WebDataset(urls, shardshuffle=False).decode("rgb").to_tuple("__key__", "png", "mask.npy", "json"),
        num_workers=2, batch_size=None, multiprocessing_context="spawn")  # lance is not fork-safe
    rows = current_rows(ws)
    seen = []
    for key, image, mask, meta in loader:  # the loader hands arrays over as tensors
        row, image, mask = rows[key], image.numpy(), mask.numpy()
        assert image.shape == (40, 48, 3) and mask.shape == (40, 48)
        assert np.issubdtype(mask.dtype, np.integer)
        ids = {o["instance_id"] for o in meta["labels"]["objects"]}
        assert set(np.unique(mask).tolist()) - {0} <= ids and len(np.unique(mask)) > 1
        np.testing.assert_array_equal(mask, _mask(ws, row))
        seen.append(key)
    assert sorted(seen) == sorted(k for k, r in rows.items() if r["split"] == "train")


def test_yolo_of_a_classification_only_version_is_refused(tmp_path: Path, run_cli) -> None:
    ws = generated(tmp_path, "digits", ROOT / "recipes" / "digits.yaml", 3)
    for fmt in ("yolo", "yolo-seg"):
        res = run_cli("export", str(tmp_path / "out"), "--format", fmt, "-w", ws, cwd=tmp_path)
        assert res.returncode == 2 and "Traceback" not in res.stderr
        assert "class per image" in res.stderr and "hf" in res.stderr
        assert not (tmp_path / "out").exists()
