"""Turn feeds, sitemaps and listing pages into article links (pure: bytes in, links out).

Feeds are parsed by feedparser from bytes Scrapy fetched (never by feedparser's own
fetcher, which would bypass robots.txt, throttling and size limits). Sitemaps are
parsed with lxml with entities and network access off; Google-News tags, which
Scrapy's SitemapSpider drops, are read here.
"""

from __future__ import annotations

import calendar
import gzip
import io
import logging
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
from lxml import etree, html
from w3lib.html import strip_html5_whitespace
from w3lib.url import safe_url_string

from monitor.errors import FetchError
from monitor.models import Hints, aware
from monitor.text import language_code

logger = logging.getLogger(__name__)

# The sitemap protocol's limits; a bigger sitemap is refused rather than read.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
MAX_SITEMAP_ENTRIES = 50_000
_GUNZIP_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Link:
    """An article URL found in a feed, sitemap or listing, with what that said about it."""

    url: str
    hints: Hints = field(default_factory=Hints)


@dataclass(frozen=True)
class Sitemap:
    """A parsed sitemap: child sitemaps (of an index) and article links."""

    children: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    # each child's <lastmod>, when the index gives one (a backfill skips older children)
    child_modified: tuple[datetime | None, ...] = ()
    # why the entries after these were not read (the document breaks off), if it does
    broken: str | None = None


def _absolute(base_url: str, href: str | None) -> str | None:
    if not href:
        return None
    href = strip_html5_whitespace(href)
    if href.startswith(("javascript:", "mailto:", "tel:", "#", "data:")):
        return None
    return safe_url_string(urljoin(base_url, href))


def _feed_date(entry: feedparser.FeedParserDict) -> datetime | None:
    # feedparser normalises every date format to a UTC struct_time.
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _not_xml(body: bytes) -> str | None:
    """What a document that should be XML is instead, by its start: "html", "text", or
    None when it does start as XML."""
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<html" in head or head.startswith(b"<!doctype html"):
        return "html"
    if not head.startswith(b"<"):
        return "text"
    return None


def _not_a_feed(body: bytes, parsed: feedparser.FeedParserDict) -> str:
    # feedparser's own words ("no Content-type specified", "<unknown>:2:0: syntax error")
    # say little to a user; what the URL answered with tells them what went wrong.
    what = _not_xml(body)
    if what == "html":
        return "an HTML page, not RSS or Atom"
    if what == "text":
        return "not XML, so neither RSS nor Atom"
    return f"broken XML ({parsed.get('bozo_exception')})"


def parse_feed(body: bytes, base_url: str) -> list[Link]:
    """Article links of an RSS or Atom feed. Raises FetchError if it is not a feed at all."""
    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    # feedparser flags any feed it is not given a Content-Type for: an RSS or Atom
    # document with no items yet (a quiet or new feed) is a feed, not an error
    benign = isinstance(parsed.get("bozo_exception"), feedparser.NonXMLContentType)
    if parsed.bozo and not parsed.entries and not (benign and parsed.version):
        raise FetchError(f"not a readable feed: {_not_a_feed(body, parsed)}")
    links = []
    for entry in parsed.entries:
        href = entry.get("link")
        if not href:
            # Atom entries of some sites carry the URL only as the id.
            entry_id = entry.get("id", "")
            href = entry_id if entry_id.startswith(("http://", "https://")) else None
        url = _absolute(base_url, href)
        if not url:
            continue
        language = entry.get("language") or parsed.feed.get("language")
        links.append(
            Link(
                url,
                Hints(
                    title=(entry.get("title") or "").strip() or None,
                    published=_feed_date(entry),
                    author=entry.get("author") or None,
                    language=language_code(language),
                ),
            )
        )
    return links


def _local(tag: object) -> str:
    """A tag's name without its namespace or prefix. Not ``etree.QName``: it raised
    ValueError out of the parser on ``<news:title>`` whose prefix the sitemap forgot
    to declare (libxml2 lets it through as written)."""
    return tag.rpartition("}")[2].rpartition(":")[2] if isinstance(tag, str) else ""


def _parse_w3c_date(value: str | None) -> datetime | None:
    if not value:
        return None
    value = value.strip().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_sitemap(body: bytes, base_url: str) -> Sitemap:
    """Children of a sitemap index, or the article links of a (news) sitemap.

    Parsed as it is decompressed, each entry dropped once read: a tree of a whole 50 MB
    sitemap took ~800 MB (1.1M entries), and a gzip bomb never exists decompressed.
    Raises FetchError if it is not a sitemap at all; a sitemap broken part-way gives the
    entries before the break, and ``broken`` says why the rest was not read."""
    # Not lxml's recover mode: it read on past a break into wrong URLs (`?a=1&b=2`
    # became `?a=1=2`) and never said the document was broken.
    parser = etree.XMLPullParser(
        events=("start", "end"), resolve_entities=False, no_network=True, huge_tree=False
    )
    reader = _SitemapReader(base_url)
    head = b""
    try:
        for chunk in _sitemap_chunks(body):
            head = head or chunk
            parser.feed(chunk)
            reader.read(parser.read_events())
        parser.close()
        reader.read(parser.read_events())
    except etree.XMLSyntaxError as exc:
        reader.read(parser.read_events())  # the entries before the break
        return reader.broken(_why_broken(head, exc))
    return reader.sitemap()


