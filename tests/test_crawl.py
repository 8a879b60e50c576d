"""`newsmon crawl` against local replicas of Kremlin, Andalpost and a Chinese wire site.

Two real `newsmon crawl` processes (the module's ``two_crawls``) give the database, the
servers' request logs and the summaries that most tests read. Tests that change a site
between crawls run the same cycle in process (the ``crawl`` fixture) and check the
numbers the summary line is made of.
"""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.demo.replicas import ReplicaSites
from monitor.models import CrawlStats
from tests.conftest import events_json, invoke, newsmon, write_config
from tests.test_hostile import Site, rss

# What the replicas publish (see monitor/demo/sites/*): articles reachable through each
# source's feeds, sitemaps and listings, minus the robots-disallowed one.
EXPECTED_ARTICLES = {"kremlin-en": 9, "kremlin-ru": 8, "andalpost": 8, "xinhua-zh": 8}
ENTRY_PATH = re.compile(r"(/feed/?$|/feed\?|sitemap|/page/\d+$|/world/index\.html$|robots\.txt$)")


def by_source(crawls: list[CrawlStats]) -> dict[str, CrawlStats]:
    return {stats.source: stats for stats in crawls}


def rows(database: Path, sql: str, *args: object) -> list[sqlite3.Row]:
    with sqlite3.connect(database) as conn:
        conn.row_factory = sqlite3.Row
        return list(conn.execute(sql, args))


@dataclass
class TwoCrawls:
    sites: ReplicaSites
    database: Path
    first_out: str
    first_requests: dict[str, list[str]]
    second_out: str
    second_requests: dict[str, list[str]]


@pytest.fixture(scope="module")
def two_crawls(tmp_path_factory: pytest.TempPathFactory, _replicas: ReplicaSites) -> TwoCrawls:
    """Two real `newsmon crawl` processes, one after the other, on the replicas as shipped."""
    directory = tmp_path_factory.mktemp("crawl")
    for site in _replicas:
        site.reset()
    config = write_config(_replicas, directory)
    first = newsmon("crawl", config=config)
    assert first.returncode == 0, first.stderr
    first_requests = {site.name: site.requests for site in _replicas}
    for site in _replicas:
        site.clear_requests()
    second = newsmon("crawl", config=config)
    assert second.returncode == 0, second.stderr
    second_requests = {site.name: site.requests for site in _replicas}
    return TwoCrawls(
        _replicas,
        directory / "newsmon.db",
        first.stdout,
        first_requests,
        second.stdout,
        second_requests,
    )


def test_first_crawl_stores_every_article_once(two_crawls: TwoCrawls) -> None:
    counts = {
        row["source"]: row["n"]
        for row in rows(
            two_crawls.database,
            "SELECT source, count(*) AS n FROM articles WHERE extract_error IS NULL "
            "GROUP BY source",
        )
    }
    assert counts == EXPECTED_ARTICLES
    urls = [row["canonical_url"] for row in rows(two_crawls.database, "SELECT * FROM articles")]
    assert len(urls) == len(set(urls))


def test_summary_line_per_source(two_crawls: TwoCrawls) -> None:
    for source, count in EXPECTED_ARTICLES.items():
        assert re.search(
            rf"^{source}: \d+ pages, {count} articles fetched, {count} new, 0 errors, [\d.]+ s$",
            two_crawls.first_out,
            re.MULTILINE,
        ), two_crawls.first_out
        assert re.search(
            rf"^{source}: \d+ pages, 0 articles fetched, 0 new, 0 errors",
            two_crawls.second_out,
            re.MULTILINE,
        ), two_crawls.second_out


@pytest.mark.parametrize(
    ("path", "title", "published", "language", "must", "must_not"),
    [
        (
            "/events/president/news/70255",
            "Meeting with President of China Xi Jinping",
            "2022-12-30",
            "en",
            "Xi Jinping",
            "Publication status",
        ),
        (
            "/events/president/news/70255",
            "Встреча с Председателем КНР Си Цзиньпином",
            "2022-12-30",
            "ru",
            "Си Цзиньпин",
            "Статус материала",
        ),
        (
            "/xi-jinping-dan-putin-gelar-konferensi-video-jelang-tahun-baru/",
            None,
            "2022-12-30",
            "id",
            "konferensi video",
            "Baca juga",
        ),
        (
            "/20221230/ae6b509f8e45f102e2394637e374d55d/c.html",
            None,
            "2022-12-30",
            "zh",
            "普京",
            "责任编辑",
        ),
    ],
)
def test_articles_have_title_date_language_and_clean_text(
    two_crawls: TwoCrawls,
    path: str,
    title: str | None,
    published: str,
    language: str,
    must: str,
    must_not: str,
) -> None:
    (row,) = [
        row
        for row in rows(two_crawls.database, "SELECT * FROM articles")
        if row["url"].endswith(path) and row["language"] == language
    ]
    if title:
        assert row["title"] == title
    assert row["title"] and "•" not in row["title"]
    assert row["published"].startswith(published)
    assert must in row["text"]
    assert must_not not in row["text"]


