"""Scrapy's crawler runner with the extraction processes its crawls share.

One runner, one pool: the daemon's runner lives as long as the process, so its workers
do too (forked at the first page from a forkserver started when the first new article
is scheduled, stopped with the runner); a ``newsmon crawl`` has one
runner for the command. ``stop`` stops the crawls first, then the workers, so no page in
flight loses its extraction.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import AsyncCrawlerRunner

from crawler.extraction import ExtractionPool


class CrawlRunner(AsyncCrawlerRunner):
    """An AsyncCrawlerRunner that owns the extraction pool of its crawls."""

    def __init__(self, settings: dict[str, Any], extract_workers: int = 0) -> None:
        super().__init__(settings)
        self.extraction = ExtractionPool(extract_workers)

    async def stop(self) -> None:
        await super().stop()
        await self.close()

    async def close(self) -> None:
        """Stop the extraction workers (the next page starts new ones)."""
        await self.extraction.close()
