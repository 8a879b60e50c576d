"""Feeds, sitemaps and listings → article links; canonical URLs and the host fence."""

import gzip
from datetime import UTC, datetime

import pytest

from crawler.discover import parse_feed, parse_listing, parse_sitemap
from crawler.urls import canonical_url, looks_like_article, on_hosts
from monitor.errors import FetchError
from monitor.models import article_id

ATOM = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ru">
  <title>President of Russia</title>
  <entry>
    <title>Talks with President of China Xi Jinping</title>
    <id>http://en.kremlin.ru/events/president/news/70412</id>
    <link href="http://en.kremlin.ru/events/president/news/70412"/>
    <published>2023-03-21T15:20:00+03:00</published>
    <updated>2023-03-21T16:00:00+03:00</updated>
  </entry>
  <entry>
    <title>Only an id</title>
    <id>http://en.kremlin.ru/events/president/news/70413</id>
    <updated>2023-03-22T10:00:00+03:00</updated>
  </entry>
</feed>"""

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>Andalpost</title><language>id-ID</language>
<item><title>Xi Jinping dan Putin gelar konferensi video</title>
<link>https://andalpost.com/xi-putin-konferensi-video/?utm_source=rss</link>
<dc:creator>Redaksi</dc:creator>
<pubDate>Fri, 30 Dec 2022 19:05:00 +0700</pubDate>
<guid isPermaLink="false">https://andalpost.com/?p=123</guid></item>
</channel></rss>"""

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url><loc>https://example.com/a/1</loc>
    <news:news><news:publication><news:language>zh</news:language></news:publication>
      <news:publication_date>2024-05-16T09:00:00+08:00</news:publication_date>
      <news:title>\xe4\xb9\xa0\xe8\xbf\x91\xe5\xb9\xb3\xe5\x90\x8c\xe6\x99\xae\xe4\xba\xac\xe4\xbc\x9a\xe8\xb0\x88</news:title>
    </news:news></url>
  <url><loc>https://example.com/a/2</loc><lastmod>2024-05-15</lastmod></url>
