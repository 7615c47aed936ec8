"""A killed run (SIGKILL or SIGINT) resumes on re-run: the result equals an uninterrupted run, with no
duplicate rows and no partial blob under a final name."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from synth import api
from synth.store.blobs import sha256

COUNT = 960  # a few seconds of rendering: still going when the first shard is staged, however loaded the machine
RECIPE = f"""name: resume
scene: shapes
count: {COUNT}
seed: 3
params:
  width: 64
  height: 64
  num_objects: {{randint: [1, 4]}}
"""


def _ctrl_c_as_at_a_terminal() -> None:
    # a shell that starts a job in the background (`make test &`, nohup) starts it with SIGINT ignored, and a
    # Python started that way never raises KeyboardInterrupt: the run under test must see Ctrl-C as a user does
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(tmp_path: Path, ws: str, workers: int) -> subprocess.Popen:
    with warnings.catch_warnings():  # preexec_fn forks this process: Lance warns, the child execs at once
        warnings.filterwarnings("ignore", message="lance is not fork-safe")
        return subprocess.Popen([sys.executable, "-m", "synth.cli", "generate", "recipe.yaml", "-q", "-w", ws,
                                 "--workers", str(workers)], cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_as_at_a_terminal)


def staged_shards(ws: Path) -> int:
    staging = ws / "staging"
    return sum(len(files) for _, _, files in os.walk(staging)) if staging.exists() else 0


def wait_for_shards(proc: subprocess.Popen, ws: Path, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while staged_shards(ws) < n:
        assert proc.poll() is None, f"finished before it could be interrupted: {proc.communicate()}"
        assert time.monotonic() < deadline, "no shard finished in time"
        time.sleep(0.01)


def interrupt(proc: subprocess.Popen, sig: int) -> None:
    """Freeze the driver where it is (SIGSTOP acts at once, whatever the machine's load), make sure it is still
    mid-run, then deliver `sig`: a run ends ~0.3 s after its first staged shard at 240 samples, and a test
    process scheduled late would otherwise signal a finished run."""
    os.kill(proc.pid, signal.SIGSTOP)
    assert proc.poll() is None, f"finished before it could be interrupted: {proc.communicate()}"
    proc.send_signal(sig)
    os.kill(proc.pid, signal.SIGCONT)  # a stopped process takes SIGINT when it runs again; SIGKILL at once


def check_workspace(ws: Path) -> dict:
    w = api.open_workspace(str(ws))
    table = w.manifest.to_table()
    ids = table.column("sample_id").to_pylist()
    assert len(ids) == len(set(ids)) == COUNT
    assert sorted(table.column("index").to_pylist()) == list(range(COUNT))
    for digest in w.store.iter_digests():  # every blob under a final name is whole
        assert sha256(w.store.get(digest)) == digest
    for payloads in table.column("payloads").to_pylist():
        for p in json.loads(payloads).values():
            assert w.store.exists(p["hash"])
    return {"fingerprint": w.manifest.fingerprint(), "versions": len(w.manifest.versions())}


@pytest.mark.parametrize("sig, workers", [(signal.SIGKILL, 1), (signal.SIGKILL, 2), (signal.SIGINT, 2)])
def test_interrupted_run_resumes_to_the_same_result(tmp_path, sig, workers):
    (tmp_path / "recipe.yaml").write_text(RECIPE)
    ws = tmp_path / "ws"
    proc = start(tmp_path, str(ws), workers)
    wait_for_shards(proc, ws, 1)
    interrupt(proc, sig)
    _, err = proc.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert proc.returncode == 130 and "re-run the same command to resume" in err and "Traceback" not in err
    else:
        assert proc.returncode == -signal.SIGKILL
    w = api.open_workspace(str(ws))
    assert w.manifest.latest_version() is None  # nothing committed by the killed run
    rerun = start(tmp_path, str(ws), workers)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    resumed = check_workspace(ws)
    fresh = api.generate(tmp_path / "recipe.yaml", str(tmp_path / "fresh"), workers=1)
    assert resumed == {"fingerprint": fresh.fingerprint, "versions": 1}
    assert not (ws / "staging").exists() or staged_shards(ws) == 0
