"""The one spider: a configured source's feeds, sitemaps and listings → article pages.

It turns responses into requests and ``Page`` items and nothing more: parsing of
feeds, sitemaps and listings lives in ``crawler.discover``, URL rules in
``crawler.urls``, what a failed request means in ``crawler.failures``, and what happens
to a page in ``crawler.pipelines``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure
from w3lib.http import basic_auth_header

from crawler.discover import Link, parse_feed, parse_listing, parse_sitemap
from crawler.extraction import ExtractionPool
from crawler.failures import describe, forbidden_by_robots, refused, retry_after
from crawler.urls import FollowPattern, canonical_url, host_of, looks_like_article, on_hosts
from monitor.config import Politeness, Source
from monitor.errors import FetchError, StorageError
from monitor.extract import believed
from monitor.models import CrawlStats, Hints, Page, article_id, aware
from monitor.store import Storage

ENTRY_KINDS = ("feed", "sitemap", "listing")
# A site that answers this many requests in a row with 403 is refusing the crawler, not
# hiding a few pages: it is not asked again this cycle.
FORBIDDEN_STORM = 3
# The longest wait a Retry-After header gets honoured for: a news source is not let go
# quiet for days on one header's word.
RETRY_AFTER_MAX = timedelta(hours=6)


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
    storage_errors: int = 0
    close_reason: str | None = None
    refused: str | None = None  # why the site's refusal ended the cycle
    not_before: datetime | None = None  # when the site asked to be asked again
    # Validators of each answer, saved only once every link it listed was handled: a
    # 304 next time must not hide a link that was neither stored nor queued for retry.
    validators: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    needs: dict[str, set[str]] = field(default_factory=dict)  # entry URL → article ids
    handled: set[str] = field(default_factory=set)  # stored, known, or recorded for retry

    def complete_validators(self) -> dict[str, tuple[str | None, str | None]]:
        """The validators of the answers whose every link was handled."""
        return {
            url: pair
            for url, pair in self.validators.items()
            if self.needs.get(url, set()) <= self.handled
        }

    @property
    def outcome(self) -> str:
        # A refusal before any feed was read is a failure: a site that refuses every
        # cycle must show as failing, not as a string of interrupted runs.
        if self.close_reason not in (None, "finished") and (
            self.close_reason != "refused" or self.entry_points_ok
        ):
            return "interrupted"
        if self.entry_points_ok == 0 or self.storage_errors:
            return "failed"
        return "ok"

    def stats(self) -> CrawlStats:
        # the refusal that ended the cycle is what status and the health notice show
        errors = [self.refused] if self.refused else []
        errors += [e for e in self.errors if e != self.refused]
        return CrawlStats(
            source=self.source,
            started_at=self.started_at,
            finished_at=datetime.now(UTC),
            pages=self.pages,
            articles_fetched=self.articles_fetched,
            new_articles=self.new_articles,
            errors=len(errors),
            error_messages=tuple(errors),
            outcome=self.outcome,
            not_before=self.not_before,
        )


def _sort_date(link: Link) -> datetime:
    """Oldest first; an undated link sorts last (likely the newest)."""
    return aware(link.hints.published) if link.hints.published else datetime.max.replace(tzinfo=UTC)


def _read(
    kind: str, response: Response, guess: bool
) -> tuple[list[Link], tuple[str, ...], str | None]:
    """An entry point's article links, child sitemaps, and what broke it part-way; raises
    FetchError when nothing in it can be read. ``guess``: a listing without ``follow``
    keeps only the links that look like articles."""
    if not response.body.strip():
        # a 200 with nothing in it parses as an empty feed or listing: no error
        raise FetchError("empty response")
    if kind == "feed":
        return list(parse_feed(response.body, response.url)), (), None
    if kind == "sitemap":
        sitemap = parse_sitemap(response.body, response.url)
        return list(sitemap.links), tuple(sitemap.children), sitemap.broken
    if not isinstance(response, TextResponse):
        raise FetchError("listing page is not text")
    links = parse_listing(response.text, response.url)
    if guess:
        links = [link for link in links if looks_like_article(link.url, response.url)]
    return list(links), (), None


class SourceSpider(scrapy.Spider):
    """Crawls one configured source."""

    name = "newsmon-source"

    def __init__(
        self,
        source: Source,
        politeness: Politeness,
        storage: Storage,
        report: CrawlReport,
        extraction: ExtractionPool,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=f"newsmon-{source.name}", **kwargs)
        self.source = source
        self.storage = storage
        self.report = report
        self.extraction = extraction  # the runner's worker processes, for the pipeline
        self.hosts = source.hosts
        self.follow = FollowPattern(source.follow, source.name) if source.follow else None
        lookback = source.politeness(politeness).lookback
        self.oldest = datetime.now(UTC) - lookback if lookback else None
        self.scheduled: set[str] = set()
        self.budget = source.politeness(politeness).max_new_per_cycle
        self.auth: dict[str, bytes] = {}  # host → Basic credentials from the config's URLs
        self.forbidden = 0  # 403s in a row

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

    def _without_userinfo(self, url: str) -> str:
        """Scrapy refuses user:password@ in a URL: it goes as a Basic Authorization header
        instead, to every request on that host (feeds and articles alike)."""
        parts = urlsplit(url)
        if parts.username is None:
            return url
        host = parts.netloc.rsplit("@", 1)[1]
        self.auth[host.lower()] = basic_auth_header(
            unquote(parts.username), unquote(parts.password or "")
        )
        return urlunsplit(parts._replace(netloc=host))

    def _headers(self, url: str) -> dict[str, Any]:
        auth = self.auth.get(host_of(url))
        return {"Authorization": auth} if auth else {}

    def _entry_request(self, url: str, kind: str, conditional: bool = True) -> scrapy.Request:
        etag, last_modified = self.storage.validators(url) if conditional else (None, None)
        target = self._without_userinfo(url)
        # max-age=0: no cache on the way may answer for the site (docs/pitfalls.md).
        headers = {"Cache-Control": "max-age=0", **self._headers(target)}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return scrapy.Request(
            target,
            callback=self.parse_entry,
            errback=self.entry_failed,
            headers=headers,
            cb_kwargs={"kind": kind, "entry": url},
            meta={"handle_httpstatus_list": [304]},
            dont_filter=True,
            priority=10,
        )

    async def parse_entry(
        self, response: Response, kind: str, entry: str
    ) -> AsyncIterator[scrapy.Request]:
        self.report.pages += 1
        self.forbidden = 0
        self.report.entry_points_ok += 1
        if response.status == 304:
            self.logger.debug("%s unchanged", response.url)
            return
        try:
            # A feed or sitemap of 50,000 entries takes seconds to parse: in a thread, so
            # that the reactor goes on with every other source's downloads and timeouts
            # (on it, another source's request timed out meanwhile).
            links, children, broken = await asyncio.to_thread(
                _read, kind, response, guess=self.follow is None
            )
        except FetchError as exc:
            self.report.entry_points_ok -= 1
            self._error(f"{kind} {response.url}: {exc}")
            return
        for child in children:
            if on_hosts(child, self.hosts):
                yield self._entry_request(child, "sitemap")
        etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        if broken:
            # The entries before the break are followed below; the validators stay
            # unsaved, so that the next cycle reads the whole document again.
            self._error(f"{kind} {response.url}: {broken}")
        elif etag or last_modified:
            self.report.validators[entry] = (
                etag.decode("latin-1") if etag else None,
                last_modified.decode("latin-1") if last_modified else None,
            )
        # follow applies to listings and sitemaps; a feed lists articles only.
        for request in self._article_requests(links, follow=kind != "feed", entry=entry):
            yield request

    def entry_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        error = f"{request.cb_kwargs.get('kind', 'entry')} {request.url}: {describe(failure)}"
        self._error(error)
        self._back_off(failure, error)

    def _article_requests(
        self, links: Iterable[Link], follow: bool, entry: str | None = None
    ) -> Iterator[scrapy.Request]:
        wanted: dict[str, tuple[Link, str]] = {}
        needs = self.report.needs.setdefault(entry, set()) if entry else set()
        for link in links:
            if not on_hosts(link.url, self.hosts):
                continue
            if follow and self.follow and not self.follow.search(link.url):
                continue
            # a date before any news site's (a CMS's epoch 0) says nothing of the article's age
            published = believed(link.hints.published, None)
            if self.oldest and published and aware(published) < self.oldest:
                continue
            canonical = canonical_url(link.url)
            key = article_id(canonical)
            needs.add(key)
            if key not in self.scheduled and key not in wanted:
                wanted[key] = (link, canonical)
        known = self.storage.known_ids(wanted)
        self.report.handled.update(known)
        fresh = [(key, item) for key, item in wanted.items() if key not in known]
        if len(fresh) > self.budget:
            # A backfill: the oldest first (an event is told by the first article that
            # revealed it); the rest wait for the next cycles, their answer's validators
            # unsaved so that the next cycle reads it in full again.
            fresh.sort(key=lambda pair: _sort_date(pair[1][0]))
            self.logger.info(
                "%s: %d new links, %d fetched this cycle (crawl.max_new_per_cycle)",
                self.source.name,
                len(fresh),
                self.budget,
            )
            fresh = fresh[: self.budget]
        self.budget -= len(fresh)
        if fresh:
            self.extraction.start()  # its workers get ready while these are fetched
        for key, (link, canonical) in fresh:
            self.scheduled.add(key)
            yield scrapy.Request(
                link.url,
                callback=self.parse_article,
                errback=self.article_failed,
                headers=self._headers(link.url),
                cb_kwargs={"canonical": canonical, "hints": link.hints},
                # deduplicated above by article; Scrapy's filter would drop a redirect
                # back to the same URL without a word, instead of the redirect limit's error
                dont_filter=True,
            )

    def parse_article(self, response: Response, canonical: str, hints: Hints) -> Iterator[Page]:
        self.report.pages += 1
        self.forbidden = 0
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
        key = article_id(request.cb_kwargs["canonical"])
        if forbidden_by_robots(failure):
            # a decision, not a failure
            self.logger.debug("not fetched: %s (%s)", request.url, failure.getErrorMessage())
            self.report.handled.add(key)
            return
        # the link as the source gave it, not where a redirect led
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        message = describe(failure)
        error = f"article {url}: {message}"
        self._error(error)
        try:
            self.storage.record_fetch_failure(key, self.source.name, url, message)
        except StorageError as exc:
            self.storage_failed(f"article {request.url}: {exc}")
            return
        self.report.handled.add(key)
        self._back_off(failure, error)

    def _back_off(self, failure: Failure, error: str) -> None:
        """A site that refuses is not asked again this cycle: every further request would
        only prolong the refusal. The rest comes next cycle, or when the site said.
        ``error`` is the line just recorded for the failed request."""
        if not isinstance(failure.value, HttpError):
            return
        response = failure.value.response
        self.forbidden = self.forbidden + 1 if response.status == 403 else 0
        if refused(failure):
            why = error
        elif self.forbidden >= FORBIDDEN_STORM:
            why = f"refused: {self.forbidden} requests in a row answered HTTP 403 ({error})"
        else:
            return
        if self.report.refused:
            return  # a request already under way when the first refusal stopped the cycle
        now = datetime.now(UTC)
        asked = retry_after(response, now)
        if asked:
            self.report.not_before = min(max(asked, now), now + RETRY_AFTER_MAX)
            why += f"; not asked again before {self.report.not_before:%Y-%m-%d %H:%M:%S} UTC"
        self.report.refused = why
        raise CloseSpider("refused")

    def storage_failed(self, message: str) -> None:
        """The database refused a write (locked, disk full): the run fails, the link stays
        unhandled so that its answer is read again next cycle."""
        self.report.storage_errors += 1
        self._error(message)

    def closed(self, reason: str) -> None:
        self.report.close_reason = reason

    def _error(self, message: str) -> None:
        # One line per source and cycle is logged by the runner; each error only at -vv.
        self.logger.debug("%s: %s", self.source.name, message)
        self.report.errors.append(message)
