"""The values that flow between stages: frozen, typed, and free of I/O.

``Page`` is what the crawler hands on (a fetched article page plus what the feed,
sitemap or listing said about it); ``Document`` is what extraction reads from a
page or a text file; ``Article`` is that document tied to its source and URL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime


def article_id(canonical_url: str) -> str:
    """Stable id of an article: a hash of its canonical URL.

    The scheme is left out: sites answer on both http and https, and a feed and a
    listing may disagree on which one they link to.
    """
    key = canonical_url.split("://", 1)[-1]
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Hints:
    """What a feed, sitemap or listing said about an article before it was fetched."""

    title: str | None = None
    published: datetime | None = None
    author: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Page:
    """One fetched article page."""

    source: str
    url: str  # the URL that answered, after redirects
    canonical_url: str
    # The bytes as served: extraction decodes them, since the charset a page or server
    # declares is often wrong. (A str is taken as already decoded.)
    html: str | bytes
    hints: Hints = field(default_factory=Hints)
    content_type: str | None = None  # the Content-Type header, charset and all


@dataclass(frozen=True)
class Document:
    """What extraction reads from one page or text file, before it is tied to a source.

    ``published`` is tz-aware when the source gave an offset (feed, meta, JSON-LD),
    otherwise naive — a date-only value is midnight of that day.
    """

    title: str
    text: str
    language: str | None  # ISO 639-1
    published: datetime | None
    author: str | None
    # The feed's or sitemap's date when the page's own date contradicted it and won.
    feed_published: datetime | None = None


@dataclass(frozen=True)
class Article:
    """The readable article newsmon keeps: text and metadata of one page."""

    id: str
    source: str
    url: str
    canonical_url: str
    title: str
    text: str
    language: str | None
    published: datetime | None
    author: str | None
    content_hash: str


@dataclass(frozen=True)
class CrawlStats:
    """What one crawl of one source did."""

    source: str
    started_at: datetime
    finished_at: datetime
    pages: int  # HTTP responses received (feeds, sitemaps, listings, articles)
    articles_fetched: int
    new_articles: int
    errors: int
    error_messages: tuple[str, ...] = ()
    # "ok", "failed" (not read, or its pages not stored) or "interrupted" (stopped mid-crawl)
    outcome: str = "ok"

    @property
    def seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()


KINDS = ("in-person", "video", "phone", "unknown")


@dataclass(frozen=True)
class Match:
    """An article found to be about a watched event, with the reasons why."""

    topic: str
    score: float
    participants: tuple[str, ...]
    kind: str  # one of KINDS
    date: date | None  # the day of the meeting itself (else the article's day)
    date_from_text: bool  # a day written in the text (not "next week", not the article's date)
    announcement: bool  # the meeting is still to come
    evidence: tuple[str, ...]  # the matched phrases, in order of appearance
