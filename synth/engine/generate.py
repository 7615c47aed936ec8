"""Generation: render samples in shards, put payloads in the store, stage finished shards so an
interrupted run resumes, and commit all rows as one manifest version."""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable


from synth.engine.executors import Executor, make_executor, plan_shards
from synth.recipe.model import Recipe
from synth.recipe.plan import sample_id

if TYPE_CHECKING:  # workers never import Lance: it costs seconds of start-up per process
    from synth.store.workspace import Workspace


@dataclass
class GenerateResult:
    version: int | None
    rows: int
    new_rows: int
    fingerprint: str
    seconds: float
    recipe_hash: str
    table_rows: int = 0  # table scenes: rows of the new samples' blocks (a sample is a block of rows)

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "rows": self.rows, "new_rows": self.new_rows,
                "fingerprint": self.fingerprint, "seconds": round(self.seconds, 3),
                "recipe_hash": self.recipe_hash, "table_rows": self.table_rows}


class Staging:
    """Finished shards of one run, kept until the commit, so a killed run resumes where it stopped."""

    def __init__(self, ws: Workspace, run_key: str) -> None:
        self.ws = ws
        self.dir = ws.path("staging", run_key)

    def load(self) -> list[dict[str, Any]]:
        fs = self.ws.fs
        if not fs.exists(self.dir):
            return []
        rows: list[dict[str, Any]] = []
        for name in sorted(fs.ls(self.dir, detail=False)):
            base = name.rstrip("/").rsplit("/", 1)[-1]
            if base.startswith("shard-") and base.endswith(".json"):
                rows.extend(json.loads(fs.cat_file(name)))
        return rows

    def save(self, shard_no: int, rows: list[dict[str, Any]]) -> None:
        fs = self.ws.fs
        fs.makedirs(self.dir, exist_ok=True)
        final = f"{self.dir}/shard-{rows[0]['index']:09d}-{shard_no}.json"
        tmp = f"{self.dir}/.tmp-{os.getpid()}-{shard_no}"
        with fs.open(tmp, "w") as fh:
            fh.write(json.dumps(rows))
        fs.mv(tmp, final)

    def clear(self) -> None:
        fs = self.ws.fs
        if fs.exists(self.dir):
            fs.rm(self.dir, recursive=True)
        parent = self.dir.rsplit("/", 1)[0]
        if fs.exists(parent) and not fs.ls(parent, detail=False):
            fs.rmdir(parent)


def generate(recipe: Recipe, ws: Workspace, *, workers: int | None = None, message: str | None = None,
             executor: str | Executor = "local", progress: Callable[[int, int], None] | None = None,
             executor_options: dict[str, Any] | None = None, extra: dict[str, str] | None = None) -> GenerateResult:
    """Render the recipe's missing samples on `executor` (a name, or an Executor kept across runs, as a
    sweep does) and commit them as one version."""
    started = time.perf_counter()
    workers = max(1, workers or os.cpu_count() or 1)
    own = not isinstance(executor, Executor)
    ex = make_executor(executor, workers, executor_options) if own else executor
    try:
        ex.prepare(recipe, ws)  # local helpers start up while the driver reads the manifest
        try:
            return _generate(recipe, ws, ex, workers, message, progress, extra, started)
        finally:
            ex.finish()
    finally:
        if own:
            ex.close()


def _generate(recipe: Recipe, ws: Workspace, ex: Executor, workers: int, message: str | None,
              progress: Callable[[int, int], None] | None, extra: dict[str, str] | None,
              started: float) -> GenerateResult:
    from synth.store.manifest import rows_to_table

    rhash = recipe.hash
    run_key = hashlib.sha256(f"{rhash}:{recipe.count}".encode()).hexdigest()[:20]
    staging = Staging(ws, run_key)
    present = ws.manifest.existing_ids(rhash)
    staged = [r for r in staging.load() if r["sample_id"] not in present]
    done = present | {r["sample_id"] for r in staged}
    todo = [i for i in range(recipe.count) if sample_id(rhash, i) not in done]
    total = recipe.count
    if progress:
        progress(total - len(todo), total)
    new_rows = list(staged)
    shards = plan_shards(todo, workers)
    for shard_no, rows in (ex.run(recipe, ws, shards) if shards else ()):
        staging.save(shard_no, rows)
        new_rows.extend(rows)
        if progress:
            progress(len(rows), total)
    version = ws.manifest.latest_version()
    if new_rows:
        new_rows.sort(key=lambda r: r["index"])
        msg = message or f"generate {recipe.name}: {len(new_rows)} samples"
        extra = {"recipe": recipe.name, "recipe_hash": rhash, **(extra or {})}
        if ws.manifest.uri.startswith("memory://"):  # one process only: no concurrent writers to guard against
            version = ws.manifest.commit(rows_to_table(new_rows), msg, operation="generate", extra=extra)
        else:
            from synth.store.commit import commit
            version = commit(ws, rows_to_table(new_rows), msg, operation="generate", extra=extra)
    staging.clear()
    fingerprint = ws.manifest.fingerprint(version) if version is not None else ""
    table_rows = sum(json.loads(r["labels"] or "{}").get("rows", 0) for r in new_rows) \
        if recipe.scene_cls.modality == "table" else 0
    return GenerateResult(version, len(ws.manifest.existing_ids(rhash)), len(new_rows), fingerprint,
                          time.perf_counter() - started, rhash, table_rows)
