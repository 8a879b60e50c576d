"""Hands each fetched page to extraction (off the reactor thread) and storage."""

from __future__ import annotations

import asyncio
import logging
from typing import Self

from scrapy.crawler import Crawler

from monitor.errors import ExtractError, StorageError
from monitor.extract import extract
from monitor.models import Page, article_id

logger = logging.getLogger(__name__)


class ArticlePipeline:
    """Page → Article → database. A page without article text is recorded with its reason."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_item(self, page: Page) -> Page:
        spider = self.crawler.spider
        storage, report = spider.storage, spider.report  # type: ignore[union-attr]
        key = article_id(page.canonical_url)
        try:
            try:
                # trafilatura is CPU-bound (~10 ms a page): keep it off the event loop.
                article = await asyncio.to_thread(extract, page)
            except ExtractError as exc:
                logger.info("%s: no article text at %s (%s)", page.source, page.url, exc)
                storage.save_unextractable(
                    key, page.source, page.url, page.canonical_url, exc.reason
                )
            except Exception as exc:
                # An unexpected extractor crash: keep the URL for a retry instead of losing it.
                logger.exception("%s: extraction crashed on %s", page.source, page.url)
                report.errors.append(f"article {page.url}: extraction crashed: {exc}")
                storage.record_fetch_failure(key, page.source, page.url, f"extract crashed: {exc}")
            else:
                if storage.save_article(article):
                    report.new_articles += 1
                    logger.debug("%s: new article %s", page.source, page.canonical_url)
        except StorageError as exc:
            # Locked or full: the page is not stored and the link stays unhandled, so the
            # answer that listed it is read in full again next cycle.
            spider.storage_failed(f"article {page.url}: not stored: {exc}")  # type: ignore[union-attr]
            return page
        report.handled.add(key)
        return page
