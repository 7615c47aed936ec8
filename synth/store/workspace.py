"""A workspace: a folder (or fsspec URL) holding the blob store, the Lance manifest and run staging."""
from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

import fsspec

from synth.errors import WorkspaceError
from synth.store.manifest import Manifest
from synth.store.blobs import Store
from synth.store.object_store import options_from_environment

MARKER = "synth-workspace.json"
CREATE_WAIT_STEPS = 50  # x 0.1 s: how long to wait for another process to finish creating a workspace
FORMAT = 1


def default_root() -> str:
    return os.environ.get("SYNTH_WORKSPACE", "workspace")


class Workspace:
    def __init__(self, root: str, storage_options: dict[str, Any] | None = None) -> None:
        self.root = root.rstrip("/") or "/"
        # an object store's settings from the environment, written out: they travel to Ray workers as they are
        self.storage_options = options_from_environment(self.root, storage_options)
        self.fs, self._base = fsspec.core.url_to_fs(self.root, **self.storage_options)
        self.store = Store(self.root, self.storage_options)
        self.manifest = Manifest(self._lance_uri(), _lance_options(self.storage_options))

    def _lance_uri(self) -> str:
        if "://" in self.root:
            return f"{self.root}/manifest.lance"
        return os.path.abspath(os.path.join(self.root, "manifest.lance"))

    def path(self, *parts: str) -> str:
        return "/".join([self._base, *parts])

    @classmethod
    def open(cls, root: str | None = None, *, create: bool = False,
             storage_options: dict[str, Any] | None = None) -> Workspace:
        ws = cls(root or default_root(), storage_options)
        try:
            ws._check(create)
        except WorkspaceError:
            raise
        except Exception as exc:  # botocore, s3fs, gcsfs: credentials, a missing bucket, an endpoint down
            if not ws._object_store():
                raise  # a local folder's errors keep their own (disk full, permission) handling
            raise WorkspaceError(f"cannot {'create' if create else 'open'} the workspace {ws.root}: "
                                 f"{_first_line(exc)}; {_storage_hint(exc, ws.storage_options)}",
                                 field="--workspace") from None
        return ws

    def _object_store(self) -> bool:
        return "://" in self.root and not self.root.startswith(("memory://", "file://"))

    def _check(self, create: bool) -> None:
        marker = self.path(MARKER)
        if self._marker_appears(marker):
            return self._check_marker(marker)
        if self.fs.exists(self._base):
            if not self.fs.isdir(self._base):
                raise WorkspaceError(f"{self.root} exists and is a file, not a workspace", field="--workspace")
            if self.fs.ls(self._base, detail=False):
                if self._marker_appears(marker):  # another process began (or finished) creating it meanwhile
                    return self._check_marker(marker)
                raise WorkspaceError(f"{self.root} exists and is not a synth workspace (no {MARKER}); "
                                     "choose an empty or new folder", field="--workspace")
        if not create:
            raise WorkspaceError(f"no workspace at {self.root}: run `synth generate` or `synth import` first",
                                 field="--workspace")
        self.fs.makedirs(self._base, exist_ok=True)
        # written under a temporary name and renamed: a process opening the workspace meanwhile never
        # reads half a marker (two runs creating one workspace at once both succeed)
        tmp = self.path(f".{MARKER}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        with self.fs.open(tmp, "w") as fh:
            fh.write(json.dumps({"format": FORMAT}))
        self.fs.mv(tmp, marker)

    def check_writable(self) -> None:
        """Before rendering into an object store: write and remove a tiny blob and a tiny Lance dataset, so a
        missing bucket, a read-only key or an endpoint Lance refuses fails now, with the fix, and not after
        every sample rendered. Local folders need no probe (the marker and the lock file were written)."""
        if not self._object_store():
            return
        import lance
        import pyarrow as pa

        name = f".synth-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        step = "a blob"
        try:
            self.fs.pipe_file(self.path(name), b"synth probe")
            self.fs.rm_file(self.path(name))
            step = "the Lance manifest"
            lance.write_dataset(pa.table({"probe": [1]}), f"{self.root}/{name}.lance",
                                storage_options=_lance_options(self.storage_options))
            self.fs.rm(self.path(f"{name}.lance"), recursive=True)
        except Exception as exc:  # botocore, s3fs, gcsfs and Lance each raise their own kinds
            raise WorkspaceError(f"cannot write {step} to {self.root}: {_first_line(exc)}; "
                                 f"{_storage_hint(exc, self.storage_options)}", field="--workspace") from None

    def _check_marker(self, marker: str) -> None:
        try:
            meta = json.loads(self.fs.cat_file(marker))
        except (ValueError, OSError):
            raise WorkspaceError(f"{self.root} has a damaged {MARKER}") from None
        if meta.get("format") != FORMAT:
            raise WorkspaceError(f"{self.root} is a workspace of format {meta.get('format')}, "
                                 f"this synth reads format {FORMAT}")

    def _marker_appears(self, marker: str) -> bool:
        """The marker exists, or appears while another process is creating this workspace (bounded wait:
        a creator killed mid-way leaves its temporary marker, and the folder is then not a workspace)."""
        for _ in range(CREATE_WAIT_STEPS):
            if self.fs.exists(marker):
                return True
            if not self._being_created():
                return self.fs.exists(marker)
            time.sleep(0.1)
        return self.fs.exists(marker)

    def _being_created(self) -> bool:
        """The folder holds only what a process creating the workspace writes before its marker."""
        try:
            names = [n.rstrip("/").rsplit("/", 1)[-1] for n in self.fs.ls(self._base, detail=False)]
        except (FileNotFoundError, NotADirectoryError):
            return False
        return bool(names) and all(n.startswith(f".{MARKER}.tmp-") or n == ".synth-lock" for n in names)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:300]}" if text else type(exc).__name__


