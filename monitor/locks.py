"""Per-source locks: a backfill and the daemon's cycle never crawl one source at once.

Each is an flock on ``<database>.<source>.lock`` naming its holder (``exclusive``, which
``daemon_lock`` in ``monitor.scheduler`` takes for the whole database); the kernel drops it
when a process dies.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.errors import SourceBusy


def _lock_path(database: Path, source: str) -> Path:
    return database.with_name(f"{database.name}.{source}.lock")


@contextmanager
def exclusive(path: Path, holder: str, busy: Callable[[str], Exception]) -> Iterator[None]:
    """Hold an flock on ``path`` with ``holder`` written in it; if another process holds
    it, raise ``busy(what that process wrote)`` (the kernel drops a dead process's lock)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise busy(handle.read().strip() or "another process") from None
        handle.truncate(0)
        handle.write(holder)
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def source_lock(database: Path, source: str, holder: str) -> Iterator[None]:
    """Hold one source's lock while crawling it: a backfill and the daemon's cycle of the
    same source would fetch the same pages twice. Raises ``SourceBusy`` (naming the
    holder) when another process holds it."""
    with exclusive(
        _lock_path(database, source),
        f"{holder} (pid {os.getpid()})",
        lambda other: SourceBusy(f"{source} is being crawled by {other}"),
    ):
        yield


def lock_holder(database: Path, source: str) -> str | None:
    """Who holds a source's lock now (for ``status``), or None."""
    import fcntl

    path = _lock_path(database, source)
    if not path.exists():
        return None
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip() or "another process"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None
