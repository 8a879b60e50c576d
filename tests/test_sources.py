"""Every shipped source (config.yaml) finds and reads its articles, on a replica of its site.

Kremlin and Andalpost are the bundled replicas (monitor/demo/sites); each generic source
gets one built from tests/data/sources/cases.yaml: its feed or listing at the paths the
shipped config names, two articles at the paths the real site uses, in its markup and
language, with a sidebar, a related box and an old-dated photo caption around the text.
The shipped source is crawled as written — its follow pattern, its feeds and listings —
with only the scheme and host moved to 127.0.0.1.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from monitor.config import load_config
from monitor.demo.replicas import CRAWL_SETTINGS, ReplicaSite, ReplicaSites
from monitor.models import article_id
from monitor.runner import CycleReport
from monitor.store import Storage
from tests.conftest import ROOT

CASES: dict[str, dict[str, Any]] = yaml.safe_load(
    (ROOT / "tests/data/sources/cases.yaml").read_text(encoding="utf-8")
)
SHIPPED: list[dict[str, Any]] = yaml.safe_load((ROOT / "config.yaml").read_text("utf-8"))["sources"]
NAV = ["/", "/about/", "/contact/", "/category/world/", "/rss/"]


def test_every_shipped_source_has_a_replica() -> None:
    bundled = {"kremlin-en", "kremlin-ru", "andalpost"}
    assert {source["name"] for source in SHIPPED} == set(CASES) | bundled
    assert {"tass-en", "xinhua-en", "antara-id"} <= set(CASES)


def _article(case: dict[str, Any], story: dict[str, Any], base: str) -> str:
    markup = case["markup"]
    body_attr = (
        f'id="{markup["body"]}"' if markup.get("body_is_id") else f'class="{markup["body"]}"'
    )
    paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in story["paragraphs"])
    # The caption sits inside the body, as on the real sites; it dates an older photo.
    caption = (
        '<figure class="photo"><img src="/img/p.jpg" alt="">'
        f"<figcaption>{html.escape(case['caption'])}</figcaption></figure>"
    )
    nav = "".join(f'<li><a href="{href}">{href.strip("/") or "Home"}</a></li>' for href in NAV)
    title = html.escape(story["title"])
    return f"""<!DOCTYPE html>
<html lang="{case["language"]}"><head><meta charset="utf-8">
<title>{title} - {html.escape(case["site"])}</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="{html.escape(case["site"])}">
<meta property="article:published_time" content="{case["published"]}T10:00:00+08:00">
<link rel="canonical" href="{base}{story["path"]}">
</head><body>
<header class="header"><nav class="menu"><ul>{nav}</ul></nav></header>
<main><div class="main-content">
<h1 class="{markup["title"]}">{title}</h1>
<div class="{markup["date"]}">{case["published"]} 10:00</div>
<div {body_attr}>
{caption}
{paragraphs}
</div>
<div class="related-news"><h3>Related</h3><ul>
<li><a href="/related/1">{html.escape(case["related"])}</a></li></ul></div>
</div>
<aside class="sidebar"><h3>Latest</h3><ul>
<li><a href="/latest/1">{html.escape(case["sidebar"])}</a></li>
<li><a href="/latest/2">{html.escape(case["other"]["title"])}</a></li></ul></aside>
</main><footer class="footer">© {html.escape(case["site"])}. All rights reserved.</footer>
</body></html>"""


def _feed(case: dict[str, Any], base: str) -> str:
    items = "".join(
        f"""<item><title>{html.escape(story["title"])}</title>
<link>{base}{story["path"]}</link><guid>{base}{story["path"]}</guid>
<pubDate>Thu, 16 May 2024 10:00:00 +0800</pubDate>
<description>{html.escape(story["paragraphs"][0])}</description></item>"""
        for story in (case["summit"], case["other"])
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{html.escape(case["site"])}</title><link>{base}/</link>
<description>News</description><language>{case["language"]}</language>{items}</channel></rss>"""


