"""A two-node Ray cluster on this machine (`ray start --head` plus `ray start --address`, each with its own
temp dir, all on 127.0.0.1) and a moto S3 server: `synth generate --executor ray` with the workspace on S3 and
the AWS settings given only to the `synth` command (the nodes were started without them), the worker node's
raylet killed mid-run; the fingerprint is the local run's, and synth says in its own words that a node left.

Slow (a cluster start, ~1-2 minutes): `make test-slow`, which .ci/run calls."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from synth import api
from tests.conftest import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SYNTH = [sys.executable, "-m", "synth.cli"]
RAY = str(Path(sys.executable).with_name("ray"))
COUNT = 400
# loopback only: Ray on Linux otherwise registers the machine's external address
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0",
            # a dead node is noticed in about a second, not after Ray's default ~30 s of missed checks
            "RAY_health_check_period_ms": "300", "RAY_health_check_failure_threshold": "3",
            "RAY_health_check_initial_delay_ms": "0", "RAY_health_check_timeout_ms": "300"}


TOKEN = secrets.token_hex(32)  # the cluster uses Ray's token authentication, as new clusters do by default


def base_env(token: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RAY_"))}
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": TOKEN} if token else {}
    return {**env, **LOOPBACK, **auth, "PYTHONPATH": str(ROOT)}


def our_processes(marks: list[str]) -> list[int]:
    """Pids of processes whose command line names one of our temp dirs or ports (never another Ray)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(m in cmd for m in marks):
            pids.append(int(entry.name))
    return pids


def ray_start(args: list[str], env: dict[str, str]) -> None:
    res = subprocess.run([RAY, "start", *args], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"ray start {' '.join(args)}\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}"


@pytest.fixture
def cluster():
    short = Path(tempfile.mkdtemp(prefix="sr", dir="/tmp"))  # Ray's socket paths must stay under 107 bytes
    head_dir, worker_dir = short / "h", short / "w"
    port = free_port()
    # the nodes: --node-ip-address keeps them on 127.0.0.1 (with the loopback switch below set, `ray start
    # --address` refuses to join, reading it as "no multi-node clusters", and the head advertises its GCS on
    # the machine's external address); the driver (synth) gets the switch, so it looks for them on 127.0.0.1
    env = {k: v for k, v in base_env().items() if k != "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"}
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats"]
    ray_start(["--head", "--port", str(port), "--temp-dir", str(head_dir), "--include-dashboard", "false",
               "--ray-client-server-port", str(free_port()), *common], env)
    ray_start(["--address", f"127.0.0.1:{port}", "--temp-dir", str(worker_dir), *common], env)
    marks = [str(head_dir), str(worker_dir), f"127.0.0.1:{port}", f"--gcs_server_port={port}"]
    try:
        yield {"address": f"127.0.0.1:{port}", "worker_dir": worker_dir, "marks": marks}
    finally:
        for pid in our_processes(marks):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(short, ignore_errors=True)


def worker_raylet(worker_dir: Path) -> int:
    [pid] = [p for p in our_processes([str(worker_dir)])
             if "raylet" in Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")]
    return pid


def staged_shards(client, prefix: str = "ws/staging/") -> int:
    listed = client.list_objects_v2(Bucket="synth-test", Prefix=prefix)
    return listed.get("KeyCount", 0)


def test_two_node_cluster_with_s3_and_a_lost_node_gives_the_local_fingerprint(cluster, moto_s3, tmp_path):
    recipe = ROOT / "recipes" / "shapes.yaml"
    local = api.generate(recipe, str(tmp_path / "local"), count=COUNT, workers=2)

    # a driver without the cluster's token: synth says what is wrong and how to fix it, and makes no workspace
    no_token = subprocess.run([*SYNTH, "generate", str(recipe), "-n", "8", "-w", str(tmp_path / "denied"), "-q",
                               "--executor", "ray", "--address", cluster["address"]],
                              env={**base_env(token=False), "HOME": str(tmp_path)}, capture_output=True, text=True,
                              timeout=180)
    assert no_token.returncode == 2 and "Traceback" not in no_token.stderr, no_token.stderr[-2000:]
    assert "RAY_AUTH_MODE=token" in no_token.stderr and not (tmp_path / "denied").exists()

    # the AWS settings reach only this command (no AWS_ALLOW_HTTP: an http endpoint must still work)
    env = {**base_env(), "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_ENDPOINT_URL": moto_s3["endpoint"], "AWS_REGION": "us-east-1"}
    proc = subprocess.Popen([*SYNTH, "generate", str(recipe), "-n", str(COUNT), "-w", "s3://synth-test/ws",
                             "--executor", "ray", "--address", cluster["address"], "-j", "2", "--json"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    raylet = worker_raylet(cluster["worker_dir"])
    deadline = time.monotonic() + 120
    while staged_shards(moto_s3["client"]) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)  # some shards are done: the run is under way on both nodes
    assert proc.poll() is None, "the run ended before the node could be killed: " + proc.stderr.read()[-2000:]
    os.kill(raylet, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    assert out.strip(), f"no JSON on stdout; stderr:\n{err[-3000:]}"
    result = json.loads(out.strip().splitlines()[-1])
    assert result["rows"] == COUNT and result["fingerprint"] == local.fingerprint
    assert "left the cluster mid-run" in err and "fingerprint" in err, err[-2000:]
    assert "Traceback" not in err

    # what the workers wrote is there and readable with the same settings
    ws = api.open_workspace("s3://synth-test/ws", storage_options=moto_s3["options"])
    assert ws.manifest.fingerprint(ws.manifest.latest_version()) == local.fingerprint
