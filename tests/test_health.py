"""How sources are doing: the verdicts and notices of ``monitor.health`` (plain values), and
what the crawl queues from them (a real database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config import Source
from monitor.health import next_run, notices, quiet_since
from monitor.models import CrawlStats, SourceState
from monitor.runner import queue_health_notices
from monitor.store import Storage
from tests.conftest import invoke

START = datetime(2026, 3, 2, 10, tzinfo=UTC)
EVERY = timedelta(minutes=15)


def run(outcome: str, new: int = 0, at: datetime = START) -> CrawlStats:
    errors = ("feed: HTTP 503",) if outcome == "failed" else ()
    return CrawlStats(
        "wire", at, at + timedelta(seconds=5), 3, new, new, len(errors), errors, outcome
    )


def state(**fields: object) -> SourceState:
    base: dict[str, object] = dict(
        source="wire",
        last_run_at=None,
        last_success_at=None,
        consecutive_failures=0,
        last_error=None,
        articles=0,
        events=0,
        last_run=None,
    )
    base.update(fields)
    return SourceState(**base)  # type: ignore[arg-type]


def test_a_source_is_told_failing_once_and_recovered_once() -> None:
    (failing,) = notices("wire", EVERY, run("failed"), 0, None)
    assert "failing since 2026-03-02 10:00 UTC" in failing.title and "HTTP 503" in failing.body
    assert "keeps trying every 15m;" in failing.body  # not "0:15:00"
    assert notices("wire", EVERY, run("failed"), 1, None) == []  # already told
    (recovered,) = notices("wire", EVERY, run("ok"), 3, None)
    assert "recovered" in recovered.title and "after 3 failed crawls" in recovered.body


def test_a_stopped_crawl_tells_nothing_whatever_came_before() -> None:
    quiet = START - timedelta(days=5)
    for before in (0, 2):
        assert notices("wire", EVERY, run("interrupted"), before, quiet) == []


def test_a_source_that_answers_but_stopped_yielding_is_possibly_broken() -> None:
    hourly = [START - timedelta(days=3, hours=n) for n in range(5, 0, -1)]
    assert quiet_since(hourly, answering=40, now=START, every=EVERY) == hourly[-1]
    assert quiet_since(hourly, answering=0, now=START, every=EVERY) is None  # not answering
    assert quiet_since(hourly[-2:], answering=40, now=START, every=EVERY) is None  # too few
    recent = [START - timedelta(hours=n) for n in range(5, 0, -1)]
    assert quiet_since(recent, answering=4, now=START, every=EVERY) is None  # within a day
    (broken,) = notices("wire", EVERY, run("ok"), 0, hourly[-1])
    assert "may be broken" in broken.title


def test_when_a_source_is_due() -> None:
    assert next_run(state(), EVERY, START) == (START, False)  # never crawled: now
    done = state(last_run_at=START, last_success_at=START)
    assert next_run(done, EVERY, START + timedelta(minutes=5)) == (START + EVERY, False)
    assert next_run(done, EVERY, START + timedelta(hours=2)) == (START + timedelta(hours=2), False)
    # failing: tried again an interval after the last try, not after the last success
    failing = state(
        last_run_at=START, last_success_at=START - timedelta(days=1), consecutive_failures=2
    )
    assert next_run(failing, EVERY, START) == (START + EVERY, True)
    # the site asked for a wait (Retry-After) past the interval: not before then, even
    # for a daemon started meanwhile; a wait already over changes nothing
    asked = START + timedelta(hours=2)
    waiting = state(last_run_at=START, last_success_at=START, not_before=asked)
    assert next_run(waiting, EVERY, START + timedelta(minutes=5)) == (asked, False)
    over = state(last_run_at=START, last_success_at=START, not_before=START)
    assert next_run(over, EVERY, START + timedelta(minutes=5)) == (START + EVERY, False)


def test_a_crawl_stopped_by_sigterm_queues_no_failing_notice(tmp_path: Path) -> None:
    source = Source(name="wire", feeds=["http://127.0.0.1:9/feed"], every=EVERY)
    with Storage(tmp_path / "n.db") as storage:
        for stats in (run("ok"), run("interrupted", at=START + EVERY)):
            before = storage.record_crawl(stats)
            queue_health_notices(storage, source, stats, before, ["c1"])
        assert storage.outbox_counts()["pending"] == 0
        failed = run("failed", at=START + 2 * EVERY)
        queue_health_notices(storage, source, failed, storage.record_crawl(failed), ["c1"])
        assert storage.outbox_counts()["pending"] == 1  # a real failure is told


def test_a_failing_source_stopped_mid_crawl_still_shows_its_error(tmp_path: Path) -> None:
    # A daemon stopped while a hung source waited out its timeout showed only
    # INTERRUPTED: the error of its failing crawls vanished from `status`.
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database: {tmp_path / 'n.db'}\nsources:\n"
        "  - {name: wire, feeds: ['http://127.0.0.1:9/feed'], every: 15m}\n"
    )
    with Storage(tmp_path / "n.db") as storage:
        for stats in (run("failed"), run("failed", at=START + EVERY)):
            storage.record_crawl(stats)
        storage.record_crawl(run("interrupted", at=START + 2 * EVERY))
    status = invoke("status", config=config).stdout
    assert "FAILING (2x): feed: HTTP 503" in status, status
