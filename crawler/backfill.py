"""A backfill: the source's older feed pages, listing pages and sitemaps, back to a date.

``BackfillSpider`` is the crawl's ``SourceSpider`` walking further: each feed and listing
is read page after page (its ``rel="next"``, else the next ``/page/N`` or WordPress's
``?paged=N``) until a page reaches past the date; a sitemap index is read for the
children whose ``<lastmod>`` is on or after it. Links dated before the date are not
fetched, articles already stored are not fetched again (``known_ids``), and every page
goes through the same pipeline, writer and extraction pool as a crawl.

Each walk's position is stored (``Storage.save_backfill``): the first page some of whose
links are not yet handled, or the page to read next. An interrupted backfill starts there.
"""

from __future__ import annotations

import re
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.discover import (
    Link,
    feed_next,
    listing_dates,
    listing_next,
    parse_feed,
    parse_listing,
    parse_sitemap,
)
from crawler.spider import SourceSpider
from crawler.urls import looks_like_article, on_hosts
from monitor.errors import FetchError, StorageError
from monitor.models import Hints, Page, aware
from monitor.progress import Tracker

_PAGE_NUMBER = re.compile(r"/page/(\d+)(/?)$")


def next_page(url: str, kind: str) -> str | None:
    """The older page by the URL's own shape, for a page that links none."""
    parts = urlsplit(url)
    numbered = _PAGE_NUMBER.search(parts.path)
    if numbered:
        path = f"{parts.path[: numbered.start()]}/page/{int(numbered[1]) + 1}{numbered[2]}"
        return urlunsplit(parts._replace(path=path))
    if kind != "feed":
        return None
    query = dict(parse_qsl(parts.query))
    if "paged" in query or parts.path.endswith("/feed/"):
        # WordPress: /feed/?paged=2, 3, …
        query["paged"] = str(int(query.get("paged", "1")) + 1)
        return urlunsplit(parts._replace(query=urlencode(query)))
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/page/2"))  # Kremlin


@dataclass
class Walk:
    """One feed's or listing's pages, newest first."""

    entry: str
    kind: str
    pages: list[str] = field(default_factory=list)  # read
    pending: str | None = None  # requested, not yet read
    seen: set[str] = field(default_factory=set)  # links its pages listed


class BackfillSpider(SourceSpider):
    """Crawls one source's older pages back to ``since``."""

    def __init__(self, *, since: datetime, progress: Tracker, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.since = since
        self.oldest = since  # links dated before it are not fetched
        self.budget = sys.maxsize  # a backfill is the big crawl the budget holds back
        self.progress = progress
        self.walks: dict[str, Walk] = {}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for kind, urls in (("feed", self.source.feeds), ("listing", self.source.listings)):
            for url in urls:
                page, done = self.storage.backfill_position(self.source.name, url, self.since)
                if done:
                    self.logger.info(
                        "%s: %s walked back to %s already", self.source.name, url, self.since.date()
                    )
                    continue
                walk = self.walks[url] = Walk(url, kind)
                yield self._page(page or url, walk)
        for url in self.source.sitemaps:
            yield self._page(url, None, "sitemap")

    def _page(self, url: str, walk: Walk | None, kind: str = "") -> scrapy.Request:
        if walk is not None:
            walk.pending = url
        request = self._entry_request(url, walk.kind if walk else kind, conditional=False)
        # Below the articles (0): the walk does not run ahead of what it found.
        return request.replace(
            callback=self.parse_page,
            errback=self.page_failed,
            cb_kwargs={**request.cb_kwargs, "entry": url, "walk": walk},
            priority=-1,
        )

    def parse_page(
        self, response: Response, kind: str, entry: str, walk: Walk | None
    ) -> Iterator[scrapy.Request]:
        self.report.pages += 1
        self.report.entry_points_ok += 1
        self.progress.advance(pages=1)
        older: str | None = None
        try:
            if kind == "sitemap":
                sitemap = parse_sitemap(response.body, response.url)
                for child, modified in zip(sitemap.children, sitemap.child_modified, strict=True):
                    # lastmod is the newest change in the child: older holds nothing new
                    if on_hosts(child, self.hosts) and not (modified and modified < self.since):
                        yield self._page(child, None, "sitemap")
                links: list[Link] = list(sitemap.links)
                if sitemap.broken:
                    self._error(f"{kind} {response.url}: {sitemap.broken}")
            elif kind == "feed":
                links = parse_feed(response.body, response.url)
                older = feed_next(response.body, response.url)
            else:
                if not isinstance(response, TextResponse):
                    raise FetchError("listing page is not text")
                dates = listing_dates(response.text, response.url)
                links = [
                    replace(
                        link, hints=Hints(title=link.hints.title, published=dates.get(link.url))
                    )
                    for link in parse_listing(response.text, response.url)
                    if self.follow is not None or looks_like_article(link.url, response.url)
                ]
                older = listing_next(response.text, response.url)
        except FetchError as exc:
            self.report.entry_points_ok -= 1
            self._error(f"{kind} {response.url}: {exc}")
            if walk is not None:
                walk.pending = None  # an unreadable page ends the walk; its position stays
            return
        yield from self._article_requests(links, follow=kind != "feed", entry=entry)
        if walk is None:
            return
        walk.pages.append(entry)
        walk.pending = None
        fresh = {link.url for link in links} - walk.seen
        walk.seen |= fresh
        dated = [link.hints.published for link in links if link.hints.published]
        # On: while every dated link is on or after the date (a page crossing it is the
        # last), or, undated, while pages still list something; never past a page that
        # lists nothing new (a site ignoring ?paged= answers page 1 for every page).
        if fresh and (
            (dated and min(aware(moment) for moment in dated) >= self.since) or not dated
        ):
            older = older or next_page(response.url, kind)
            if older and older not in walk.pages and on_hosts(older, self.hosts):
                yield self._page(older, walk)
        self._save(walk)

    def page_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        walk: Walk | None = request.cb_kwargs.get("walk")
        status = failure.value.response.status if isinstance(failure.value, HttpError) else None
        if walk is not None and walk.pages and status in (404, 410):
            # past the site's oldest page: the walk is complete
            walk.pending = None
            self._save(walk)
            return
        self.entry_failed(failure)

    def parse_article(self, response: Response, canonical: str, hints: Hints) -> Iterator[Page]:
        self.progress.advance(articles=1)
        return super().parse_article(response, canonical, hints)

    def _position(self, walk: Walk) -> tuple[str | None, bool]:
        """(page to start at next time, whether the walk is complete)."""
        for page in walk.pages:
            if not self.report.needs.get(page, set()) <= self.report.handled:
                return page, False
        return walk.pending, walk.pending is None

    def _save(self, walk: Walk) -> None:
        page, done = self._position(walk)
        try:
            self.storage.save_backfill(self.source.name, walk.entry, self.since, page, done)
        except StorageError as exc:
            self.storage_failed(f"backfill position of {walk.entry}: {exc}")

    def closed(self, reason: str) -> None:
        super().closed(reason)
        for walk in self.walks.values():
            self._save(walk)
