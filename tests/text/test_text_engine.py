"""The text recipes through the real engine: same fingerprint and bytes with 1 and 2 worker processes,
`synth export-text` on a generated workspace read back by `datasets`, and the CLI's bad-input exits."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from datasets import load_dataset

from synth import api
from synth.cli import main

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "SYNTH_WORKSPACE": str(cwd / "ws")})


def rows_and_blobs(root: str) -> dict[int, tuple[str, dict[str, bytes]]]:
    ws = api.open_workspace(root)
    table = ws.manifest.to_table(columns=["index", "labels", "payloads"])
    out = {}
    for index, labels, payloads in zip(*(table.column(c).to_pylist() for c in ("index", "labels", "payloads"))):
        blobs = {name: ws.store.get(p["hash"]) if "hash" in p else p["value"].encode()
                 for name, p in json.loads(payloads).items()}
        out[index] = (labels, blobs)
    return out


@pytest.mark.parametrize("recipe, count", [("ocr_words", 6), ("intents", 12), ("digits", 8)])
def test_recipe_gives_the_same_data_with_one_and_two_worker_processes(tmp_path, recipe, count):
    path = ROOT / "recipes" / f"{recipe}.yaml"
    one = api.generate(path, str(tmp_path / "w1"), count=count, workers=1)
    two = api.generate(path, str(tmp_path / "w2"), count=count, workers=2)
    assert one.rows == two.rows == count
    assert one.fingerprint == two.fingerprint
    a, b = rows_and_blobs(str(tmp_path / "w1")), rows_and_blobs(str(tmp_path / "w2"))
    assert a == b and len(a) == count


def test_export_text_cli_on_a_generated_workspace_loads_with_datasets(tmp_path):
    result = api.generate(ROOT / "recipes" / "intents.yaml", str(tmp_path / "ws"), count=20, workers=1)
    proc = run_cli("export-text", str(tmp_path / "ws"), str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    files = {Path(line).name for line in proc.stdout.split()}
    assert "train.parquet" in files and "train.jsonl" in files
    data_files = {Path(f).stem: str(tmp_path / "out" / f) for f in files if f.endswith(".parquet")}
    ds = load_dataset("parquet", data_files=data_files)
    assert sum(ds[split].num_rows for split in ds) == result.rows == 20
    manifest = api.open_workspace(str(tmp_path / "ws")).manifest.to_table(columns=["sample_id", "labels"])
    labels = {sid: json.loads(raw) for sid, raw in zip(*(manifest.column(c).to_pylist() for c in ("sample_id", "labels")))}
    for split in ds:
        for row in ds[split]:
            assert row["text"] == labels[row["id"]]["text"]
            assert [[e["start"], e["end"], e["label"]] for e in row["entities"]] == labels[row["id"]]["spans"]
            for ent in row["entities"]:
                piece = row["text"][ent["start"]:ent["end"]]
                assert piece and piece == piece.strip()


UTTERANCES = """name: u
scene: utterances
count: 2
params:
  intents:
    go: ["{template}"]
  slots:
    city: {{{slot}}}
"""
TEXT_LINE = """name: t
scene: text_line
count: 2
params:
{params}
"""
BAD = [
    ("missing glyphs", TEXT_LINE.format(params='  font: Roboto-Regular\n  text.kind: random\n  text.charset: "ab中"'),
     ["no glyph for '中'", "Roboto-Regular"]),
    ("unknown language", TEXT_LINE.format(params="  text.language: xx"), ["unknown language 'xx'", "en, es"]),
    ("empty word list", TEXT_LINE.format(params="  text.kind: wordlist\n  text.wordlist: empty.txt"),
     ["word list 'empty.txt' is empty"]),
    ("undefined slot", UTTERANCES.format(template="go to {to:town}", slot="faker: city"),
     ["undefined slot 'town'", "defined slots: city"]),
    ("unbalanced braces", UTTERANCES.format(template="go to {to:city", slot="faker: city"), ["'{' is never closed"]),
    ("unbalanced brackets", UTTERANCES.format(template="go to] {city}", slot="faker: city"), ["unbalanced ']'"]),
    ("unknown Faker provider", UTTERANCES.format(template="go to {to:city}", slot="faker: citty"),
     ["unknown Faker provider 'citty'", "did you mean 'city'"]),
]


@pytest.mark.parametrize("label, text, expected", BAD, ids=[b[0] for b in BAD])
def test_bad_text_input_is_one_clear_line_and_exit_code_2(tmp_path, monkeypatch, capsys, label, text, expected):
    # in-process through synth.cli.main, the console entry point (a subprocess per case costs seconds)
    (tmp_path / "recipe.yaml").write_text(text)
    (tmp_path / "empty.txt").write_text("\n  \n")
    monkeypatch.chdir(tmp_path)
    for command in (["validate", "recipe.yaml"], ["generate", "recipe.yaml", "-q", "-w", str(tmp_path / "ws")]):
        with pytest.raises(SystemExit) as exit_info:
            main(command)
        assert exit_info.value.code == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), lines
        for part in expected:
            assert part in lines[0], lines[0]
    assert not (tmp_path / "ws").exists()
