"""The local executor: spawned helper processes that render shards, with the driver rendering too.

`--workers N` means N processes render. The driver is one of them unless the scene is `isolated`
(Blender renders only in helper processes), so a 2-worker run spawns one helper, whose start-up
(imports, recipe, scene) overlaps work the driver is already doing. Helpers are spawned, not forked
(Lance is not fork-safe), end with os._exit (some renderers crash at interpreter shutdown), exit when
the driver dies, and are terminated at once when the driver is interrupted.
"""
from __future__ import annotations

import os
import queue as queue_mod
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from synth.errors import SynthError
from synth.store.blobs import Store

from synth.engine.executors.base import Executor, plan_shards

if TYPE_CHECKING:
    from synth.engine.producer import Producer
    from synth.recipe.model import Recipe
    from synth.store.workspace import Workspace

Rows = list[dict[str, Any]]


def opencv_threads(workers: int) -> int:
    """OpenCV threads for each of `workers` rendering processes: the cores shared out among them (more
    would only contend: OpenCV's idle threads spin before they sleep)."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


@contextmanager
def rendering_process(recipe: Recipe, store: Store, workers: int) -> Iterator[Producer]:
    """This process renders as one of `workers`: its share of OpenCV threads, freed memory kept for the
    next sample; yields its Producer. Afterwards the scene's renderer is closed and the thread count
    restored (the driver is the caller's process too)."""
    import cv2

    from synth.engine.memory import keep_freed_memory
    from synth.engine.producer import Producer

    keep_freed_memory()
    threads = cv2.getNumThreads()
    cv2.setNumThreads(opencv_threads(workers))
    producer = Producer(recipe, store)
    try:
        yield producer
    finally:
        producer.close()
        cv2.setNumThreads(threads)


class LocalExecutor(Executor):
    """This machine: the driver and spawned helpers take shards from one queue."""

    name = "local"

    def __init__(self, workers: int, options: dict[str, Any] | None = None) -> None:
        super().__init__(workers, options)
        self.pool: LocalPool | None = None

    def prepare(self, recipe: Recipe, ws: Workspace) -> None:
        """Helper processes, when the run will use any: more than one worker and more than one shard, or
        a scene that renders only in helpers (Blender)."""
        isolated = getattr(recipe.scene_cls, "isolated", False)
        if isolated or (self.workers > 1 and len(plan_shards(list(range(recipe.count)), self.workers)) > 1):
            self.pool = LocalPool(recipe, ws.root, ws.storage_options, self.workers)

    def run(self, recipe: Recipe, ws: Workspace, shards: list[list[int]]) -> Iterable[tuple[int, Rows]]:
        pool = self.pool
        if pool is None:
            os.environ["SYNTH_WORKERS"] = "1"  # threaded renderers (Blender) size their thread pools from it
        if pool is not None and not pool.driver_renders:
            yield from pool.run(shards)
            return
        with rendering_process(recipe, ws.store, self.workers) as producer:
            if pool is None:
                for no, shard in enumerate(shards):
                    yield no, producer.rows(shard)
            else:
                yield from pool.run(shards, producer)

    def finish(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


class LocalPool:
    def __init__(self, recipe: Recipe, root: str, storage_options: dict[str, Any], workers: int,
                 driver_renders: bool | None = None) -> None:
        """Start the helpers now, so their start-up overlaps the driver's own (manifest, staging).
        `driver_renders` defaults to: unless the scene is isolated."""
        import multiprocessing as mp

        if root.startswith("memory://"):
            raise SynthError("a memory:// workspace lives in one process: use --workers 1", field="--workers")
        self.recipe = recipe
        if driver_renders is None:
            driver_renders = not getattr(recipe.scene_cls, "isolated", False)
        self.driver_renders = driver_renders
        helpers = workers - 1 if self.driver_renders else workers
        ctx = mp.get_context("spawn")
        self.tasks, self.results = ctx.Queue(), ctx.Queue()
        os.environ["SYNTH_WORKERS"] = str(workers)  # inherited; threaded renderers take cores // workers
        self.procs = [ctx.Process(target=_helper_main, args=(recipe, root, storage_options, self.tasks,
                                                             self.results, os.getpid()), daemon=True)
                      for _ in range(helpers)]
        for proc in self.procs:
            proc.start()

    def run(self, shards: list[list[int]], producer: Producer | None = None) -> Iterable[tuple[int, Rows]]:
        """Yield (shard number, rows) as shards finish, in any order. `producer` is the driver's own
        (required when the driver renders)."""
        for no, shard in enumerate(shards):
            self.tasks.put((no, shard))
        for _ in self.procs:
            self.tasks.put(None)
        remaining, driver_done = len(shards), not self.driver_renders
        while remaining:
            item = None if driver_done else self._next_task()
            if item is None:
                driver_done = True
                remaining -= yield from self._finished(block=True)
                continue
            no, shard = item
            remaining -= 1
            yield no, producer.rows(shard)
            remaining -= yield from self._finished(block=False)

    def _next_task(self) -> tuple[int, list[int]] | None:
        """The driver's next shard from the helpers' queue, or None when only their stop signals are left."""
        while True:
            try:
                item = self.tasks.get(timeout=0.1)
            except queue_mod.Empty:
                try:
                    if self.tasks.qsize() == 0:  # counts items still in the feeder thread too
                        return None
                except NotImplementedError:  # macOS has no sem_getvalue: leave the rest to the helpers
                    return None
                continue
            if item is None:
                self.tasks.put(None)  # a helper's stop signal: every shard has been taken
                return None
            return item

    def _finished(self, block: bool) -> Iterable[tuple[int, Rows]]:
        """Yield the helpers' finished shards (waiting up to a second for one if `block`); return how many."""
        got = 0
        while True:
            try:
                no, rows, error = self.results.get(timeout=1.0) if block else self.results.get_nowait()
            except queue_mod.Empty:
                if block:
                    self._check_alive()
                return got
            if error is not None:
                raise error
            got += 1
            yield no, rows
            if block:
                return got

    def _check_alive(self) -> None:
        dead = [p for p in self.procs if p.exitcode not in (None, 0)]
        if dead:
            raise SynthError(f"a worker process died (exit code {dead[0].exitcode}); finished shards are "
                             "kept: re-run the same command to resume") from None

    def close(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self.procs:
            proc.join(timeout=10)
        self.tasks.cancel_join_thread()
        self.results.cancel_join_thread()


def run_pool(recipe: Recipe, root: str, storage_options: dict[str, Any], shards: list[list[int]],
             workers: int, driver_renders: bool | None = None) -> Iterable[tuple[int, Rows]]:
    """Start a pool, run `shards` on it (the driver's share with its own producer) and shut it down."""
    pool = LocalPool(recipe, root, storage_options, workers, driver_renders)
    try:
        if not pool.driver_renders:
            yield from pool.run(shards)
            return
        with rendering_process(recipe, Store(root, storage_options), workers) as producer:
            yield from pool.run(shards, producer)
    finally:
        pool.close()


# ---------------------------------------------------------------------------------------------
# helper side

def _helper_main(recipe: Recipe, root: str, storage_options: dict[str, Any], tasks: Any, results: Any,
                 driver_pid: int) -> None:
    import signal
    import traceback

    code = 1  # unless the loop ends at its stop signal: a helper that fails to start shows as dead
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle: it stops the pool
        workers = int(os.environ.get("SYNTH_WORKERS", "1"))
        with rendering_process(recipe, Store(root, storage_options), workers) as producer:
            code = _serve(producer, tasks, results, driver_pid)
    except BaseException:
        traceback.print_exc()
    finally:
        if code == 0:
            results.close()
            results.join_thread()  # flush our last results to the driver
        else:
            results.cancel_join_thread()  # nobody reads them any more
        os._exit(code)  # skip interpreter shutdown: some renderers (Blender) crash or hang in it


def _serve(producer: Producer, tasks: Any, results: Any, driver_pid: int) -> int:
    """Render shards until the stop signal (0) or until the driver is gone (1)."""
    import traceback

    while True:
        if os.getppid() != driver_pid:  # the driver was killed: stop instead of lingering
            return 1
        try:
            item = tasks.get(timeout=1.0)
        except queue_mod.Empty:
            continue
        if item is None:
            return 0
        no, shard = item
        try:
            results.put((no, producer.rows(shard), None))
        except SynthError as exc:
            results.put((no, None, exc))
        except Exception:
            results.put((no, None, SynthError(f"rendering shard {no} failed:\n{traceback.format_exc()}")))
