"""Scrapy's crawler runner with the extraction processes its crawls share.

One runner, one pool: the daemon's runner lives as long as the process, so its workers
do too (forked at the first page from a forkserver started when the first new article
is scheduled, stopped with the runner); a ``newsmon crawl`` has one
runner for the command. ``stop`` stops the crawls first, then the workers, so no page in
flight loses its extraction. A ``tick`` (pages, articles), if given, hears of each
response and each article page handled, for a progress line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import AsyncCrawlerRunner, Crawler

from crawler.extraction import ExtractionPool
from crawler.resolver import GuardedResolver


class CrawlRunner(AsyncCrawlerRunner):
    """An AsyncCrawlerRunner that owns the extraction pool of its crawls."""

    def __init__(
        self,
        settings: dict[str, Any],
        extract_workers: int = 0,
        tick: Callable[[int, int], None] | None = None,
    ) -> None:
        super().__init__(settings)
        from twisted.internet import reactor  # installed by now: the runner needs it

        GuardedResolver.install(reactor)
        self.extraction = ExtractionPool(extract_workers)
        self.tick = tick

    def create_crawler(self, crawler_or_spidercls: type[Spider] | str | Crawler) -> Crawler:
        crawler = super().create_crawler(crawler_or_spidercls)
        if self.tick is not None:
            # bound methods: the signal keeps only a weak reference, the runner a strong one
            crawler.signals.connect(self._page, signal=signals.response_received)
            crawler.signals.connect(self._article, signal=signals.item_scraped)
        return crawler

    def _page(self) -> None:
        assert self.tick is not None
        self.tick(1, 0)

    def _article(self) -> None:
        assert self.tick is not None
        self.tick(0, 1)

    async def stop(self) -> None:
        await super().stop()
        await self.close()

    async def close(self) -> None:
        """Stop the extraction workers (the next page starts new ones)."""
        await self.extraction.close()
