"""A progress bar with samples/s and ETA for long jobs (rich)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)


class RateColumn(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task):  # type: ignore[override]
        from rich.text import Text
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} samples/s" if speed else "- samples/s", style="progress.data.speed")


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """Yields `advance(n, total)`; the first call may report already-finished samples (resume)."""
    console = Console(stderr=True)
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               RateColumn(), TextColumn("eta"), TimeRemainingColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=False, refresh_per_second=5) as bar:
        task = bar.add_task(label, total=None)
        first = [True]

        def advance(n: int, total: int) -> None:
            if first[0]:
                first[0] = False
                # samples finished by an earlier, interrupted run: count them without inflating the rate
                bar.update(task, total=total, completed=n)
                bar.reset(task, total=total, completed=n)
                return
            bar.update(task, advance=n)

        yield advance
