"""Read payload bytes whether they were copied into the store or imported with --link (a URI)."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import fsspec
import pyarrow as pa

from synth.errors import SynthError
from synth.store.workspace import Workspace


def read_payload(ws: Workspace, payload: dict[str, Any]) -> bytes:
    digest = payload["hash"]
    if ws.store.exists(digest):
        return ws.store.get(digest)
    if payload.get("uri"):
        with fsspec.open(payload["uri"], "rb") as fh:
            return fh.read()
    raise SynthError(f"blob {digest[:16]} is missing from the store (run `synth verify`)")


def blob_getter(ws: Workspace, table: pa.Table) -> Callable[[str], bytes]:
    """get(hash) -> bytes for the exporters, falling back to the linked URI of imported files."""
    uris: dict[str, str] = {}
    if "payloads" in table.column_names:
        for text in table.column("payloads").to_pylist():
            for p in json.loads(text or "{}").values():
                if p.get("uri") and p.get("hash"):
                    uris[p["hash"]] = p["uri"]

    def get(digest: str) -> bytes:
        return read_payload(ws, {"hash": digest, "uri": uris.get(digest)})
    return get
