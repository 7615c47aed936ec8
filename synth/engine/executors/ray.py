"""The Ray executor: the same shards and the same bytes as the local pool, on a local Ray or a cluster.
Workers write blobs straight to the workspace store; the driver stages rows and commits the manifest."""
from __future__ import annotations

import os
import socket
import sys
import time
import warnings
from typing import Any, Iterable
from urllib.parse import urlsplit

from synth.engine.executors.base import Executor, Rows
from synth.errors import SynthError
from synth.recipe.model import Recipe
from synth.store.workspace import Workspace

CONNECT_TIMEOUT_S = 10.0     # a TCP probe before ray.init, which can otherwise wait minutes on a dead host
SHARD_RETRIES = 3            # Ray re-runs a shard whose worker process died this many times
NODE_POLL_S = 1.0            # how often the driver looks for nodes that left the cluster mid-run
CRASH_HOOK = "SYNTH_TEST_RAY_CRASH_ONCE"  # tests only: "<recipe>:<shard>:<marker file>"

# one Producer per Ray worker process, reused across the shards of the same recipe and workspace
_PRODUCERS: dict[tuple[str, str], Any] = {}


class RayExecutor(Executor):
    """A Ray cluster (`address`: auto, host:port or ray://host:port), or a local Ray started for the run.
    The connection is made on the first shard and kept until `close`, across a sweep's runs."""

    name = "ray"

    def __init__(self, workers: int, options: dict[str, Any] | None = None) -> None:
        super().__init__(workers, options)
        self._connected = False
        self._started_here = False

    def run(self, recipe: Recipe, ws: Workspace, shards: list[list[int]]) -> Iterable[tuple[int, Rows]]:
        """Run shards as Ray tasks and yield (shard_no, rows) in the order they finish."""
        import ray

        if ws.root.startswith("memory://"):
            raise SynthError("a memory:// workspace lives in one process: Ray workers cannot reach it; use a "
                             "folder on a shared filesystem or an object storage URL", field="--workspace")
        self.connect()
        yield from _submit_and_collect(ray, recipe, ws, shards)

    def connect(self) -> None:
        """Attach to the cluster now (a run does on its first shard): a caller that connects before it
        creates a workspace leaves nothing behind when the cluster cannot be reached."""
        if not self._connected:
            # Ray's C++ client repeats a warning a second while it retries a refused connection: the error
            # below says it once (read when Ray is imported)
            os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")
            import ray

            preflight(self.options)
            self._started_here = _connect(ray, self.options.get("address"), self.workers)
            self._connected = True

    def close(self) -> None:
        if self._started_here:
            import ray
            ray.shutdown()
        self._connected = self._started_here = False


def preflight(options: dict[str, Any] | None) -> None:
    """What can be known before a workspace is created or a sample rendered: Ray installed, the client
    extra for ray:// addresses, and something listening at the address."""
    import importlib.util

    if importlib.util.find_spec("ray") is None:
        raise SynthError('--executor ray needs Ray: pip install "synth-recipes[ray]"', field="--executor")
    address = (options or {}).get("address")
    if address and address.startswith("ray://"):
        from ray._private.utils import get_ray_client_dependency_error  # what ray.init checks for ray://

        if get_ray_client_dependency_error() is not None:
            raise SynthError(f"--address {address} is a Ray Client address, which needs Ray's client extra: "
                             'pip install "synth-recipes[ray]" (it installs ray[client,default]), or give the '
                             "head's GCS address HOST:6379 from a machine inside the cluster", field="--address")
    if address and address != "auto":
        _probe(address)


def _connect(ray: Any, address: str | None, workers: int) -> bool:
    """Attach to a running Ray (the caller's, or `address`, which `preflight` has probed); start a local one
    if there is none."""
    if ray.is_initialized():
        return False
    # workers' stdout/stderr stay on their nodes (Ray's log files): synth prints its own lines instead
    kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": "warning",
                              "configure_logging": True, "log_to_driver": False}
    if address:
        kwargs["address"] = address
    else:  # a Ray for this run only: on loopback, not the machine's external address
        kwargs["num_cpus"] = workers
        kwargs["_node_ip_address"] = "127.0.0.1"
    try:
        with warnings.catch_warnings():
            # Lance warns on any fork once imported; Ray's fork+exec of its daemons is safe
            warnings.filterwarnings("ignore", message="lance is not fork-safe")
            ray.init(**kwargs)
    except Exception as exc:  # Ray raises several kinds (ConnectionError, RuntimeError, grpc errors)
        if not address:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SynthError(f"cannot connect to Ray at '{address}': {first}{_auth_hint(str(exc))}",
                         field="--address") from None
    return True


def _auth_hint(message: str) -> str:
    """Ray's token authentication: a cluster that wants a token and a driver without one (or the other way
    round, after a local Ray wrote ~/.ray/auth_token) fail with "Failed to connect" or "Unauthenticated"."""
    text = message.lower()
    token_file = os.path.expanduser("~/.ray/auth_token")
    mode = os.environ.get("RAY_AUTH_MODE")
    if "auth" in text or "unauthenticated" in text or "token" in text or "failed to connect" in text:
        have = f"this machine has {token_file}" if os.path.exists(token_file) else f"there is no {token_file}"
        return (f". If the cluster uses Ray's token authentication ({have}; RAY_AUTH_MODE is "
                f"{mode or 'unset'}): set RAY_AUTH_MODE=token and give the cluster's token as RAY_AUTH_TOKEN "
                "(or RAY_AUTH_TOKEN_PATH); a cluster without authentication needs RAY_AUTH_MODE=disabled")
    return ""


