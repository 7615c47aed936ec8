"""The workspace lock: an exclusive `fcntl.flock` on `<workspace>/.synth-lock`, held around the
read-newest-version / commit critical section on local disks. Object-storage workspaces have no lock;
there Lance's commit conflict detection (every commit names the version it read) does the same job."""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from synth.errors import WorkspaceError

if TYPE_CHECKING:
    from synth.store.workspace import Workspace

LOCK_FILE = ".synth-lock"
DEFAULT_TIMEOUT_S = 120.0
"""How long a writer waits for another writer's commit before it gives up (SYNTH_LOCK_TIMEOUT raises it)."""

try:
    import fcntl
except ImportError:  # Windows: no flock; Lance's conflict detection still refuses stale commits
    fcntl = None  # type: ignore[assignment]

# flock locks belong to an open file description: a second open in the same process would wait for
# itself, so the lock is re-entrant per process (and per path) through a held count
_HELD: dict[str, tuple[int, int]] = {}
_GUARD = threading.RLock()


class WorkspaceLocked(WorkspaceError):
    """Another process held the workspace lock for longer than the timeout."""


def lock_timeout() -> float:
    text = os.environ.get("SYNTH_LOCK_TIMEOUT")
    if not text:
        return DEFAULT_TIMEOUT_S
    try:
        return max(0.0, float(text))
    except ValueError:
        raise WorkspaceError(f"SYNTH_LOCK_TIMEOUT is '{text}', not a number of seconds") from None


@contextmanager
def workspace_lock(ws: Workspace, timeout: float | None = None) -> Iterator[None]:
    """Hold the workspace's write lock (local disks); wait at most `timeout` seconds for it."""
    if fcntl is None or not ws.store.local:
        yield
        return
    path = os.path.join(os.path.abspath(ws.path()), LOCK_FILE)
    with _GUARD:
        if path in _HELD:
            fd, count = _HELD[path]
            _HELD[path] = (fd, count + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            _release(path)
        return
    fd = _acquire(path, lock_timeout() if timeout is None else timeout)
    with _GUARD:
        _HELD[path] = (fd, 1)
    try:
        yield
    finally:
        _release(path)


def _acquire(path: str, timeout: float) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise WorkspaceLocked(f"another synth process has held the workspace lock {path} for over "
                                      f"{timeout:g} s; wait for it to finish, or raise SYNTH_LOCK_TIMEOUT "
                                      "(seconds)") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.1)


def _release(path: str) -> None:
    with _GUARD:
        fd, count = _HELD[path]
        if count > 1:
            _HELD[path] = (fd, count - 1)
            return
        del _HELD[path]
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
