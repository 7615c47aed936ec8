"""`synth.api` has every CLI verb (`synth import table` is `api.import_table`) and every `api.X` the README
names; a few run end to end against a real workspace."""
from __future__ import annotations

import re
from pathlib import Path

import click

from synth import api
from synth.cli import _register_modules, cli

ROOT = Path(__file__).resolve().parents[1]
DEPRECATED = {"export-table", "export-text", "export-audio"}  # hidden old spellings


def _verbs(cmd: click.Command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(cmd, click.Group):
        return [v for n, c in cmd.commands.items() if not c.hidden and n not in DEPRECATED
                for v in _verbs(c, prefix + (n,))]
    return [prefix]


def test_every_cli_verb_is_an_api_function() -> None:
    _register_modules()
    verbs = _verbs(cli)
    assert len(verbs) > 30
    missing = ["synth " + " ".join(v) for v in verbs if not callable(getattr(api, "_".join(v).replace("-", "_"), None))]
    assert missing == []


def test_every_api_name_the_readme_uses_exists() -> None:
    names = set(re.findall(r"\bapi\.([a-z_]+)\(", (ROOT / "README.md").read_text()))
    for verb in ("import_images", "import_table", "mix", "split", "export", "report", "ssl", "fit", "gap"):
        assert callable(getattr(api, verb)), verb
    assert names and [n for n in names if not callable(getattr(api, n, None))] == []


def test_import_mix_and_split_through_the_api(tmp_path: Path) -> None:
    recipe = tmp_path / "t.yaml"
    recipe.write_text("name: t\nscene: table\ncount: 6\nseed: 1\nparams:\n  rows_per_sample: 1\n"
                      "  columns:\n    x: {type: numeric, dist: uniform, params: {loc: 0, scale: 1}}\n")
    ws = tmp_path / "ws"
    gen = api.generate(recipe, ws, count=6, workers=1)
    (tmp_path / "real.csv").write_text("x\n" + "\n".join(str(i) for i in range(8)) + "\n")
    imp = api.import_table(tmp_path / "real.csv", ws)
    assert imp.added == 8 and imp.version == gen.version + 1
    assert api.tag("synthetic", gen.version, ws) == gen.version and api.tag("real", imp.version, ws) == imp.version
    mixed = api.mix(["real:real", "synthetic:synthetic"], ws, ratio="real=1,synthetic=1")
    rows = api.query("SELECT origin, count(*) AS n FROM manifest GROUP BY 1", ws, version=mixed.version).to_pylist()
    counts = {r["origin"]: r["n"] for r in rows}
    assert counts == {"real": 6, "synthetic": 6}
    res = api.split(ws, fractions="train=0.5,test=0.5")
    check = api.check_splits(ws, res.version if hasattr(res, "version") else None)
    assert check.ok and check.real_rows == 6
