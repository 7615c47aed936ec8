"""`synth sample`: a table recipe straight to a file, no workspace; the bytes equal what `synth generate`
+ `synth export --single-file` write (same seeds, same order, same writer)."""
from __future__ import annotations

import pandas as pd
import pytest
from ruamel.yaml import YAML

from tests.table.test_cli_table import ROOT, synth


@pytest.fixture(scope="module")
def small_recipe(tmp_path_factory) -> str:
    """The wine twin in blocks of 40 rows, with train/val/test splits (export orders rows by split)."""
    data = YAML(typ="safe").load((ROOT / "recipes" / "wine_twin.yaml").read_text())
    data["params"]["rows_per_sample"] = 40
    data["split"] = {"train": 0.6, "val": 0.2, "test": 0.2}
    path = tmp_path_factory.mktemp("sample") / "wine_small.yaml"
    YAML().dump(data, path)
    return str(path)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_sample_bytes_equal_generate_then_export(small_recipe, tmp_path, capsys, fmt):
    out = tmp_path / f"s.{fmt}"
    code, text, err = synth("sample", small_recipe, "-n", 200, "-o", out, capsys=capsys)
    assert code == 0, err
    assert "200 rows" in text and "5 blocks" in text
    ws = tmp_path / "ws"
    assert synth("generate", small_recipe, "-w", ws, "-n", 5, "-q", capsys=capsys)[0] == 0
    exported = tmp_path / f"e.{fmt}"
    code, _, err = synth("export", exported, "--format", fmt, "-w", ws, "--single-file", capsys=capsys)
    assert code == 0, err
    assert out.read_bytes() == exported.read_bytes()
    frame = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    assert len(frame) == 200 and "alcohol" in frame.columns


def test_sample_rows_not_a_whole_number_of_blocks_is_the_prefix(small_recipe, tmp_path, capsys):
    assert synth("sample", small_recipe, "-n", 120, "-o", tmp_path / "a.csv", capsys=capsys)[0] == 0
    assert synth("sample", small_recipe, "-n", 95, "-o", tmp_path / "b.csv", "--json", capsys=capsys)[0] == 0
    whole, part = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert len(part) == 95
    pd.testing.assert_frame_equal(part, whole.head(95))


def test_sample_bad_inputs_exit_2(small_recipe, tmp_path, capsys):
    code, _, err = synth("sample", small_recipe, "-n", 10, "-o", tmp_path / "x.json", capsys=capsys)
    assert code == 2 and ".csv or .parquet" in err and not (tmp_path / "x.json").exists()
    code, _, err = synth("sample", ROOT / "recipes" / "no_such.yaml", "-n", 10, "-o", tmp_path / "x.csv",
                         capsys=capsys)
    assert code == 2 and not (tmp_path / "x.csv").exists()
