"""A long-lived render subprocess for scenes that drive Blender: requests go over a pipe, and the
process always ends with `os._exit`, because a process that imported bpy/BlenderProc can crash or hang
in normal interpreter shutdown.
"""
from __future__ import annotations

import importlib
import multiprocessing.util
import os
import signal
import subprocess
import sys
import tempfile
import traceback
import weakref
from multiprocessing.connection import Connection
from typing import Any

from synth.errors import SynthError

# How long close() waits for a polite exit before it kills the process.
_CLOSE_TIMEOUT_S = 20.0


class RenderServerError(RuntimeError):
    """The render subprocess failed: a Python error inside it, or it died (crash, kill)."""


class RenderServer:
    """Client handle of one render subprocess, started on first use and reused across calls.

    It is a plain `subprocess.Popen` (not `multiprocessing.Process`), so it can be started from a
    daemonic multiprocessing pool worker. It stops on `close()`; on garbage collection or exit of the
    owning process (atexit, or multiprocessing's exit finalizers in pool workers); and, if the owner is
    killed, because reading the pipe hits end-of-file. Each path reaps it, so no zombie stays behind.
    """

    def __init__(self, handler: str) -> None:
        """`handler` is "module:function"; the server imports it and calls it with each request."""
        self.handler = handler
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._owner_pid: int | None = None
        self._log_path: str | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def call(self, request: Any) -> Any:
        """Send one request, wait for its reply; SynthError raised in the server is re-raised here."""
        self._ensure_started()
        assert self._conn is not None
        try:
            self._conn.send(("call", request))
            status, value = self._conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            code = self._reap()
            raise RenderServerError(f"render process died (exit code {code}); {self._log_tail()}") from None
        if status == "ok":
            return value
        if status == "synth_error":
            raise SynthError(value)
        raise RenderServerError(f"render process failed:\n{value}")

    def close(self) -> None:
        """Ask the server to exit (it calls os._exit(0)), wait for it, kill it if it does not go."""
        if self._proc is not None and self._owner_pid == os.getpid():
            _shutdown(self._proc, self._conn)
        self._proc = self._conn = None

    def _ensure_started(self) -> None:
        # a forked copy of this handle must not talk to its parent's server
        if self._proc is not None and self._owner_pid == os.getpid() and self._proc.poll() is None:
            return
        if self._proc is not None and self._owner_pid == os.getpid():
            self._reap()
        parent_r, child_w = os.pipe()
        child_r, parent_w = os.pipe()
        log = tempfile.NamedTemporaryFile(prefix="synth-render-", suffix=".log", delete=False)
        self._log_path = log.name
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "synth.render3d.render_server", str(child_r), str(child_w), self.handler],
            pass_fds=(child_r, child_w), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        os.close(child_r)
        os.close(child_w)
        self._conn = _DuplexConnection(parent_r, parent_w)
        self._owner_pid = os.getpid()
        # atexit (weakref.finalize) covers normal interpreter exit and garbage collection; a
        # multiprocessing pool worker leaves through os._exit, which runs only util.Finalize callbacks.
        weakref.finalize(self, _shutdown, self._proc, self._conn)
        multiprocessing.util.Finalize(self, _shutdown, args=(self._proc, self._conn), exitpriority=10)

    def _reap(self) -> int | None:
        proc = self._proc
        if proc is None:
            return None
        try:
            return proc.wait(timeout=_CLOSE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def _log_tail(self) -> str:
        try:
            with open(self._log_path or "", errors="replace") as f:
                return "its last output:\n" + f.read()[-2000:]
        except OSError:
            return "no output was captured"


class _DuplexConnection:
    """Two one-way pipe ends used as one connection (send on one fd, receive on the other)."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._reader = Connection(read_fd, writable=False)
        self._writer = Connection(write_fd, readable=False)

    def send(self, obj: Any) -> None:
        self._writer.send(obj)

    def recv(self) -> Any:
        return self._reader.recv()

    def close(self) -> None:
        self._writer.close()
        self._reader.close()


def _shutdown(proc: subprocess.Popen, conn: _DuplexConnection | None) -> None:
    if proc.poll() is None and conn is not None:
        try:
            conn.send(("close", None))
        except OSError:
            pass
    if conn is not None:
        conn.close()  # end-of-file on the server's read end also makes it exit
    try:
        proc.wait(timeout=_CLOSE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _serve(read_fd: int, write_fd: int, handler_path: str) -> None:
    """Server loop. Every way out of it ends in os._exit, never in interpreter shutdown."""
    # Ctrl-C goes to the whole process group; the owner decides when this process stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    code = 0
    try:
        conn = _DuplexConnection(read_fd, write_fd)
        handler = None
        while True:
            try:
                kind, request = conn.recv()
            except EOFError:  # the owner closed the pipe or died
                break
            if kind == "close":
                break
            try:
                if handler is None:  # imported here so an import failure is reported to the caller
                    module_name, func_name = handler_path.split(":")
                    handler = getattr(importlib.import_module(module_name), func_name)
                reply = ("ok", handler(request))
            except SynthError as exc:
                reply = ("synth_error", str(exc))
            except Exception:  # noqa: BLE001 - any failure is reported back, the server stays up
                reply = ("error", traceback.format_exc())
            conn.send(reply)
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
