"""Nothing lost, nothing escapes: real processes (`python -m synth.cli`) started together on one
workspace, repeated enough rounds to catch a race that hits 1 run in 20; and a version derived from an
older one never drops what was committed after it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from synth.store.workspace import Workspace
from synth.store.lineage import current_labels
from synth.store.verify import verify

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 10

TINY = """
name: tiny
scene: shapes
count: 3
seed: 5
params: {width: 32, height: 32, num_objects: 1}
split: {train: 0.8, val: 0.1, test: 0.1}
"""


def start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SYNTH_LOCK_TIMEOUT": "60"}
    return subprocess.Popen([sys.executable, "-m", "synth.cli", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def together(*commands: list[str]) -> list[tuple[int, str]]:
    """Start every command at once; (exit code, stdout + stderr) of each."""
    procs = [start(*c) for c in commands]
    out = []
    for p in procs:
        o, e = p.communicate(timeout=120)
        out.append((p.returncode, o + e))
    return out


def images(root: Path, n: int = 3, tag: int = 0) -> Path:
    for c in ("a", "b"):
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            img = np.full((12, 12, 3), 20 * i + (c == "b") * 100 + tag, np.uint8)
            cv2.imwrite(str(root / c / f"{i}.png"), img)
    return root


def import_images(ws_path: str, folder: Path) -> None:
    from synth.data.importer import import_data
    import_data(Workspace.open(ws_path, create=True), "images", str(folder))


def assert_clean(ws_path: str) -> None:
    ws = Workspace.open(ws_path)
    ids = ws.manifest.to_table(columns=["sample_id"]).column("sample_id").to_pylist()
    assert len(ids) == len(set(ids)), "duplicate rows"
    rep = verify(ws)
    assert rep.ok, rep.as_dict()


def ok_or_clear_conflict(code: int, text: str) -> bool:
    """True when the run succeeded; a failure must be exit 2 with a message saying why (no traceback)."""
    if code == 0:
        return True
    assert code == 2 and "Traceback" not in text and ("committed" in text or "lock" in text), text
    return False


def test_two_generates_of_one_recipe_add_each_row_once(tmp_path: Path) -> None:
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(TINY)
    for r in range(ROUNDS):
        ws = str(tmp_path / f"ws{r}")
        results = together(*[["generate", str(recipe), "-w", ws, "-j", "1", "-q"]] * 2)
        for code, text in results:
            assert code == 0, text
        assert_clean(ws)
        assert Workspace.open(ws).manifest.to_table().num_rows == 3


def test_two_imports_of_one_folder_add_each_row_once(tmp_path: Path) -> None:
    folder = images(tmp_path / "real")
    earlier = images(tmp_path / "earlier", tag=5)
    for r in range(ROUNDS):
        ws = str(tmp_path / f"ws{r}")
        import_images(ws, earlier)  # both append to an existing version
        results = together(*[["import", "images", str(folder), "-w", ws, "-q"]] * 2)
        for code, text in results:
            assert code == 0, text
        assert_clean(ws)
        assert Workspace.open(ws).manifest.to_table().num_rows == 12


def test_concurrent_label_corrections_both_land_or_one_fails_clearly(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    import_images(ws, (images(tmp_path / "real")))
    sample = Workspace.open(ws).manifest.to_table(columns=["sample_id"]).column("sample_id")[0].as_py()
    for r in range(ROUNDS):
        results = together(["labels", "correct", sample, "--set", f"first={r}", "-w", ws, "-q"],
                           ["labels", "correct", sample, "--set", f"second={r}", "-w", ws, "-q"])
        landed = [ok_or_clear_conflict(code, text) for code, text in results]
        current = current_labels(Workspace.open(ws)).to_pylist()
        labels = json.loads(next(x["labels"] for x in current if x["sample_id"] == sample))
        for key, did in zip(("first", "second"), landed):
            if did:
                assert labels.get(key) == r, (key, labels, results)
    assert_clean(ws)


def test_ssl_apply_racing_an_import_never_drops_the_import(tmp_path: Path) -> None:
    for r in range(ROUNDS):
        ws = str(tmp_path / f"ws{r}")
        import_images(ws, (images(tmp_path / f"first{r}")))
        more = images(tmp_path / f"more{r}", tag=7)
        results = together(["ssl", "apply", "--task", "rotation", "-w", ws, "-q"],
                           ["import", "images", str(more), "-w", ws, "-q"])
        ssl_done = ok_or_clear_conflict(*results[0])
        import_done = ok_or_clear_conflict(*results[1])
        table = Workspace.open(ws).manifest.to_table()
        assert table.num_rows == (12 if import_done else 6), results
        if ssl_done:  # its labels are on the rows it read, and nothing was dropped
            assert any("ssl.rotation" in p for p in table.column("payloads").to_pylist())
        assert_clean(ws)


def test_ssl_apply_on_an_old_version_keeps_rows_committed_after_it(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    import_images(ws, (images(tmp_path / "first")))
    import_images(ws, (images(tmp_path / "second", tag=9)))
    proc = start("ssl", "apply", "--task", "rotation", "--version", "1", "-w", ws, "--json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    res = json.loads(out.strip().splitlines()[-1])
    assert res["source_version"] == 1 and res["base_version"] == 2 and res["labelled"] == 6
    m = Workspace.open(ws).manifest
    newest = m.to_table()
    assert newest.num_rows == 12  # the 6 rows of version 2 are still there
    first = set(m.to_table(1, columns=["sample_id"]).column("sample_id").to_pylist())
    for sid, payloads in zip(newest.column("sample_id").to_pylist(), newest.column("payloads").to_pylist()):
        assert ("ssl.rotation" in payloads) == (sid in first)
    assert m.version_info(m.resolve(None)).parents == [1, 2]
    assert_clean(ws)


def test_split_refuses_when_another_version_landed_meanwhile(tmp_path: Path, monkeypatch) -> None:
    from synth.data import splits
    from synth.store.commit import ConcurrentCommit

    ws_path = str(tmp_path / "ws")
    import_images(ws_path, (images(tmp_path / "first")))
    ws = Workspace.open(ws_path)
    real_commit = splits.commit

    def import_first(*args, **kwargs):  # another process commits between the read and the commit
        import_images(ws_path, (images(tmp_path / "second", tag=9)))
        return real_commit(*args, **kwargs)
    monkeypatch.setattr(splits, "commit", import_first)
    with pytest.raises(ConcurrentCommit, match="committed while this ran"):
        splits.assign_splits(ws, {"train": 0.5, "test": 0.5})
    assert ws.manifest.to_table().num_rows == 12
