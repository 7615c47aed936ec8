"""Pretext labels for the rows of an existing manifest version (real data included): read payloads from
the store, apply one task, write derived payloads back, commit a new version unless nothing changed."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import pyarrow as pa

from synth.errors import SynthError
from synth.codecs.canonical import canonical_json
from synth.core.sample import Payload, Sample, decode_blob
from synth.core.scene import PretextTask, get_task
from synth.core.seeding import rng_for
from synth.store.blobs import Store
from synth.store.manifest import fingerprint_of, rows_to_table

# payload kinds a task of each modality reads; everything else in a row stays unread
READS = {"image": ("image",), "3d": ("image",), "audio": ("audio",), "text": ("text",),
         "table": ("row", "bytes"), "sequence": ("array", "audio", "text")}


@dataclass
class SslApplyResult:
    task: str
    source_version: int
    version: int
    committed: bool
    rows: int
    labelled: int
    skipped: int
    fingerprint: str
    seconds: float
    base_version: int | None = None  # the newest version when it ran: the new version is built on it

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def row_stream_seed(sample_id: str) -> int:
    """The task stream of a stored row: derived from its sample id, so re-running gives the same labels
    and real rows (which have no recipe seed) are covered too."""
    return int(hashlib.sha256(sample_id.encode()).hexdigest()[:16], 16)


def parse_params(task_cls: type[PretextTask], params: Any) -> Any:
    """Validate params early (before any row is read) with the task's own error messages."""
    task = task_cls()
    if hasattr(task, "parse_params"):
        return task.parse_params(params)
    return task_cls.Params.model_validate(params or {})


class RowLabeller:
    """Applies one task to manifest rows; lives once per worker process."""

    def __init__(self, task_name: str, params: Any, store: Store, image_format: str = "png",
                 pool: pa.Table | None = None) -> None:
        self.name = task_name
        self.task = get_task(task_name)()
        if pool is not None and hasattr(self.task, "use_pool"):
            self.task.use_pool(pool)
        self.params = params
        self.store = store
        self.image_format = image_format
        self.kinds = {k for m in self.task.modalities for k in READS.get(m, ())}

    def accepts(self, payloads: dict[str, Any]) -> bool:
        return any(not n.startswith("ssl.") and p.get("kind") in self.kinds for n, p in payloads.items())

    def label(self, row: dict[str, Any]) -> dict[str, Any]:
        stored = json.loads(row["payloads"] or "{}")
        prefix = f"ssl.{self.name}."
        stored = {n: p for n, p in stored.items() if not n.startswith(prefix)}  # a re-run replaces them
        sample = Sample(payloads=self._load(stored), labels=json.loads(row["labels"] or "{}"),
                        width=row.get("width"), height=row.get("height"))
        self.task.apply(sample, self.params, rng_for(row_stream_seed(row["sample_id"]), 0, f"ssl.{self.name}"))
        for name, payload in sample.payloads.items():
            if name.startswith(prefix):
                stored[name] = self._store(payload)
        out = {k: v for k, v in row.items() if k != "row_hash"}
        out["labels"] = canonical_json(sample.labels)
        out["payloads"] = canonical_json(stored)
        return out

    def _load(self, stored: dict[str, Any]) -> dict[str, Payload]:
        payloads = {}
        for name, ref in stored.items():
            kind = ref.get("kind")
            if name.startswith("ssl.") or kind not in self.kinds:
                continue
            if "value" in ref:
                payloads[name] = Payload(kind, ref["value"])
                continue
            data = self.store.get(ref["hash"])
            if kind == "audio":
                samples, rate = decode_blob(kind, data)
                payloads[name] = Payload(kind, samples, ref.get("format"), int(rate))
            else:
                payloads[name] = Payload(kind, decode_blob(kind, data), ref.get("format"))
        return payloads

    def _store(self, payload: Payload) -> dict[str, Any]:
        if payload.inline:
            return {"kind": payload.kind, "value": payload.inline_json()}
        data, ext = payload.encode(self.image_format)
        return {"kind": payload.kind, "hash": self.store.put(data), "format": ext}


def table_pool(rows: list[dict[str, Any]]) -> pa.Table | None:
    """All inline `row` payloads of a version, the pool VIME/SCARF draw replacement values from."""
    values = []
    for r in rows:
        ref = json.loads(r["payloads"] or "{}").get("row")
        if ref and ref.get("kind") == "row" and isinstance(ref.get("value"), dict):
            values.append(ref["value"])
    return pa.Table.from_pylist(values) if values else None


