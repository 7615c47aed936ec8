"""The table and audio commands through `synth.cli.main` (the entry point users run, in process so the suite
stays fast): export-table and report on a generated workspace, and every bad input the issue names ends with
exit code 2 and one clean `error:` line."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from synth import api
from synth.cli import main

ROOT = Path(__file__).resolve().parents[2]
WINE = ROOT / "recipes" / "data" / "wine.csv"


def synth(*args: str, capsys) -> tuple[int, str, str]:
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def wine_ws(tmp_path_factory) -> str:
    """A workspace holding the wine twin (one 178-row block, target declared by `synth fit --target`)."""
    root = str(tmp_path_factory.mktemp("wine") / "ws")
    api.generate(ROOT / "recipes" / "wine_twin.yaml", root, count=2, workers=1)
    return root


def test_export_table_writes_every_block(wine_ws, tmp_path, capsys):
    code, out, err = synth("export-table", "-w", wine_ws, "-o", tmp_path / "t.csv", capsys=capsys)
    assert code == 0, err
    frame = pd.read_csv(tmp_path / "t.csv")
    assert len(frame) == 2 * 178 and list(frame.columns) == list(pd.read_csv(WINE).columns)
    assert "356 rows x 14 columns" in out
    code, _, err = synth("export-table", "-w", wine_ws, "--version", "1", "-o", tmp_path / "t.parquet", capsys=capsys)
    assert code == 0, err
    assert pd.read_parquet(tmp_path / "t.parquet").equals(frame.astype(pd.read_parquet(tmp_path / "t.parquet").dtypes))


def test_report_reads_the_blocks_and_the_declared_target(wine_ws, tmp_path, capsys):
    code, out, err = synth("report", "table", "--real", WINE, "-w", wine_ws, "-o", tmp_path / "rep", capsys=capsys)
    assert code == 0, err
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["rows"]["synthetic_scored"] == 356
    assert report["ml_efficacy"]["target"] == "target"  # not passed: read from the blocks' labels
    assert report["column_shapes"]["score"] > 0.8 and "train-real" in out


def test_export_table_bad_inputs(wine_ws, tmp_path, capsys):
    for args, message in [(["-o", tmp_path / "t.txt"], "must end in .csv or .parquet"),
                          (["--version", "99", "-o", tmp_path / "t.csv"], "99"),
                          (["--recipe", "nope", "-o", tmp_path / "t.csv"], "holds no table blocks of recipe 'nope'")]:
        code, _, err = synth("export-table", "-w", wine_ws, *args, capsys=capsys)
        assert code == 2 and message in err, err
        assert_one_clean_line(err)


def test_export_table_of_a_version_without_tables(tmp_path, capsys):
    (tmp_path / "r.yaml").write_text("name: s\nscene: shapes\ncount: 1\nparams: {width: 32, height: 32}\n")
    api.generate(tmp_path / "r.yaml", str(tmp_path / "ws"), workers=1)
    code, _, err = synth("export-table", "-w", tmp_path / "ws", "-o", tmp_path / "t.csv", capsys=capsys)
    assert code == 2 and "holds no table blocks" in err
    assert_one_clean_line(err)


def assert_one_clean_line(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err


TABLE = "name: bad\nscene: table\ncount: 2\nparams:\n  rows_per_sample: 10\n  columns:\n"
SOUND = "name: bad\nscene: soundscape\ncount: 2\nparams:\n"
BAD_RECIPES = {
    "event longer than the clip": (SOUND + "  duration_s: 1.0\n  tone: {weight: 1, duration_s: 2.5}\n",
                                   "longer than the clip"),
    "SNR as text": (SOUND + "  events: {snr_db: loud}\n", "events.snr_db must be a number"),
    "sample rate 0": (SOUND + "  sample_rate: 0\n", "sample_rate"),
    "correlation not PSD": (TABLE + "    a: {type: numeric}\n    b: {type: numeric}\n    c: {type: numeric}\n"
                                    "  correlation: [[a, b, 0.9], [a, c, 0.9], [b, c, -0.9]]\n",
                            "not positive semi-definite"),
    "correlation with an unknown column": (TABLE + "    a: {type: numeric}\n    b: {type: numeric}\n"
                                                   "  correlation: [[a, bb, 0.5]]\n",
                                           "correlation names column 'bb' (did you mean 'b'?)"),
    "expression that fails to parse": (TABLE + "    a: {type: numeric}\n    d: {type: derived, expr: \"a * (2 +\"}\n",
                                       "does not parse"),
    "expression naming an unknown column": (TABLE + "    a: {type: numeric}\n"
                                                    "    d: {type: derived, expr: \"a + income\"}\n",
                                            "names unknown column 'income'"),
    "target naming no column": (TABLE + "    a: {type: numeric}\n  target: {name: churn}\n",
                                "target 'churn' has no rule or logistic model and is not a declared column"),
}


@pytest.mark.parametrize("case", list(BAD_RECIPES))
def test_bad_recipe_exits_2_with_one_line(case, tmp_path, capsys):
    text, message = BAD_RECIPES[case]
    (tmp_path / "bad.yaml").write_text(text)
    code, out, err = synth("validate", tmp_path / "bad.yaml", capsys=capsys)
    assert code == 2 and message in err, err
    assert str(tmp_path / "bad.yaml") in err  # names the file
    assert_one_clean_line(err)
    code, _, err = synth("generate", tmp_path / "bad.yaml", "-w", tmp_path / "ws", "-q", capsys=capsys)
    assert code == 2 and message in err
    assert not (tmp_path / "ws").exists() or not api.log(str(tmp_path / "ws"))


BAD_CSVS = {
    "no rows": ("a,b\n", "the table has no rows"),
    "a column of all nulls": ("a,b\n1,\n2,\n3,\n", "column 'b' is all nulls"),
    "one row": ("a,b\n1,2\n", "fitting needs at least 2"),
    "not a table": ("", "cannot read the table"),
}


@pytest.mark.parametrize("case", list(BAD_CSVS))
def test_fit_bad_csv_exits_2_with_one_line(case, tmp_path, capsys):
    text, message = BAD_CSVS[case]
    (tmp_path / "real.csv").write_text(text)
    code, _, err = synth("fit", tmp_path / "real.csv", "-o", tmp_path / "out.yaml", capsys=capsys)
    assert code == 2 and message in err, err
    assert_one_clean_line(err)
    assert not (tmp_path / "out.yaml").exists()


def test_fit_unknown_target_and_missing_file(tmp_path, capsys):
    code, _, err = synth("fit", WINE, "-o", tmp_path / "o.yaml", "--target", "targte", capsys=capsys)
    assert code == 2 and "did you mean 'target'?" in err
    assert_one_clean_line(err)
    code, _, err = synth("fit", tmp_path / "nope.csv", "-o", tmp_path / "o.yaml", capsys=capsys)
    assert code == 2 and "no such file" in err
    assert_one_clean_line(err)