def test_andalpost_text_has_no_sidebar_or_related_lines(two_crawls: TwoCrawls) -> None:
    for row in rows(two_crawls.database, "SELECT * FROM articles WHERE source = 'andalpost'"):
        assert "Baca juga" not in row["text"] and "Baca Juga" not in row["text"]
        assert "Simak selengkapnya" not in row["text"]
        assert "Berita Terkini" not in row["text"] and "Terpopuler" not in row["text"]


def test_second_crawl_fetches_no_article_page(two_crawls: TwoCrawls) -> None:
    for name, requests in two_crawls.second_requests.items():
        articles = [path for path in requests if not ENTRY_PATH.search(path)]
        assert articles == [], f"{name} re-fetched {articles}"
        assert requests, f"{name} was not polled at all"


def test_first_crawl_fetched_each_article_once(two_crawls: TwoCrawls) -> None:
    for name, requests in two_crawls.first_requests.items():
        articles = [path for path in requests if not ENTRY_PATH.search(path)]
        assert len(articles) == len(set(articles)), name


def test_off_host_links_are_not_followed(two_crawls: TwoCrawls) -> None:
    # xinhua-zh's listing links to an article-shaped URL on the kremlin-en replica
    assert not any(path.startswith("/2024") for path in two_crawls.first_requests["kremlin-en"])


def test_robots_disallow_is_honoured(two_crawls: TwoCrawls) -> None:
    assert "/robots.txt" in two_crawls.first_requests["xinhua-zh"]
    assert not any("/preview/" in path for path in two_crawls.first_requests["xinhua-zh"])


def test_search_and_status_after_crawl(two_crawls: TwoCrawls) -> None:
    config = two_crawls.database.parent / "config.yaml"
    found = invoke("search", "习近平", config=config)
    assert found.returncode == 0 and "c.html" in found.stdout
    status = invoke("status", config=config)
    assert status.returncode == 0
    for source, count in EXPECTED_ARTICLES.items():
        assert re.search(rf"{source}\s.*ok", status.stdout), status.stdout
        assert f"{count} articles" in status.stdout


def test_new_feed_item_is_picked_up(sites: ReplicaSites, tmp_path: Path, crawl: Callable) -> None:
    config = write_config(sites, tmp_path)
    assert [stats.outcome for stats in crawl(config, "kremlin-en").crawls] == ["ok"]
    kremlin = sites.site("kremlin-en")
    feed = kremlin.respond("/events/president/news/feed", {}).body.decode()
    article = kremlin.respond("/events/president/news/70255", {}).body.decode()
    new_entry = (
        "<entry><title>Telephone conversation with President of China Xi Jinping</title>"
        f"<id>{kremlin.base_url}/events/president/news/79001</id>"
        f'<link href="{kremlin.base_url}/events/president/news/79001"/>'
        "<published>2026-11-28T18:00:00+03:00</published>"
        "<updated>2026-11-28T18:00:00+03:00</updated></entry>"
    )
    kremlin.put("/events/president/news/feed", feed.replace("<entry>", new_entry + "<entry>", 1))
    kremlin.put(
        "/events/president/news/79001",
        article.replace(
            "Meeting with President of China Xi Jinping",
            "Telephone conversation with President of China Xi Jinping",
        )
        .replace("I am glad to see you.", "The conversation touched on Arctic shipping.")
        # the page's own date agrees with the feed's (else the page's would win)
        .replace('datetime="2022-12-30"', 'datetime="2026-11-28"'),
    )
    kremlin.clear_requests()
    (second,) = crawl(config, "kremlin-en").crawls
    assert (second.articles_fetched, second.new_articles, second.outcome) == (1, 1, "ok")
    assert [p for p in kremlin.requests if not ENTRY_PATH.search(p)] == [
        "/events/president/news/79001"
    ]
    (row,) = rows(tmp_path / "newsmon.db", "SELECT * FROM articles WHERE url LIKE '%/79001'")
    assert row["title"] == "Telephone conversation with President of China Xi Jinping"
    assert row["published"].startswith("2026-11-28")


