"""The values that flow between stages: frozen, typed, and free of I/O.

``Page`` is what the crawler hands on (a fetched article page plus what the feed,
sitemap or listing said about it); ``Document`` is what extraction reads from a
page or a text file; ``Article`` is that document tied to its source and URL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime


def aware(moment: datetime) -> datetime:
    """``moment`` with a time zone: a naive one (date-only values are kept naive) as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
    html: str | bytes = field(repr=False)  # Scrapy logs each item at -vv
    hints: Hints = field(default_factory=Hints)
    content_type: str | None = None  # the Content-Type header, charset and all
    # no date after this (and a day) is the article's: extraction believes none
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))


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
    not_before: datetime | None = None  # the site asked not to be asked before (Retry-After)

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


@dataclass(frozen=True)
class StoredArticle:
    """An article row as read back (search results, listings, matching)."""

    id: str
    source: str
    url: str
    title: str
    language: str | None
    published: datetime | None
    first_seen: datetime  # when newsmon first stored it (UTC)
    text: str = ""
    snippet: str = ""  # the words a search found, in context
    duplicate_of: str | None = None  # the same text stored first under another URL
    extract_error: str | None = None  # why the page gave no article text


@dataclass(frozen=True)
class EventArticle:
    """One matched article of an event: the article and what the matcher found in it."""

    id: str
    source: str
    url: str
    title: str
    language: str | None
    published: datetime | None
    first_seen: datetime
    score: float
    kind: str  # one of KINDS
    day: date | None  # the meeting's day it gives
    day_from_text: bool
    announcement: bool
    evidence: tuple[str, ...]
    near_duplicate_of: str | None = None

    @property
    def day_of(self) -> date:
        """The day the article is of: published, as the page gives it; else when found."""
        return self.published.date() if self.published else self.first_seen.date()


@dataclass(frozen=True)
class Event:
    """One watched meeting and the articles about it, oldest first."""

    id: int
    topic: str
    participants: tuple[str, ...]
    kind: str  # what most of its reports agree on
    first_day: date
    last_day: date
    exact: bool  # some article wrote the meeting's day
    first_article: str
    created_at: datetime
    updated_at: datetime
    articles: tuple[EventArticle, ...]

    @property
    def announced_only(self) -> bool:
        """Every article so far announces it: the meeting is still to come."""
        return bool(self.articles) and all(a.announcement for a in self.articles)

    def to_json(self) -> dict[str, object]:
        """The record of `events --json` (its keys are the contract's)."""
        return {
            "date": self.first_day.isoformat(),
            "id": self.id,
            "topic": self.topic,
            "participants": list(self.participants),
            "kind": self.kind,
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "first_article": self.first_article,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "exact": self.exact,
            "articles": [
                {
                    "id": a.id,
                    "source": a.source,
                    "url": a.url,
                    "title": a.title,
                    "language": a.language,
                    "published": a.published.isoformat() if a.published else None,
                    "first_seen": a.first_seen.isoformat(),
                    "score": a.score,
                    "kind": a.kind,
                    "day": a.day.isoformat() if a.day else None,
                    "announcement": a.announcement,
                    "evidence": list(a.evidence),
                    "near_duplicate_of": a.near_duplicate_of,
                }
                for a in self.articles
            ],
        }


@dataclass(frozen=True)
class OutboxMessage:
    """One message queued for one channel: an event's alert (rendered when sent) or a
    ready-made text (a notice, a digest)."""

    id: int
    subject: str  # "event:12", "event:12:held", "digest:2024-W20", "health:…"
    channel: str  # the channel's key
    event_id: int | None
    title: str | None
    body: str | None
    state: str  # pending | retrying | sent | dead
    attempts: int
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True)
class SourceState:
    """What is known of one source's crawls (`newsmon status`, scheduling, notices)."""

    source: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    last_error: str | None
    articles: int
    events: int
    last_run: CrawlStats | None
    not_before: datetime | None = None  # the site asked not to be asked before (Retry-After)


@dataclass(frozen=True)
class SourceHealth:
    """How one source fared during a week (the digest's table)."""

    name: str
    runs: int
    pages: int
    new_articles: int
    errors: int
    last_success: datetime | None
    failing_since: datetime | None  # None while the source works
    last_error: str | None
