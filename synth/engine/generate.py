"""Generation: render samples in shards, put payloads in the store, stage finished shards so an
interrupted run resumes, and commit all rows as one manifest version."""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable


from synth.engine.executors import Executor, make_executor, plan_shards
from synth.recipe.model import Recipe
from synth.recipe.plan import sample_id
from synth.store.blobs import DISK_FULL, RETRY_AFTER_FREEING, StoreFull

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
        """Rows of every staged shard. Staged shards only cache work that renders again to the same bytes,
        so a shard that cannot be used (not JSON, rows that do not match their hash, a blob missing or cut
        short) is discarded with a one-line warning and its samples are rendered again."""
        fs = self.ws.fs
        if not fs.exists(self.dir):
            return []
        rows: list[dict[str, Any]] = []
        try:
            names = sorted(fs.ls(self.dir, detail=False))
        except FileNotFoundError:
            return []
        for name in names:
            base = name.rstrip("/").rsplit("/", 1)[-1]
            if base.startswith("shard-") and base.endswith(".json"):
                try:
                    shard = json.loads(fs.cat_file(name))
                    problem = self._problem(shard)
                except FileNotFoundError:  # another run of this recipe committed it and cleared the folder
                    continue
                except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
                    problem = f"not JSON ({str(exc).splitlines()[0][:80]})"
                if problem:
                    self._discard(name, problem)
                    continue
                rows.extend(shard)
        return rows

    def _problem(self, shard: Any) -> str | None:
        """Why a parsed shard cannot be committed, or None."""
        from synth.store.rows import row_hash

        if not isinstance(shard, list) or not shard:
            return "not a list of rows"
        for row in shard:
            if not isinstance(row, dict) or not isinstance(row.get("sample_id"), str) or \
                    not isinstance(row.get("index"), int) or not isinstance(row.get("payloads"), str):
                return "a row lacks sample_id, index or payloads"
            if row.get("row_hash") != row_hash(row):
                return f"row {row['sample_id']} does not match its row_hash"
            if self.ws.store.local:  # one stat per blob; on object storage that would be a request each
                try:
                    payloads = json.loads(row["payloads"])
                except ValueError:
                    return f"row {row['sample_id']} has payloads that are not JSON"
                for p in payloads.values() if isinstance(payloads, dict) else ():
                    if isinstance(p, dict) and p.get("hash") and not self.ws.store.exists(p["hash"]):
                        return f"blob {p['hash'][:16]} of row {row['sample_id']} is missing or empty"
        return None

    def _discard(self, name: str, problem: str) -> None:
        sys.stderr.write(f"warning: staged shard {name} is damaged ({problem}): discarded, its samples are "
                         "rendered again\n")
        try:
            self.ws.fs.rm(name)
        except (FileNotFoundError, OSError):
            pass

    def save(self, shard_no: int, rows: list[dict[str, Any]]) -> None:
        fs = self.ws.fs
        fs.makedirs(self.dir, exist_ok=True)
        final = f"{self.dir}/shard-{rows[0]['index']:09d}-{shard_no}.json"
        tmp = f"{self.dir}/.tmp-{os.getpid()}-{shard_no}"
        text = json.dumps(rows)
        for attempt in range(3):
            try:
                with fs.open(tmp, "w") as fh:
                    fh.write(text)
                fs.mv(tmp, final)
                return
            except FileNotFoundError:  # another run of this recipe committed and cleared the folder
                if attempt == 2:
                    raise
                fs.makedirs(self.dir, exist_ok=True)
            except OSError as exc:
                if exc.errno not in DISK_FULL:
                    raise
                try:
                    fs.rm(tmp)
                except OSError:
                    pass
                raise StoreFull(f"could not stage {final} ({len(text):,} bytes): {DISK_FULL[exc.errno]}; "
                                f"{RETRY_AFTER_FREEING}") from None

    def clear(self) -> None:
        """Remove the run's shards after its commit; another run of the same recipe may be writing there
        too (its rows are in the manifest now or will be left out as duplicates), so races are harmless."""
        fs = self.ws.fs
        parent = self.dir.rsplit("/", 1)[0]
        try:
            if fs.exists(self.dir):
                fs.rm(self.dir, recursive=True)
            if fs.exists(parent) and not fs.ls(parent, detail=False):
                fs.rmdir(parent)
        except (FileNotFoundError, OSError):
            pass


def generate(recipe: Recipe, ws: Workspace, *, workers: int | None = None, message: str | None = None,
             executor: str | Executor = "local", progress: Callable[[int, int], None] | None = None,
             executor_options: dict[str, Any] | None = None, extra: dict[str, str] | None = None) -> GenerateResult:
    """Render the recipe's missing samples on `executor` (a name, or an Executor kept across runs, as a
    sweep does) and commit them as one version."""
    started = time.perf_counter()
    workers = max(1, workers or os.cpu_count() or 1)
    own = not isinstance(executor, Executor)
    ex = make_executor(executor, workers, executor_options) if own else executor
    ws.check_writable()  # an object store that refuses blobs or the manifest fails now, not after rendering
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
            from synth.store.commit import commit_rows
            # rows another run of this recipe committed meanwhile are left out: never added twice
            done_now = commit_rows(ws, rows_to_table(new_rows), msg, operation="generate", extra=extra)
            version = done_now.version
            if done_now.left_out:
                new_rows = [r for r in new_rows if r["sample_id"] not in done_now.left_out]
    staging.clear()
    fingerprint = ws.manifest.fingerprint(version) if version is not None else ""
    table_rows = sum(json.loads(r["labels"] or "{}").get("rows", 0) for r in new_rows) \
        if recipe.scene_cls.modality == "table" else 0
    return GenerateResult(version, len(ws.manifest.existing_ids(rhash)), len(new_rows), fingerprint,
                          time.perf_counter() - started, rhash, table_rows)
