"""Shared fixtures: the bundled replica sites on 127.0.0.1 and three ways to run newsmon.

- ``newsmon(...)``: the real command line in a fresh process. Only where the process is
  what is tested (a crawl's or the daemon's output, exit code and signals, two processes
  on one database): each costs a second or more of start-up.
- ``invoke(...)``: the same entry point (``monitor.cli.main``) in this process, for
  commands that do not start Scrapy's reactor (status, events, search, check, digest…).
- the ``crawl`` fixture: ``runner.crawl_cycle`` in this process, on a reactor that runs
  for the whole session on a thread of its own (Scrapy's reactor cannot be restarted).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.demo.mailbox import Mailbox, free_port
from monitor.demo.replicas import ReplicaSites
from monitor.events import Policy
from monitor.models import Event, EventArticle, Match
from monitor.runner import file_match
from monitor.store import Storage

__all__ = ["Mailbox", "free_port"]

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def newsmon(*args: str, config: Path | None = None, timeout: float = 120) -> Run:
    """Run the real command line in a fresh process (Scrapy's reactor starts once per process)."""
    command = [sys.executable, "-m", "monitor"]
    if config is not None:
        command += ["--config", str(config)]
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    return Run(done.returncode, done.stdout, done.stderr)


def invoke(*args: str, config: Path | None = None) -> Run:
    """Run ``newsmon ARGS`` in this process through the console-script entry point, with
    its exit code, stdout and stderr. Not for ``crawl``, ``run`` or ``demo``: they start
    the reactor, which runs once per process."""
    from click.testing import CliRunner

    from monitor.cli import main

    argv = ["newsmon", *(["--config", str(config)] if config is not None else []), *args]
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    saved_levels = {name: logging.getLogger(name).level for name in _CLI_LOGGERS}
    code: Any = 0
    with CliRunner().isolation() as (out, err, _):
        saved_argv, sys.argv = sys.argv, argv
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.argv = saved_argv
            # The CLI configures logging for its process: give pytest's back.
            for handler in list(root.handlers):
                root.removeHandler(handler)
            for handler in saved_handlers:
                root.addHandler(handler)
            root.setLevel(saved_level)
            for name, level in saved_levels.items():
                logging.getLogger(name).setLevel(level)
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode()
    returncode = code if isinstance(code, int) else 0 if code is None else 1
    return Run(returncode, stdout, stderr)


def events_json(config: Path) -> list[dict]:
    """``newsmon events --json``: the stored events, newest first."""
    run = invoke("events", "--json", config=config)
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


# The loggers whose levels the CLI sets (monitor.cli._setup_logging, _redact_logs).
_CLI_LOGGERS = ("scrapy", "apscheduler", "twisted", "py.warnings", "apprise", "urllib3")


@pytest.fixture(scope="session")
def reactor() -> Iterator[Any]:
    """Twisted's asyncio reactor, running on its own thread until the session ends."""
    from monitor.runner import asyncio_reactor

    running = asyncio_reactor()
    thread = threading.Thread(
        target=running.run, kwargs={"installSignalHandlers": False}, name="reactor", daemon=True
    )
    thread.start()
    yield running
    running.callFromThread(running.stop)
    thread.join(timeout=30)


@pytest.fixture(scope="session")
def crawl(reactor: Any) -> Callable[..., Any]:
    """``crawl(config_path, *names)``: what ``newsmon crawl [--source NAME…]`` does
    (``runner.crawl_cycle``: the crawl, then ``runner.after_crawl``), in this process, on
    the session's reactor; returns the ``CycleReport`` whose numbers the command prints."""
    from scrapy.utils.defer import deferred_from_coro
    from twisted.internet.threads import blockingCallFromThread

    from monitor.config import load_config
    from monitor.runner import CycleReport, after_crawl, all_channels, crawl_sources, crawler_runner
    from monitor.store import Storage

    def run(config_path: Path, *names: str) -> CycleReport:
        config = load_config(config_path)
        sources = [config.source(name) for name in names] if names else list(config.sources)
        channels, _ = all_channels(config)
        keys = [channel.key for channel in channels]

        async def job() -> Any:
            # The crawl's own connection, opened and closed on the reactor's thread.
            storage = Storage(config.database)
            runner = crawler_runner(config)
            try:
                return await crawl_sources(config, sources, storage, runner, notify=keys)
            finally:
                await runner.close()  # its extraction workers: not one set per test left
                storage.close()

        crawls = blockingCallFromThread(reactor, lambda: deferred_from_coro(job()))
        with Storage(config.database) as storage:
            return after_crawl(storage, config, crawls)

    return run


@pytest.fixture(scope="session")
def _replicas() -> Iterator[ReplicaSites]:
    with ReplicaSites() as running:
        yield running


@pytest.fixture
def sites(_replicas: ReplicaSites) -> Iterator[ReplicaSites]:
    """The bundled replicas (started once per session), as shipped for every test."""
    for site in _replicas:
        site.reset()
    yield _replicas
    for site in _replicas:
        site.reset()


def write_config(sites: ReplicaSites, directory: Path, **extra: object) -> Path:
    path = directory / "config.yaml"
    path.write_text(sites.config_yaml(str(directory / "newsmon.db"), extra=extra or None))
    return path


class Receiver:
    """A local webhook: records JSON posts (and their headers); answers 500 to the first
    ``failures`` of them; accepts only after ``delay`` seconds (a slow receiver), counting
    in ``arrived`` the posts it has read and not yet answered or answered."""

    def __init__(self, failures: int = 0, delay: float = 0.0) -> None:
        import json
        import threading
        import time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.failures = failures
        self.delay = delay
        self.arrived = 0
        self.posts: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.arrived += 1
                if receiver.delay:
                    time.sleep(receiver.delay)  # the receiver is slow, not the test
                with receiver.lock:
                    receiver.paths.append(self.path)
                    if receiver.failures > 0:
                        receiver.failures -= 1
                        status = 500
                    else:
                        receiver.posts.append(json.loads(body or b"{}"))
                        receiver.headers.append(dict(self.headers.items()))
                        status = 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # polled every 50 ms, not 500: stopping the server must not cost the test 0.5 s
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with Mailbox() as running:
        yield running


def file_stored(
    storage: Storage, article_id: str, match: Match, policy: Policy | None = None
) -> tuple[int, bool]:
    """File a match of a stored article as the crawl would: (event id, whether it is new)."""
    article = storage.article(article_id)
    assert article is not None
    filed = file_match(storage, article, match, policy or Policy(), datetime.now(UTC).date())
    assert filed is not None
    return filed


def event_article(published: datetime, **fields: object) -> EventArticle:
    """A matched article of an event, published (and found) at ``published``; any field
    may be given."""
    values: dict[str, object] = dict(
        id=f"a{published:%Y%m%d%H%M}",
        source="wire",
        url=f"https://wire.example/{published:%Y%m%d%H%M}",
        title="Xi and Putin",
        language="en",
        published=published,
        first_seen=published,
        score=0.9,
        kind="in-person",
        day=published.date(),
        day_from_text=True,
        announcement=False,
        evidence=(),
    )
    values.update(fields)
    return EventArticle(**values)  # type: ignore[arg-type]


def make_event(articles: tuple[EventArticle, ...], **fields: object) -> Event:
    """An event of ``articles`` as the store gives it: its days those of its articles,
    its kind the first article's, unless given."""
    stamp = articles[0].first_seen
    values: dict[str, object] = dict(
        id=1,
        topic="china-russia-summit",
        participants=("Xi Jinping", "Vladimir Putin"),
        kind=articles[0].kind,
        first_day=min(a.day_of for a in articles),
        last_day=max(a.day_of for a in articles),
        exact=True,
        first_article=articles[0].id,
        created_at=stamp,
        updated_at=stamp,
        articles=articles,
    )
    values.update(fields)
    return Event(**values)  # type: ignore[arg-type]


def one_article_event(
    title: str,
    url: str,
    *,
    source: str = "wire",
    language: str | None = "en",
    evidence: tuple[str, ...] = ("Xi", "Putin"),
    kind: str = "video",
    day: date = date(2022, 12, 30),
) -> Event:
    """An event of one article, as the store gives it to an alert."""
    stamp = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    article = event_article(
        stamp,
        id="a1",
        source=source,
        url=url,
        title=title,
        language=language,
        kind=kind,
        evidence=evidence,
    )
    return make_event((article,))
