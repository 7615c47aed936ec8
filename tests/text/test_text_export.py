"""Text export: JSONL and Parquet of utterances, read back by Hugging Face `datasets`."""
from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from datasets import load_dataset

from scenes.utterances import UtterancesParams, UtterancesScene
from synth.errors import SynthError
from synth.exporters.text import export_table


def _manifest(n: int = 12) -> pa.Table:
    scene = UtterancesScene()
    params = UtterancesParams(intents={"weather": ["weather in {city} [on {date:date}]"], "greet": ["hi (there|you)"]},
                              slots={"city": {"faker": "city"}, "date": {"faker": "date"}},
                              noise={"augmenters": ["keyboard", "word_swap"]})
    rows = []
    for i in range(n):
        smp = scene.render(params, np.random.default_rng(i))
        rows.append({"sample_id": f"s{i:03d}", "labels": smp.labels_json(), "split": "train" if i % 4 else "test"})
    return pa.Table.from_pylist(rows)


def test_parquet_and_jsonl_load_with_datasets_and_keep_spans(tmp_path):
    table = _manifest()
    export_table(table, tmp_path)
    ds = load_dataset("parquet", data_files={"train": str(tmp_path / "train.parquet"),
                                             "test": str(tmp_path / "test.parquet")})
    assert ds["train"].num_rows == 9 and ds["test"].num_rows == 3
    for row in ds["train"]:
        for ent in row["entities"]:
            assert row["text"][ent["start"]:ent["end"]] and ent["label"] in {"city", "date"}
    jl = load_dataset("json", data_files=str(tmp_path / "train.jsonl"))["train"]
    assert jl["text"] == ds["train"]["text"]
    original = {r["sample_id"]: json.loads(r["labels"]) for r in table.to_pylist()}
    for row in jl:
        assert [list(e) for e in row["entities"]] == original[row["id"]]["spans"]


def test_manifest_without_utterances_is_a_clear_error(tmp_path):
    table = pa.Table.from_pylist([{"sample_id": "a", "labels": json.dumps({"transcript": "x"})}])
    with pytest.raises(SynthError, match="no utterance rows"):
        export_table(table, tmp_path)
