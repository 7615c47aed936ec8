"""Content-addressed blob store over fsspec: `objects/ab/cdef…` named by sha256, written to a
temporary name and renamed, so a crash never leaves a partial blob under a final name."""
from __future__ import annotations

import errno
import hashlib
import os
import uuid
from typing import Any

import fsspec

from synth.errors import SynthError

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

DISK_FULL: dict[int, str] = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for the file size limit (ulimit -f)",
}
"""errno -> what it means, for every write error that freeing space (or raising a limit) cures."""

RETRY_AFTER_FREEING = "free some space (or raise the limit) and run the same command again"


class StoreFull(SynthError):
    """A blob could not be written: the disk, the quota or the file size limit is full."""


class DamagedBlob(SynthError):
    """A blob that is missing, or empty under a name that is not the empty blob's (cut short by a crash)."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Store:
    def __init__(self, root: str, storage_options: dict[str, Any] | None = None) -> None:
        self.root = root.rstrip("/")
        self.fs, self._base = fsspec.core.url_to_fs(self.root, **(storage_options or {}))
        self.local = self.fs.protocol in ("file", ("file", "local")) or "file" in _protocols(self.fs)
        self._made_dirs: set[str] = set()
        self._writer = None
        self._pending: list = []

    def key(self, digest: str) -> str:
        return f"objects/{digest[:2]}/{digest[2:]}"

    def path(self, digest: str) -> str:
        return f"{self._base}/{self.key(digest)}"

    def uri(self, digest: str) -> str:
        return f"{self.root}/{self.key(digest)}"

    def exists(self, digest: str) -> bool:
        """The blob is stored whole. A zero-byte file under another digest's name (a write cut short by a
        full disk or a crash) does not count: the next `put` of those bytes replaces it."""
        if self.local:
            try:
                return os.path.getsize(self.path(digest)) > 0 or digest == EMPTY_SHA256
            except OSError:
                return False
        return self.fs.exists(self.path(digest))

    def put(self, data: bytes) -> str:
        digest = sha256(data)
        self._write(digest, data)
        return digest

    def put_later(self, data: bytes) -> str:
        """Like `put`, but on remote storage the upload happens on background threads while the next
        samples render (object stores are latency-bound). Local writes land in the page cache in
        microseconds and stay synchronous: measured on shapes, a writer thread gained nothing and cost
        CPU that parallel workers need. Call `flush()` before recording anything that names the blob."""
        digest = sha256(data)
        if self.local:
            self._write(digest, data)
            return digest
        if self._writer is None:
            from concurrent.futures import ThreadPoolExecutor
            self._writer = ThreadPoolExecutor(max_workers=8, thread_name_prefix="synth-store")
        self._pending.append(self._writer.submit(self._write, digest, data))
        return digest

    def flush(self) -> None:
        """Wait for every `put_later` write; re-raise the first failure."""
        pending, self._pending = self._pending, []
        for fut in pending:
            fut.result()

    def _write(self, digest: str, data: bytes) -> None:
        final = self.path(digest)
        try:
            if self.local:
                self._put_local(final, data)
            elif not self.fs.exists(final):
                tmp = f"{final.rsplit('/', 1)[0]}/.tmp-{uuid.uuid4().hex}"
                with self.fs.open(tmp, "wb") as fh:
                    fh.write(data)
                self.fs.mv(tmp, final)
        except OSError as exc:
            if exc.errno in DISK_FULL:
                raise StoreFull(f"could not write blob {final} ({len(data):,} bytes): {DISK_FULL[exc.errno]}; "
                                f"{RETRY_AFTER_FREEING}") from None
            raise

    def _put_local(self, final: str, data: bytes) -> None:
        try:
            if os.path.getsize(final) == len(data):
                return
            # a blob of the wrong size (zero bytes after a crash or a full disk) is replaced whole below
        except FileNotFoundError:
            pass
        folder = os.path.dirname(final)
        if folder not in self._made_dirs:
            os.makedirs(folder, exist_ok=True)
            self._made_dirs.add(folder)
        tmp = f"{folder}/.tmp-{uuid.uuid4().hex}"
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, final)  # atomic on POSIX: readers see the whole blob or none
        except BaseException:
            _discard(tmp)  # a partial temp file only takes space that a re-run needs
            raise

    def get(self, digest: str) -> bytes:
        """The blob's bytes; a missing or cut-short (empty) blob is a DamagedBlob naming its path."""
        path = self.path(digest)
        try:
            if self.local:
                with open(path, "rb") as fh:
                    data = fh.read()
            else:
                with self.fs.open(path, "rb") as fh:
                    data = fh.read()
        except FileNotFoundError:
            raise DamagedBlob(f"blob {path} is missing from the store; run `synth verify` to list every "
                              "sample that uses it") from None
        if not data and digest != EMPTY_SHA256:
            raise DamagedBlob(f"blob {path} is empty (0 bytes): a write was cut short by a full disk or a crash; "
                              "run `synth verify` to list every sample that uses it") from None
        return data

    def iter_digests(self):
        base = f"{self._base}/objects"
        if not self.fs.exists(base):
            return
        for prefix in sorted(self.fs.ls(base, detail=False)):
            head = prefix.rstrip("/").rsplit("/", 1)[-1]
            for name in sorted(self.fs.ls(prefix, detail=False)):
                tail = name.rstrip("/").rsplit("/", 1)[-1]
                if not tail.startswith(".tmp-"):
                    yield head + tail


def _discard(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _protocols(fs: Any) -> tuple[str, ...]:
    p = fs.protocol
    return p if isinstance(p, tuple) else (p,)
