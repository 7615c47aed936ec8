"""The interface every executor implements, and how a run's missing indices become shards."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from synth.recipe.model import Recipe
    from synth.store.workspace import Workspace

Rows = list[dict[str, Any]]


class Executor:
    """Runs shards (lists of sample indices) of a recipe and yields (shard number, rows) as each finishes,
    in any order; every blob a yielded row names is already in the store. One executor may serve several
    runs (a sweep's variants): `prepare` and `finish` bracket each run, `close` ends the executor."""

    name = ""

    def __init__(self, workers: int, options: dict[str, Any] | None = None) -> None:
        self.workers = max(1, workers)
        self.options = dict(options or {})

    def prepare(self, recipe: Recipe, ws: Workspace) -> None:
        """A run starts; called before it works out which samples are missing, so start-up overlaps that."""

    def run(self, recipe: Recipe, ws: Workspace, shards: list[list[int]]) -> Iterable[tuple[int, Rows]]:
        raise NotImplementedError

    def finish(self) -> None:
        """The run is over (finished, failed or interrupted): release what `prepare` took."""

    def close(self) -> None:
        """No more runs."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def plan_shards(indices: list[int], workers: int) -> list[list[int]]:
    if not indices:
        return []
    # ~32 shards per worker: small enough that workers finish together, large enough that staging a
    # shard costs little next to rendering it
    size = max(4, min(256, len(indices) // max(1, workers * 32) or 1))
    return [indices[i:i + size] for i in range(0, len(indices), size)]
