"""One verb per job and the same flags everywhere: one `export` for every modality, `-q/--quiet` and
`--json` on every command that writes, and a generate summary that counts table rows."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from synth.cli import _register_modules, cli

ROOT = Path(__file__).resolve().parents[2]
WRITERS = ["generate", "export", "preview", "fit", "mix", "split", "tag", "sweep run", "report card",
           "import images", "import coco", "import table", "import text", "import audio",
           "labels correct", "labels import", "ssl apply", "tune", "similar", "label-issues",
           "predictions import", "slices", "focus", "report table", "init"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


def _command(path: str) -> click.Command:
    _register_modules()
    cmd: click.Command = cli
    for part in path.split():
        cmd = cmd.commands[part]  # type: ignore[attr-defined]
    return cmd


@pytest.mark.parametrize("path", WRITERS)
def test_every_writing_command_takes_quiet_and_json(path: str) -> None:
    opts = {o for p in _command(path).params for o in getattr(p, "opts", [])}
    assert {"-q", "--quiet", "--json"} <= opts, f"synth {path}: {sorted(opts)}"


def test_help_lists_one_export_and_hides_the_old_spellings() -> None:
    out = run("--help", cwd=ROOT).stdout
    names = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()]
    assert "export" in names and "export-table" not in names and "export-text" not in names


def test_export_csv_writes_a_generated_table_and_generate_counts_its_rows(tmp_path: Path) -> None:
    recipe = tmp_path / "t.yaml"
    recipe.write_text("name: t\nscene: table\ncount: 4\nseed: 1\nparams:\n  rows_per_sample: 25\n"
                      "  columns:\n    x: {type: numeric, dist: uniform, params: {loc: 0, scale: 1}}\n"
                      "    c: {type: categorical, values: {a: 0.5, b: 0.5}}\n")
    gen = run("generate", str(recipe), "-w", "ws", "-j", "1", cwd=tmp_path)
    assert gen.returncode == 0, gen.stderr
    assert "100 table rows in blocks of 25" in gen.stdout
    js = json.loads(run("generate", str(recipe), "-w", "ws2", "-j", "1", "--json", cwd=tmp_path).stdout)
    assert js["table_rows"] == 100 and js["new_rows"] == 4
    exp = run("export", "out", "--format", "csv", "-w", "ws", "--json", cwd=tmp_path)
    assert exp.returncode == 0, exp.stderr
    res = json.loads(exp.stdout)
    assert res["kind"] == "table" and sum(res["splits"].values()) == 100
    rows = [r for f in res["files"] for r in csv.DictReader((tmp_path / f).open())]
    assert len(rows) == 100 and set(rows[0]) == {"x", "c"}
    quiet = run("export", "out2", "--format", "parquet", "-w", "ws", "-q", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == ""
    assert list((tmp_path / "out2").glob("*.parquet"))


def test_old_spellings_still_work_and_say_they_are_deprecated(tmp_path: Path) -> None:
    recipe = tmp_path / "t.yaml"
    recipe.write_text("name: t\nscene: table\ncount: 2\nparams:\n  rows_per_sample: 10\n"
                      "  columns:\n    x: {type: numeric, dist: uniform, params: {loc: 0, scale: 1}}\n")
    assert run("generate", str(recipe), "-w", "ws", "-j", "1", "-q", cwd=tmp_path).returncode == 0
    old = run("export-table", "-w", "ws", "-o", "t.csv", cwd=tmp_path)
    assert old.returncode == 0 and "deprecated" in old.stderr and "20 rows" in old.stdout
    assert len(list(csv.DictReader((tmp_path / "t.csv").open()))) == 20


def test_version_flag_prints_the_package_version() -> None:
    from synth import __version__
    out = run("--version", cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == f"synth {__version__}"


def test_validate_json_puts_errors_in_the_json_and_nothing_on_stderr(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nscene: shapes\ncount: -3\n")
    good = tmp_path / "good.yaml"
    good.write_text("name: good\nscene: shapes\ncount: 2\n")
    res = run("validate", str(good), str(bad), "--json", cwd=tmp_path)
    assert res.returncode != 0 and res.stderr == ""
    items = json.loads(res.stdout)
    items = items if isinstance(items, list) else items["recipes"]
    by = {Path(i["recipe"]).name: i for i in items}
    assert by["good.yaml"]["ok"] is True
    assert by["bad.yaml"]["ok"] is False and "count" in (by["bad.yaml"]["field"] or by["bad.yaml"]["message"])


def test_split_check_passes_on_a_synthetic_only_workspace_and_names_the_fix_once_real_rows_exist(
        tmp_path: Path) -> None:
    recipe = tmp_path / "t.yaml"
    recipe.write_text("name: t\nscene: table\ncount: 20\nseed: 3\nsplit: {train: 0.5, test: 0.5}\nparams:\n"
                      "  rows_per_sample: 2\n  columns:\n    x: {type: numeric, dist: uniform, params: {loc: 0, scale: 1}}\n")
    assert run("generate", str(recipe), "-w", "ws", "-j", "1", "-q", cwd=tmp_path).returncode == 0
    ok = run("split", "--check", "-w", "ws", "--json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["ok"] is True and json.loads(ok.stdout)["real_rows"] == 0
    # with real rows, synthetic rows in `test` break the rule, and the message says how to satisfy it
    (tmp_path / "real.csv").write_text("x\n" + "\n".join(str(i / 10) for i in range(10)) + "\n")
    assert run("import", "table", "real.csv", "-w", "ws", "-q", cwd=tmp_path).returncode == 0
    bad = run("split", "--check", "-w", "ws", cwd=tmp_path)
    assert bad.returncode == 1 and "to fix: run `synth split`" in bad.stdout


def test_scenes_shows_literal_values_and_whole_first_sentences() -> None:
    from synth import api
    from synth.recipe.introspect import summary_line
    tabletop = {p["path"]: p for s in api.scenes() if s["name"] == "receipt" for p in s["params"]}
    literal = [p for p in tabletop.values() if p["allowed"]]
    assert literal and all(p["type"] == "Literal" or "Literal" in p["type"] for p in literal)
    out = run("scenes", cwd=ROOT).stdout
    assert "{wood | marble | fabric | paper | noise | plain}" in out
    assert ("later objects occlude earlier ones and the image border clips them." in out)
    assert summary_line("A line that\nwraps, e.g. here. Second sentence.\n\nMore.") == "A line that wraps, e.g. here."


def test_preview_caption_says_one_object_not_one_objects() -> None:
    from synth.report.preview import _summary
    assert _summary({"objects": [{"class": "star"}]})[0] == "1 object:"
    assert _summary({"objects": [{"class": "star"}, {"class": "star"}]}) == ["2 objects:", "star x2"]


def test_report_table_json_is_the_whole_report(tmp_path: Path) -> None:
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    frame.iloc[::2].to_csv(tmp_path / "real.csv", index=False)
    frame.iloc[1::2].to_csv(tmp_path / "other.csv", index=False)  # a "synthetic" table: other real rows
    res = run("report", "table", "--real", "real.csv", "--synthetic", "other.csv", "--target", "target",
              "--draws", "1", "-o", "rep", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)  # one object, nothing else on stdout
    assert {**json.loads((tmp_path / "rep" / "report.json").read_text()), "files": report["files"]} == report
    assert 0.5 < report["column_shapes"]["score"] <= 1 and report["privacy"]["exact_copies"]["rate"] == 0
