"""The one spider: a configured source's feeds, sitemaps and listings → article pages.

It turns responses into requests and ``Page`` items and nothing more: parsing of
feeds, sitemaps and listings lives in ``crawler.discover``, URL rules in
``crawler.urls``, and what happens to a page in ``crawler.pipelines``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.discover import Link, parse_feed, parse_listing, parse_sitemap
from crawler.urls import FollowPattern, canonical_url, looks_like_article, on_hosts
from monitor.config import Politeness, Source
from monitor.errors import FetchError
from monitor.models import CrawlStats, Hints, Page, article_id
from monitor.storage import Storage

ENTRY_KINDS = ("feed", "sitemap", "listing")


@dataclass
class CrawlReport:
    """Counts kept while one source is crawled; becomes a CrawlStats at the end."""

    source: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    pages: int = 0
    articles_fetched: int = 0
    new_articles: int = 0
    entry_points_ok: int = 0
    errors: list[str] = field(default_factory=list)
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)

    def stats(self) -> CrawlStats:
        return CrawlStats(
            source=self.source,
            started_at=self.started_at,
            finished_at=datetime.now(UTC),
            pages=self.pages,
            articles_fetched=self.articles_fetched,
            new_articles=self.new_articles,
            errors=len(self.errors),
            error_messages=tuple(self.errors),
        )


def _describe(failure: Failure) -> str:
    if isinstance(failure.value, HttpError):
        return f"HTTP {failure.value.response.status}"
    return f"{failure.type.__name__ if failure.type else 'error'}: {failure.getErrorMessage()}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SourceSpider(scrapy.Spider):
    """Crawls one configured source."""

    name = "newsmon-source"

    def __init__(
        self,
        source: Source,
        politeness: Politeness,
        storage: Storage,
        report: CrawlReport,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=f"newsmon-{source.name}", **kwargs)
        self.source = source
        self.storage = storage
        self.report = report
        self.hosts = source.hosts
        self.follow = FollowPattern(source.follow, source.name) if source.follow else None
        lookback = source.politeness(politeness).lookback
        self.oldest = datetime.now(UTC) - lookback if lookback else None
        self.scheduled: set[str] = set()

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for kind, urls in zip(
            ENTRY_KINDS,
            (self.source.feeds, self.source.sitemaps, self.source.listings),
            strict=True,
        ):
            for url in urls:
                # A configured sitemap may be an index whose children change while it
                # does not: it is always read in full, its children conditionally.
                yield self._entry_request(url, kind, conditional=kind != "sitemap")
        # Articles that failed last time are retried even if no feed lists them any more.
        for request in self._article_requests(
            [Link(url) for url in self.storage.retry_urls(self.source.name)], follow=False
        ):
            yield request

    def _entry_request(self, url: str, kind: str, conditional: bool = True) -> scrapy.Request:
        etag, last_modified = self.storage.validators(url) if conditional else (None, None)
        # max-age=0: no cache on the way may answer for the site (PITFALLS.md).
        headers = {"Cache-Control": "max-age=0"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return scrapy.Request(
            url,
            callback=self.parse_entry,
            errback=self.entry_failed,
            headers=headers,
            cb_kwargs={"kind": kind},
            meta={"handle_httpstatus_list": [304]},
            dont_filter=True,
            priority=10,
        )

    def parse_entry(self, response: Response, kind: str) -> Iterator[scrapy.Request]:
        self.report.pages += 1
        self.report.entry_points_ok += 1
        if response.status == 304:
            self.logger.debug("%s unchanged", response.url)
            return
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        if etag or last_modified:
            self.report.validators[response.request.url if response.request else response.url] = (
                etag.decode("latin-1") if etag else None,
                last_modified.decode("latin-1") if last_modified else None,
            )
        try:
            if kind == "feed":
                links: Iterable[Link] = parse_feed(response.body, response.url)
            elif kind == "sitemap":
                sitemap = parse_sitemap(response.body, response.url)
                for child in sitemap.children:
                    if on_hosts(child, self.hosts):
                        yield self._entry_request(child, "sitemap")
                links = sitemap.links
            else:
                if not isinstance(response, TextResponse):
                    raise FetchError("listing page is not text")
                links = parse_listing(response.text, response.url)
                if self.follow is None:
                    links = [link for link in links if looks_like_article(link.url, response.url)]
        except FetchError as exc:
            self.report.entry_points_ok -= 1
            self._error(f"{kind} {response.url}: {exc}")
            return
        # follow applies to listings and sitemaps; a feed lists articles only.
        yield from self._article_requests(links, follow=kind != "feed")

    def entry_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self._error(f"{request.cb_kwargs.get('kind', 'entry')} {request.url}: {_describe(failure)}")

    def _article_requests(self, links: Iterable[Link], follow: bool) -> Iterator[scrapy.Request]:
        wanted: dict[str, tuple[Link, str]] = {}
        for link in links:
            if not on_hosts(link.url, self.hosts):
                continue
            if follow and self.follow and not self.follow.search(link.url):
                continue
            if self.oldest and link.hints.published and _aware(link.hints.published) < self.oldest:
                continue
            canonical = canonical_url(link.url)
            key = article_id(canonical)
            if key not in self.scheduled and key not in wanted:
                wanted[key] = (link, canonical)
        known = self.storage.known_ids(wanted)
        for key, (link, canonical) in wanted.items():
            if key in known:
                continue
            self.scheduled.add(key)
            yield scrapy.Request(
                link.url,
                callback=self.parse_article,
                errback=self.article_failed,
                cb_kwargs={"canonical": canonical, "hints": link.hints},
            )

    def parse_article(self, response: Response, canonical: str, hints: Hints) -> Iterator[Page]:
        self.report.pages += 1
        self.report.articles_fetched += 1
        # The bytes, not `response.text`: Scrapy decodes by the declared charset, and a
        # wrong one stores mojibake that no topic matches. Extraction tries UTF-8 first.
        body = response.body if isinstance(response, TextResponse) else b""
        content_type = response.headers.get("Content-Type")
        yield Page(
            source=self.source.name,
            url=response.url,
            canonical_url=canonical,
            html=body,
            hints=hints,
            content_type=content_type.decode("latin-1") if content_type else None,
        )

    def article_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        if failure.check(IgnoreRequest) and not failure.check(HttpError):
            # robots.txt or the host fence said no: a decision, not a failure.
            self.logger.debug("not fetched: %s (%s)", request.url, failure.getErrorMessage())
            return
        message = _describe(failure)
        canonical = request.cb_kwargs["canonical"]
        self.storage.record_fetch_failure(
            article_id(canonical), self.source.name, request.url, message
        )
        self._error(f"article {request.url}: {message}")

    def _error(self, message: str) -> None:
        self.logger.warning("%s: %s", self.source.name, message)
        self.report.errors.append(message)
