"""Nothing lost, nothing escapes, under faults: real `python -m synth.cli` processes killed with SIGKILL at
seeded random points, a full disk (RLIMIT_FSIZE: CPython ignores SIGXFSZ, so writes fail with EFBIG), and
damaged workspace files. After every fault the workspace verifies, every version committed before it is
still readable with its fingerprint, and running the same command again gives what an uninterrupted run
gives in a fresh workspace. A failing kill names its command, delay and seed, so it reproduces."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
import pytest

from synth.store.lineage import current_labels
from synth.store.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
SEED = 1405  # every kill delay is drawn from random.Random(f"{SEED}:{command}:{kill}")
KILLS = 2    # random kill points per command (and one or two at moments chosen by what was written)

TINY = """
name: tiny
scene: shapes
count: 60
seed: 11
params: {width: 64, height: 64, num_objects: {randint: [1, 3]}}
split: {train: 0.8, val: 0.1, test: 0.1}
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "SYNTH_LOCK_TIMEOUT": "60"}


def synth(*args: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    """Run `synth ARGS` to the end; `file_size_limit` (bytes) makes every larger write fail as on a full disk."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))
    with warnings.catch_warnings():  # a preexec_fn forks this process: Lance warns, the child execs at once
        warnings.filterwarnings("ignore", message="lance is not fork-safe")
        return subprocess.run([sys.executable, "-m", "synth.cli", *args], cwd=ROOT, env=_env(), capture_output=True,
                              text=True, timeout=180, preexec_fn=limit if file_size_limit is not None else None)


def killed(args: list[str], delay: float, when: Callable[[], bool] | None = None) -> bool:
    """Start `synth ARGS` in its own process group and SIGKILL the group (the driver and its helper
    processes at once, as a crash would) after `delay` seconds, or as soon as `when()` holds; True if it
    was still running then."""
    proc = subprocess.Popen([sys.executable, "-m", "synth.cli", *args], cwd=ROOT, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + delay
    while proc.poll() is None and time.monotonic() < deadline and not (when and when()):
        time.sleep(0.005)
    if proc.poll() is not None:
        return False
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def written(ws: str, pattern: str) -> Callable[[], bool]:
    """A test for `killed`: a file matching `pattern` (under ws) that was not there before appeared."""
    before = set(Path(ws).glob(pattern))
    return lambda: bool(set(Path(ws).glob(pattern)) - before)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The run failed with exit 2 and exactly one line on stderr, `error: ...`, and no traceback."""
    text = result.stdout + result.stderr
    # CPython's multiprocessing resource tracker (a process of its own) sometimes warns about a semaphore
    # when a run with helper processes stops early; that is not synth's output (reported separately)
    stderr = re.sub(r"(?m)^.*multiprocessing/resource_tracker\.py:\d+: UserWarning: .*\n\s+warnings\.warn\(.*\n?", "",
                    result.stderr)
    lines = stderr.strip().splitlines()
    assert result.returncode == 2 and "Traceback" not in text, text
    assert len(lines) == 1 and lines[0].startswith("error: "), text
    return lines[0]


def log(ws: str) -> list[dict[str, Any]]:
    result = synth("log", "--json", "-w", ws)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def verified(ws: str, context: str) -> None:
    result = synth("verify", "-w", ws)
    assert result.returncode == 0, f"{context}: {result.stdout}{result.stderr}"


def latest_fingerprint(ws: str) -> str:
    return Workspace.open(ws).manifest.fingerprint()


def images(root: Path, salt: int) -> Path:
    """~40 small PNGs in class folders."""
    for c in ("cat", "dog"):
        (root / c).mkdir(parents=True, exist_ok=True)
        for i in range(20):
            rng = np.random.default_rng([salt, i, c == "dog"])
            cv2.imwrite(str(root / c / f"{i:02d}.png"), rng.integers(0, 255, (24, 24, 3), dtype=np.uint8))
    return root


@dataclass
class Command:
    """A command run on a copy of a base workspace, and what an uninterrupted run of it yields."""
    base: str                               # the workspace it starts from (never changed)
    args: Callable[[str], list[str]]        # its arguments, given the workspace
    outcome: Callable[[str], Any]           # what must be the same after an interrupted run and a re-run
    reference: Any = None
    seconds: float = 0.0
    reference_ws: str = ""
    base_log: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Base workspaces (built once) and, per command, the outcome of an uninterrupted run on a fresh copy."""
    root = tmp_path_factory.mktemp("faults")
    recipe = root / "tiny.yaml"
    recipe.write_text(TINY)
    real, more = images(root / "real", 1), images(root / "more", 2)
    only_real, both = str(root / "base-real"), str(root / "base-both")
    assert synth("import", "images", str(real), "-w", only_real, "-q").returncode == 0
    shutil.copytree(only_real, both)
    assert synth("generate", str(recipe), "-j", "2", "-w", both, "-q").returncode == 0
    sample = Workspace.open(both).manifest.to_table(1, columns=["sample_id"]).column("sample_id")[0].as_py()

    def labels_of_sample(ws: str) -> Any:
        current = {r["sample_id"]: r["labels"] for r in current_labels(Workspace.open(ws)).to_pylist()}
        rows = Workspace.open(ws).manifest.to_table(columns=["row_hash"]).column("row_hash").to_pylist()
        return current[sample], sorted(rows)  # label ids carry a fresh commit id: compare the labels themselves

    commands = {
        "generate": Command(only_real, lambda ws: ["generate", str(recipe), "-j", "2", "-w", ws, "-q"],
                            latest_fingerprint),
        "import": Command(only_real, lambda ws: ["import", "images", str(more), "-w", ws, "-q"], latest_fingerprint),
        "ssl": Command(both, lambda ws: ["ssl", "apply", "--task", "rotation", "-w", ws, "-q"], latest_fingerprint),
        "mix": Command(both, lambda ws: ["mix", "--from", "real:1", "--from", "synthetic:2", "-w", ws, "-q"],
                       latest_fingerprint),
        "labels": Command(both, lambda ws: ["labels", "correct", sample, "--set", "class=dog", "-w", ws, "-q"],
                          labels_of_sample),
    }
    base_logs = {only_real: log(only_real), both: log(both)}
    for name, cmd in commands.items():
        ws = str(root / f"reference-{name}")
        shutil.copytree(cmd.base, ws)
        started = time.perf_counter()
        result = synth(*cmd.args(ws))
        cmd.seconds = time.perf_counter() - started
        assert result.returncode == 0, result.stderr
        cmd.reference, cmd.reference_ws, cmd.base_log = cmd.outcome(ws), ws, base_logs[cmd.base]
    return {"root": root, "recipe": recipe, "commands": commands}


def fresh_copy(world: dict[str, Any], base: str, name: str) -> str:
    ws = str(world["root"] / f"{name}-{time.monotonic_ns()}")
    shutil.copytree(base, ws)
    return ws


def kill_points(name: str, seconds: float) -> list[tuple[str, float, str | None]]:
    """(what, delay, file pattern) of each kill: KILLS seeded random delays within an uninterrupted run's
    time, then the moments a new Lance data file appears (rows written, not yet committed) and, for
    generate, the first staged shard (rendered, not yet committed)."""
    points = []
    for kill in range(KILLS):
        delay = random.Random(f"{SEED}:{name}:{kill}").uniform(0.3, 1.0) * seconds
        points.append((f"after {delay:.2f} s", delay, None))
    points.append(("as a new Lance data file appeared", 60.0, "*.lance/data/*"))
    if name == "generate":
        points.append(("as the first shard was staged", 60.0, "staging/*/shard-*"))
    return points


@pytest.mark.parametrize("name", ["generate", "import", "ssl", "mix", "labels"])
def test_sigkill_at_random_points_loses_nothing_and_a_rerun_finishes_the_same(world: dict[str, Any], name: str):
    cmd: Command = world["commands"][name]
    for what, delay, pattern in kill_points(name, cmd.seconds):
        context = f"{name} killed {what} (SEED={SEED})"
        ws = fresh_copy(world, cmd.base, name)
        killed(cmd.args(ws), delay, written(ws, pattern) if pattern else None)
        verified(ws, context)
        after = {v["version"]: v for v in log(ws)}
        for before in cmd.base_log:  # every version committed before the fault, unchanged and readable
            v = before["version"]
            assert v in after and after[v]["fingerprint"] == before["fingerprint"], context
            assert after[v]["rows"] == before["rows"], context
            assert Workspace.open(ws).manifest.to_table(v, columns=["row_hash"]).num_rows == before["rows"], context
        again = synth(*cmd.args(ws))
        assert again.returncode == 0, f"{context}: {again.stderr}"
        assert cmd.outcome(ws) == cmd.reference, context
        shutil.rmtree(ws)


def test_disk_full_during_generate_is_one_line_and_a_rerun_finishes_the_same(world: dict[str, Any]):
    cmd: Command = world["commands"]["generate"]
    largest_blob = max(p.stat().st_size for p in Path(cmd.reference_ws, "objects").rglob("*") if p.is_file())
    # first a limit no blob fits under, then one every blob fits under but the staged shards and the
    # manifest's data file do not
    for limit in (512, largest_blob + 1):
        ws = fresh_copy(world, cmd.base, "disk-full")
        line = one_error_line(synth(*cmd.args(ws), file_size_limit=limit))
        assert "file too large" in line and ws in line, line
        again = synth(*cmd.args(ws))
        assert again.returncode == 0, again.stderr
        assert latest_fingerprint(ws) == cmd.reference
        verified(ws, f"generate after a full disk at {limit} bytes")
        assert not list(Path(ws, "objects").rglob(".tmp-*")), "a failed blob write left its temporary file"


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", ["coco", "webdataset"])
def test_disk_full_during_export_is_one_line_and_a_rerun_exports_the_same(world: dict[str, Any], fmt: str):
    ws = world["commands"]["generate"].reference_ws
    out, whole = world["root"] / f"export-{fmt}", world["root"] / f"export-{fmt}-whole"
    assert synth("export", str(whole), "--format", fmt, "-w", ws, "-q").returncode == 0
    line = one_error_line(synth("export", str(out), "--format", fmt, "-w", ws, "-q", file_size_limit=1024))
    assert "file too large" in line and "while writing" in line, line
    assert not out.exists()  # the export is written next to OUT and moved into place only when whole
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")], "temporary folder left"
    again = synth("export", str(out), "--format", fmt, "-w", ws, "-q")
    assert again.returncode == 0, again.stderr
    assert _tree(out) == _tree(whole)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG])
def test_a_full_disk_anywhere_is_one_line_naming_the_file(monkeypatch, capsys, code: int):
    from synth import api
    from synth.cli import main

    def full(*args, **kwargs):
        raise OSError(code, os.strerror(code), "/data/ws/objects/ab/cdef")
    monkeypatch.setattr(api, "log", full)
    with pytest.raises(SystemExit) as exit_:
        main(["log", "-w", "/nowhere"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(err) == 1 and "/data/ws/objects/ab/cdef" in err[0], err


def test_lances_disk_full_error_is_one_line(monkeypatch, capsys):
    from synth import api
    from synth.cli import main

    def full(*args, **kwargs):
        raise OSError("LanceError(IO): No space left on device (os error 28), /rust/lance-file/src/writer.rs:190:9")
    monkeypatch.setattr(api, "log", full)
    with pytest.raises(SystemExit) as exit_:
        main(["log", "-w", "/nowhere"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(err) == 1 and err[0].startswith("error: no space left on device"), err


def test_a_garbage_staged_shard_is_discarded_with_a_warning_and_rendered_again(world: dict[str, Any]):
    from synth import api

    cmd: Command = world["commands"]["generate"]
    recipe = api.validate(world["recipe"])
    ws = fresh_copy(world, cmd.base, "staging")
    staging = Path(ws, "staging", hashlib.sha256(f"{recipe.hash}:{recipe.count}".encode()).hexdigest()[:20])
    staging.mkdir(parents=True)
    (staging / "shard-000000000-0.json").write_bytes(b"\x00\x17{not json")
    (staging / "shard-000000010-1.json").write_bytes(b"")
    (staging / "shard-000000020-2.json").write_text(json.dumps([{"sample_id": "x", "index": 20, "payloads": "{}"}]))
    result = synth(*cmd.args(ws))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning: staged shard")]
    assert len(warned) == 3, result.stderr
    assert latest_fingerprint(ws) == cmd.reference
    verified(ws, "generate after garbage staged shards")


def test_a_staged_shard_whose_blob_is_empty_is_rendered_again_and_the_blob_rewritten(world: dict[str, Any],
                                                                                     monkeypatch):
    from synth import api
    from synth.store import commit

    cmd: Command = world["commands"]["generate"]
    ws = fresh_copy(world, cmd.base, "staged-blob")

    def crash(*args, **kwargs):
        raise RuntimeError("stopped before the commit")
    monkeypatch.setattr(commit, "commit_rows", crash)
    with pytest.raises(RuntimeError):
        api.generate(world["recipe"], ws, workers=1)  # every shard staged, nothing committed
    row = json.loads(min(Path(ws, "staging").rglob("shard-*.json")).read_text())[0]
    digest = json.loads(row["payloads"])["image"]["hash"]
    blob = Path(ws, "objects", digest[:2], digest[2:])
    blob.write_bytes(b"")  # as a crash or a full disk can leave it
    result = synth(*cmd.args(ws))
    assert result.returncode == 0 and result.stderr.count("warning: staged shard") == 1, result.stderr
    assert latest_fingerprint(ws) == cmd.reference
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == digest
    verified(ws, "generate after an empty blob of a staged shard")


def test_a_zero_byte_blob_is_a_clear_error_everywhere(world: dict[str, Any]):
    ws = fresh_copy(world, world["commands"]["generate"].reference_ws, "empty-blob")
    row = Workspace.open(ws).manifest.to_table().to_pylist()[-1]
    digest = json.loads(row["payloads"])["image"]["hash"]
    blob = Path(ws, "objects", digest[:2], digest[2:])
    blob.write_bytes(b"")
    line = one_error_line(synth("ssl", "apply", "--task", "rotation", "-w", ws, "-q"))
    assert str(blob) in line and "empty" in line, line
    line = one_error_line(synth("export", str(Path(ws).parent / "empty-out"), "--format", "coco", "-w", ws, "-q"))
    assert digest[:16] in line, line
    report = synth("verify", "--json", "-w", ws)
    assert report.returncode == 1 and row["sample_id"] in report.stdout, report.stdout

    from synth.store.blobs import Store
    store = Store(ws)
    assert not store.exists(digest)  # a cut-short blob is not a stored blob ...
    data = b"the bytes of a blob"
    path = Path(store.path(store.put(data)))
    path.write_bytes(b"")
    store.put(data)  # ... so writing the same bytes again (a re-render) replaces it
    assert path.read_bytes() == data


@pytest.mark.parametrize("damage", ["data file", "version file"])
def test_a_damaged_manifest_file_is_one_line_naming_it(world: dict[str, Any], damage: str):
    cmd: Command = world["commands"]["generate"]
    ws = fresh_copy(world, cmd.reference_ws, "damaged")
    lance_dir = Path(ws, "manifest.lance")
    if damage == "data file":
        files = {f.path for fr in Workspace.open(ws).manifest.dataset(1).get_fragments() for f in fr.data_files()}
        broken = next(p for p in (lance_dir / "data").iterdir() if p.name not in files)  # version 2's rows
    else:  # Lance names version files counting down from 2**64 - 1: the newest has the smallest name
        broken = min((lance_dir / "_versions").glob("*.manifest"), key=lambda p: int(p.stem))
    with broken.open("r+b") as fh:
        fh.truncate(broken.stat().st_size // 3)
    if damage == "data file":  # the version list is still there: only reading rows fails
        assert synth("log", "-w", ws).returncode == 0
    runs = [synth("verify", "-w", ws), synth(*cmd.args(ws))] + ([synth("log", "-w", ws)] if damage == "version file"
                                                                else [])
    for result in runs:
        line = one_error_line(result)
        assert broken.name in line and "damaged" in line, line
    if damage == "version file":  # do what the error says: set the file aside, repair, run again
        broken.rename(Path(ws, "damaged.manifest"))
        assert synth("verify", "--repair", "-w", ws).returncode == 0
        assert synth(*cmd.args(ws)).returncode == 0
        assert latest_fingerprint(ws) == cmd.reference
        verified(ws, "generate after a damaged version file was set aside")


def test_a_damaged_label_lineage_file_is_one_line(world: dict[str, Any]):
    ws = fresh_copy(world, world["commands"]["labels"].reference_ws, "damaged-labels")
    broken = next(Path(ws, "labels.lance", "data").iterdir())
    with broken.open("r+b") as fh:
        fh.truncate(100)
    for args in (["export", str(Path(ws).parent / "damaged-labels-out"), "--format", "coco", "-q"], ["verify"]):
        line = one_error_line(synth(*args, "-w", ws))
        assert "damaged" in line and "labels.lance" in line, line