def test_failing_source_does_not_stop_the_others(
    sites: ReplicaSites, tmp_path: Path, crawl: Callable
) -> None:
    config = write_config(sites, tmp_path)
    sites.site("andalpost").fail_all(503)
    crawls = by_source(crawl(config).crawls)
    andalpost, kremlin = crawls["andalpost"], crawls["kremlin-en"]
    assert (andalpost.new_articles, andalpost.outcome) == (0, "failed")
    assert andalpost.errors >= 1 and "HTTP 503" in andalpost.error_messages[0]
    assert (kremlin.new_articles, kremlin.errors, kremlin.outcome) == (9, 0, "ok")
    status = invoke("status", config=config)
    assert re.search(r"andalpost\s.*FAILING", status.stdout), status.stdout


def test_article_that_failed_is_retried_on_the_next_crawl(
    sites: ReplicaSites, tmp_path: Path, crawl: Callable
) -> None:
    config = write_config(sites, tmp_path)
    xinhua = sites.site("xinhua-zh")
    path = "/20221230/ae6b509f8e45f102e2394637e374d55d/c.html"
    xinhua.fail(path, 500)
    (first,) = crawl(config, "xinhua-zh").crawls
    assert (first.new_articles, first.errors) == (7, 1), first
    xinhua.fail(path, None)
    (second,) = crawl(config, "xinhua-zh").crawls
    assert (second.new_articles, second.errors) == (1, 0), second


def test_bad_config_exits_non_zero_with_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("sources:\n  - name: x\n    feeds: [http://127.0.0.1:9/f]\n    evry: 5m\n")
    run = invoke("crawl", config=path)  # refused before any crawl: no reactor is started
    assert run.returncode == 2
    assert "sources.0.evry: unknown key" in run.stderr


