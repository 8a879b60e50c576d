"""Progress of a long job (a backfill) on a terminal: pages, articles, rate and ETA.

``progress(description, total, enabled)`` is a context manager yielding a ``Progress``
whose ``advance(pages=…, articles=…)`` counts work done. Disabled — stdout is not a
terminal, or logs go out as JSON — it counts without drawing anything, so a caller never
needs two code paths. rich is imported only when something is drawn.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Progress", "progress", "wanted"]


class Progress:
    """Counts pages and articles; draws them when given a rich task."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self.pages = 0
        self.articles = 0
        self._bar = bar
        self._task = task

    def advance(self, pages: int = 0, articles: int = 0) -> None:
        self.pages += pages
        self.articles += articles
        if self._bar is not None:
            # `total` counts pages: the rate and the ETA are in pages.
            self._bar.update(self._task, advance=pages, articles=self.articles)


def wanted(log_format: str = "text") -> bool:
    """Draw progress only for a person: on a terminal, and not beside JSON logs."""
    return sys.stdout.isatty() and log_format != "json"


@contextmanager
def progress(description: str, total: int | None, enabled: bool) -> Iterator[Progress]:
    """Show the job's progress while the block runs (nothing when not ``enabled``)."""
    if not enabled:
        yield Progress()
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("pages · {task.fields[articles]} articles"),
        TaskProgressColumn(show_speed=True),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Bar(*columns, transient=False) as bar:
        task = bar.add_task(description, total=total, articles=0)
        yield Progress(bar, task)
