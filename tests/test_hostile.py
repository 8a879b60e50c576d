"""What hostile or broken sites can throw at newsmon: patterns that backtrack on their
URLs, pages whose declared charset lies, redirects off the named host, and feeds whose
dates contradict the page.

Sites are served on 127.0.0.1 by ``Site`` below (each path answers with the status,
headers and body a test gives it); crawls and commands run as the user runs them.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from crawler.discover import Link
from crawler.extraction import ExtractionPool
from crawler.spider import CrawlReport, SourceSpider
from monitor.config import Politeness, Source
from monitor.store import Storage
from tests.conftest import Receiver, events_json, invoke


class Site:
    """A local HTTP server answering each known path with a fixed response; 404 else."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.slow: dict[str, float] = {}  # path: seconds before it is answered
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                time.sleep(site.slow.get(self.path, 0))
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
        # polled every 50 ms, not 500: stopping the server must not cost the test 0.5 s
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
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
    # the pool starts no process until a page is extracted
    return SourceSpider(source, Politeness(), storage, CrawlReport(source.name), ExtractionPool())


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


# --- pages whose declared charset lies, feeds whose dates contradict the page -----------

RUSSIAN_TITLE = "Путин и Си Цзиньпин провели переговоры в режиме видеоконференции"
RUSSIAN = f"""<!doctype html><html lang="ru"><head><title>{RUSSIAN_TITLE}</title>
<meta property="article:published_time" content="2022-12-30T15:00:00+03:00"></head>
<body><article><h1>{RUSSIAN_TITLE}</h1>
<p>Владимир Путин провёл переговоры с Председателем КНР Си Цзиньпином в режиме
видеоконференции. Лидеры обсудили двусторонние отношения и международную повестку.</p>
<p>Стороны договорились продолжить контакты на высшем уровне в следующем году.</p>
</article></body></html>"""

CHINESE_TITLE = "习近平同俄罗斯总统普京举行视频会晤"
CHINESE = f"""<!doctype html><html lang="zh-CN"><head>
<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">
<title>{CHINESE_TITLE}</title></head>
<body><article><h1>{CHINESE_TITLE}</h1>
<p>国家主席习近平在北京同俄罗斯总统普京举行视频会晤。两国元首就双边关系和共同关心的国际问题交换了意见。</p>
<p>习近平指出，中俄双方要继续坚定支持彼此维护本国核心利益。普京表示，俄方愿同中方加强各领域合作。</p>
</article></body></html>"""


def rss(base: str, items: list[tuple[str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{path}</title><link>{base}{path}</link><pubDate>{date}</pubDate></item>"
        for path, date in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        f"{entries}</channel></rss>"
    ).encode()


@pytest.fixture(scope="module")
def crawled(
    tmp_path_factory: pytest.TempPathFactory, crawl: Callable
) -> Iterator[dict[str, sqlite3.Row]]:
    """One crawl of a site with both lies; the stored articles by path."""
    directory = tmp_path_factory.mktemp("hostile")
    site = Site()
    try:
        # UTF-8 bytes, but the server says windows-1251 (Scrapy believed it).
        site.page("/ru", RUSSIAN.encode(), "text/html; charset=windows-1251")
        # UTF-8 bytes, no charset in the header, a <meta> that says Latin-1.
        site.page("/zh", CHINESE.encode(), "text/html")
        # The feed dates /ru to a day on which another meeting took place.
        feed = rss(
            site.base,
            [
                ("/ru", "Thu, 16 May 2024 09:00:00 +0000"),
                ("/zh", "Fri, 30 Dec 2022 20:00:00 +0800"),
            ],
        )
        site.page("/feed", feed, "application/rss+xml")
        config = directory / "config.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "database": str(directory / "newsmon.db"),
                    "crawl": {"delay": 0, "obey_robots": False},
                    "sources": [{"name": "liars", "feeds": [f"{site.base}/feed"]}],
                }
            )
        )
        (stats,) = crawl(config).crawls
        assert stats.outcome == "ok", stats
        with sqlite3.connect(directory / "newsmon.db") as conn:
            conn.row_factory = sqlite3.Row
            stored = {
                row["url"].removeprefix(site.base): row
                for row in conn.execute("SELECT * FROM articles")
            }
        yield stored
    finally:
        site.stop()


def test_utf8_page_served_as_windows_1251_is_read_as_utf8(
    crawled: dict[str, sqlite3.Row],
) -> None:
    article = crawled["/ru"]
    assert article["extract_error"] is None
    assert article["title"] == RUSSIAN_TITLE
    assert "с Председателем КНР Си Цзиньпином" in article["text"]
    assert article["language"] == "ru"


def test_utf8_page_with_a_wrong_meta_charset_is_read_as_utf8(
    crawled: dict[str, sqlite3.Row],
) -> None:
    article = crawled["/zh"]
    assert article["extract_error"] is None
    assert article["title"] == CHINESE_TITLE
    assert "国家主席习近平在北京同俄罗斯总统普京举行视频会晤" in article["text"]
    assert article["language"] == "zh"