def test_unwritable_database_exits_non_zero(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("x")
    path = tmp_path / "config.yaml"
    path.write_text(
        "database: blocker/sub/n.db\nsources:\n  - name: x\n    feeds: [http://127.0.0.1:9/f]\n"
    )
    run = invoke("crawl", config=path)  # refused before any crawl: no reactor is started
    assert run.returncode == 2
    assert "cannot open database" in run.stderr


# The meetings the replicas cover (monitor/demo/sites): each must become exactly one event.
EXPECTED_EVENTS = {
    ("2022-12-30", "video"): {"kremlin-en", "kremlin-ru", "andalpost", "xinhua-zh"},
    ("2023-03-20", "in-person"): {"kremlin-en", "kremlin-ru", "andalpost", "xinhua-zh"},
    ("2024-05-16", "in-person"): {"kremlin-en", "kremlin-ru", "andalpost", "xinhua-zh"},
    ("2024-10-22", "in-person"): {"kremlin-en", "kremlin-ru", "andalpost", "xinhua-zh"},
}


def test_each_meeting_is_one_event_across_languages(two_crawls: TwoCrawls) -> None:
    config = two_crawls.database.parent / "config.yaml"
    events = events_json(config)
    found = {
        (event["first_day"], event["kind"]): {a["source"] for a in event["articles"]}
        for event in events
    }
    assert found == EXPECTED_EVENTS
    assert "matching: 33 articles checked, 20 matched, 4 new events" in two_crawls.first_out
    assert "matching: 0 articles checked, 0 matched, 0 new events" in two_crawls.second_out
    negatives = {a["url"] for event in events for a in event["articles"]}
    assert not any(url.endswith(("/75380", "/70412", "/71599")) for url in negatives)


def test_rematch_keeps_event_ids(two_crawls: TwoCrawls) -> None:
    config = two_crawls.database.parent / "config.yaml"
    before = {(e["id"], e["first_day"], len(e["articles"])) for e in events_json(config)}
    run = invoke("rematch", config=config)
    assert run.returncode == 0
    assert "33 articles checked, 20 matched, 0 new events" in run.stdout
    after = {(e["id"], e["first_day"], len(e["articles"])) for e in events_json(config)}
    assert after == before


def test_huge_page_and_malformed_feed_are_errors_that_lose_nothing(
    sites: ReplicaSites, tmp_path: Path, crawl: Callable
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        sites.config_yaml(
            str(tmp_path / "newsmon.db"), extra={"crawl": {"delay": 0, "max_page_size": 200_000}}
        )
    )
    xinhua = sites.site("xinhua-zh")
    huge = "/20221230/ae6b509f8e45f102e2394637e374d55d/c.html"
    page = xinhua.respond(huge, {}).body.decode()
    xinhua.put(huge, page.replace("</body>", "<p>" + "填充" * 300_000 + "</p></body>"))
    # a feed URL that answers with an error page (200), as overloaded sites do
    sites.site("kremlin-ru").put(
        "/events/president/news/feed", "<html><body><h1>Ошибка 502</h1><p>Bad gateway"
    )
    crawls = by_source(crawl(path).crawls)
    xinhua_run, kremlin_ru = crawls["xinhua-zh"], crawls["kremlin-ru"]
    assert (xinhua_run.new_articles, xinhua_run.errors) == (7, 1), xinhua_run
    assert 1 <= kremlin_ru.new_articles <= 9 and kremlin_ru.errors == 1, kremlin_ru
    # an error, not a failing source: the sitemap and the listing still answered
    assert kremlin_ru.outcome == "ok"
    assert re.match(r"feed .*not a readable feed: an HTML page", kremlin_ru.error_messages[0]), (
        kremlin_ru
    )
    # the oversized page is kept for a retry, not forgotten
    (row,) = rows(tmp_path / "newsmon.db", "SELECT * FROM fetch_failures")
    assert row["url"].endswith(huge) and row["attempts"] == 1
    assert re.fullmatch(
        r"larger than crawl.max_page_size: [\d,]+ bytes, the limit 200,000", row["last_error"]
    ), row["last_error"]


def test_new_post_in_a_child_sitemap_is_found_behind_an_unchanged_index(
    sites: ReplicaSites, tmp_path: Path, crawl: Callable
) -> None:
    config = write_config(sites, tmp_path)
    assert [stats.outcome for stats in crawl(config, "andalpost").crawls] == ["ok"]
    andalpost = sites.site("andalpost")
    slug = "/xi-jinping-dan-putin-bahas-kerja-sama-energi-lewat-telepon/"
    article = andalpost.respond("/xi-jinping-dan-putin-teken-pernyataan-bersama-di-kremlin/", {})
    andalpost.put(slug, article.body.decode())
    sitemap = andalpost.respond("/post-sitemap.xml", {}).body.decode()
    entry = (
        f"<url><loc>{andalpost.base_url}{slug}</loc>"
        "<lastmod>2026-11-28T10:00:00+00:00</lastmod></url>"
    )
    andalpost.put("/post-sitemap.xml", sitemap.replace("</urlset>", entry + "</urlset>"))
    andalpost.clear_requests()
    (run,) = crawl(config, "andalpost").crawls
    assert [p for p in andalpost.requests if not ENTRY_PATH.search(p)] == [slug]
    assert run.articles_fetched == 1, run


def test_articles_that_redirect_off_host_or_inflate_past_the_limit_are_errors(
    tmp_path: Path,
) -> None:
    # Both were dropped without a word, as if robots.txt had said no: the article was lost
    # and the source looked healthy.
    site = Site()
    try:
        site.page("/news/1", b"<html><body><article><p>" + b"Words. " * 80 + b"</p></article>")
        site.pages["/news/2"] = (302, {"Location": "http://169.254.169.254/latest"}, b"")
        bomb = gzip.compress(b"\0" * (8 << 20))
        site.pages["/news/3"] = (200, {"Content-Encoding": "gzip"}, bomb)
        site.pages["/news/5"] = (302, {"Location": "/news/5"}, b"")  # to itself
        site.page("/robots.txt", b"User-agent: *\nDisallow: /private/\n", "text/plain")
        items = [(path, "Tue, 21 Mar 2023 15:30:00 +0000") for path in ("/news/1", "/news/2")]
        site.page(
            "/feed",
            rss(site.base, [*items, ("/news/3", items[0][1]), ("/private/4", ""), ("/news/5", "")]),
        )
        path = tmp_path / "config.yaml"
        path.write_text(
            json.dumps(
                {
                    "database": str(tmp_path / "newsmon.db"),
                    "crawl": {"delay": 0, "max_page_size": 1_000_000},
                    "sources": [{"name": "wire", "feeds": [f"{site.base}/feed"]}],
                }
            )
        )
        run = newsmon("crawl", config=path)
        status = invoke("status", config=path).stdout
    finally:
        site.stop()
    assert run.returncode == 0, run.stderr
    assert "wire: 2 pages, 1 articles fetched, 1 new, 3 errors" in run.stdout, run.stdout
    assert "/private/4" not in site.requests  # robots.txt's no is still a decision
    failures = {
        row["url"].removeprefix(site.base): row["last_error"]
        for row in rows(tmp_path / "newsmon.db", "SELECT * FROM fetch_failures")
    }
    assert failures.keys() == {"/news/2", "/news/3", "/news/5"}
    # Scrapy's duplicate filter dropped the redirect to itself without a word
    assert failures["/news/5"].startswith("too many redirects (a redirect loop")
    assert "off the source's hosts, to http://169.254.169.254/latest" in failures["/news/2"]
    assert failures["/news/3"].startswith(
        "larger than crawl.max_page_size once decompressed: past 1,000,000 bytes from "
    ), failures["/news/3"]
    assert "ok: 2 pages, 1 new, 3 errors (first: article " in status, status
