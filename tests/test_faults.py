"""Faults a site can throw at a crawl, each through the real path: a local server that
serves legacy charsets declared only in a ``<meta>``, hangs, trickles or sends a broken
``.xml.gz``; ``newsmon crawl`` / the crawl cycle run as the user runs them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from tests.conftest import Receiver
from tests.test_hostile import Site, rss

SUMMIT_TITLE = "Путин и Си Цзиньпин провели переговоры в Москве"
# A regional CMS's head: counters and styles first, the charset after them, past the
# first 4 KiB that w3lib (and Scrapy) look in.
HEAD_CLUTTER = "".join(
    f"<script>window.dataLayer = window.dataLayer || []; dataLayer.push({{slot: {n}}});</script>\n"
    f'<link rel="stylesheet" href="/static/css/block-{n}.css?v=20230321">\n'
    for n in range(60)
)
SUMMIT = f"""<!doctype html><html lang="ru"><head>{HEAD_CLUTTER}
<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">
<title>{SUMMIT_TITLE}</title>
<meta property="article:published_time" content="2023-03-21T18:30:00+03:00"></head>
<body><div class="read__content"><h1 class="entry-title">{SUMMIT_TITLE}</h1>
<p>Президент России Владимир Путин и Председатель Китайской Народной Республики Си Цзиньпин
провели в Кремле переговоры в узком составе, а затем с участием делегаций.</p>
<p>Лидеры обсудили торговлю, энергетику и положение дел в мире и подписали совместное
заявление об углублении отношений всеобъемлющего партнёрства.</p>
</div></body></html>"""


def config_for(directory: Path, sources: list[dict], **extra: object) -> Path:
    path = directory / "config.yaml"
    settings = {"database": str(directory / "newsmon.db"), **extra}
    settings["crawl"] = {"delay": 0, "obey_robots": False, **settings.get("crawl", {})}  # type: ignore[dict-item]
    path.write_text(yaml.safe_dump({**settings, "sources": sources}, allow_unicode=True))
    return path


def test_windows_1251_declared_only_in_meta_is_alerted(
    tmp_path: Path, receiver: Receiver, crawl: Callable
) -> None:
    site = Site()
    try:
        # the header names no charset; only the page's <meta> does
        site.page("/news/70255", SUMMIT.encode("windows-1251"), "text/html")
        feed = rss(site.base, [("/news/70255", "Tue, 21 Mar 2023 15:30:00 +0000")])
        site.page("/feed", feed, "application/rss+xml")
        config = config_for(
            tmp_path,
            [{"name": "ria", "feeds": [f"{site.base}/feed"]}],
            notify={"alerts": [receiver.url], "max_age": 0},
        )
        report = crawl(config)
    finally:
        site.stop()
    assert report.delivery.sent == 1, report
    (post,) = receiver.posts
    assert SUMMIT_TITLE in post["message"]
