"""A past week's digest built from the database agrees with itself: the counts and the
chart are the articles it lists, and a source that was not crawled is not called healthy.

The articles are stored today (their ``first_seen``) but were published in the week of the
meeting, as when a digest of an earlier week is built after a first crawl."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import lxml.html

from monitor.digest import Digest, render_digest
from monitor.models import Article, CrawlStats, Match, article_id
from monitor.runner import digest_data
from monitor.store import Storage
from tests.conftest import file_stored

WEEK = "2024-W43"  # Mon 21 – Sun 27 Oct 2024; Xi and Putin met in Kazan on the 22nd
KAZAN = [
    # source, language, published, title, announcement
    ("kremlin-en", "en", date(2024, 10, 18), "Vladimir Putin to meet Xi Jinping in Kazan", True),
    ("xinhua-zh", "zh", date(2024, 10, 22), "习近平会见俄罗斯总统普京", False),
    ("kremlin-en", "en", date(2024, 10, 22), "Meeting with President of China Xi Jinping", False),
    ("kremlin-ru", "ru", date(2024, 10, 22), "Встреча с Председателем КНР Си Цзиньпином", False),
    ("andalpost", "id", date(2024, 10, 23), "Putin dan Xi Jinping Bertemu di Kazan", False),
]


def store_event(
    storage: Storage, day: date, articles: list[tuple[str, str, date, str, bool]]
) -> None:
    """One meeting on ``day`` and its articles, stored now."""
    for source, language, published, title, announcement in articles:
        url = f"https://{source}.example/{abs(hash(title))}"
        storage.save_article(
            Article(
                id=article_id(url),
                source=source,
                url=url,
                canonical_url=url,
                title=title,
                text=title,
                language=language,
                published=datetime(published.year, published.month, published.day, 9),
                author=None,
                content_hash=title,
            )
        )
        match = Match(
            topic="china-russia-summit",
            score=0.9,
            participants=("Xi Jinping", "Vladimir Putin"),
            kind="in-person",
            date=day,
            date_from_text=True,
            announcement=announcement,
            evidence=("Xi Jinping", "Putin"),
        )
        file_stored(storage, article_id(url), match)


def week_digest(path: Path) -> Digest:
    with Storage(path) as storage:
        data = digest_data(storage, WEEK, ["kremlin-en", "xinhua-zh"])
    return render_digest(data)


def kazan_week(path: Path) -> Digest:
    with Storage(path) as storage:
        store_event(storage, date(2024, 10, 22), KAZAN)
        # kremlin-en was crawled during that week; xinhua-zh only now.
        then = datetime(2024, 10, 23, 8, tzinfo=UTC)
        storage.record_crawl(CrawlStats("kremlin-en", then, then, 5, 2, 2, 0))
        now = datetime.now(UTC)
        storage.record_crawl(CrawlStats("xinhua-zh", now, now, 5, 1, 1, 0))
    return week_digest(path)


def chart(body: str) -> list[tuple[str, int]]:
    """The text or Markdown chart's days and counts."""
    lines = re.findall(r"^\s*(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d+ \w{3}\s+(\d+)\s", body, re.M)
    return [(day, int(count)) for day, count in lines]


def shown(html: str) -> str:
    """The HTML's text as a reader sees it, whitespace collapsed."""
    return " ".join(lxml.html.fromstring(html).text_content().split())


def test_a_past_weeks_counts_and_chart_are_the_articles_it_lists(tmp_path: Path) -> None:
    digest = kazan_week(tmp_path / "n.db")
    # Five articles listed under the event: the header says five, the chart shows the
    # four dated in the week by their own day, and says where the fifth went.
    for body in (digest.text, digest.markdown, shown(digest.html)):
        assert "1 event · 5 matched articles" in body, body
        assert "5 articles" in body
        assert "1 listed article dated outside this week" in body
    assert "5 matched articles" in shown(digest.html)
    for body in (digest.text, digest.markdown):
        assert chart(body) == [
            ("Mon", 0),
            ("Tue", 3),
            ("Wed", 1),
            ("Thu", 0),
            ("Fri", 0),
            ("Sat", 0),
            ("Sun", 0),
        ]
    bars = digest.html.split("Matched articles per day")[1].split(">Events<")[0]
    assert len(re.findall(r'<td height="\d+"', bars)) == 2  # on Tuesday and Wednesday


def test_a_source_not_crawled_that_week_is_not_called_healthy(tmp_path: Path) -> None:
    digest = kazan_week(tmp_path / "n.db")
    html = shown(digest.html)
    assert "1 / 2 sources healthy" in html and "1 not crawled this week" in html
    assert "xinhua-zh not crawled this week" in html
    assert "xinhua-zh: not crawled this week — runs 0" in digest.text
    assert "kremlin-en: ok — runs 1" in digest.text
    assert "2 sources, 1 not crawled this week" in digest.text
    assert "| xinhua\\-zh (not crawled this week) | 0 |" in digest.markdown


def test_an_earlier_meeting_written_about_that_week_is_listed_and_counted(
    tmp_path: Path,
) -> None:
    with Storage(tmp_path / "n.db") as storage:
        store_event(
            storage,
            date(2023, 3, 21),  # the Moscow talks, long before the week
            [
                ("kremlin-en", "en", date(2023, 3, 21), "Russian-Chinese talks", False),
                ("andalpost", "id", date(2024, 10, 24), "Menengok Kembali KTT Moskow", False),
            ],
        )
    digest = week_digest(tmp_path / "n.db")
    assert "1 event · 2 matched articles" in digest.text
    assert "Menengok Kembali KTT Moskow · 24 Oct" in digest.text
    assert "Russian-Chinese talks · 21 Mar 2023" in digest.text
    assert dict(chart(digest.text))["Thu"] == 1
    assert "1 listed article dated outside this week" in digest.text
