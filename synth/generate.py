"""Generation: render samples in shards, put payloads in the store, stage finished shards so an
interrupted run resumes, and commit all rows as one manifest version."""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable


from .errors import RecipeError, SynthError
from .plan import Plan, assign_split, sample_id
from .recipe import Recipe
from .rows import row_hash
from .sample import Sample, canonical_json
from .seeding import RENDER_STREAM, rng_for, sample_seed
from .store import Store

if TYPE_CHECKING:  # workers never import Lance: it costs seconds of start-up per process
    from .pool import LocalPool
    from .workspace import Workspace


@dataclass
class GenerateResult:
    version: int | None
    rows: int
    new_rows: int
    fingerprint: str
    seconds: float
    recipe_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "rows": self.rows, "new_rows": self.new_rows,
                "fingerprint": self.fingerprint, "seconds": round(self.seconds, 3),
                "recipe_hash": self.recipe_hash}


class Producer:
    """Renders one sample index of a recipe into a manifest row; lives once per worker process."""

    def __init__(self, recipe: Recipe, store: Store) -> None:
        self.recipe = recipe
        self.plan = Plan(recipe)
        self.scene = recipe.scene_cls()
        self.store = store
        self.hash = recipe.hash
        self.tasks = [(name, _task(name), params) for name, params in recipe.ssl_params]

    def close(self) -> None:
        """Stop the scene's renderer, if it runs one (a Blender render server)."""
        if hasattr(self.scene, "close"):
            self.scene.close()

    def rows(self, indices: list[int]) -> list[dict[str, Any]]:
        """Rows of a shard; returns only once every blob they name is in the store."""
        out = [self.row(i) for i in indices]
        self.store.flush()
        return out

    def render(self, index: int) -> Sample:
        draw = self.plan.params_for(index)
        sample = self.scene.render(draw.params, rng_for(self.recipe.seed, index, RENDER_STREAM))
        sample.params = draw.recorded
        for name, task, params in self.tasks:
            task.apply(sample, params, rng_for(self.recipe.seed, index, f"ssl.{name}"))
        return sample

    def row(self, index: int) -> dict[str, Any]:
        sample = self.render(index)
        out = self.recipe.model.outputs
        payloads = self._store_payloads(sample, out)
        labels = sample.labels if out.labels is None else {k: v for k, v in sample.labels.items() if k in out.labels}
        sid = sample_id(self.hash, index)
        width, height = sample.width, sample.height
        if width is None and "image" in sample.payloads:
            height, width = sample.payloads["image"].data.shape[:2]
        row = {
            "sample_id": sid, "origin": "synthetic", "recipe_name": self.recipe.name, "recipe_hash": self.hash,
            "index": index, "seed": sample_seed(self.recipe.seed, index),
            "params": canonical_json(sample.params), "scene": self.recipe.model.scene,
            "scene_version": self.recipe.scene_cls.version, "labels": canonical_json(labels),
            "payloads": canonical_json(payloads), "width": width, "height": height,
            "split": assign_split(sid, self.recipe.model.split), "group_key": sid,
            "source": None, "license": None, "note": None,
        }
        row["row_hash"] = row_hash(row)  # here, in parallel, rather than in the driver at commit time
        return row

    def _store_payloads(self, sample: Sample, out: Any) -> dict[str, Any]:
        wanted = out.payloads
        if wanted is not None:
            missing = [p for p in wanted if p not in sample.payloads]
            if missing:
                raise RecipeError(f"outputs.payloads names {', '.join(missing)}, but scene "
                                  f"'{self.recipe.model.scene}' makes: {', '.join(sorted(sample.payloads))}",
                                  file=self.recipe.file, field="outputs.payloads")
        stored: dict[str, Any] = {}
        for name, payload in sample.payloads.items():
            if wanted is not None and name not in wanted and not name.startswith("ssl."):
                continue
            if payload.inline:
                stored[name] = {"kind": payload.kind, "value": payload.inline_json()}
                continue
            fmt = out.audio_format if payload.kind == "audio" and payload.format is None else None
            if fmt:
                payload.format = fmt
            data, ext = payload.encode(out.image_format, out.jpeg_quality)
            digest = self.store.put_later(data)  # remote stores upload in the background; flushed per shard
            stored[name] = {"kind": payload.kind, "hash": digest, "format": ext}
        return stored


def _task(name: str) -> Any:
    from .scene import get_task
    return get_task(name)()


def plan_shards(indices: list[int], workers: int) -> list[list[int]]:
    if not indices:
        return []
    # ~32 shards per worker: small enough that workers finish together, large enough that staging a
    # shard costs little next to rendering it
    size = max(4, min(256, len(indices) // max(1, workers * 32) or 1))
    return [indices[i:i + size] for i in range(0, len(indices), size)]


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
             executor: str = "local", progress: Callable[[int, int], None] | None = None,
             executor_options: dict[str, Any] | None = None, extra: dict[str, str] | None = None) -> GenerateResult:
    started = time.perf_counter()
    workers = max(1, workers or os.cpu_count() or 1)
    pool = _start_pool(recipe, ws, workers) if executor == "local" else None  # helpers start up meanwhile
    try:
        return _generate(recipe, ws, workers, message, executor, progress, executor_options or {}, extra,
                         pool, started)
    finally:
        if pool is not None:
            pool.close()


def _generate(recipe: Recipe, ws: Workspace, workers: int, message: str | None, executor: str,
              progress: Callable[[int, int], None] | None, executor_options: dict[str, Any],
              extra: dict[str, str] | None, pool: LocalPool | None, started: float) -> GenerateResult:
    from .manifest import rows_to_table

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
    for shard_no, rows in _execute(recipe, ws, plan_shards(todo, workers), workers, executor, executor_options,
                                   pool):
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
            from .data.commit import commit
            version = commit(ws, rows_to_table(new_rows), msg, operation="generate", extra=extra)
    staging.clear()
    fingerprint = ws.manifest.fingerprint(version) if version is not None else ""
    return GenerateResult(version, len(ws.manifest.existing_ids(rhash)), len(new_rows), fingerprint,
                          time.perf_counter() - started, rhash)


def _start_pool(recipe: Recipe, ws: Workspace, workers: int) -> LocalPool | None:
    """Helper processes, when the run will use any: more than one worker and more than one shard, or a
    scene that renders only in helpers (Blender)."""
    from .pool import LocalPool

    isolated = getattr(recipe.scene_cls, "isolated", False)
    if not isolated and (workers == 1 or len(plan_shards(list(range(recipe.count)), workers)) == 1):
        return None
    return LocalPool(recipe, ws.root, ws.storage_options, workers)


def _execute(recipe: Recipe, ws: Workspace, shards: list[list[int]], workers: int, executor: str,
             options: dict[str, Any], pool: LocalPool | None) -> Iterable[tuple[int, list[dict[str, Any]]]]:
    if not shards:
        return
    if executor == "ray":
        from .executors_ray import run_ray  # optional extra
        yield from run_ray(recipe, ws, shards, workers, options)
        return
    if executor != "local":
        raise SynthError(f"unknown executor '{executor}'; use local or ray", field="--executor")
    if pool is None:
        os.environ["SYNTH_WORKERS"] = "1"  # threaded renderers (Blender) size their thread pools from it
    if pool is not None and not pool.driver_renders:
        yield from pool.run(shards)
        return
    from .pool import rendering_process

    with rendering_process(recipe, ws.store, workers) as producer:
        if pool is None:
            for no, shard in enumerate(shards):
                yield no, producer.rows(shard)
        else:
            yield from pool.run(shards, producer)
