"""Progress of long work in a terminal (a crawl, a rematch, a backfill, a digest), with rich.

One line on standard error that moves: pages and articles so far, their rate, the time
spent, and a bar when the total is known. It is shown only to a person: not when standard
error is not a terminal (CI logs, a pipe, systemd), not with ``--log-format json``, not
with ``--no-progress`` (``wanted`` decides); otherwise ``progress`` yields a tracker that
does nothing, so callers never test for it.

The bar measures pages; work that fetches none (rematch, digest) counts articles.
``advance`` may be called from any thread (the crawl ticks from the reactor's).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class Tracker:
    """What long work reports as it goes; this one shows nothing."""

    def advance(self, pages: int = 0, articles: int = 0) -> None:
        """Count pages fetched and articles handled since the last call."""


class _Shown(Tracker):
    def __init__(self, bar: Progress, task: TaskID) -> None:
        self.bar = bar
        self.task = task
        self.pages = 0
        self.articles = 0

    def advance(self, pages: int = 0, articles: int = 0) -> None:
        self.pages += pages
        self.articles += articles
        self.bar.update(
            self.task,
            completed=self.pages or self.articles,
            pages=self.pages,
            articles=self.articles,
        )


def _columns(total: int | None) -> list[Any]:
    """The line's columns. rich (~90 ms to import) is imported only when a line is shown:
    most runs are not at a terminal."""
    from rich.progress import (
        BarColumn,
        ProgressColumn,
        SpinnerColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class Counts(ProgressColumn):
        """ "120 pages · 37 articles", leaving out what the work does not count."""

        def render(self, task: Task) -> Text:
            parts = [
                f"{task.fields[unit]} {unit}" for unit in ("pages", "articles") if task.fields[unit]
            ]
            return Text(" · ".join(parts))

    class Rate(ProgressColumn):
        """Pages (or articles) a second, over the last few seconds."""

        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            unit = "pages" if task.fields.get("pages") else "articles"
            return Text(f"{speed:.1f} {unit}/s" if speed else "", style="progress.data.speed")

    return [
        SpinnerColumn(),
        TextColumn("{task.description}"),
        *([BarColumn()] if total else []),
        Counts(),
        Rate(),
        TimeElapsedColumn(),
    ]


def wanted(log_format: str, disabled: bool, stream: IO[str] | None = None) -> bool:
    """Whether to show progress: only to a person at a terminal, and not when logs are
    JSON for a shipper or the user said ``--no-progress``."""
    stream = stream if stream is not None else sys.stderr
    return not disabled and log_format != "json" and stream.isatty()


@contextmanager
def progress(description: str, total: int | None, enabled: bool) -> Iterator[Tracker]:
    """A live progress line on standard error for the work inside the block (removed when
    it ends), or, if not ``enabled``, a tracker that shows nothing. ``total``: the pages
    (or articles) to do, when known."""
    if not enabled:
        yield Tracker()
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(*_columns(total), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total, pages=0, articles=0)
        yield _Shown(bar, task)
