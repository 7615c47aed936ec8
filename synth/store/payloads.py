"""Read payload bytes whether they were copied into the store or imported with --link (a URI)."""
from __future__ import annotations

import hashlib
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
    """get(hash) -> bytes for the exporters, falling back to the linked URI of imported files. Every blob
    is hashed as it is read: bytes that no longer match their name raise instead of being exported."""
    uris: dict[str, str] = {}
    samples: dict[str, str] = {}
    if "payloads" in table.column_names:
        ids = table.column("sample_id").to_pylist() if "sample_id" in table.column_names else \
            [None] * table.num_rows
        for sid, text in zip(ids, table.column("payloads").to_pylist()):
            for p in json.loads(text or "{}").values():
                if p.get("hash"):
                    if sid is not None:
                        samples.setdefault(p["hash"], sid)
                    if p.get("uri"):
                        uris[p["hash"]] = p["uri"]

    def get(digest: str) -> bytes:
        data = read_payload(ws, {"hash": digest, "uri": uris.get(digest)})
        if hashlib.sha256(data).hexdigest() != digest:
            sample = f" of sample {samples[digest]}" if digest in samples else ""
            raise SynthError(f"blob {digest}{sample} is corrupt: its bytes no longer match their sha256 "
                             "(nothing more was exported; run `synth verify` to list every damaged sample)")
        return data
    return get
