"""Property-based tests: whatever bytes or text a site serves, the parsers and the matcher
answer with a result or their module's own error, never an exception of another kind.

Inputs are arbitrary, and also built from the pieces these parsers look for (tags, dates,
names), cut and spliced, so that the deeper paths are reached too. Derandomized, without
an example database: a run in CI is the run on a laptop.
"""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.discover import (
    feed_next,
    listing_dates,
    listing_next,
    parse_feed,
    parse_listing,
    parse_sitemap,
)
from monitor.dates import find_dateline, find_dates, that_day, written_days
from monitor.errors import ExtractError, FetchError
from monitor.extract import believed, extract_document
from monitor.matcher import match_article
from monitor.models import KINDS
from monitor.topic import CompiledTopic, load_topics

checked = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

BASE = "http://a.example/feed"

FEED_PIECES = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<?xml version="1.0" encoding="windows-1251"?>',
    '<rss version="2.0">',
    "</rss>",
    "<channel>",
    "</channel>",
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    "</feed>",
    "<item>",
    "</item>",
    "<entry>",
    "</entry>",
    "<title>",
    "</title>",
    "<link>",
    "</link>",
    '<link rel="next" href="/feed?page=2"/>',
    '<link href="javascript:alert(1)"/>',
    "<id>",
    "</id>",
    "<pubDate>",
    "</pubDate>",
    "<updated>",
    "</updated>",
    "Tue, 21 Mar 2023 15:30:00 +0000",
    "Thu, 01 Jan 1970 00:00:00 +0000",
    "9999-12-31T23:59:59Z",
    "2022-12-30T15:00:00+03:00",
    "http://a.example/news/1",
    "//other.example/x",
    "<![CDATA[",
    "]]>",
    '<!DOCTYPE rss [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    "&e;",
    "&amp;",
    "&",
    "<",
    "Путин",
    "习近平",
    "\x00",
    "\ufeff",
]

SITEMAP_PIECES = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">',
    "</urlset>",
    "<sitemapindex>",
    "</sitemapindex>",
    "<sitemap>",
    "</sitemap>",
    "<url>",
    "</url>",
    "<loc>",
    "</loc>",
    "<lastmod>",
    "</lastmod>",
    "<news:publication_date>",
    "</news:publication_date>",
    "<news:title>",
    "</news:title>",
    "<news:language>",
    "</news:language>",
    "2022-12-30",
    "2022-13-45T99:00:00Z",
    "Z",
    "http://a.example/news/1",
    "mailto:x@a.example",
    "<html>",
    "<!doctype html>",
    "&",
    "&amp;",
    "\x00",
]

DATE_PIECES = [
    "30/12/2022",
    "2022-12-30",
    "December 30, 2022",
    "20–22 March",
    "30 March – 2 April",
    "с 20 по 22 марта",
    "30 декабря прошлого года",
    "2022年12月30日",
    "5月16日至17日",
    "30日",
    "下月5日",
    "今(20)日",
    "新华社莫斯科7月16日电",
    "当天",
    "同日",
    "Jumat (30/12/2022)",
    "Kamis (16/5)",
    "16-17 Mei",
    "on Friday",
    "в прошлую пятницу",
    "Jumat depan",
    "下周五",
    "tomorrow",
    "вчера",
    "lusa",
    "明天",
    "今天（9月2日）",
    "next week",
    "bulan depan",
    "下个月",
    "31/02/2022",
    "29 February 2023",
    "0000-00-00",
    "99999年99月99日",
    "32 декабря",
    " ",
    "\n",
]

MATCH_PIECES = [
    "Xi Jinping",
    "Vladimir Putin",
    "Putin",
    "Xi",
    "Путин",
    "Си Цзиньпин",
    "习近平",
    "普京",
    "Presiden Xi",
    "held talks",
    "video conference",
    "phone call",
    "konferensi video",
    "переговоры",
    "视频会晤",
    "will meet",
    "next week",
    "on Friday",
    "30 December 2022",
    "30 декабря",
    "12月30日",
    ". ",
    "\n\n",
    "?",
    '"',
]


