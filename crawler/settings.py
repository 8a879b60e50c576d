"""Scrapy settings for one source, every limit set on purpose (library defaults are unsafe
for a daemon: no delay, 1 GiB pages, 180 s timeouts, 20 redirects, a remote-control server).
"""

from __future__ import annotations

from typing import Any

from scrapy.settings import default_settings

from monitor.config import Politeness

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
_UNUSED = {
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.extensions.closespider.CloseSpider",
    "scrapy.extensions.feedexport.FeedExporter",
    "scrapy.extensions.spiderstate.SpiderState",
    "scrapy.extensions.throttle.AutoThrottle",
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
    "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware",
}


def _without(components: dict[str, int], unused: set[str]) -> dict[str, int]:
    return {path: order for path, order in components.items() if path not in unused}


def scrapy_settings(politeness: Politeness) -> dict[str, Any]:
    """The settings of one source's crawler."""
    return {
        "BOT_NAME": "newsmon",
        "TWISTED_REACTOR": ASYNCIO_REACTOR,
        "USER_AGENT": politeness.user_agent,
        "ROBOTSTXT_OBEY": politeness.obey_robots,
        "DOWNLOAD_DELAY": politeness.delay,
        # Requests taken into the downloader are fetched even after the spider closes: a
        # site that refuses (403s, 429) gets this many more, not sixteen.
        "CONCURRENT_REQUESTS": 2 * politeness.concurrency_per_host,
        # Per response, Scrapy starts this many tasks for its output (default 100): an
        # article page yields one item, a feed only requests. 100 tasks per page were a
        # fifth of the crawl's main-thread time (py-spy, 1,000 pages).
        "CONCURRENT_ITEMS": 4,
        "CONCURRENT_REQUESTS_PER_DOMAIN": politeness.concurrency_per_host,
        "DOWNLOAD_TIMEOUT": politeness.timeout,
        "DOWNLOAD_MAXSIZE": politeness.max_page_size,
        "DOWNLOAD_WARNSIZE": 0,
        "REDIRECT_MAX_TIMES": 5,
        # One quick retry for a blip; anything longer is retried on the next cycle. Not
        # for a timeout: its retry would hold the crawl a second full timeout.
        "RETRY_TIMES": 1,
        "RETRY_EXCEPTIONS": [
            e
            for e in default_settings.RETRY_EXCEPTIONS
            if e != "scrapy.exceptions.DownloadTimeoutError"
        ],
        "COOKIES_ENABLED": False,
        # Our own validators (storage) do conditional GET; Scrapy's cache would replay
        # cached bodies on 304 and serve stale feeds by heuristic freshness.
        "HTTPCACHE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "DOWNLOAD_HANDLERS": {"file": None, "data": None, "ftp": None, "s3": None},
        # Unused components left out of Scrapy's base lists: a component merely set to
        # None is still imported (to normalise its key), and the remote control brought
        # aiohttp, ~0.2 s of every crawl's start; the cookie middleware, tldextract.
        "EXTENSIONS_BASE": _without(default_settings.EXTENSIONS_BASE, _UNUSED),
        "DOWNLOADER_MIDDLEWARES_BASE": _without(
            default_settings.DOWNLOADER_MIDDLEWARES_BASE, _UNUSED
        ),
        # StalledHosts after robots.txt's (100), which waits for its download, and after
        # Retry (550), so that it sees a timeout before Retry does; RetryAfter too, so
        # that it sees a response before Retry does.
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.HostFence": 50,
            "crawler.middlewares.StalledHosts": 560,
            "crawler.middlewares.RetryAfter": 570,
        },
        "ITEM_PIPELINES": {"crawler.pipelines.ArticlePipeline": 300},
        # Fetched pages waiting for extraction or storage stop new downloads past this
        # many bytes (Scrapy's default, set on purpose: it bounds a backfill's memory).
        "SCRAPER_SLOT_MAX_ACTIVE_SIZE": 5_000_000,
        "LOG_LEVEL": "INFO",
    }
