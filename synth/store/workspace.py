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

MARKER = "synth-workspace.json"
CREATE_WAIT_STEPS = 50  # x 0.1 s: how long to wait for another process to finish creating a workspace
FORMAT = 1


def default_root() -> str:
    return os.environ.get("SYNTH_WORKSPACE", "workspace")


class Workspace:
    def __init__(self, root: str, storage_options: dict[str, Any] | None = None) -> None:
        self.root = root.rstrip("/") or "/"
        self.storage_options = storage_options or {}
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
        ws._check(create)
        return ws

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
