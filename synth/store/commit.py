"""Optimistic manifest commits whose stored fingerprint is exact even when another process commits
at the same time: every commit names its read version and Lance refuses it if another landed since."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import lance
import pyarrow as pa
import pyarrow.compute as pc

from synth.errors import SynthError, WorkspaceError
from synth.store.manifest import SCHEMA
from synth.store.workspace import Workspace
from synth.store.hashing import fingerprint
from synth.store import history
from synth.store.lineage import correction_ids
from synth.store.lock import workspace_lock

RETRIES = 8
RETRY_HINT = "another process committed to this workspace at the same time; run the command again"


class ConcurrentCommit(SynthError):
    """A commit that lost the race too many times (or whose input was read from a superseded version)."""


@dataclass
class Committed:
    """What a commit did: the version it made (or the newest one, when it had nothing new to add)."""
    version: int
    added: int        # rows this version added; appends leave out ids the newest version already holds
    committed: bool   # False when every appended row was already there, so no version was made
    left_out: frozenset[str] = frozenset()  # sample ids not appended because the newest version held them


def commit(ws: Workspace, rows: pa.Table | pa.RecordBatchReader | None, message: str, *, operation: str,
           replace: bool = False, parents: list[int] | None = None, extra: dict[str, str] | None = None,
           expect_version: int | None = None) -> int:
    """`commit_rows`, returning only the version number."""
    return commit_rows(ws, rows, message, operation=operation, replace=replace, parents=parents, extra=extra,
                       expect_version=expect_version).version


def commit_rows(ws: Workspace, rows: pa.Table | pa.RecordBatchReader | None, message: str, *, operation: str,
                replace: bool = False, parents: list[int] | None = None, extra: dict[str, str] | None = None,
                expect_version: int | None = None) -> Committed:
    """Commit `rows` as one new manifest version.

    replace=False appends rows (None or empty: a version with no new rows, e.g. a label correction);
    rows whose sample_id the newest version already holds are left out (two runs of one recipe or one
    import never add a row twice), and when none is left no version is made. replace=True makes the rows
    the whole version (mix, split). A RecordBatchReader is written batch by batch, so a large replacing
    commit never holds all its rows at once. Both are committed as a Lance Overwrite listing every
    fragment, with read_version set and no automatic rebase: if another process committed in between,
    Lance raises a conflict and we recompute (duplicates, fingerprint) on the new base and try again, so
    the fingerprint stored with a version always describes exactly that version's rows. On local disks
    the whole read-newest/commit section also runs under the workspace lock.
    expect_version: the version the caller derived `rows` from; if the workspace moved past it, fail
    (ConcurrentCommit, exit 2) instead of silently dropping the other process's rows.
    Before committing, synth's version record must agree with the manifest (no lost version file).
    """
    if ws.manifest.uri.startswith("memory://"):
        raise WorkspaceError("this command needs a file or object-store workspace, not memory://")
    if not replace and isinstance(rows, pa.RecordBatchReader):
        rows = rows.read_all()  # appends are deduplicated against the base: keep them addressable
    new_fragments, new_hashes = _write_fragments(ws, rows)
    new_ids = rows.column("sample_id").combine_chunks() if isinstance(rows, pa.Table) and rows.num_rows \
        else pa.array([], pa.string())
    with workspace_lock(ws):
        for attempt in range(RETRIES):
            base = ws.manifest._dataset(required=False)
            # base.version is the version this handle read; latest_version asks storage again and may already
            # name a newer commit, which would make a stale overwrite look current and drop that commit's rows
            if expect_version is not None and base is not None and base.version != expect_version:
                raise ConcurrentCommit(f"version {base.version} was committed while this ran (it started from "
                                       f"version {expect_version}); nothing was committed; {RETRY_HINT}")
            history.check(ws, base)
            fragments, hashes, added, left_out = new_fragments, new_hashes, len(new_hashes), frozenset()
            if not replace and base is not None and added:
                present = _present(base, new_ids)
                if pc.any(present).as_py():
                    left_out = frozenset(new_ids.filter(present).to_pylist())
                    if pc.all(present).as_py():
                        return Committed(base.version, 0, False, left_out)
                    keep = pc.invert(present)
                    fresh = rows.filter(keep)
                    fragments, hashes, added = _fragments(ws, fresh.cast(SCHEMA)), \
                        fresh.column("row_hash").combine_chunks(), fresh.num_rows
            try:
                version, fp = _try_commit(ws, base, fragments, hashes, message, operation, replace, parents, extra)
            except (lance.commit.CommitConflictError, OSError) as exc:
                # base None: another process created the manifest first (object storage: no lock)
                if "onflict" not in str(exc) and "ncompatible" not in str(exc) and base is not None and \
                        not isinstance(exc, lance.commit.CommitConflictError):
                    raise
                time.sleep(0.05 * (attempt + 1))
                continue
            history.record(ws, version, fp, operation)
            return Committed(version, added, True, left_out)
    raise ConcurrentCommit(RETRY_HINT)


def _present(base: lance.LanceDataset, ids: pa.Array) -> pa.Array:
    """Which of `ids` the base version already holds."""
    have = base.to_table(columns=["sample_id"]).column("sample_id").combine_chunks()
    return pc.fill_null(pc.is_in(ids, value_set=have), False)


def _write_fragments(ws: Workspace, rows: pa.Table | pa.RecordBatchReader | None) -> tuple[list[Any], pa.Array]:
    """Fragments for the new rows and their row hashes (kept aside while streaming, for the fingerprint)."""
    if rows is None or (isinstance(rows, pa.Table) and rows.num_rows == 0):
        return [], pa.array([], pa.string())
    if isinstance(rows, pa.Table):
        rows = rows.cast(SCHEMA)
        return _fragments(ws, rows), rows.column("row_hash").combine_chunks()
    hashes: list[pa.Array] = []

    def batches():
        for batch in rows:
            batch = pa.Table.from_batches([batch]).cast(SCHEMA).combine_chunks().to_batches()
            for b in batch:
                # a copy: a slice would keep the whole batch Lance decoded alive (~0.5 GiB per 1M rows)
                hashes.append(pa.concat_arrays([b.column("row_hash")]))
                yield b
    fragments = _fragments(ws, pa.RecordBatchReader.from_batches(SCHEMA, batches()))
    return (fragments if hashes else []), pa.concat_arrays(hashes) if hashes else pa.array([], pa.string())


def _fragments(ws: Workspace, data: pa.Table | pa.RecordBatchReader) -> list[Any]:
    return lance.fragment.write_fragments(data, ws.manifest.uri, schema=SCHEMA,
                                          storage_options=ws.manifest.storage_options)


def _try_commit(ws: Workspace, base: lance.LanceDataset | None, new_fragments: list[Any], new_hashes: pa.Array,
                message: str, operation: str, replace: bool, parents: list[int] | None,
                extra: dict[str, str] | None) -> tuple[int, str]:
    read_version = base.version if base is not None else 0
    kept = [] if (replace or base is None) else [f.metadata for f in base.get_fragments()]
    hashes = [] if (replace or base is None) else [base.to_table(columns=["row_hash"]).column("row_hash")]
    if len(new_hashes):
        hashes.append(new_hashes)
    row_hashes = pa.concat_arrays([c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in hashes]) \
        if hashes else pa.array([], pa.string())
    labels_commit = (extra or {}).get("labels_commit")
    corrections = correction_ids(ws, read_version if base is not None else None, extra_commit=labels_commit)
    if parents is None:
        parents = [read_version] if base is not None else []
    props = {"message": message, "operation": operation, "parents": json.dumps(parents),
             "fingerprint": version_fingerprint(row_hashes, corrections), **(extra or {})}
    op = lance.LanceOperation.Overwrite(SCHEMA, kept + new_fragments)
    tx = lance.Transaction(read_version, op, transaction_properties=props)
    target = ws.manifest.uri if base is None else base
    new = lance.LanceDataset.commit(target, tx, max_retries=0, storage_options=ws.manifest.storage_options)
    return new.version, props["fingerprint"]


def version_fingerprint(row_hashes: pa.Array, correction_label_ids: list[str]) -> str:
    """sha256 of the sorted row hashes; label corrections visible at the version are part of the data."""
    if not correction_label_ids:
        return fingerprint(row_hashes)
    extra = pa.array([f"label:{i}" for i in correction_label_ids], pa.string())
    return fingerprint(pa.concat_arrays([row_hashes.cast(pa.string()), extra]))
