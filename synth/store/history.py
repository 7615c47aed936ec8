"""synth's own record of committed versions, `<workspace>/history/<version>.json` (version, fingerprint,
operation), written after each Lance commit. Lance numbers a new version after the newest manifest
file it finds, so a lost `_versions/N.manifest` would let the next commit reuse N and a tag silently
point at other data; comparing this record with the manifest finds such a hole before that happens."""
from __future__ import annotations

import json
import os
import time
import uuid
from typing import TYPE_CHECKING, Any

from synth.errors import WorkspaceError

if TYPE_CHECKING:
    import lance

    from synth.store.workspace import Workspace

HISTORY_DIR = "history"
LOST_DIR = "lost"
REPAIR_HINT = "run `synth verify --repair` to set the lost version(s) aside and go on from the newest one left"


class HistoryHole(WorkspaceError):
    """The manifest and synth's version record disagree: a version file was lost or rewritten."""


def _dir(ws: Workspace, *parts: str) -> str:
    return ws.path(HISTORY_DIR, *parts)


def record(ws: Workspace, version: int, fingerprint: str, operation: str) -> None:
    """Record a committed version (atomically: a temp name, then a rename or a single object put)."""
    entry = json.dumps({"version": version, "fingerprint": fingerprint, "operation": operation,
                        "recorded": time.time()}).encode()
    folder = _dir(ws)
    final = f"{folder}/{version:09d}.json"
    if ws.store.local:
        os.makedirs(folder, exist_ok=True)
        tmp = f"{folder}/.tmp-{uuid.uuid4().hex}"
        with open(tmp, "wb") as fh:
            fh.write(entry)
        os.replace(tmp, final)
    else:
        ws.fs.pipe_file(final, entry)  # one PUT: atomic on object stores


def recorded(ws: Workspace) -> dict[int, dict[str, Any]]:
    """version -> record, for every version synth recorded (workspaces from before the record: none)."""
    folder = _dir(ws)
    if not ws.fs.exists(folder):
        return {}
    out: dict[int, dict[str, Any]] = {}
    for name in ws.fs.ls(folder, detail=False):
        base = name.rstrip("/").rsplit("/", 1)[-1]
        if base.endswith(".json") and base[:-5].isdigit():
            try:
                out[int(base[:-5])] = json.loads(ws.fs.cat_file(name))
            except (ValueError, OSError):
                out[int(base[:-5])] = {"version": int(base[:-5]), "fingerprint": None}
    return out


def problems(ws: Workspace, ds: lance.LanceDataset | None, *, full: bool = False) -> list[str]:
    """Disagreements between the record and the manifest: recorded versions the manifest lacks (a hole),
    and recorded fingerprints that differ from the manifest's (history rewritten). `full` checks the
    fingerprint of every recorded version, else only the newest one the manifest has."""
    rec = recorded(ws)
    if not rec:
        return []
    known = {v["version"] for v in ds.versions()} if ds is not None else set()
    latest = max(known) if known else 0
    out = []
    lost = sorted(v for v in rec if v not in known)
    if lost:
        out.append(f"version(s) {', '.join(map(str, lost))} were committed (history/{lost[0]:09d}.json) but are "
                   f"missing from the manifest, whose newest version is {latest or 'none'}: a version file of "
                   "manifest.lance/_versions was lost")
    for v in (sorted(set(rec) & known) if full else ([latest] if latest in rec else [])):
        stored = _fingerprint(ds, v)
        if rec[v].get("fingerprint") and stored != rec[v]["fingerprint"]:
            out.append(f"version {v}: the manifest's fingerprint {str(stored)[:16]} is not the one recorded when it "
                       f"was committed ({rec[v]['fingerprint'][:16]}): the version was rewritten")
    return out


def check(ws: Workspace, ds: lance.LanceDataset | None) -> None:
    """Refuse to commit on a workspace whose version history has a hole (the commit would reuse a number)."""
    found = problems(ws, ds)
    if found:
        raise HistoryHole(f"{'; '.join(found)}. Nothing was committed; {REPAIR_HINT}")


def repair(ws: Workspace, ds: lance.LanceDataset | None) -> dict[str, Any]:
    """Set the records of lost versions aside (history/lost/) and delete the tags that point at versions
    the manifest lacks, so the next commit is a new version that no old tag or record names."""
    rec = recorded(ws)
    known = {v["version"] for v in ds.versions()} if ds is not None else set()
    lost = sorted(v for v in rec if v not in known)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for v in lost:
        src = _dir(ws, f"{v:09d}.json")
        dst = _dir(ws, LOST_DIR, f"{v:09d}-{stamp}.json")
        ws.fs.makedirs(_dir(ws, LOST_DIR), exist_ok=True)
        ws.fs.mv(src, dst)
    dropped: dict[str, int] = {}
    if ds is not None:
        for name, t in dict(ds.tags.list()).items():
            if t["version"] not in known:
                ds.tags.delete(name)
                dropped[name] = t["version"]
    rewritten = [p for p in problems(ws, ds, full=True)]
    return {"lost_versions": lost, "tags_deleted": dropped, "set_aside": f"{HISTORY_DIR}/{LOST_DIR}" if lost else None,
            "remaining_problems": rewritten}


def _fingerprint(ds: lance.LanceDataset, version: int) -> str | None:
    txn = ds.read_transaction(version)
    return (txn.transaction_properties or {}).get("fingerprint") if txn is not None else None