def pieces(words: list[str]) -> st.SearchStrategy[str]:
    """Text made of ``words`` and arbitrary text, in any order."""
    return st.lists(st.sampled_from(words) | st.text(max_size=20), max_size=40).map("".join)


def spliced(words: list[str]) -> st.SearchStrategy[bytes]:
    """Arbitrary bytes, or ``pieces`` encoded, cut short or with bytes spliced in."""
    built = pieces(words).map(lambda text: text.encode("utf-8", "surrogatepass"))
    cut = st.tuples(built, st.integers(0, 2000), st.binary(max_size=8)).map(
        lambda t: t[0][: t[1]] + t[2] + t[0][t[1] :]
    )
    return st.binary(max_size=500) | built | cut


@pytest.fixture(scope="module")
def topic() -> CompiledTopic:
    return load_topics(["china-russia-summit"])[0]


@checked
@given(spliced(FEED_PIECES))
def test_any_bytes_are_a_feed_or_a_fetch_error(body: bytes) -> None:
    try:
        links = parse_feed(body, BASE)
    except FetchError as exc:
        assert str(exc).startswith("not a readable feed: ")
    else:
        assert all(link.url.startswith(("http://", "https://")) for link in links)
    older = feed_next(body, BASE)
    assert older is None or older.startswith(("http://", "https://"))


@checked
@given(spliced(SITEMAP_PIECES), st.booleans())
def test_any_bytes_are_a_sitemap_or_a_fetch_error(body: bytes, gzipped: bool) -> None:
    if gzipped:
        whole = gzip.compress(body)
        body = whole[: len(whole) - len(body) % 7]  # some whole, some cut short
    try:
        sitemap = parse_sitemap(body, "http://a.example/sitemap.xml")
    except FetchError:
        return
    assert len(sitemap.children) == len(sitemap.child_modified)
    assert all(link.url.startswith(("http://", "https://")) for link in sitemap.links)
    assert sitemap.broken is None or sitemap.children or sitemap.links


@checked
@given(pieces(["<a href='/news/1'>", "</a>", "<time datetime='2022-12-30'>", "</time>"]))
def test_any_text_is_a_listing(body: str) -> None:
    parse_listing(body, "http://a.example/")
    listing_next(body, "http://a.example/")
    for moment in listing_dates(body, "http://a.example/").values():
        assert moment.tzinfo is not None


@checked
@given(pieces(DATE_PIECES), pieces(DATE_PIECES), st.none() | st.dates())
def test_any_text_gives_date_mentions_inside_it(
    text: str, before: str, reference: date | None
) -> None:
    for mention in find_dates(text, reference) + that_day(text, before, reference):
        assert 0 <= mention.start <= mention.end <= len(text)
        assert mention.end_day is None or mention.end_day >= mention.day
    written_days(text)
    find_dateline(text, reference)


@checked
@given(st.none() | st.datetimes(timezones=st.none() | st.just(UTC)))
def test_no_date_after_the_fetch_or_before_1990_is_believed(moment: datetime | None) -> None:
    fetched = datetime(2026, 12, 4, tzinfo=UTC)
    kept = believed(moment, fetched)
    assert kept is None or kept is moment
    if kept is not None:
        aware = kept if kept.tzinfo else kept.replace(tzinfo=UTC)
        assert datetime(1990, 1, 1, tzinfo=UTC) <= aware <= datetime(2026, 12, 5, tzinfo=UTC)


@checked
@given(pieces(MATCH_PIECES), pieces(MATCH_PIECES), st.none() | st.dates())
def test_any_article_is_a_match_or_none(
    topic: CompiledTopic, title: str, text: str, published: date | None
) -> None:
    found = match_article(title, text, published, topic)
    if found is not None:
        assert found.kind in KINDS and found.participants and 0 <= found.score <= 1


@settings(checked, max_examples=40)
@given(
    spliced(["<html>", "<body>", "<article>", "<p>", "</p>", "<meta charset='gbk'>", *MATCH_PIECES])
)
def test_any_bytes_are_an_article_or_an_extract_error(body: bytes) -> None:
    try:
        document = extract_document(body, "http://a.example/news/1")
    except ExtractError:
        return
    assert document.text