</urlset>"""


def test_atom_feed_gives_links_with_dates_and_titles() -> None:
    links = parse_feed(ATOM, "http://en.kremlin.ru/events/president/news/feed")
    assert [link.url for link in links] == [
        "http://en.kremlin.ru/events/president/news/70412",
        "http://en.kremlin.ru/events/president/news/70413",
    ]
    assert links[0].hints.title == "Talks with President of China Xi Jinping"
    assert links[0].hints.published == datetime(2023, 3, 21, 12, 20, tzinfo=UTC)


def test_rss_feed_gives_author_language_and_date() -> None:
    (link,) = parse_feed(RSS, "https://andalpost.com/feed/")
    assert link.hints.author == "Redaksi"
    assert link.hints.language == "id"
    assert link.hints.published == datetime(2022, 12, 30, 12, 5, tzinfo=UTC)


def test_an_html_page_or_plain_text_is_not_a_feed_and_says_what_it_is() -> None:
    with pytest.raises(FetchError, match="not a readable feed: an HTML page, not RSS or Atom"):
        parse_feed(b"<html><body>Service unavailable</body></html>", "http://x/feed")
    with pytest.raises(FetchError, match="not a readable feed: not XML, so neither RSS nor Atom"):
        parse_feed(b"Service unavailable, try later", "http://x/feed")


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>',
    ],
)
def test_a_feed_with_no_items_yet_is_an_empty_feed_not_an_error(body: bytes) -> None:
    # it was "broken XML (no Content-type specified)": a quiet source showed as failing
    assert parse_feed(body, "http://x/feed") == []
    with pytest.raises(FetchError, match="broken XML"):
        parse_feed(body[: body.index(b"</title>") + 4], "http://x/feed")


def test_news_sitemap_keeps_google_news_date_and_title() -> None:
    sitemap = parse_sitemap(NEWS_SITEMAP, "https://example.com/sitemap.xml")
    first, second = sitemap.links
    assert first.hints.title == "习近平同普京会谈"
    assert first.hints.language == "zh"
    assert first.hints.published is not None and first.hints.published.day == 16
    assert second.hints.published == datetime(2024, 5, 15)


def test_news_sitemap_that_forgets_to_declare_its_prefix_keeps_the_title() -> None:
    # found by tests/test_properties.py: lxml's QName raised ValueError on `news:title`
    body = NEWS_SITEMAP.replace(
        b' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"', b""
    )
    first, _ = parse_sitemap(body, "https://example.com/sitemap.xml").links
    assert first.hints.title == "习近平同普京会谈"


def test_gzipped_sitemap_index_lists_children() -> None:
    body = gzip.compress(
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>https://andalpost.com/post-sitemap.xml</loc></sitemap></sitemapindex>"
    )
    sitemap = parse_sitemap(body, "https://andalpost.com/sitemap_index.xml")
    assert sitemap.children == ("https://andalpost.com/post-sitemap.xml",)


def test_sitemap_entities_are_not_expanded() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://a.example/&x;</loc></url></urlset>"
    )
    for link in parse_sitemap(body, "https://a.example/s.xml").links:
        assert "root:" not in link.url


def test_listing_links_are_absolute_and_unique() -> None:
    page = '<a href="/news/1">One</a><a href="/news/1">Again</a><a href="mailto:x@y">m</a>'
    links = parse_listing(page, "http://127.0.0.1:8000/world/index.html")
    assert [(link.url, link.hints.title) for link in links] == [
        ("http://127.0.0.1:8000/news/1", "One")
    ]


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "http://en.kremlin.ru/events/president/transcripts/70412/print?utm_source=x#top",
            "http://en.kremlin.ru/events/president/news/70412",
        ),
        (
            "http://kremlin.ru/events/president/news/copy/70412",
            "http://kremlin.ru/events/president/news/70412",
        ),
        (
            "http://en.special.kremlin.ru/events/president/news/70412",
            "http://en.kremlin.ru/events/president/news/70412",
        ),
        (
            "http://127.0.0.1:8000/events/president/news/70412/photos",
            "http://127.0.0.1:8000/events/president/news/70412",
        ),
        (
            "HTTPS://Andalpost.com/xi-putin/?fbclid=zz&utm_campaign=a#c",
            "https://andalpost.com/xi-putin/",
        ),
        (
            "https://www.news.cn/20221230/abc/c.html?id=7",
            "https://news.cn/20221230/abc/c.html?id=7",
        ),
    ],
)
def test_canonical_urls(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_http_and_https_name_one_article() -> None:
    assert article_id("http://a.example/x") == article_id("https://a.example/x")


def test_host_fence_compares_host_and_port() -> None:
    hosts = frozenset({"127.0.0.1:8000", "andalpost.com"})
    assert on_hosts("http://127.0.0.1:8000/a", hosts)
    assert not on_hosts("http://127.0.0.1:8001/a", hosts)
    assert on_hosts("https://andalpost.com:443/a", hosts)
    assert not on_hosts("http://169.254.169.254/latest/meta-data", hosts)
    assert not on_hosts("file:///etc/passwd", hosts)


@pytest.mark.parametrize(
    ("url", "article"),
    [
        ("https://a.example/world/2024/05/16/xi-putin-talks.html", True),
        ("https://a.example/20240516/3d59/c.html", True),
        ("https://a.example/world/", False),  # the listing itself
        ("https://a.example/", False),
        ("https://a.example/tag/russia/", False),
        ("https://a.example/world/page/2", False),
        ("https://a.example/author/redaksi/", False),
        ("https://a.example/img/photo.jpg", False),
    ],
)
def test_listing_without_follow_guesses_articles(url: str, article: bool) -> None:
    assert looks_like_article(url, "https://a.example/world/") is article


def test_www_and_loopback_spellings_are_one_site() -> None:
    assert on_hosts("https://www.andalpost.com/x/", frozenset({"andalpost.com"}))
    assert on_hosts("http://localhost:8000/a", frozenset({"127.0.0.1:8000"}))
    assert not on_hosts("http://localhost:8001/a", frozenset({"127.0.0.1:8000"}))
    assert canonical_url("https://www.andalpost.com/x/") == canonical_url(
        "https://andalpost.com/x/"
    )
