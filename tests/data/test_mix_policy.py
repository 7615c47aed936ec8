"""Test is real-only by default: `synth mix` moves synthetic rows out of test (to train) unless
--allow-synthetic-test, and says so in its summary and its JSON."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from sklearn.datasets import load_digits

from synth import cli
from synth.data.importer import import_data
from synth.store.workspace import Workspace

from tests.conftest import RECIPES


def run(args: list[str], capsys) -> tuple[int, str]:
    try:
        cli.main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.fixture(scope="module")
def digits_ws(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("mix")
    digits = load_digits()
    folder = root / "real"
    for i in range(100):
        cls = folder / str(digits.target[i])
        cls.mkdir(parents=True, exist_ok=True)
        img = (digits.images[i] * 255 / 16).astype(np.uint8)
        cv2.imwrite(str(cls / f"{i}.png"), cv2.resize(img, (28, 28), interpolation=cv2.INTER_NEAREST))
    ws = str(root / "ws")
    import_data(Workspace.open(ws, create=True), "images", str(folder))
    from synth import api
    api.generate(RECIPES / "digits.yaml", ws, count=200, workers=2)
    return ws


def splits_of(ws: str, origin: str) -> dict[str, int]:
    t = Workspace.open(ws).manifest.to_table(columns=["split", "origin"]).to_pylist()
    out: dict[str, int] = {}
    for r in t:
        if r["origin"] == origin:
            out[r["split"]] = out.get(r["split"], 0) + 1
    return out


def test_mix_keeps_test_real_only(digits_ws: str, capsys) -> None:
    before = splits_of(digits_ws, "synthetic")
    assert before.get("test", 0) > 0  # the recipe's own split puts synthetic rows in test
    code, text = run(["mix", "--from", "real", "--from", "synthetic", "-w", digits_ws, "--json"], capsys)
    assert code == 0, text
    res = json.loads(text)
    assert res["real_only"] == ["test"] and res["moved_to_train"] == before["test"]
    after = splits_of(digits_ws, "synthetic")
    assert "test" not in after and after["train"] == before["train"] + before["test"]
    assert splits_of(digits_ws, "real").get("test", 0) > 0  # real rows stay where they were
    assert run(["verify", "-w", digits_ws], capsys)[0] == 0
    code, text = run(["mix", "--from", "real", "--from", "synthetic", "-w", digits_ws], capsys)
    assert f"{before['test']} synthetic rows moved from test to train" not in text  # already moved: none now
    assert code == 0


def test_allow_synthetic_test_keeps_them(digits_ws: str, capsys) -> None:
    code, text = run(["mix", "--from", "real:1", "--from", "synthetic:2", "--allow-synthetic-test", "-w", digits_ws,
                      "--json"], capsys)
    assert code == 0, text
    res = json.loads(text)
    assert res["real_only"] == [] and res["moved_to_train"] == 0
    assert splits_of(digits_ws, "synthetic").get("test", 0) > 0
    code, text = run(["mix", "--from", "real:1", "--from", "synthetic:2", "-w", digits_ws], capsys)
    assert code == 0 and "synthetic rows moved from test to train (test is real-only)" in text, text