def _listing(case: dict[str, Any]) -> str:
    links = "".join(
        f'<li class="item"><a href="{story["path"]}">{html.escape(story["title"])}</a>'
        f'<span class="time">{case["published"]}</span></li>'
        for story in (case["summit"], case["other"])
    )
    nav = "".join(f'<a href="{href}">{href}</a>' for href in NAV)
    return (
        f'<!DOCTYPE html><html lang="{case["language"]}"><head><meta charset="utf-8">'
        f"<title>{html.escape(case['site'])}</title></head><body><nav>{nav}</nav>"
        f'<ul class="list">{links}</ul><div class="page"><a href="?page=2">2</a></div>'
        "</body></html>"
    )


def _moved(url: str, base: str) -> str:
    parts = urlsplit(url)
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def replica(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ReplicaSite]:
    name = request.param
    root = tmp_path / "site"
    root.mkdir()
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /search\n")
    (root / "source.yaml").write_text("{}")
    with ReplicaSite(root, name=name) as site:
        yield site


@pytest.mark.parametrize("replica", sorted(CASES), indirect=True)
def test_shipped_source_finds_and_reads_its_articles(
    replica: ReplicaSite, crawl: Callable[..., CycleReport], tmp_path: Path
) -> None:
    name = replica.name
    case = CASES[name]
    base = replica.base_url
    source = dict(next(s for s in SHIPPED if s["name"] == name))
    for kind in ("feeds", "sitemaps", "listings"):
        source[kind] = [_moved(url, base) for url in source.get(kind, [])]
    if "article_hosts" in source:
        source["article_hosts"] = [urlsplit(base).netloc]
    for url in source["feeds"]:
        replica.put(urlsplit(url).path, _feed(case, base))
    for url in source["listings"]:
        replica.put(urlsplit(url).path, _listing(case))
    for story in (case["summit"], case["other"]):
        replica.put(story["path"], _article(case, story, base))

    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": str(tmp_path / "newsmon.db"),
                "sources": [source],
                "crawl": CRAWL_SETTINGS,
                "topics": ["china-russia-summit"],
            },
            allow_unicode=True,
        )
    )
    report = crawl(config)
    stats = report.crawls[0]
    assert (stats.outcome, stats.error_messages) == ("ok", ())
    assert stats.new_articles == 2, replica.requests
    assert not any(
        path.startswith(("/latest/", "/related/", "/about")) for path in replica.requests
    )

    with Storage(load_config(config).database) as storage:
        stored = storage.article(article_id(base + case["summit"]["path"]))
    assert stored is not None
    assert stored.title == case["summit"]["title"]
    assert stored.language == case["language"]
    assert stored.published is not None
    assert stored.published.date().isoformat() == case["published"]
    for paragraph in case["summit"]["paragraphs"]:
        if paragraph not in case.get("not_contains", []) and not paragraph.startswith("Baca"):
            assert paragraph in stored.text
    for trap in (
        case["sidebar"],
        case["related"],
        case["caption"],
        case["other"]["title"],
        *case.get("not_contains", []),
    ):
        assert trap not in stored.text
    assert "All rights reserved" not in stored.text
    assert report.matching.matched == 1  # the summit, not the other article


def test_shipped_kremlin_and_andalpost_read_their_replicas(
    sites: ReplicaSites, crawl: Callable[..., CycleReport], tmp_path: Path
) -> None:
    sources = []
    for source in SHIPPED:
        if source["name"] not in ("kremlin-en", "kremlin-ru", "andalpost"):
            continue
        site = sites.site(source["name"])
        moved = dict(source)
        for kind in ("feeds", "sitemaps", "listings"):
            moved[kind] = [_moved(url, site.base_url) for url in source.get(kind, [])]
        moved.pop("lookback", None)  # the replicas' articles are years old
        for url in moved["feeds"]:
            if "/transcripts/" in url:  # not in the bundled replica: the news feed's twin
                news = (site.root / "events/president/news/feed").read_text("utf-8")
                site.put(urlsplit(url).path, news)
        sources.append(moved)
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {"database": str(tmp_path / "n.db"), "sources": sources, "crawl": CRAWL_SETTINGS},
            allow_unicode=True,
        )
    )
    report = crawl(config)
    for stats in report.crawls:
        assert (stats.outcome, stats.error_messages) == ("ok", ()), stats.source
        assert stats.new_articles >= 5, stats
    assert report.matching.matched >= 5
