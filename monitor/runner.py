"""The jobs that the CLI and the daemon both run: a crawl cycle over some sources, the
matching that follows it, delivery, the digest.

Only this module drives the crawler. Scrapy runs on Twisted's asyncio reactor,
which can be started once per process: ``run_once`` starts it for a CLI command,
the daemon keeps it running and awaits ``crawl_sources`` from its jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from monitor.alerts import Channel, DeliveryReport, deliver_due, load_channels
from monitor.config import Config, Source
from monitor.digest import Digest, DigestData, last_complete_week, parse_week, render_digest
from monitor.errors import Interrupted, SourceBusy, StorageError
from monitor.events import Policy, decide, lsh_bands, meeting_day
from monitor.health import QUIET_HISTORY, notices, quiet_since
from monitor.models import CrawlStats, Match, StoredArticle
from monitor.redact import Redactor
from monitor.store import Storage

if TYPE_CHECKING:
    from monitor.topic import CompiledTopic

logger = logging.getLogger(__name__)

T = TypeVar("T")
# Progress: (pages, articles) done since the last call (``monitor.progress.Tracker``).
Tick = Callable[[int, int], None]


async def crawl_sources(
    config: Config,
    sources: Sequence[Source],
    storage: Storage,
    runner: Any = None,
    notify: Sequence[str] = (),
    spider: type | None = None,
    **spider_kwargs: Any,
) -> list[CrawlStats]:
    """Crawl the sources concurrently; record and return one CrawlStats each.

    A source that fails, even by crashing its crawler, is recorded as failed and
    never stops the others. A source that starts failing, or recovers, is announced
    once to the ``notify`` channels. The daemon passes its long-lived ``runner`` (a
    ``crawler_runner``) so that it can stop every crawl in flight; without one, a runner
    is made for this call and its extraction workers stopped at the end. ``spider`` (a
    ``SourceSpider`` subclass, given ``spider_kwargs``) crawls instead, for a backfill.
    """
    import asyncio

    from crawler.runner import CrawlRunner
    from crawler.settings import scrapy_settings
    from crawler.spider import CrawlReport, SourceSpider

    own = runner is None
    runner = runner or CrawlRunner(scrapy_settings(config.crawl), config.crawl.extract_workers)
    jobs = []
    for source in sources:
        report = CrawlReport(source.name)
        # Each source gets its own politeness, through a spider class of its own.
        spider_class = type(
            f"SourceSpider_{source.name.replace('-', '_')}",
            (spider or SourceSpider,),
            {"custom_settings": scrapy_settings(source.politeness(config.crawl))},
        )
        task = runner.crawl(
            spider_class,
            source=source,
            politeness=config.crawl,
            storage=storage,
            report=report,
            extraction=runner.extraction,
            **spider_kwargs,
        )
        jobs.append((source, report, task))
    results = await asyncio.gather(*(task for _, _, task in jobs), return_exceptions=True)
    if own:
        await runner.close()
    # Errors may quote a feed URL with a key or a password in it: never store those.
    redact = Redactor(config.secrets).redact
    all_stats = []
    for (source, report, _), result in zip(jobs, results, strict=True):
        if isinstance(result, BaseException):
            logger.error("%s: crawl crashed: %r", source.name, result)
            report.errors.append(f"crawl crashed: {result!r}")
        stats = report.stats()
        stats = replace(stats, error_messages=tuple(map(redact, stats.error_messages)))
        try:
            storage.save_validators(report.complete_validators())
            failures_before = storage.record_crawl(stats)
            queue_health_notices(storage, source, stats, failures_before, notify)
        except StorageError as exc:
            # Disk full or locked: nothing of this run could be recorded, and no validator
            # was saved, so the next cycle reads everything again.
            stats = replace(
                stats,
                outcome="failed",
                errors=stats.errors + 1,
                error_messages=(f"run not recorded: {exc}", *stats.error_messages),
            )
        _log_run(stats)
        all_stats.append(stats)
    return all_stats


def _log_run(stats: CrawlStats) -> None:
    """One line per source and cycle, at INFO (the daemon's level; a one-off crawl prints
    its own); the first error says why a source failed."""
    line = (
        f"{stats.source}: {stats.pages} pages, {stats.articles_fetched} articles fetched, "
        f"{stats.new_articles} new, {stats.errors} errors, {stats.seconds:.1f} s"
    )
    if stats.outcome == "ok":
        logger.info("%s", line)
    elif stats.outcome == "interrupted":
        logger.info("%s (interrupted: the rest next time)", line)
    else:
        first = stats.error_messages[0] if stats.error_messages else "no response"
        logger.info("%s (source failing: %s)", line, first)


def queue_health_notices(
    storage: Storage,
    source: Source,
    stats: CrawlStats,
    failures_before: int,
    channels: Sequence[str],
) -> None:
    """Queue what ``monitor.health`` says this crawl should tell."""
    if not channels:
        return
    runs = storage.productive_runs(source.name, stats.finished_at - QUIET_HISTORY)
    quiet = quiet_since(*runs, stats.finished_at, source.every)
    for notice in notices(source.name, source.every, stats, failures_before, quiet):
        storage.enqueue_message(notice.subject, channels, notice.title, notice.body)


def asyncio_reactor() -> Any:
    """Install Twisted's asyncio reactor (once per process, before anything imports
    another) and return it."""
    from scrapy.utils.reactor import install_reactor

    from crawler.settings import ASYNCIO_REACTOR

    install_reactor(ASYNCIO_REACTOR)
    from twisted.internet import reactor

    return reactor


def crawler_runner(config: Config, tick: Tick | None = None) -> Any:
    """An AsyncCrawlerRunner that can stop every crawl it runs at once, with the
    extraction processes its crawls share (stopped by its ``stop``, or at exit); ``tick``
    hears of each page and article (``monitor.progress``)."""
    asyncio_reactor()  # before Scrapy imports any other reactor
    from crawler.runner import CrawlRunner
    from crawler.settings import scrapy_settings

    return CrawlRunner(scrapy_settings(config.crawl), config.crawl.extract_workers, tick)


def run_once(
    job: Callable[[], Awaitable[T]], stop: Callable[[], Awaitable[object]] | None = None
) -> T:
    """Run one coroutine job on the asyncio reactor and return its result (CLI commands).

    On SIGINT/SIGTERM the reactor shuts down; ``stop`` is awaited first, then the job is
    let finish (so a crawl records what it did), and ``Interrupted`` is raised.
    """
    from scrapy.utils.defer import deferred_from_coro
    from twisted.internet.defer import Deferred
    from twisted.internet.error import ReactorNotRunning
    from twisted.python.failure import Failure

    reactor = asyncio_reactor()
    outcome: dict[str, Any] = {}
    running: list[Deferred[Any]] = []

    def finish(result: Any) -> None:
        outcome["failure" if isinstance(result, Failure) else "value"] = result
        with suppress(ReactorNotRunning):
            reactor.stop()

    def begin() -> None:
        running.append(deferred_from_coro(job()).addBoth(finish))

    def on_shutdown() -> Deferred[Any] | None:
        if outcome or not running:
            return None  # the job is done: this is its own stop
        outcome["interrupted"] = True
        logger.warning("interrupted: stopping")
        waiting: Deferred[Any] = deferred_from_coro(stop()) if stop else Deferred()
        if not stop:
            waiting.callback(None)
        return waiting.addBoth(lambda _: running[0])

    reactor.callWhenRunning(begin)
    reactor.addSystemEventTrigger("before", "shutdown", on_shutdown)
    reactor.run()
    if "interrupted" in outcome:
        raise Interrupted("interrupted")
    if "failure" in outcome:
        outcome["failure"].raiseException()
    return outcome["value"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class MatchReport:
    """What one matching pass found."""

    checked: int
    matched: int
    new_events: tuple[int, ...]


def file_match(
    storage: Storage, article: StoredArticle, found: Match, policy: Policy, today: date
) -> tuple[int, bool] | None:
    """Give one match to the event stage and store its decision: (event id, whether the
    event is new), or None if another process judged the article meanwhile.

    Reading what is stored and saving the decision are one transaction, so two processes
    matching one database never judge an article twice nor create one event twice.
    """
    bands = lsh_bands(article.text)  # before the write lock: other writers need not wait
    with storage.write():
        day = meeting_day(found, article)
        nearby = storage.nearby(article.id, found.topic, day, found.participants, bands)
        if nearby.checked:
            return None
        decision = decide(found, article, nearby, today, policy)
        return storage.apply(decision, bands), decision.event_id is None


def match_stored(
    storage: Storage,
    topics: Sequence[CompiledTopic],
    policy: Policy,
    tick: Tick | None = None,
) -> MatchReport:
    """Judge every article not yet judged for each topic, and file matches into events.

    Articles are taken in the order they were found, so an event is created (and
    alerted, as ``policy`` says) by the first article that revealed it. ``tick`` hears of
    each article judged.
    """
    from monitor.matcher import match_article

    today = datetime.now(UTC).date()
    checked = matched = 0
    new_events: list[int] = []
    for topic in topics:
        for article in storage.unchecked_articles(topic.name):
            checked += 1
            if tick is not None:
                tick(0, 1)
            published = article.published.date() if article.published else None
            found = match_article(article.title, article.text, published, topic)
            if found is None:
                storage.mark_checked(article.id, topic.name)
                continue
            filed = file_match(storage, article, found, policy, today)
            if filed is None:
                continue  # another process judged it meanwhile
            matched += 1
            if filed[1]:
                new_events.append(filed[0])
                logger.info("new event %d: %s", filed[0], article.title)
    return MatchReport(checked, matched, tuple(new_events))


@dataclass(frozen=True)
class CycleReport:
    crawls: list[CrawlStats]
    matching: MatchReport
    delivery: DeliveryReport
    skipped: tuple[str, ...] = ()  # sources another process was crawling: why, one each


def match_and_queue(
    storage: Storage, config: Config, channels: Sequence[Channel], tick: Tick | None = None
) -> MatchReport:
    # imported here: the digest and the other jobs that match nothing do without it
    from monitor.topic import load_topics

    policy = Policy(
        tuple(channel.key for channel in channels), config.notify.max_age, config.notify.updates
    )
    return match_stored(storage, load_topics(config.topics), policy, tick)


def all_channels(config: Config) -> tuple[list[Channel], list[Channel]]:
    """(alert channels, digest channels) of the config."""
    return (
        load_channels(config.notify.alerts, "notify.alerts"),
        load_channels(config.notify.digest, "notify.digest"),
    )


def deliver(
    storage: Storage,
    config: Config,
    *,
    ignore_backoff: bool = False,
    subject_prefix: str = "",
) -> DeliveryReport:
    """Deliver what is due. Every configured channel is known to delivery, whichever
    kind of message is being sent: "no longer configured" means not in the config."""
    alerts, digests = all_channels(config)
    return deliver_due(
        storage,
        [*alerts, *digests],
        templates=config.notify.templates,
        max_attempts=config.notify.max_attempts,
        timeout=config.notify.timeout,
        ignore_backoff=ignore_backoff,
        subject_prefix=subject_prefix,
    )


def crawl_cycle(config: Config, names: Sequence[str] = (), tick: Tick | None = None) -> CycleReport:
    """One full cycle now, for the named sources (all when none are named): crawl, match,
    queue alerts, and deliver everything undelivered (backoff waived: the user asked).
    ``tick`` hears of each page fetched and article handled.

    Interrupted (SIGINT/SIGTERM), the crawl records what it did and ``Interrupted``
    is raised before matching.

    A source that the daemon or a backfill is crawling right now is skipped (said in
    ``skipped``): that process stores what it finds, and the site is not asked twice.
    """
    from monitor.locks import source_lock

    sources = [config.source(name) for name in names] if names else list(config.sources)
    channels, _ = all_channels(config)
    storage = Storage(config.database)
    try:
        keys = [channel.key for channel in channels]
        with ExitStack() as locks:
            free, skipped = [], []
            for source in sources:
                try:
                    locks.enter_context(source_lock(config.database, source.name, "newsmon crawl"))
                except SourceBusy as exc:
                    skipped.append(str(exc))
                    continue
                free.append(source)
            runner = crawler_runner(config, tick)

            async def crawl() -> list[CrawlStats]:
                try:
                    return await crawl_sources(config, free, storage, runner, notify=keys)
                finally:
                    # its extraction workers, stopped here and not by the interpreter's
                    # exit, which tracebacks when an error ends the command meanwhile
                    await runner.close()

            crawls = run_once(crawl, runner.stop)
        return replace(after_crawl(storage, config, crawls), skipped=tuple(skipped))
    finally:
        storage.close()


def after_crawl(storage: Storage, config: Config, crawls: list[CrawlStats]) -> CycleReport:
    """What follows a crawl the user asked for: match, queue alerts, deliver everything
    undelivered with the backoff waived."""
    channels, _ = all_channels(config)
    matching = match_and_queue(storage, config, channels)
    return CycleReport(crawls, matching, deliver(storage, config, ignore_backoff=True))


def backfill(config: Config, name: str, since: date, show_progress: bool) -> CycleReport:
    """Walk one source back to ``since`` (see ``crawler.backfill``), then match and
    deliver as a crawl does: an event older than ``notify.max_age`` is stored, not alerted.

    The source's lock is held throughout, so the daemon skips the source meanwhile.
    Interrupted, the walk's position is stored and ``Interrupted`` raised.
    """
    from crawler.backfill import BackfillSpider
    from monitor.locks import source_lock
    from monitor.progress import progress

    source = config.source(name)
    channels, _ = all_channels(config)
    keys = [channel.key for channel in channels]
    start = datetime.combine(since, datetime.min.time(), UTC)
    with source_lock(config.database, name, "backfill"), Storage(config.database) as storage:
        runner = crawler_runner(config)
        with progress(f"backfill {name}", None, show_progress) as shown:
            crawls = run_once(
                lambda: crawl_sources(
                    config,
                    [source],
                    storage,
                    runner,
                    notify=keys,
                    spider=BackfillSpider,
                    since=start,
                    progress=shown,
                ),
                runner.stop,
            )
        return after_crawl(storage, config, crawls)


def build_digest(config: Config, week: str | None = None) -> Digest:
    """Render the digest of an ISO week (default: the last complete one)."""
    week = week or last_complete_week(datetime.now(UTC).date())
    with Storage(config.database) as storage:
        data = digest_data(storage, week, [source.name for source in config.sources])
    return render_digest(data, config.notify.templates)


def digest_data(storage: Storage, week: str, sources: Sequence[str]) -> DigestData:
    """What one ISO week's digest shows: its events and each source's health in it."""
    start, end = parse_week(week)
    return DigestData(
        week=week,
        start=start,
        end=end,
        events=tuple(storage.events_of_week(start, end)),
        sources=tuple(storage.week_health(name, start, end) for name in sources),
    )


def send_digest(config: Config, digest: Digest, week: str) -> DeliveryReport:
    """Queue the digest once per digest channel, in its format, and deliver the digests
    that are due; a channel that fails keeps it queued for the next delivery run."""
    _, channels = all_channels(config)
    bodies = {"html": digest.html, "markdown": digest.markdown, "text": digest.text}
    with Storage(config.database) as storage:
        for channel in channels:
            storage.enqueue_message(
                f"digest:{week}", [channel.key], digest.subject, bodies[channel.format]
            )
        return deliver(storage, config, ignore_backoff=True, subject_prefix="digest:")


def rematch(config: Config, tick: Tick | None = None) -> MatchReport:
    """Judge every stored article again (after a rule change); events keep their ids, so
    an event already alerted is not alerted again. ``tick`` hears of each article judged."""
    channels = load_channels(config.notify.alerts, "notify.alerts")
    with Storage(config.database) as storage:
        storage.forget_matches()
        report = match_and_queue(storage, config, channels, tick)
        storage.drop_empty_events()
    return report
