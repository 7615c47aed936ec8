"""The README is a test: its shell and Python blocks run in order, as a new user would run them, in a
temporary folder (never the repository root), with every generate capped at a few samples through
SYNTH_COUNT_CAP and the few long flags (tune trials, lock counts, sweep counts) made small."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COUNT_CAP = "16"
# blocks not run, by a phrase of their first line: what each needs that a fresh clone does not have
NOT_RUN = {
    "pip install \"synth-recipes[pinned]\"": "installs into the user's environment (tests/packaging does, in a fresh venv)",
    "make demo": "sets up the environment and runs the whole suite (the lead's job)",
    "synth import images my_photos/": "needs the user's own photos",
    "synth tune recipes/digits.yaml --real real": "needs tags of the user's real data from the block above",
    "synth fit wine.csv": "needs the user's wine.csv",
}
# blocks that need more samples to mean anything (a model trained on them, slices with support)
CAP_OF = {"synth generate recipes/digits.yaml -n 600 -w loop_ws": "400"}
SMALL = [(r"--trials \d+", "--trials 2"), (r"--count-per-trial \d+", "--count-per-trial 8"),
         (r"(synth lock [^\n]*?)-n \d+", r"\1-n 4"), (r"(synth sweep \S+\.yaml)", r"\1 -n 2")]


def blocks() -> list[tuple[int, str, str]]:
    """(line, language, code) of every bash/sh/python block of README.md, in order."""
    text = (ROOT / "README.md").read_text()
    return [(text[:m.start()].count("\n") + 1, m.group(1), m.group(2))
            for m in re.finditer(r"^```(bash|sh|python)\n(.*?)^```", text, re.S | re.M)]


def test_readme_blocks_are_found_and_the_skips_still_match() -> None:
    found = blocks()
    assert len(found) >= 10
    for phrase in NOT_RUN:
        assert any(code.lstrip().startswith(phrase) for _, _, code in found), f"no README block starts {phrase!r}"


def test_every_readme_block_runs(tmp_path: Path) -> None:
    (tmp_path / "recipes").symlink_to(ROOT / "recipes")
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    env = {**os.environ, "SYNTH_COUNT_CAP": COUNT_CAP, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
           "PYTHONPATH": str(ROOT)}
    env.pop("SYNTH_WORKSPACE", None)
    ran = 0
    for line, lang, code in blocks():
        if any(code.lstrip().startswith(p) for p in NOT_RUN):
            continue
        for pattern, repl in SMALL:
            code = re.sub(pattern, repl, code)
        cmd = ["bash", "-euo", "pipefail", "-c", code] if lang in ("bash", "sh") else [sys.executable, "-c", code]
        cap = next((c for p, c in CAP_OF.items() if code.lstrip().startswith(p)), COUNT_CAP)
        res = subprocess.run(cmd, cwd=tmp_path, env={**env, "SYNTH_COUNT_CAP": cap}, capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, f"README.md:{line} ({lang}) failed:\n{code}\n--- stdout\n{res.stdout[-3000:]}" \
                                    f"\n--- stderr\n{res.stderr[-3000:]}"
        ran += 1
    assert ran >= 10
    assert not any((ROOT / name).exists() for name in ("ws", "out_hf", "report", "shapes_ws"))


@pytest.mark.parametrize("value", ["0", "x"])
def test_a_bad_count_cap_is_refused(value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from synth import api
    from synth.errors import SynthError
    monkeypatch.setenv("SYNTH_COUNT_CAP", value)
    with pytest.raises(SynthError, match="SYNTH_COUNT_CAP"):
        api.generate(ROOT / "recipes" / "digits.yaml", tmp_path / "ws", workers=1)


def test_count_cap_caps_a_generate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from synth import api
    monkeypatch.setenv("SYNTH_COUNT_CAP", "3")
    assert api.generate(ROOT / "recipes" / "digits.yaml", tmp_path / "ws", workers=1).new_rows == 3