def _storage_hint(exc: BaseException, options: dict[str, Any]) -> str:
    text = f"{type(exc).__name__} {exc}".lower()
    endpoint = options.get("endpoint_url") or options.get("client_kwargs", {}).get("endpoint_url") or ""
    if "http" in text and ("allow_http" in text or "allow http" in text or "https" in text) \
            or (endpoint.startswith("http://") and "builder error" in text):
        return ("S3-compatible storage over plain http (MinIO, on-premises): set AWS_ALLOW_HTTP=true, or "
                "serve the endpoint over https")
    if "credential" in text or "accessdenied" in text or "access denied" in text or "forbidden" in text:
        return ("check the credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE (S3), "
                "GOOGLE_APPLICATION_CREDENTIALS (GCS), or --storage-option key=... secret=...")
    if "nosuchbucket" in text or "location-constraint" in text or "bucket" in text and "not" in text:
        return "the bucket does not exist (or cannot be made here): create it first"
    return "check the URL, the endpoint (AWS_ENDPOINT_URL or --storage-option client_kwargs.endpoint_url=...) " \
           "and that the credentials may write there"


def _lance_options(options: dict[str, Any]) -> dict[str, str] | None:
    """Translate s3fs-style options (as used by fsspec) into Lance's object-store options."""
    if not options:
        return None
    out: dict[str, str] = {}
    client = options.get("client_kwargs", {})
    endpoint = options.get("endpoint_url") or client.get("endpoint_url")
    if endpoint:
        out["aws_endpoint"] = endpoint
        if endpoint.startswith("http://"):
            out["allow_http"] = "true"
    for src, dst in (("key", "aws_access_key_id"), ("secret", "aws_secret_access_key"),
                     ("token", "aws_session_token")):
        if options.get(src):
            out[dst] = options[src]
    region = client.get("region_name") or options.get("region")
    if region:
        out["aws_region"] = region
    return out or None
