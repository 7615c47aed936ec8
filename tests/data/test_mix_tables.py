"""`synth mix --ratio` between an imported table (one row per sample) and a generated one (a block of rows
per sample) weighs table rows, and refuses a ratio it cannot meet instead of silently taking nothing."""
from __future__ import annotations

from pathlib import Path

import pytest

from synth import api
from synth.errors import SynthError


@pytest.fixture()
def ws(tmp_path: Path) -> Path:
    recipe = tmp_path / "t.yaml"
    recipe.write_text("name: t\nscene: table\ncount: 4\nseed: 1\nparams:\n  rows_per_sample: 10\n"
                      "  columns:\n    x: {type: numeric, dist: uniform, params: {loc: 0, scale: 1}}\n")
    api.generate(recipe, tmp_path / "ws", workers=1)
    (tmp_path / "real.csv").write_text("x\n" + "\n".join(str(i / 100) for i in range(30)) + "\n")
    api.import_table(tmp_path / "real.csv", tmp_path / "ws")
    return tmp_path / "ws"


def test_ratio_counts_table_rows_not_samples(ws: Path) -> None:
    # 30 real rows, 4 synthetic blocks of 10 rows: real=1,synthetic=1 is 30 real rows and 3 blocks
    res = api.mix(["real:2", "synthetic:1"], ws, ratio="real=1,synthetic=1")
    assert res.taken == {"real": 30, "synthetic": 3} and res.table_rows == {"real": 30, "synthetic": 30}
    res = api.mix(["real:2", "synthetic:1"], ws, ratio="real=3,synthetic=1")
    assert res.table_rows == {"real": 30, "synthetic": 10} and res.taken == {"real": 30, "synthetic": 1}
    res = api.mix(["real:2", "synthetic:1"], ws, ratio="real=1,synthetic=1", max_rows=20)
    assert res.table_rows == {"real": 10, "synthetic": 10}
    rows = api.query("SELECT origin, count(*) AS n FROM manifest GROUP BY 1", ws, version=res.version).to_pylist()
    assert {r["origin"]: r["n"] for r in rows} == {"real": 10, "synthetic": 1}


def test_a_ratio_blocks_cannot_meet_is_refused_with_the_closest_mix(ws: Path) -> None:
    # real=30,synthetic=1 asks for 1 synthetic row per 30 real: one block is 10 rows, 10x too many
    with pytest.raises(SynthError, match=r"blocks of 10.*closest mix is real=30, synthetic=10 rows"):
        api.mix(["real:2", "synthetic:1"], ws, ratio="real=30,synthetic=1")


def test_a_weighted_source_that_would_get_nothing_is_refused(tmp_path: Path) -> None:
    recipe = tmp_path / "t.yaml"
    recipe.write_text("name: t\nscene: table\ncount: 2\nseed: 1\nparams:\n  rows_per_sample: 1\n"
                      "  columns:\n    x: {type: numeric, dist: uniform, params: {loc: 0, scale: 1}}\n")
    api.generate(recipe, tmp_path / "ws", workers=1)
    (tmp_path / "real.csv").write_text("x\n1\n2\n3\n")
    api.import_table(tmp_path / "real.csv", tmp_path / "ws")
    with pytest.raises(SynthError, match="would take nothing from real"):
        api.mix(["real:2", "synthetic:1"], tmp_path / "ws", ratio="real=1,synthetic=3")
