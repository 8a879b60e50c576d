"""andalpost.com: WordPress with Yoast SEO (SOURCES.md).

The post is ``h1.entry-title`` and ``div.entry-content``; its date is Yoast's (JSON-LD
``@graph`` ``datePublished``, then ``article:published_time``), then the theme's
``time.entry-date.published``. Inside the body, the theme and the editors put what is
not the article: "Baca juga: …" lines and boxes linking other posts, "Simak
selengkapnya…" prompts, Jetpack's share and related-post blocks, photo captions (which
carry their own, older, dates) and the tag list.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from lxml.html import HtmlElement

from monitor.sites import Reading, Site, block_lines, has_class, text_of

_BODY = f"//div[{has_class('entry-content')}]"
_DROP = (
    ".//figure",
    ".//figcaption",
    f".//*[{has_class('wp-caption')}]",
    ".//*[contains(@class, 'sharedaddy')]",
    ".//*[contains(@class, 'jp-relatedposts')]",
    ".//*[contains(@class, 'related')]",
    ".//*[contains(@class, 'baca-juga')]",
    f".//*[{has_class('tags-links')} or {has_class('post-tags')}]",
)
# Whole lines that link elsewhere or prompt for more: never article text.
_NOT_TEXT = re.compile(
    r"^(?:baca\s+(?:juga|pula)|simak\s+(?:juga|selengkapnya|berita|video)|lihat\s+juga"
    r"|tonton\s+juga|ikuti\s+(?:berita|kami))\b",
    re.IGNORECASE,
)


class Andalpost(Site):
    """andalpost.com: Yoast's date, the post's title and body without related links."""

    hosts = ("andalpost.com",)
    names = ("andalpost", "andalpost.com")

    @classmethod
    def read(cls, tree: HtmlElement) -> Reading:
        titles = tree.xpath(f"//h1[{has_class('entry-title')}]")
        lines: list[str] = []
        for node in tree.xpath(_BODY)[:1]:
            lines = [line for line in block_lines(node, _DROP) if not _NOT_TEXT.match(line)]
        return Reading(
            title=text_of(titles[0]) or None if titles else None,
            published=_published(tree),
            lines=tuple(lines),
        )


def _published(tree: HtmlElement) -> datetime | None:
    candidates = [*_yoast_dates(tree)]
    candidates += tree.xpath("//head/meta[@property='article:published_time']/@content")[:1]
    candidates += tree.xpath(
        f"//time[{has_class('entry-date')}][{has_class('published')}]/@datetime"
    )[:1]
    for value in candidates:
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            continue
    return None


def _yoast_dates(tree: HtmlElement) -> list[str]:
    """``datePublished`` of the Article (then the WebPage) in Yoast's JSON-LD graph."""
    found: dict[str, str] = {}
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "", strict=False)
        except ValueError:
            continue
        graph = data.get("@graph", [data]) if isinstance(data, dict) else data
        for node in graph if isinstance(graph, list) else []:
            if isinstance(node, dict) and isinstance(node.get("datePublished"), str):
                kind = str(node.get("@type", ""))
                found.setdefault("article" if "Article" in kind else kind, node["datePublished"])
    return [found[k] for k in ("article", *sorted(set(found) - {"article"}))]
