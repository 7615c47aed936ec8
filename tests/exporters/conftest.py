"""Shared by the export tests: `synth ARGS` run in this process, small generated workspaces and their
manifest rows with labels and params parsed."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from synth import api
from synth.cli import main
from synth.store.lineage import current_table


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """`synth ARGS` in this process (as the console script runs it): (exit code, stdout, stderr)."""
    def run(*args: str, cwd: Path) -> SimpleNamespace:
        monkeypatch.chdir(cwd)
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code
        out, err = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out, stderr=err)
    return run


ROOT = Path(__file__).resolve().parents[2]


def shapes_recipe(count: int, width: int, height: int, seed: int = 3) -> str:
    """A small shapes recipe (1-3 objects) split train/val."""
    return (f"name: shapes_small\nscene: shapes\ncount: {count}\nseed: {seed}\nparams:\n  width: {width}\n"
            f"  height: {height}\n  num_objects: {{randint: [1, 4]}}\nsplit: {{train: 0.7, val: 0.3}}\n")


def generated(root: Path, name: str, recipe: str | Path, count: int | None = None) -> str:
    """A workspace `root/ws_<name>` generated from `recipe` (a path, or YAML text written to a file)."""
    if isinstance(recipe, str) and "\n" in recipe:
        (root / f"{name}.yaml").write_text(recipe)
        recipe = root / f"{name}.yaml"
    ws = str(root / f"ws_{name}")
    api.generate(recipe, workspace=ws, count=count, workers=1)
    return ws


def current_rows(ws: str) -> dict[str, dict]:
    """The latest version's rows (current labels) by sample id; labels, params and payloads parsed."""
    w = api.open_workspace(ws)
    rows = {r["sample_id"]: r for r in current_table(w, w.manifest.resolve(None)).to_pylist()}
    for r in rows.values():
        for k in ("labels", "params", "payloads"):
            r[k] = json.loads(r[k]) if isinstance(r[k], str) else (r[k] or {})
    return rows
