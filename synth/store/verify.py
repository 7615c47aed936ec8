"""Verify a version: re-hash every referenced blob (missing or corrupt ones are errors, each naming every
sample that uses it), check the manifest's own consistency (row hashes, duplicate ids, payload JSON,
stored fingerprint, parents) and that the version history agrees with synth's record (no lost version)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import fsspec

from synth.store import history
from synth.store.manifest import HASHED, row_hash
from synth.store.workspace import Workspace
from synth.store.commit import version_fingerprint
from synth.store.lineage import correction_ids


@dataclass
class VerifyReport:
    version: int
    rows: int = 0
    blobs: int = 0
    missing: list[dict[str, str]] = field(default_factory=list)
    corrupt: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    repaired: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not (self.missing or self.corrupt or self.problems)

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "ok": self.ok, "rows": self.rows, "blobs": self.blobs,
                "missing": self.missing, "corrupt": self.corrupt, "problems": self.problems,
                **({"repaired": self.repaired} if self.repaired is not None else {})}


def repair(ws: Workspace) -> dict[str, Any]:
    """Make the version history consistent again after a lost version file (see synth.store.history)."""
    return history.repair(ws, ws.manifest._dataset(required=False))


def verify(ws: Workspace, version: int | str | None = None) -> VerifyReport:
    v = ws.manifest.resolve(version)
    table = ws.manifest.to_table(v)
    report = VerifyReport(v, rows=table.num_rows)
    blobs = _check_rows(table, report)
    _check_version(ws, v, table, report)
    report.problems.extend(history.problems(ws, ws.manifest._dataset(required=False), full=True))
    for digest, (sample_ids, name, uri) in sorted(blobs.items()):
        report.blobs += 1
        data = _read(ws, digest, uri)
        entry = {"hash": digest, "sample_id": sample_ids[0], "sample_ids": sample_ids, "payload": name,
                 **({"uri": uri} if uri else {})}
        if data is None:
            report.missing.append(entry)
        elif hashlib.sha256(data).hexdigest() != digest:
            report.corrupt.append(entry)
    return report


def _check_rows(table: Any, report: VerifyReport) -> dict[str, tuple[list[str], str, str | None]]:
    """Row checks; returns hash -> (every sample id using the blob, first payload name, uri)."""
    blobs: dict[str, tuple[list[str], str, str | None]] = {}
    seen: set[str] = set()
    for r in table.to_pylist():
        sid = r["sample_id"]
        if sid in seen:
            report.problems.append(f"sample {sid}: duplicate sample id")
        seen.add(sid)
        if r["row_hash"] != row_hash({k: r[k] for k in HASHED}):
            report.problems.append(f"sample {sid}: row_hash does not match the row's content")
        if r["origin"] not in ("real", "synthetic"):
            report.problems.append(f"sample {sid}: origin is {r['origin']!r}, not real or synthetic")
        try:
            payloads = json.loads(r["payloads"] or "{}")
            json.loads(r["labels"] or "{}")
        except ValueError:
            report.problems.append(f"sample {sid}: payloads or labels are not JSON")
            continue
        for name, p in payloads.items():
            if "hash" in p:
                users = blobs.setdefault(p["hash"], ([], name, p.get("uri")))[0]
                if not users or users[-1] != sid:
                    users.append(sid)
            elif "value" not in p:
                report.problems.append(f"sample {sid}: payload {name} has neither a hash nor an inline value")
    return blobs


def _check_version(ws: Workspace, v: int, table: Any, report: VerifyReport) -> None:
    info = ws.manifest.version_info(v)
    known = {x.version for x in ws.manifest.versions()}
    for p in info.parents:
        if p not in known:
            report.problems.append(f"version {v}: parent {p} does not exist")
    if info.fingerprint:
        exact = version_fingerprint(table.column("row_hash").combine_chunks(), correction_ids(ws, v))
        plain = version_fingerprint(table.column("row_hash").combine_chunks(), [])
        # versions committed by the generator's own commit path fingerprint the rows only
        if info.fingerprint not in (exact, plain):
            report.problems.append(f"version {v}: stored fingerprint {info.fingerprint[:16]} does not match the "
                                   f"data ({exact[:16]})")


def _read(ws: Workspace, digest: str, uri: str | None) -> bytes | None:
    if ws.store.exists(digest):
        return ws.store.get(digest)
    if uri:
        try:
            with fsspec.open(uri, "rb") as fh:
                return fh.read()
        except (FileNotFoundError, OSError):
            return None
    return None
