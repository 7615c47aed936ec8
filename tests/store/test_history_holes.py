"""A lost version file must not let the next commit reuse its number (a tag would then name other
data): commits refuse, `synth verify` names the hole, `synth verify --repair` is the way out. A blob
whose bytes no longer match its hash is named by verify (every sample using it) and refused by export."""
from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from synth import cli
from synth.data.importer import import_data
from synth.errors import SynthError
from synth.store.history import HistoryHole
from synth.store.payloads import blob_getter
from synth.store.workspace import Workspace


def run(args: list[str], capsys) -> tuple[int, str]:
    try:
        cli.main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def images(root: Path, tag: int) -> Path:
    (root / "a").mkdir(parents=True)
    for i in range(3):
        cv2.imwrite(str(root / "a" / f"{i}.png"), np.full((8, 8, 3), 30 * i + tag, np.uint8))
    return root


def newest_version_file(ws_path: str) -> Path:
    files = [p for p in (Path(ws_path) / "manifest.lance" / "_versions").iterdir() if p.suffix == ".manifest"]
    return max(files, key=lambda p: p.stat().st_mtime_ns)


def test_a_lost_version_file_stops_commits_until_repaired(tmp_path: Path, capsys) -> None:
    ws_path = str(tmp_path / "ws")
    ws = Workspace.open(ws_path, create=True)
    import_data(ws, "images", str(images(tmp_path / "one", 0)))
    import_data(ws, "images", str(images(tmp_path / "two", 7)))
    assert run(["tag", "two", "2", "-w", ws_path, "-q"], capsys)[0] == 0
    newest_version_file(ws_path).unlink()  # version 2 is gone; Lance now thinks 1 is the newest

    code, text = run(["import", "images", str(images(tmp_path / "three", 13)), "-w", ws_path], capsys)
    assert code == 2 and "version(s) 2" in text and "verify --repair" in text, text
    with pytest.raises(HistoryHole):
        import_data(Workspace.open(ws_path), "images", str(tmp_path / "three"))
    assert Workspace.open(ws_path).manifest.latest_version() == 1  # nothing was committed

    code, text = run(["verify", "-w", ws_path], capsys)
    assert code == 1 and "missing from the manifest" in text, text

    code, text = run(["verify", "--repair", "-w", ws_path, "--json"], capsys)
    rep = json.loads(text)
    assert code == 0 and rep["repaired"]["lost_versions"] == [2] and rep["repaired"]["tags_deleted"] == {"two": 2}
    assert list((Path(ws_path) / "history" / "lost").iterdir())

    code, text = run(["import", "images", str(tmp_path / "three"), "-w", ws_path, "-q"], capsys)
    assert code == 0, text
    ws = Workspace.open(ws_path)
    assert ws.manifest.latest_version() == 2 and "two" not in ws.manifest._dataset().tags.list()
    assert run(["verify", "-w", ws_path], capsys)[0] == 0


def test_a_corrupt_blob_is_named_by_verify_and_refused_by_export(tmp_path: Path, capsys) -> None:
    ws_path = str(tmp_path / "ws")
    root = images(tmp_path / "one", 0)
    (root / "b").mkdir()
    cv2.imwrite(str(root / "b" / "0.png"), np.full((8, 8, 3), 0, np.uint8))  # the same bytes as a/0.png
    ws = Workspace.open(ws_path, create=True)
    import_data(ws, "images", str(root))
    table = ws.manifest.to_table()
    by_hash: dict[str, list[str]] = {}
    for sid, p in zip(table.column("sample_id").to_pylist(), table.column("payloads").to_pylist()):
        by_hash.setdefault(json.loads(p)["image"]["hash"], []).append(sid)
    digest = next(iter(by_hash))
    path = Path(ws.store.path(digest))
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")

    code, text = run(["verify", "-w", ws_path, "--json"], capsys)
    rep = json.loads(text)
    assert code == 1 and [c["hash"] for c in rep["corrupt"]] == [digest]
    assert sorted(rep["corrupt"][0]["sample_ids"]) == sorted(by_hash[digest])
    code, text = run(["verify", "-w", ws_path], capsys)
    assert all(sid in text for sid in by_hash[digest]), text

    get = blob_getter(ws, table)
    with pytest.raises(SynthError, match=f"blob {digest} of sample .* is corrupt"):
        get(digest)
    other = next(h for h in by_hash if h != digest)
    assert get(other) == Path(ws.store.path(other)).read_bytes()
