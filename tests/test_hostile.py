"""What hostile or broken sites can throw at newsmon: patterns that backtrack on their
URLs, pages whose declared charset lies, redirects off the named host, and feeds whose
dates contradict the page.

Sites are served on 127.0.0.1 by ``Site`` below (each path answers with the status,
headers and body a test gives it); crawls and commands run as the user runs them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from crawler.discover import Link
from crawler.spider import CrawlReport, SourceSpider
from monitor.config import Politeness, Source
from monitor.storage import Storage


class Site:
    """A local HTTP server answering each known path with a fixed response; 404 else."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                status, headers, body = site.pages.get(self.path, (404, {}, b"not found"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def page(self, path: str, body: bytes, content_type: str = "text/html") -> None:
        self.pages[path] = (200, {"Content-Type": content_type}, body)

    def redirect(self, path: str, location: str) -> None:
        self.pages[path] = (302, {"Location": location}, b"")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site() -> Iterator[Site]:
    running = Site()
    yield running
    running.stop()


@pytest.fixture
def other_site() -> Iterator[Site]:
    running = Site()
    yield running
    running.stop()


# --- follow patterns on site-controlled URLs --------------------------------------------


def spider_for(tmp_path: Path, follow: str) -> SourceSpider:
    source = Source(name="hostile", listings=["http://127.0.0.1:8765/news/"], follow=follow)
    storage = Storage(tmp_path / "newsmon.db")
    return SourceSpider(source, Politeness(), storage, CrawlReport(source.name))


def followed(spider: SourceSpider, urls: list[str]) -> list[str]:
    return [request.url for request in spider._article_requests(map(Link, urls), follow=True)]


def test_follow_pattern_that_backtracks_gives_up_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # (a|aa)+$ tries every way to split a run of a's: with `re` each of these links took
    # seconds (doubling with every extra letter), on the reactor thread.
    spider = spider_for(tmp_path, r"(a|aa)+$")
    hostile = [f"http://127.0.0.1:8765/news/{'a' * n}!" for n in (27, 28, 29, 30)]
    plain = "http://127.0.0.1:8765/news/aaaa"
    with caplog.at_level(logging.WARNING):
        assert followed(spider, [*hostile, plain]) == [plain]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "hostile: follow pattern '(a|aa)+$' took over 0.1 s" in warnings[0]


def test_follow_pattern_ignores_urls_longer_than_any_article(tmp_path: Path) -> None:
    spider = spider_for(tmp_path, r"/news/\d+")
    ordinary = "http://127.0.0.1:8765/news/70255"
    padded = f"http://127.0.0.1:8765/news/70256?{'x' * 2100}"
    assert followed(spider, [ordinary, padded]) == [ordinary]
