"""Downloader middlewares. ``HostFence`` keeps every request of a source on the
source's own configured hosts; ``StalledHosts`` keeps a dead host from holding the crawl;
``RetryAfter`` keeps a site that asked for a pause from being asked again at once.

The fence runs for redirects too (a redirected request passes through the downloader
middlewares again), so a link or a Location header cannot lead the crawler to
another host, a cloud metadata address or a private network.
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest
from scrapy.http import Response
from scrapy.utils.httpobj import urlparse_cached

from crawler.urls import on_hosts

logger = logging.getLogger(__name__)


class HostFence:
    """Drops any request to a host the source's configuration did not name."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        hosts: frozenset[str] = getattr(self.crawler.spider, "hosts", frozenset())
        if not on_hosts(request.url, hosts):
            logger.debug("off the source's hosts, not fetched: %s", request.url)
            if request.meta.get("redirect_urls"):
                raise IgnoreRequest(f"it redirects off the source's hosts, to {request.url}")
            raise IgnoreRequest(f"off-host: {request.url}")


class StalledHosts:
    """Fails at once, for the rest of the crawl, every request to a host that has not
    answered once and let a request run out of time: a hung or trickling server would
    otherwise hold the crawl a full timeout per request (its robots.txt, then its feed).
    A host that has answered is never cut off: one slow article is just one failure."""

    def __init__(self) -> None:
        self.answered: set[str] = set()
        self.stalled: dict[str, str] = {}  # netloc: what its first timeout said

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls()

    def process_request(self, request: Request) -> None:
        netloc = urlparse_cached(request).netloc
        if netloc in self.stalled:
            raise DownloadTimeoutError(
                f"not tried, the host has not answered in this crawl: {self.stalled[netloc]}"
            )

    def process_response(self, request: Request, response: Response) -> Response:
        self.answered.add(urlparse_cached(request).netloc)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        netloc = urlparse_cached(request).netloc
        if isinstance(exception, DownloadTimeoutError) and netloc not in self.answered:
            self.stalled.setdefault(netloc, str(exception))


class RetryAfter:
    """Marks a 429, and a 503 that carries ``Retry-After``, as not to be retried: Scrapy's
    retry would ask again within the second, against the site's stated wish (the spider
    backs off and the daemon waits as asked)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls()

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status == 429 or (
            response.status == 503 and response.headers.get("Retry-After")
        ):
            request.meta["dont_retry"] = True
        return response
