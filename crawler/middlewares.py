"""Keeps every request of a source on the source's own configured hosts.

Runs for redirects too (a redirected request passes through the downloader
middlewares again), so a link or a Location header cannot lead the crawler to
another host, a cloud metadata address or a private network.
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

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
            raise IgnoreRequest(f"off-host: {request.url}")
