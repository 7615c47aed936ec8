"""A plain pip install, as a user without uv makes it: the wheel built from this checkout, installed with
`pip install "synth-recipes[pinned]"` plus `pip install --no-deps trdg==1.8.0` into a fresh venv, holds no
GUI OpenCV, no yanked arabic-reshaper and no top-level `scenes`/`ssl_tasks`, ships the example recipes,
and renders the same bytes as the locked environment (`synth lock` here, `synth lock --check` there).

Slow (a minute or more: pip downloads what its cache lacks): `make test-slow`, which .ci/run calls."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RECIPES = ["shapes", "digits", "ocr_words", "receipts"]  # OpenCV + PNG; pen strokes; trdg; trdg's fonts + Faker


def run(args: list[str], cwd: Path, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    if check:
        assert proc.returncode == 0, f"{' '.join(args)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def checkout_copy(dest: Path) -> Path:
    """The files a clone holds (tracked, and new ones git does not ignore): no venv, caches or builds."""
    files = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT).stdout
    for name in filter(None, files.split("\0")):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def test_pip_installed_wheel_renders_the_locked_bytes(tmp_path):
    src = checkout_copy(tmp_path / "src")
    venv = tmp_path / "venv"
    run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], tmp_path)
    pip, synth = [str(venv / "bin" / "python"), "-m", "pip"], str(venv / "bin" / "synth")
    run([*pip, "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), f"{src}/"], tmp_path)
    [wheel] = (tmp_path / "dist").glob("synth_recipes-*.whl")
    run([*pip, "install", "-q", f"{wheel}[pinned]"], tmp_path)

    work = tmp_path / "work"
    listed = json.loads(run([synth, "recipes", "--json"], tmp_path).stdout)
    assert {e["name"] for e in listed} == {p.stem for p in (ROOT / "recipes").glob("*.yaml")}
    for name in RECIPES:
        run([synth, "init", name, "--to", str(work), "-q"], tmp_path)
    assert (work / "shapes.yaml").read_bytes() == (ROOT / "recipes" / "shapes.yaml").read_bytes()

    # without trdg the text scenes say how to install it
    missing = run([synth, "generate", "ocr_words.yaml", "-n", "2", "-j", "1", "-w", "ws-notrdg", "-q"], work,
                  check=False)
    assert missing.returncode == 2 and "pip install --no-deps trdg==1.8.0" in missing.stderr, missing.stderr
    assert "Traceback" not in missing.stderr
    run([*pip, "install", "-q", "--no-deps", "trdg==1.8.0"], tmp_path)

    site = Path(run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    tmp_path).stdout.strip())
    assert not (site / "scenes").exists() and not (site / "ssl_tasks").exists()
    assert (site / "synth" / "scenes" / "shapes.py").is_file() and (site / "synth" / "ssl_tasks" / "jigsaw.py").is_file()
    installed = {d["name"].lower() for d in json.loads(run([*pip, "list", "--format", "json"], tmp_path).stdout)}
    assert not installed & {"opencv-python", "arabic-reshaper", "python-bidi", "wikipedia", "diffimg"}
    assert {"opencv-python-headless", "trdg", "synth-recipes"} <= installed

    # the locked environment (this venv) writes the lock; the pip-installed one checks it
    recipes = [f"{name}.yaml" for name in RECIPES]
    run([sys.executable, "-m", "synth.cli", "lock", *recipes, "-n", "3", "--no-cache", "-q"], work)
    check = run([synth, "lock", "--check", "--no-cache", "--json"], work, check=False)
    result = json.loads(check.stdout)
    assert check.returncode == 0, json.dumps(result["recipes"], indent=1)
    assert [r["status"] for r in result["recipes"]] == ["ok"] * len(RECIPES)
