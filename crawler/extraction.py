"""Extraction on every core: a pool of worker processes that the crawl's pipeline awaits.

trafilatura is CPU-bound; in a thread it shares the GIL with the reactor, so one core
did both (docs/pitfalls.md). Worker processes come from a forkserver (the reactor's
process has threads, which ``fork`` must not copy) that has imported ``monitor.extract``
and loaded the language model (``crawler.warm``) before it forks any worker. The
forkserver is started when a crawl schedules its first new article, so it loads them
while the articles are fetched (the first page waited ~1 s for them before); a crawl with
nothing new starts no process.

Back-pressure: at most two pages per worker are in the pool at a time (one being read,
one waiting, so no worker idles while a result travels back). Pages beyond that wait in
Scrapy's scraper, whose ``SCRAPER_SLOT_MAX_ACTIVE_SIZE`` stops new downloads.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver
from multiprocessing.connection import wait

from monitor.errors import ExtractError
from monitor.extract import extract_document, load_models
from monitor.models import Document, Page

PAGES_PER_WORKER = 2


def _start_worker() -> None:
    """A worker's initializer: stops are the parent's to make, and a worker never outlives it."""
    # Ctrl-C reaches the whole process group and systemd signals every process of the
    # unit: the parent finishes the crawl and then shuts the pool down itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        # A parent killed with SIGKILL never shuts the pool down: idle workers would wait
        # for work for ever (measured: they did).
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()
    load_models()


def _exit_with(sentinel: int) -> None:
    wait([sentinel])
    os._exit(0)


def _extract(page: Page) -> Document | tuple[str, str]:
    """Runs in a worker. No article text is an answer, not a crash: (reason, detail), as
    ExtractError does not survive pickling with its reason."""
    try:
        return extract_document(page.html, page.url, page.hints, page.content_type, page.fetched_at)
    except ExtractError as exc:
        return exc.reason, exc.detail


class ExtractionPool:
    """``workers`` processes (0: one per core) shared by every crawl of one runner."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(["crawler.warm"])
        self.executor: ProcessPoolExecutor | None = None
        self.slots = asyncio.Semaphore(self.workers * PAGES_PER_WORKER)
        self.busy = 0  # pages handed to extract() and not yet returned

    def start(self) -> None:
        """Start the forkserver now, if it is not running: it loads what the workers need
        while the pages they will read are fetched."""
        forkserver.ensure_running()

    def _pool(self) -> ProcessPoolExecutor:
        if self.executor is None:
            self.executor = ProcessPoolExecutor(
                self.workers, mp_context=self.context, initializer=_start_worker
            )
        return self.executor

    async def extract(self, page: Page) -> Document:
        """The page's Document, read in a worker; raises ExtractError when it has none."""
        self.busy += 1
        try:
            async with self.slots:
                pool = self._pool()
                try:
                    result = await asyncio.get_running_loop().run_in_executor(pool, _extract, page)
                except BrokenProcessPool:
                    # A worker died (killed, out of memory): this page fails and is retried
                    # next cycle; the next page gets a new pool.
                    if self.executor is pool:
                        self.executor = None
                        pool.shutdown(wait=False, cancel_futures=True)
                    raise
        finally:
            self.busy -= 1
        if isinstance(result, tuple):
            raise ExtractError(*result)
        return result

    async def close(self) -> None:
        """Stop the workers (each finishes the page it reads); a later page starts new ones."""
        pool, self.executor = self.executor, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