class _SitemapReader:
    """Turns the pull parser's events into children or links, one entry at a time."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.kind = ""
        self.depth = 0
        self.children: list[str] = []
        self.child_modified: list[datetime | None] = []
        self.links: list[Link] = []

    def read(self, events: Iterable[tuple[str, etree._Element]]) -> None:
        for event, element in events:
            if event == "start":
                self.depth += 1
                if self.depth == 1:
                    self.kind = _local(element.tag)
                    if self.kind not in ("urlset", "sitemapindex"):
                        raise FetchError(f"not a sitemap: root element <{self.kind}>")
                continue
            self.depth -= 1
            if self.depth != 1:
                continue
            self._entry(element)
            if len(self.children) + len(self.links) > MAX_SITEMAP_ENTRIES:
                raise FetchError(
                    f"more than {MAX_SITEMAP_ENTRIES:,} entries (the sitemap protocol's limit)"
                )
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]

    def sitemap(self, broken: str | None = None) -> Sitemap:
        return Sitemap(tuple(self.children), tuple(self.links), tuple(self.child_modified), broken)

    def broken(self, reason: str) -> Sitemap:
        """The entries read before the document broke off; FetchError if there were none."""
        read = len(self.children) + len(self.links)
        if not read:
            raise FetchError(f"not a readable sitemap: {reason}")
        return self.sitemap(f"not a readable sitemap after entry {read:,}: {reason}")

    def _entry(self, node: etree._Element) -> None:
        """One ``<sitemap>`` or ``<url>`` of the document, appended to its list."""
        fields: dict[str, str] = {}
        for child in node.iter():
            name = _local(child.tag)
            if child is not node and child.text and name not in fields:
                fields[name] = child.text.strip()
        url = _absolute(self.base_url, fields.get("loc"))
        if not url:
            return
        if self.kind == "sitemapindex":
            self.children.append(url)
            self.child_modified.append(_parse_w3c_date(fields.get("lastmod")))
            return
        published = _parse_w3c_date(fields.get("publication_date")) or _parse_w3c_date(
            fields.get("lastmod")
        )
        self.links.append(
            Link(
                url,
                Hints(
                    title=fields.get("title") or None,
                    published=published,
                    language=language_code(fields.get("language")),
                ),
            )
        )


def _why_broken(head: bytes, exc: etree.XMLSyntaxError) -> str:
    if exc.code == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
        # libxml2's advice ("try XML_PARSE_HUGE") is for programmers, not for the user
        return "one text in it is over 10 MB (libxml2's limit)"
    what = _not_xml(head)
    if what == "html":
        return "an HTML page, not a sitemap"
    if not head.strip():
        return "empty document"
    if what == "text":
        return "not XML"
    return f"broken XML ({' '.join(exc.msg.split())})"


def _sitemap_chunks(body: bytes) -> Iterator[bytes]:
    """The sitemap's bytes in pieces, gunzipped if gzipped, up to ``MAX_SITEMAP_BYTES``."""
    if body[:2] != b"\x1f\x8b":
        yield body
        return
    total = 0
    with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
        while True:
            try:
                chunk = stream.read(_GUNZIP_CHUNK)
            except (OSError, EOFError, zlib.error) as exc:
                raise FetchError(f"broken gzip sitemap: {exc}") from None
            if not chunk:
                return
            total += len(chunk)
            if total > MAX_SITEMAP_BYTES:
                raise FetchError("sitemap too large once decompressed")
            yield chunk


def parse_listing(body: str, base_url: str) -> list[Link]:
    """Every link on an HTML page, with its anchor text as a title hint."""
    try:
        tree = html.fromstring(body or "<html></html>", base_url=base_url)
    except (etree.ParserError, ValueError):
        return []
    links = []
    seen: set[str] = set()
    for anchor in tree.iter("a"):
        url = _absolute(base_url, anchor.get("href"))
        if not url or url in seen:
            continue
        seen.add(url)
        text = " ".join(anchor.text_content().split())
        links.append(Link(url, Hints(title=text or None)))
    return links


def feed_next(body: bytes, base_url: str) -> str | None:
    """The feed's older page, when it links one (``<link rel="next">``, RFC 5005)."""
    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    for link in parsed.feed.get("links", []):
        if link.get("rel") == "next":
            return _absolute(base_url, link.get("href"))
    return None


def listing_next(body: str, base_url: str) -> str | None:
    """A listing page's older page: its ``rel="next"`` link or anchor."""
    try:
        tree = html.fromstring(body or "<html></html>", base_url=base_url)
    except (etree.ParserError, ValueError):
        return None
    for href in tree.xpath("//link[@rel='next']/@href | //a[@rel='next']/@href"):
        return _absolute(base_url, str(href))
    return None


def listing_dates(body: str, base_url: str) -> dict[str, datetime]:
    """Each listing link's date, from the one ``<time datetime>`` of the smallest block
    around it (Kremlin's ``div.hentry`` holds one headline and its ``time.published``;
    a day header outside it dates no single link)."""
    try:
        tree = html.fromstring(body or "<html></html>", base_url=base_url)
    except (etree.ParserError, ValueError):
        return {}
    dates: dict[str, datetime] = {}
    for anchor in tree.iter("a"):
        url = _absolute(base_url, anchor.get("href"))
        if not url or url in dates:
            continue
        block = anchor.getparent()
        for _ in range(3):
            if block is None:
                break
            times = block.xpath(".//time[@datetime]")
            if len(block.xpath(".//a[@href]")) > 1:
                break  # a block of several links: its time is not this link's
            if len(times) == 1:
                moment = _parse_w3c_date(times[0].get("datetime"))
                if moment is not None:
                    dates[url] = aware(moment)
                break
            block = block.getparent()
    return dates
