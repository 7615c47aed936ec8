"""The Hugging Face export read back with `datasets`: typed features per label kind (ClassLabel, objects,
masks, OCR words, key fields, entity spans, sound events, `params.<path>`), a card that `datasets` parses
without a warning, `train`/`validation`/`test` splits, and every typed value equal to the manifest's labels."""
from __future__ import annotations

import io
import json
import logging

import datasets
import numpy as np
import pytest
import soundfile as sf

from synth import api
from tests.exporters.conftest import ROOT, current_rows, generated, shapes_recipe
from tests.exporters.test_export_workspace import RECEIPTS

SHAPES = shapes_recipe(4, 64, 48)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict:
    """name -> (manifest rows by sample id, DatasetDict, export folder, summary), one small workspace each."""
    root = tmp_path_factory.mktemp("hf_typed")
    recipes = {"shapes": (SHAPES, None), "receipt": (RECEIPTS, None),
               "digits": (ROOT / "recipes" / "digits.yaml", 4), "intents": (ROOT / "recipes" / "intents.yaml", 6),
               "sound": (ROOT / "recipes" / "sound_events.yaml", 2)}
    out = {}
    datasets.logging.enable_propagation()
    for name, (recipe, count) in recipes.items():
        ws = generated(root, name, recipe, count)
        res = api.export(root / f"hf_{name}", "hf", ws)
        ds = datasets.load_dataset(str(root / f"hf_{name}"), cache_dir=str(root / "cache"))
        out[name] = (current_rows(ws), ds, root / f"hf_{name}", res)
    return out


def _all(ds) -> list[dict]:
    return [r for split in ds for r in ds[split]]


def test_card_yaml_parses_without_warning_and_splits_are_named_for_datasets(exported, tmp_path, caplog) -> None:
    from ruamel.yaml import YAML
    rows, ds, out, _ = exported["shapes"]
    assert set(ds) == {"train", "validation"}
    assert {r["split"] for r in rows.values()} == {"train", "val"}
    card = YAML(typ="safe", pure=True).load((out / "README.md").read_text().split("---\n")[1])
    info = datasets.DatasetInfo._from_yaml_dict(card["dataset_info"])  # raises on a malformed splits field
    assert info.features == ds["train"].features
    assert {s: info.splits[s].num_examples for s in info.splits} == {s: len(ds[s]) for s in ds}
    with caplog.at_level(logging.WARNING):
        datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))
    assert not [r for r in caplog.records if "malformed" in r.getMessage() or "YAML" in r.getMessage()]


def test_objects_masks_and_params_round_trip(exported) -> None:
    rows, ds, _, res = exported["shapes"]
    f = ds["train"].features
    names = sorted({o["class"] for r in rows.values() for o in r["labels"]["objects"]})
    assert f["objects"]["category"] == datasets.List(datasets.ClassLabel(names=names))
    assert f["objects"]["bbox"] == datasets.List(datasets.List(datasets.Value("float32"), length=4))
    assert isinstance(f["mask"], datasets.Image) and isinstance(f["image"], datasets.Image)
    assert f["params.width"] == datasets.Value("int64") and f["params.num_objects"] == datasets.Value("int64")
    assert res["classes"] == names
    for got in _all(ds):
        row = rows[got["sample_id"]]
        objs = [o for o in row["labels"]["objects"] if o.get("box") is not None]
        assert [names[c] for c in got["objects"]["category"]] == [o["class"] for o in objs]
        want = [[x0, y0, x1 - x0, y1 - y0] for x0, y0, x1, y1 in (o["box"] for o in objs)]
        np.testing.assert_allclose(got["objects"]["bbox"], want, rtol=1e-6)
        mask = np.asarray(got["mask"])
        assert mask.shape == (48, 64)
        assert set(np.unique(mask)) - {0} <= set(got["objects"]["instance_id"])
        for iid, area in zip(got["objects"]["instance_id"], got["objects"]["area"]):
            assert area > 0 and iid in [o["instance_id"] for o in objs]
        assert got["params.width"] == 64 and got["params.num_objects"] == row["params"]["num_objects"]
        assert json.loads(got["labels_json"]) == row["labels"]


def test_digits_class_label_and_words(exported) -> None:
    rows, ds, _, _ = exported["digits"]
    f = ds["train"].features
    assert isinstance(f["label"], datasets.ClassLabel) and f["label"].names == ["0", "1", "2", "3"]
    for got in _all(ds):
        labels = rows[got["sample_id"]]["labels"]
        assert f["label"].int2str(got["label"]) == labels["class"]
        assert got["words"]["text"] == [labels["class"]] and got["transcript"] == labels["class"]
        x0, y0, x1, y1 = labels["words"][0]["box"]
        assert got["words"]["quad"] == [[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]]
        assert np.asarray(got["image"]).shape == (28, 28)
        assert isinstance(got["params.pen_width"], float)


def test_receipt_words_quads_and_key_fields(exported) -> None:
    rows, ds, _, _ = exported["receipt"]
    f = ds["train"].features
    assert f["words"]["quad"] == datasets.List(datasets.List(datasets.List(datasets.Value("float32"), length=2),
                                                                        length=4))
    assert set(f["fields"]) == {"store", "date", "total"}
    for got in _all(ds):
        labels = rows[got["sample_id"]]["labels"]
        assert got["words"]["text"] == [w["text"] for w in labels["words"]] and len(labels["words"]) > 20
        np.testing.assert_allclose(got["words"]["quad"], [w["quad"] for w in labels["words"]], rtol=1e-6)
        assert got["fields"] == {k: v["text"] for k, v in labels["fields"].items()}
        assert got["transcript"] == labels["transcript"]
        assert [f["objects"]["category"].feature.int2str(c) for c in got["objects"]["category"]] == ["receipt"]


def test_intents_and_entity_spans(exported) -> None:
    rows, ds, _, _ = exported["intents"]
    f = ds["train"].features
    assert isinstance(f["intent"], datasets.ClassLabel)
    assert isinstance(f["entities"]["label"].feature, datasets.ClassLabel)
    spans_seen = 0
    for got in _all(ds):
        labels = rows[got["sample_id"]]["labels"]
        assert f["intent"].int2str(got["intent"]) == labels["intent"] and got["text"] == labels["text"]
        e = got["entities"]
        spans = [[s, t, f["entities"]["label"].feature.int2str(n)] for s, t, n in zip(e["start"], e["end"], e["label"])]
        assert spans == [list(s[:3]) for s in labels["spans"]]
        spans_seen += len(spans)
    assert spans_seen > 0


def test_sound_events_and_audio(exported) -> None:
    rows, ds, _, _ = exported["sound"]
    f = ds["train"].features
    assert isinstance(f["audio"], datasets.Audio) and isinstance(f["label"], datasets.ClassLabel)
    ev_names = f["events"]["label"].feature
    for split in ds:
        # decoding with datasets 4+ needs torchcodec; the bytes are the clip as written
        for got in ds[split].cast_column("audio", datasets.Audio(decode=False)):
            labels = rows[got["sample_id"]]["labels"]
            assert f["label"].int2str(got["label"]) == labels["class"]
            assert [ev_names.int2str(c) for c in got["events"]["label"]] == [e["class"] for e in labels["events"]]
            np.testing.assert_allclose(got["events"]["onset_s"], [e["onset_s"] for e in labels["events"]], rtol=1e-6)
            clip, rate = sf.read(io.BytesIO(got["audio"]["bytes"]))
            assert rate == labels["sample_rate"] and len(clip) == int(labels["duration_s"] * rate)