def _probe(address: str) -> None:
    """Fail within seconds when nothing listens at the address (ray://host:port or host:port)."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host:
        raise SynthError(f"'{address}' is not a Ray address; use auto, host:port or ray://host:port",
                         field="--address")
    port = port or (10001 if parts.scheme == "ray" else 6379)
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise SynthError(f"cannot reach Ray at '{address}' ({host}:{port}): {exc.strerror or exc}; is the "
                         "cluster up (`ray status` on its head node) and the port open?", field="--address") from None


def _submit_and_collect(ray: Any, recipe: Recipe, ws: Workspace,
                        shards: list[list[int]]) -> Iterable[tuple[int, list[dict[str, Any]]]]:
    from ray.exceptions import RayTaskError, WorkerCrashedError

    remote = ray.remote(max_retries=SHARD_RETRIES, retry_exceptions=False, num_cpus=1)(_ray_shard)
    root = _shared_root(ws.root)
    recipe_ref = ray.put(recipe)
    pending = {remote.remote(recipe_ref, root, ws.storage_options, no, shard): no
               for no, shard in enumerate(shards)}
    nodes = _NodeWatch(ray)
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=NODE_POLL_S)
            nodes.poll(len(pending))
            if not ready:
                continue
            no = pending.pop(ready[0])
            try:
                rows = ray.get(ready[0])
            except RayTaskError as exc:
                cause = exc.cause
                if isinstance(cause, SynthError):
                    raise cause from None
                raise SynthError(f"rendering shard {no} failed on a Ray worker:\n{exc}") from None
            except WorkerCrashedError:
                raise SynthError(f"the Ray worker of shard {no} died {SHARD_RETRIES + 1} times; finished shards "
                                 "are kept: re-run the same command to resume") from None
            yield no, rows
    finally:
        for ref in pending:  # interrupted or failed: stop the rest instead of letting them run on
            ray.cancel(ref, force=True)


class _NodeWatch:
    """Says, in synth's words, when a node leaves the cluster mid-run (Ray's own log lines stay in its log
    files): which node, that its shards are re-run elsewhere, and that the fingerprint does not change."""

    def __init__(self, ray: Any) -> None:
        self.ray = ray
        self.alive = self._alive()
        self.lost: dict[str, str] = {}
        self.last = time.monotonic()

    def _alive(self) -> dict[str, str]:
        try:
            return {n["NodeID"]: n.get("NodeManagerAddress", "?") for n in self.ray.nodes() if n.get("Alive")}
        except Exception:  # the state API is best effort: a run never fails for want of it
            return {}

    def poll(self, pending: int) -> None:
        if time.monotonic() - self.last < NODE_POLL_S:
            return
        self.last = time.monotonic()
        now = self._alive()
        if not now:
            return
        for node, addr in self.alive.items():
            if node not in now and node not in self.lost:
                self.lost[node] = addr
                print(f"synth: Ray node {addr} ({node[:8]}) left the cluster mid-run; its unfinished shards are "
                      f"re-run on the other nodes (up to {SHARD_RETRIES} retries each; {pending} shards still to "
                      "come). The bytes, and so the fingerprint, do not depend on where a shard runs.",
                      file=sys.stderr, flush=True)
        self.alive.update(now)


def _shared_root(root: str) -> str:
    # Ray workers do not share the driver's working directory: give them an absolute path
    return root if "://" in root else os.path.abspath(root)


def _ray_shard(recipe: Recipe, root: str, storage_options: dict[str, Any], shard_no: int,
               indices: list[int]) -> list[dict[str, Any]]:
    """Runs inside a Ray worker process."""
    from synth.engine.producer import Producer
    from synth.store.blobs import Store

    key = (recipe.hash, root)
    producer = _PRODUCERS.get(key)
    if producer is None:
        import cv2
        cv2.setNumThreads(1)  # parallelism comes from Ray's worker processes
        producer = _PRODUCERS[key] = Producer(recipe, Store(root, storage_options))
    rows = []
    for i, index in enumerate(indices):
        rows.append(producer.row(index))
        if i == len(indices) // 2:
            _maybe_crash_for_test(recipe.name, shard_no)
    producer.store.flush()  # every blob the rows name is written before the driver sees them
    return rows


def _maybe_crash_for_test(recipe_name: str, shard_no: int) -> None:
    """Test-only: kill this worker process mid-shard, once, so tests can see Ray retry the shard."""
    spec = os.environ.get(CRASH_HOOK)
    if not spec:
        return
    name, shard, marker = spec.split(":", 2)
    if name == recipe_name and int(shard) == shard_no and not os.path.exists(marker):
        with open(marker, "w") as fh:
            fh.write(f"{os.getpid()} {time.time()}\n")
        os._exit(1)
