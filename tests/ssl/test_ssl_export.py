"""Exports carry pretext labels: recipes/shapes_ssl.yaml generated, exported to Hugging Face Parquet (read back
with `datasets`) and WebDataset (read back with `webdataset`), every ssl value checked against the manifest."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from synth.codecs.masks import pack_mask, unpack_mask
from synth import api
from synth.exporters.dispatch import export_version
from synth.exporters.hf import export_hf

RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "shapes_ssl.yaml"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, dict[str, Any]]]:
    """A workspace with 4 shapes_ssl samples and its manifest rows by sample id (JSON columns parsed)."""
    root = tmp_path_factory.mktemp("ssl_export") / "ws"
    api.generate(str(RECIPE), str(root), count=4, workers=1)
    ws = api.open_workspace(str(root))
    rows = {}
    for r in ws.manifest.to_table().to_pylist():
        r["labels"], r["payloads"] = json.loads(r["labels"]), json.loads(r["payloads"])
        rows[r["sample_id"]] = r
    return ws, rows


def _array(ws: Any, row: dict[str, Any], name: str) -> np.ndarray:
    return np.load(io.BytesIO(ws.store.get(row["payloads"][name]["hash"])), allow_pickle=False)


def _pixels(ws: Any, row: dict[str, Any], name: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(ws.store.get(row["payloads"][name]["hash"]))).convert("RGB"))


def test_hf_export_has_typed_pretext_columns_equal_to_the_manifest(generated, tmp_path: Path) -> None:
    import datasets
    ws, rows = generated
    out = tmp_path / "hf"
    res = export_version(ws, "hf", out)
    ds = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))
    features = ds["train"].features
    assert features["ssl_rotation_label"] == datasets.Value("int64")
    assert features["ssl_patch_position_label"] == datasets.Value("int64")
    assert features["ssl_jigsaw_permutation"] == datasets.List(datasets.Value("int64"))
    assert features["ssl_jigsaw_permutation_set_sha256"] == datasets.Value("string")
    assert features["ssl_mae_mask"] == datasets.List(datasets.Value("bool"))
    assert features["ssl_mae_ids_restore"] == datasets.List(datasets.Value("int64"))
    assert isinstance(features["ssl_rotation_image"], datasets.Image)
    seen = 0
    for split in ds:
        for got in ds[split]:
            _check_hf_row(ws, rows[got["sample_id"]], got, out)
            seen += 1
    assert seen == len(rows) == 4
    # the permutation set every row shares is one file, named by its content
    assert len(list((out / "ssl" / "jigsaw.permutation_set").iterdir())) == 1
    card = (out / "README.md").read_text()
    assert "## Pretext columns" in card and all(f"`{c}`" in card for c in res["pretext_columns"])


def _check_hf_row(ws: Any, row: dict[str, Any], got: dict[str, Any], out: Path) -> None:
    ssl = row["labels"]["ssl"]
    mae = ssl["mae"]
    rows_, cols = mae["grid"]
    mask = got["ssl_mae_mask"]
    assert len(mask) == rows_ * cols == mae["num_patches"] and sum(mask) == mae["num_masked"]
    assert mask == unpack_mask(mae["mask_hex"], mae["grid"]).ravel().astype(bool).tolist()
    assert got["ssl_mae_ids_restore"] == mae["ids_restore"] and got["ssl_mae_grid"] == [rows_, cols]
    assert got["ssl_rotation_label"] == ssl["rotation"]["label"]
    assert got["ssl_patch_position_label"] == ssl["patch_position"]["label"]
    assert got["ssl_patch_position_offset"] == ssl["patch_position"]["offset"]
    assert json.loads(got["ssl_patch_position_center"]) == ssl["patch_position"]["center"]
    assert got["ssl_jigsaw_label"] == ssl["jigsaw"]["label"] and got["ssl_jigsaw_seed"] == ssl["jigsaw"]["seed"]
    assert got["ssl_jigsaw_permutation"] == ssl["jigsaw"]["permutation"]
    assert got["ssl_jigsaw_permutation_set_sha256"] == ssl["jigsaw"]["permutation_set_sha256"]
    assert got["ssl_jigsaw_tile_boxes"] == ssl["jigsaw"]["tile_boxes"]
    assert json.loads(got["ssl_jigsaw_params"]) == ssl["jigsaw"]["params"]
    # derived arrays: .npy files under the export folder, equal to the stored payloads
    perms = np.load(out / got["ssl_jigsaw_permutation_set_path"])
    assert perms[got["ssl_jigsaw_label"]].tolist() == got["ssl_jigsaw_permutation"]
    tiles = np.load(out / got["ssl_jigsaw_tiles_path"])
    np.testing.assert_array_equal(tiles, _array(ws, row, "ssl.jigsaw.tiles"))
    patches = np.load(out / got["ssl_patch_position_patches_path"])
    assert patches.shape == (2, 64, 64, 3)
    np.testing.assert_array_equal(patches, _array(ws, row, "ssl.patch_position.patches"))
    # the derived image is an Image feature holding the rotated source image
    rotated = np.asarray(got["ssl_rotation_image"].convert("RGB"))
    np.testing.assert_array_equal(rotated, np.rot90(_pixels(ws, row, "image"), ssl["rotation"]["label"]))


def test_webdataset_samples_carry_ssl_targets_and_arrays(generated, tmp_path: Path) -> None:
    import webdataset as wds
    ws, rows = generated
    res = export_version(ws, "webdataset", tmp_path / "wds", shard_rows=3)
    shards = sorted(str(tmp_path / "wds" / n) for names in res["shards"].values() for n in names)
    samples = list(wds.WebDataset(shards, shardshuffle=False).decode("rgb8"))
    assert sorted(s["__key__"] for s in samples) == sorted(rows)
    for s in samples:
        row = rows[s["__key__"]]
        labels, got = row["labels"]["ssl"], s["json"]["ssl"]
        assert sorted(got) == ["jigsaw", "mae", "patch_position", "rotation"]
        mae = labels["mae"]
        assert got["mae"]["mask"] == unpack_mask(mae["mask_hex"], mae["grid"]).ravel().astype(bool).tolist()
        assert len(got["mae"]["mask"]) == mae["num_patches"] and "mask_hex" not in got["mae"]
        assert got["mae"]["ids_restore"] == mae["ids_restore"]
        assert got["jigsaw"]["permutation"] == labels["jigsaw"]["permutation"]
        assert got["rotation"]["label"] == labels["rotation"]["label"]
        # every derived payload is a tar entry of this sample, named in `entries`
        assert got["jigsaw"]["entries"] == {"permutation_set": "ssl_jigsaw_permutation_set.npy",
                                            "tiles": "ssl_jigsaw_tiles.npy"}
        np.testing.assert_array_equal(s["ssl_jigsaw_tiles.npy"], _array(ws, row, "ssl.jigsaw.tiles"))
        np.testing.assert_array_equal(s[got["patch_position"]["entries"]["patches"]],
                                      _array(ws, row, "ssl.patch_position.patches"))
        np.testing.assert_array_equal(s[got["rotation"]["entries"]["image"]],
                                      np.rot90(_pixels(ws, row, "image"), labels["rotation"]["label"]))


def test_a_task_the_exporter_has_never_seen_exports_by_its_value_types(tmp_path: Path) -> None:
    """No exporter change for new tasks: scalars, lists, packed masks, dicts and mixed values by their type."""
    import datasets
    mask = np.zeros((3, 5), np.uint8)
    mask[1, 2:] = 1
    blob = io.BytesIO()
    np.save(blob, np.arange(6.0).reshape(2, 3))
    blobs = {"h" * 64: blob.getvalue()}
    records = [{"task": "toy", "version": "2", "seed": 1, "score": 0.5, "tokens": ["a", "b"], "unit_grid": [3, 5],
                "mask_hex": pack_mask(mask), "extra": {"k": 1}, "mixed": [1, "x"], "empty": None},
               {"task": "toy", "version": "2", "seed": 2, "score": 1, "tokens": [], "unit_grid": [3, 5],
                "mask_hex": pack_mask(1 - mask), "extra": {"k": 2}, "mixed": [2], "empty": None}]
    rows = [{"sample_id": f"s{i}", "origin": "synthetic", "split": "train", "params": "{}", "source": None,
             "license": None, "labels": json.dumps({"ssl": {"toy": rec}}),
             "payloads": json.dumps({"ssl.toy.grid": {"kind": "array", "hash": "h" * 64, "format": "npy"},
                                     "ssl.toy.note": {"kind": "text", "value": f"note {i}"}})}
            for i, rec in enumerate(records)]
    export_hf(pa.Table.from_pylist(rows), blobs.__getitem__, tmp_path / "hf")
    ds = datasets.load_dataset(str(tmp_path / "hf"), cache_dir=str(tmp_path / "cache"))["train"]
    f = ds.features
    assert f["ssl_toy_score"] == datasets.Value("float64") and f["ssl_toy_seed"] == datasets.Value("int64")
    assert f["ssl_toy_tokens"] == datasets.List(datasets.Value("string"))
    assert f["ssl_toy_mask"] == datasets.List(datasets.Value("bool"))
    got = ds.to_list()
    assert [g["ssl_toy_mask"] for g in got] == [mask.ravel().astype(bool).tolist(),
                                                (1 - mask).ravel().astype(bool).tolist()]
    assert [g["ssl_toy_score"] for g in got] == [0.5, 1.0] and got[1]["ssl_toy_tokens"] == []
    assert [json.loads(g["ssl_toy_extra"]) for g in got] == [{"k": 1}, {"k": 2}]
    assert [json.loads(g["ssl_toy_mixed"]) for g in got] == [[1, "x"], [2]]
    assert [g["ssl_toy_empty"] for g in got] == [None, None]
    assert [g["ssl_toy_note"] for g in got] == ["note 0", "note 1"]
    assert np.load(tmp_path / "hf" / got[0]["ssl_toy_grid_path"]).tolist() == [[0, 1, 2], [3, 4, 5]]


def test_reexport_into_the_same_folder_is_read_afresh(tmp_path: Path) -> None:
    """`datasets` caches a local folder by its name and card: new labels must change what the card lists."""
    import datasets
    cache, out = str(tmp_path / "cache"), tmp_path / "hf"
    for label in (3, 1):
        labels = json.dumps({"ssl": {"rotation": {"task": "rotation", "version": "1", "label": label}}})
        row = {"sample_id": "s0", "origin": "synthetic", "split": "train", "labels": labels, "payloads": "{}"}
        export_hf(pa.Table.from_pylist([row]), {}.__getitem__, out)
        assert datasets.load_dataset(str(out), cache_dir=cache)["train"]["ssl_rotation_label"] == [label]
