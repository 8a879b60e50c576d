"""Hands each fetched page to extraction (worker processes) and storage (a batching writer
thread): the reactor thread only passes pages along."""

from __future__ import annotations

import logging
from typing import Self

from scrapy.crawler import Crawler

from crawler.writer import ArticleWriter, Record
from monitor.errors import ExtractError, StorageError
from monitor.extract import article_of
from monitor.models import Page, article_id
from monitor.store.articles import NoText

logger = logging.getLogger(__name__)


class ArticlePipeline:
    """Page → Article → database. A page without article text is recorded with its reason."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.writer: ArticleWriter | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        self.writer = ArticleWriter(self.crawler.spider.storage.path)  # type: ignore[union-attr]

    async def close_spider(self) -> None:
        if self.writer is not None:
            await self.writer.close()

    async def process_item(self, page: Page) -> Page:
        spider = self.crawler.spider
        report = spider.report  # type: ignore[union-attr]
        assert self.writer is not None  # opened with the spider
        try:
            record = await self._extract(page)
            if record is not None and await self.writer.save(
                record,
                more_coming=spider.extraction.busy > 0,  # type: ignore[union-attr]
            ):
                report.new_articles += 1
                logger.debug("%s: new article %s", page.source, page.canonical_url)
        except StorageError as exc:
            # Locked or full: the page is not stored and the link stays unhandled, so the
            # answer that listed it is read in full again next cycle.
            spider.storage_failed(f"article {page.url}: not stored: {exc}")  # type: ignore[union-attr]
            return page
        report.handled.add(article_id(page.canonical_url))
        return page

    async def _extract(self, page: Page) -> Record | None:
        """What to store of a page; None when extraction crashed (recorded for a retry)."""
        spider = self.crawler.spider
        try:
            return article_of(page, await spider.extraction.extract(page))  # type: ignore[union-attr]
        except ExtractError as exc:
            logger.info("%s: no article text at %s (%s)", page.source, page.url, exc)
            key = article_id(page.canonical_url)
            return NoText(key, page.source, page.url, page.canonical_url, exc.reason)
        except Exception as exc:
            # An unexpected extractor crash (or a worker that died): keep the URL for a
            # retry instead of losing it.
            logger.exception("%s: extraction crashed on %s", page.source, page.url)
            spider.report.errors.append(f"article {page.url}: extraction crashed: {exc}")  # type: ignore[union-attr]
            spider.storage.record_fetch_failure(  # type: ignore[union-attr]
                article_id(page.canonical_url), page.source, page.url, f"extract crashed: {exc}"
            )
            return None
