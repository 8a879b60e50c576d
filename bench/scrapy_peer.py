"""The peer a user would write: Scrapy's SitemapSpider, trafilatura in ``parse``, one SQLite
row per article. Used by bench/crawl.py as a yardstick for ``newsmon crawl``.

    python bench/scrapy_peer.py SITEMAP_URL DATABASE
"""

from __future__ import annotations

import sqlite3
import sys
from typing import Any

import trafilatura
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from scrapy.spiders import SitemapSpider


class ArticleSpider(SitemapSpider):
    name = "peer"

    def __init__(self, sitemap: str, database: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sitemap_urls = [sitemap]
        self.db = sqlite3.connect(database)
        self.db.execute("CREATE TABLE IF NOT EXISTS articles (url PRIMARY KEY, title, text)")

    def parse(self, response: Response) -> None:
        doc = trafilatura.bare_extraction(response.text, url=response.url, with_metadata=True)
        if doc is not None:
            self.db.execute(
                "INSERT OR IGNORE INTO articles VALUES (?, ?, ?)",
                (response.url, doc.title, doc.text),
            )
            self.db.commit()


if __name__ == "__main__":
    process = CrawlerProcess(
        {
            "CONCURRENT_REQUESTS": 8,
            "DOWNLOAD_DELAY": 0,
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
        }
    )
    process.crawl(ArticleSpider, sitemap=sys.argv[1], database=sys.argv[2])
    process.start()