def apply_to_version(ws: Any, task_name: str, params: Any = None, *, version: int | str | None = None,
                     workers: int = 1, message: str | None = None, image_format: str = "png",
                     progress: Callable[[int, int], None] | None = None) -> SslApplyResult:
    """Apply a task to the rows of `version` (default: the newest) and commit the result on top of the
    newest version: rows committed after `version` are kept as they are, never dropped. If another
    process commits while this runs, nothing is committed and a ConcurrentCommit (exit 2) says so."""
    started = time.perf_counter()
    task_cls = get_task(task_name)
    parsed = parse_params(task_cls, params)
    base = ws.manifest.resolve(None)
    source = ws.manifest.resolve(version)
    rows = ws.manifest.to_table(base).to_pylist()
    wanted = None if source == base else \
        set(ws.manifest.to_table(source, columns=["sample_id"]).column("sample_id").to_pylist())
    pool = table_pool(rows) if "table" in task_cls.modalities else None
    probe = RowLabeller(task_name, parsed, ws.store, image_format, pool)
    todo = [i for i, r in enumerate(rows) if (wanted is None or r["sample_id"] in wanted)
            and probe.accepts(json.loads(r["payloads"] or "{}"))]
    if not todo:
        kinds = sorted({p.get("kind") for r in rows if wanted is None or r["sample_id"] in wanted
                        for p in json.loads(r["payloads"] or "{}").values()})
        raise SynthError(f"task '{task_name}' accepts {', '.join(task_cls.modalities)} samples, but no row of "
                         f"version {source} has such a payload (kinds present: {', '.join(kinds) or 'none'})",
                         field="--task")
    out = list(rows)
    for i, labelled in _run(probe, ws, [rows[i] for i in todo], workers, (task_name, parsed, image_format, pool),
                            progress):
        out[todo[i]] = labelled
    table = rows_to_table(out)
    fingerprint = fingerprint_of(table.column("row_hash"))
    if ws.manifest.fingerprint(base) == fingerprint:  # nothing new: same content, no version
        return SslApplyResult(task_name, source, base, False, len(rows), len(todo), len(rows) - len(todo),
                              fingerprint, time.perf_counter() - started, base)
    # imported here, not at the top: labelling workers import this module and must not pay for Lance
    from synth.store.commit import commit

    on = "" if source == base else f", on version {base}"
    msg = message or f"ssl {task_name}: {len(todo)} rows of version {source}{on}"
    new = commit(ws, table, msg, operation="ssl", replace=True, parents=sorted({source, base}), expect_version=base,
                 extra={"task": task_name, "task_params": canonical_json(parsed.model_dump(mode="json"))})
    return SslApplyResult(task_name, source, new, True, len(rows), len(todo), len(rows) - len(todo),
                          ws.manifest.fingerprint(new), time.perf_counter() - started, base)


def _run(probe: RowLabeller, ws: Any, rows: list[dict[str, Any]], workers: int, spec: tuple,
         progress: Callable[[int, int], None] | None) -> Iterable[tuple[int, dict[str, Any]]]:
    if workers <= 1 or len(rows) < 64:
        for i, r in enumerate(rows):
            yield i, probe.label(r)
            if progress:
                progress(1, len(rows))
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    if ws.root.startswith("memory://"):
        raise SynthError("a memory:// workspace lives in one process: use --workers 1", field="--workers")
    size = max(16, min(256, len(rows) // (workers * 8) or 1))
    chunks = [list(range(s, min(s + size, len(rows)))) for s in range(0, len(rows), size)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("forkserver"), initializer=_init,
                             initargs=(*spec, ws.root, ws.storage_options)) as executor:
        for chunk, labelled in zip(chunks, executor.map(_label_chunk, [[rows[i] for i in c] for c in chunks])):
            yield from zip(chunk, labelled)
            if progress:
                progress(len(chunk), len(rows))


_WORKER: RowLabeller | None = None


def _init(task_name: str, params: Any, image_format: str, pool: pa.Table | None, root: str,
          storage_options: dict[str, Any]) -> None:
    global _WORKER
    import cv2
    cv2.setNumThreads(1)  # parallelism comes from the processes
    _WORKER = RowLabeller(task_name, params, Store(root, storage_options), image_format, pool)


def _label_chunk(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert _WORKER is not None, "worker not initialised"
    return [_WORKER.label(r) for r in rows]

