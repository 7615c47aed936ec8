"""The user's own feature function (`--features module:function` or `file.py:function`) for `synth gap` and
`synth tune`: loaded by name from the command line, applied to every sample, its failures named."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from synth.errors import SynthError
from synth.loop import gap
from synth.loop.features import load_feature_function
from synth.store.workspace import Workspace
from tests.loop.conftest import add_synthetic, draw

FEATURES = """import numpy as np

def brightness(image):
    grey = np.asarray(image, dtype=float)
    return [grey.mean(), grey.std(), grey.max()]

def ragged(image):
    return [0.0] * (1 + int(np.asarray(image).mean()) % 3)

def broken(image):
    raise ValueError("no model weights here")
"""


@pytest.fixture
def module(tmp_path: Path) -> Path:
    path = tmp_path / "my_features.py"
    path.write_text(FEATURES)
    return path


def test_a_file_function_is_the_gap_features_and_finds_a_planted_shift(ws: Workspace, add_real, module: Path,
                                                                        tmp_path: Path) -> None:
    real = add_real(ws, draw(1, 40)[0])
    same = add_synthetic(ws, *draw(2, 40))
    report = gap(ws, same, real, features=f"{module}:brightness", n_permutations=50)
    assert report.features["dims"] == 3 and report.features["extractor"].endswith(":brightness")
    assert abs(report.auc - 0.5) < 0.2
    other = Workspace.open(str(tmp_path / "other"), create=True)
    real = add_real(other, draw(1, 40)[0])
    brighter = add_synthetic(other, *draw(3, 40, lit=lambda p, rng: {"background": 120.0}))
    assert gap(other, brighter, real, features=f"{module}:brightness", n_permutations=50).auc > 0.8


def test_an_importable_module_function_works_too() -> None:
    own = load_feature_function("numpy:ravel")
    X = own.fit_transform([np.ones((2, 2)), np.zeros((2, 2))])
    assert X.shape == (2, 4) and list(own.get_feature_names_out())[:2] == ["ravel_0", "ravel_1"]


def test_bad_feature_functions_are_clear_errors(module: Path, tmp_path: Path) -> None:
    for spec, message in ((f"{module}", "module:function"), (f"{tmp_path}/nope.py:f", "no such file"),
                          ("no_such_module_xyz:f", "cannot import module"), (f"{module}:missing", "no function"),
                          (f"{module}:bad name", "module:function")):
        with pytest.raises(SynthError, match=message):
            load_feature_function(spec)
    with pytest.raises(SynthError, match="broken failed on a sample: ValueError: no model weights here"):
        load_feature_function(f"{module}:broken").fit_transform([np.zeros((4, 4))])
    with pytest.raises(SynthError, match="returned 2 values for one sample and 1 for the first"):
        load_feature_function(f"{module}:ragged").fit_transform([np.zeros((4, 4)), np.ones((4, 4))])


def test_cli_gap_with_features_and_a_bad_spec_exits_2(ws: Workspace, add_real, module: Path) -> None:
    real = add_real(ws, draw(1, 30)[0])
    syn = add_synthetic(ws, *draw(2, 30))
    base = [sys.executable, "-m", "synth.cli", "gap", "--synthetic", str(syn), "--real", str(real), "-w", ws.root]
    ok = subprocess.run([*base, "--features", f"{module}:brightness", "--json"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run([*base, "--features", f"{module}:broken"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "no model weights here" in bad.stderr
    both = subprocess.run([*base, "--features", f"{module}:brightness", "--embeddings", str(module)],
                          capture_output=True, text=True)
    assert both.returncode == 2 and "not both" in both.stderr
