"""Shared fixtures: the bundled replica sites on 127.0.0.1 and a way to run `newsmon`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

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


@pytest.fixture
def sites() -> Iterator[ReplicaSites]:
    with ReplicaSites() as running:
        yield running


def write_config(sites: ReplicaSites, directory: Path, **extra: object) -> Path:
    path = directory / "config.yaml"
    path.write_text(sites.config_yaml(str(directory / "newsmon.db"), extra=extra or None))
    return path


class Receiver:
    """A local webhook: records JSON posts (and their headers); answers 500 to the first
    ``failures`` of them; accepts only after ``delay`` seconds (a slow receiver)."""

    def __init__(self, failures: int = 0, delay: float = 0.0) -> None:
        import json
        import threading
        import time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.failures = failures
        self.delay = delay
        self.posts: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
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
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
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
    article = EventArticle(
        id="a1",
        source=source,
        url=url,
        title=title,
        language=language,
        published=stamp,
        first_seen=stamp,
        score=0.9,
        kind=kind,
        day=day,
        day_from_text=True,
        announcement=False,
        evidence=evidence,
    )
    return Event(
        1,
        "china-russia-summit",
        ("Xi Jinping", "Vladimir Putin"),
        kind,
        day,
        day,
        True,
        "a1",
        stamp,
        stamp,
        (article,),
    )