def test_page_date_wins_over_a_contradicting_feed_date(crawled: dict[str, sqlite3.Row]) -> None:
    assert crawled["/ru"]["published"].startswith("2022-12-30")
    # a page without a date of its own takes the feed's, to the minute (feedparser: UTC)
    assert crawled["/zh"]["published"] == "2022-12-30T12:00:00+00:00"


ENGLISH_TITLE = "Xi Jinping and Vladimir Putin hold phone call"
ENGLISH = f"""<!doctype html><html lang="en"><head><title>{ENGLISH_TITLE}</title></head>
<body><article><h1>{ENGLISH_TITLE}</h1>
<p>Chinese President Xi Jinping held a phone call with Russian President Vladimir Putin.
The two heads of state discussed trade, energy and the situation in the region.</p>
<p>Both sides agreed to keep in close contact at the highest level.</p>
</article></body></html>"""


def test_dates_in_the_future_or_the_far_past_are_not_believed(
    tmp_path: Path, site: Site, receiver: Receiver, crawl: Callable
) -> None:
    # A year-2099 feed date dated its event decades ahead; the CMS's epoch 0 kept the
    # article from being fetched at all (older than crawl.lookback); a page's own date in
    # 2031 overruled a sane feed date.
    site.page("/zh", CHINESE.encode(), "text/html; charset=utf-8")
    site.page("/en", ENGLISH.encode(), "text/html; charset=utf-8")
    future_page = RUSSIAN.replace("2022-12-30T15:00:00+03:00", "2031-12-30T15:00:00+03:00")
    site.page("/ru", future_page.encode(), "text/html; charset=utf-8")
    feed = rss(
        site.base,
        [
            ("/zh", "Thu, 01 Jan 2099 08:00:00 +0000"),
            ("/en", "Thu, 01 Jan 1970 00:00:00 +0000"),
            ("/ru", "Fri, 30 Dec 2022 12:00:00 +0000"),
        ],
    )
    site.page("/feed", feed, "application/rss+xml")
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": str(tmp_path / "newsmon.db"),
                "crawl": {"delay": 0, "obey_robots": False, "lookback": "5000d"},
                "sources": [{"name": "wire", "feeds": [f"{site.base}/feed"]}],
                "notify": {"alerts": [receiver.url], "max_age": 0},
            }
        )
    )
    today = datetime.now(UTC).date().isoformat()
    report = crawl(config)
    with sqlite3.connect(tmp_path / "newsmon.db") as conn:
        published = dict(conn.execute("SELECT substr(url, -3), published FROM articles"))
    # stored, every one: undated where no date is believable (the day it was found
    # stands for it), the feed's date where only the page's is not
    assert published == {"/zh": None, "/en": None, "/ru": "2022-12-30T12:00:00+00:00"}
    assert report.matching.checked == report.matching.matched == 3, report.matching
    events = {e["date"]: e for e in events_json(config)}
    assert sorted(events) == ["2022-12-30", today], events
    assert {a["title"] for a in events[today]["articles"]} == {CHINESE_TITLE, ENGLISH_TITLE}
    # alerted once per event, each with its sane day; nothing of 1970, 2031 or 2099
    assert len(receiver.posts) == 2, receiver.posts
    sent = "\n".join(post["title"] + post["message"] for post in receiver.posts)
    assert not re.search(r"1970|2031|2099", sent), sent
    # this week's events, as the digest and `events --since` choose them
    since = invoke("events", "--since", today, config=config).stdout
    assert CHINESE_TITLE in since and ENGLISH_TITLE in since and RUSSIAN_TITLE not in since


# --- pages named on the command line ----------------------------------------------------

SECRET = (
    "<html><body><article><p>Internal dashboard: the database password is hunter2, "
    "and this page must never leave the machine.</p></article></body></html>"
)


@pytest.mark.parametrize("command", ["extract", "check"])
def test_named_url_redirecting_to_another_port_is_refused(
    site: Site, other_site: Site, tmp_path: Path, command: str
) -> None:
    other_site.page("/secret", SECRET.encode(), "text/html; charset=utf-8")
    site.redirect("/x", f"{other_site.base}/secret")
    # a redirect on the named host itself is followed as before
    site.redirect("/moved", "/ru")
    site.page("/ru", RUSSIAN.encode(), "text/html; charset=windows-1251")
    run = invoke(command, f"{site.base}/x", f"{site.base}/moved", config=tmp_path / "absent.yaml")
    assert run.returncode == 1
    assert (
        f"{site.base}/x: cannot fetch {site.base}/x: it redirects off its host, "
        f"to {other_site.base}/secret" in run.stderr
    )
    assert "hunter2" not in run.stdout + run.stderr
    assert other_site.requests == []
    assert site.requests == ["/x", "/moved", "/ru"]
    assert RUSSIAN_TITLE in run.stdout
