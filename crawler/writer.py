"""The crawl's article writer: one thread with its own connection, one transaction per batch.

A commit per article cost ~4 ms on the reactor thread (docs/pitfalls.md). Here pages
gather for up to ``BATCH_WAIT`` seconds or ``BATCH_SIZE`` pages and are written in one
transaction, off the reactor (sqlite3 releases the GIL while it works). A batch is written
at once when nothing else is being extracted, so the end of a crawl, or a slow polite
crawl, does not wait for the clock.

``save`` returns only after the page's batch committed, so a link counts as handled only
once it is in the database. A process killed mid-batch loses at most the last batch: those
pages are not stored, their links not handled, so the answers that listed them keep no
validators and the next cycle fetches them again.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from monitor.models import Article
from monitor.store.articles import ArticleStore, NoText

BATCH_SIZE = 50
BATCH_WAIT = 0.5  # seconds

Record = Article | NoText


class ArticleWriter:
    """Writes one crawl's pages into the database at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="newsmon-writer")
        self.store: ArticleStore | None = None  # opened and used in the writer thread only
        self.pending: list[tuple[Record, asyncio.Future[bool]]] = []
        self.timer: asyncio.TimerHandle | None = None

    async def save(self, record: Record, more_coming: bool) -> bool:
        """Store a page; True when it is a new article. Raises StorageError when its batch
        could not be written."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self.pending.append((record, done))
        if len(self.pending) >= BATCH_SIZE or not more_coming:
            self.flush()
        elif self.timer is None:
            self.timer = loop.call_later(BATCH_WAIT, self.flush)
        return await done

    def flush(self) -> None:
        """Hand what is pending to the writer thread (batches are written in order)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        written = asyncio.get_running_loop().run_in_executor(
            self.thread, self._write, [record for record, _ in batch]
        )
        written.add_done_callback(lambda result: _settle(batch, result))

    def _write(self, records: list[Record]) -> list[bool]:
        if self.store is None:
            self.store = ArticleStore(self.path)
        return self.store.save_pages(records)

    async def close(self) -> None:
        """Write what is pending, then close the connection and the thread."""
        self.flush()
        await asyncio.get_running_loop().run_in_executor(self.thread, self._close)
        self.thread.shutdown()

    def _close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


def _settle(
    batch: list[tuple[Record, asyncio.Future[bool]]], written: asyncio.Future[list[bool]]
) -> None:
    error = written.exception()
    for index, (_, done) in enumerate(batch):
        if done.done():  # its item was cancelled (a stop that ran out of time)
            continue
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(written.result()[index])
