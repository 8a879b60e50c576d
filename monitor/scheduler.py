"""The daemon: one process that crawls each source on its own interval, matches, delivers
alerts and sends the weekly digest, until SIGTERM or SIGINT.

Scrapy needs Twisted's asyncio reactor, which runs once per process, so the daemon runs
it for good and schedules coroutine jobs with APScheduler's AsyncIOScheduler on the same
loop (docs/pitfalls.md: TwistedScheduler would install the wrong reactor). Jobs are rebuilt
from the config at every start, never pickled: a source overdue according to the last
success stored in our database runs at once. CPU-heavy matching and blocking delivery
run in worker threads, each with its own database connection; one lock keeps matching
single-file so two sources finishing together cannot create the same event twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.alerts import load_channels
from monitor.config import Config, Source
from monitor.digest import last_complete_week
from monitor.errors import SourceBusy, StartError, StorageError
from monitor.health import next_run, span
from monitor.locks import exclusive, source_lock
from monitor.models import CrawlStats
from monitor.runner import (
    asyncio_reactor,
    build_digest,
    crawl_sources,
    crawler_runner,
    deliver,
    match_and_queue,
    send_digest,
)
from monitor.store import Storage

if TYPE_CHECKING:
    from monitor.metrics import Metrics

logger = logging.getLogger(__name__)

# Spread sources that share an interval so they do not all fire in the same second.
JITTER_SHARE = 0.1
JITTER_MAX = 60.0
# How long a stop may wait for work in flight before cancelling it (its writes are
# transactions: a cancelled job leaves nothing half-written).
STOP_GRACE = 4.0


class Daemon:
    """The scheduled jobs and the state they share."""

    def __init__(self, config: Config, metrics: Metrics | None = None) -> None:
        self.config = config
        self.metrics = metrics
        self.channels = load_channels(config.notify.alerts, "notify.alerts")
        self.digest_channels = load_channels(config.notify.digest, "notify.digest")
        self.storage = Storage(config.database)  # the reactor thread's connection
        self.match_lock = asyncio.Lock()
        self.deliver_lock = asyncio.Lock()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.crawler_runner: Any = None
        self.scheduler: Any = None
        self.stopping = False

    def start(self) -> None:
        """Build every job from the config and start scheduling (inside the running loop)."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        self.crawler_runner = crawler_runner(self.config)
        # Late runs must still run (the default grace of 1 s silently drops them), one
        # at a time per job, and a backlog of missed runs is one run.
        self.scheduler = AsyncIOScheduler(
            event_loop=asyncio.get_event_loop(),
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        now = datetime.now(UTC)
        for source in self.config.sources:
            every = source.every.total_seconds()
            first = self._first_run(source, now)
            self.scheduler.add_job(
                self._job,
                IntervalTrigger(
                    seconds=every, start_date=first, jitter=min(JITTER_MAX, every * JITTER_SHARE)
                ),
                args=[self.crawl, source],
                id=f"crawl:{source.name}",
                name=f"crawl {source.name}",
                next_run_time=first,
            )
            logger.info(
                "%s: every %s, next run %s",
                source.name,
                span(source.every),
                "now" if first <= now else first.isoformat(timespec="seconds"),
            )
        self.scheduler.add_job(
            self._job,
            IntervalTrigger(seconds=self.config.schedule.deliver_every.total_seconds()),
            args=[self.deliver],
            id="deliver",
            name="deliver alerts",
            next_run_time=now,
        )
        if self.digest_channels:
            self.scheduler.add_job(
                self._job,
                CronTrigger.from_crontab(
                    self.config.schedule.digest, timezone=self.config.schedule.timezone
                ),
                args=[self.send_digest],
                id="digest",
                name="weekly digest",
            )
        self.scheduler.start()
        logger.info(
            "newsmon daemon started: %d sources, %d alert channels",
            len(self.config.sources),
            len(self.channels),
        )

    def _first_run(self, source: Source, now: datetime) -> datetime:
        """Now if the source is overdue (or never ran), else when its interval comes round."""
        return next_run(self.storage.source_state(source.name), source.every, now)[0]

    async def _job(self, job: Any, *args: Any) -> None:
        """Run a job so that a crash is logged and the daemon goes on, and so that a stop
        can wait for it."""
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            await job(*args)
        except asyncio.CancelledError:
            raise
        except StorageError as exc:
            # locked past the wait, or the disk full: its sentence says what to do
            logger.error("job %s failed: %s; the daemon carries on", _name(job), exc)
        except Exception:
            logger.exception("job %s failed; the daemon carries on", _name(job))
        finally:
            if task is not None:
                self.tasks.discard(task)

    async def crawl(self, source: Source) -> None:
        if self.stopping:
            return  # a run that was already on its way when the stop began
        keys = [channel.key for channel in self.channels]
        try:
            with source_lock(self.config.database, source.name, "daemon"):
                crawls = await crawl_sources(
                    self.config, [source], self.storage, self.crawler_runner, keys
                )
        except SourceBusy as exc:
            logger.info("%s: skipped this cycle: %s", source.name, exc)
            return
        if self.metrics is not None:
            for stats in crawls:
                self.metrics.crawled(stats)
        self._wait_as_asked(source, crawls)
        if self.stopping:
            return  # matched at the next start: what was stored is kept
        async with self.match_lock:
            await asyncio.to_thread(self._match)
        await self.deliver()

    def _wait_as_asked(self, source: Source, crawls: list[CrawlStats]) -> None:
        """A site that said when to come back (Retry-After) is not crawled before then."""
        asked = max((s.not_before for s in crawls if s.not_before), default=None)
        job = self.scheduler.get_job(f"crawl:{source.name}")
        if asked and job is not None and job.next_run_time and asked > job.next_run_time:
            job.modify(next_run_time=asked)
            logger.info(
                "%s: the site asked to wait; next run %s",
                source.name,
                asked.isoformat(timespec="seconds"),
            )

    def _match(self) -> None:
        with Storage(self.config.database) as storage:
            report = match_and_queue(storage, self.config, self.channels)
        if self.metrics is not None:
            self.metrics.judged(report)
        if report.new_events:
            logger.info("matching: %d new events", len(report.new_events))

    async def deliver(self) -> None:
        async with self.deliver_lock:
            await asyncio.to_thread(self._deliver)

    def _deliver(self) -> None:
        with Storage(self.config.database) as storage:
            deliver(storage, self.config)

    async def send_digest(self) -> None:
        week = last_complete_week(datetime.now(UTC).date())
        built = await asyncio.to_thread(build_digest, self.config, week)
        report = await asyncio.to_thread(send_digest, self.config, built, week)
        logger.info("digest %s: %d sent, %d to retry", week, report.sent, report.failed)

    async def stop(self) -> None:
        """Stop scheduling, stop crawls in flight (their pages so far are kept), let the
        jobs finish their bookkeeping, and close the database."""
        logger.info("stopping")
        self.stopping = True
        if self.scheduler is not None:
            self.scheduler.pause()
        if self.crawler_runner is not None:
            await self.crawler_runner.stop()
        pending = [task for task in self.tasks if not task.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=STOP_GRACE)
            for task in late:
                logger.warning("stopping: cancelling %s", task.get_name())
                task.cancel()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        self.storage.close()
        logger.info("stopped")


def run_daemon(config: Config, metrics_at: tuple[str, int] | None = None) -> None:
    """Run until SIGTERM/SIGINT; returns after a clean stop. With ``metrics_at`` (host,
    port), Prometheus metrics are served there (``monitor.metrics``).

    Refuses to start beside another daemon on the same database, and raises
    ``StartError`` (exit non-zero) when the scheduler or the metrics server cannot start,
    so that a supervisor restarts or reports it instead of a process that is alive and
    does nothing.
    """
    from scrapy.utils.defer import deferred_from_coro

    with daemon_lock(config.database):
        for warning in config.warnings:
            logger.warning("%s", warning)
        metrics = server = None
        if metrics_at is not None:
            from monitor.metrics import Metrics

            channels = load_channels([*config.notify.alerts, *config.notify.digest], "notify")
            metrics = Metrics(config.database, {c.key: c.display for c in channels})
            server = metrics.serve(*metrics_at)
            logger.info("metrics on http://%s:%d/metrics", *metrics_at)
        reactor = asyncio_reactor()
        daemon = Daemon(config, metrics)
        failed: list[BaseException] = []

        def start() -> None:
            try:
                daemon.start()
            except Exception as exc:
                logger.exception("the daemon could not start")
                failed.append(exc)
                reactor.stop()

        reactor.callWhenRunning(start)
        # The reactor turns SIGTERM and SIGINT into a shutdown; this runs before it ends.
        reactor.addSystemEventTrigger(
            "before", "shutdown", lambda: deferred_from_coro(daemon.stop())
        )
        try:
            reactor.run()
        finally:
            if server is not None:
                server.shutdown()
        if failed:
            raise StartError(f"the daemon could not start: {failed[0]}")


def _name(job: Any) -> str:
    return getattr(job, "__name__", str(job))


@contextmanager
def daemon_lock(database: Path) -> Iterator[None]:
    """Hold ``<database>.lock`` for the daemon's life: a second daemon on one database
    would crawl and match everything twice. (``newsmon crawl`` beside a daemon is safe:
    it takes no such lock but each source's, skipping one the daemon is crawling, and the
    outbox and matching are claimed row by row.)"""
    with exclusive(
        database.with_name(database.name + ".lock"),
        f"pid {os.getpid()}",
        lambda holder: StartError(f"another newsmon daemon ({holder}) is running on {database}"),
    ):
        yield
