"""Per-site rules: what a site's own markup says better than the generic extraction.

A site module holds one ``Site`` subclass that registers itself and names its hosts;
``reading`` routes a page to it and returns what it found (title, date, body lines), and
``refusal`` words an HTTP answer the site uses to say "not now". Nothing here fetches or
stores: extraction (``monitor.extract``) and the crawler call in.

Routing is by host, never by class name alone (Kompas also uses ``read__content``): the
URL's host, else the host of the page's own ``<link rel=canonical>`` / ``og:url``, else
the site name it declares (``og:site_name``), else a path shape that only the site has
(Kremlin's ``/events/president/news/ID``) — so a mirror or a local replica of the site,
served under another name, is read by the same rule.
"""

from __future__ import annotations

import re
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlsplit

from lxml.html import HtmlElement

__all__ = ["Reading", "Site", "has_class", "reading", "refusal", "site_for"]


def has_class(name: str) -> str:
    """XPath predicate: the element's class list contains ``name`` (not a substring of it)."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


@dataclass(frozen=True)
class Reading:
    """What a site rule read in a page; None or empty where it found nothing."""

    title: str | None = None
    published: datetime | None = None
    lines: tuple[str, ...] = ()


class Site:
    """One site's rules (a subclass per site registers itself)."""

    registry: ClassVar[list[type[Site]]] = []
    hosts: ClassVar[tuple[str, ...]] = ()
    names: ClassVar[tuple[str, ...]] = ()  # og:site_name values, casefolded
    paths: ClassVar[re.Pattern[str] | None] = None  # URL paths no other site has

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        Site.registry.append(cls)

    @classmethod
    def serves(cls, host: str) -> bool:
        return any(host == h or host.endswith("." + h) for h in cls.hosts)

    @classmethod
    def read(cls, tree: HtmlElement) -> Reading:
        """Title, date and body of one page of this site (the tree is not changed)."""
        return Reading()

    @classmethod
    def refusal(cls, status: int) -> str | None:
        """How an HTTP error status of this site is to be reported, when it means more
        than the status says."""
        return None


def _host(url: str | None) -> str:
    return (urlsplit(url).hostname or "").lower() if url else ""


def site_for(url: str | None, tree: HtmlElement | None = None) -> type[Site] | None:
    """The site a page at ``url`` belongs to (see the module docstring)."""
    hosts = [_host(url)]
    if tree is not None:
        hosts += [_host(v) for v in tree.xpath("//head/link[@rel='canonical']/@href")[:1]]
        hosts += [_host(v) for v in tree.xpath("//head/meta[@property='og:url']/@content")[:1]]
    for host in filter(None, hosts):
        for site in Site.registry:
            if site.serves(host):
                return site
    if tree is not None:
        for name in tree.xpath("//head/meta[@property='og:site_name']/@content")[:1]:
            for site in Site.registry:
                if " ".join(name.split()).casefold() in site.names:
                    return site
    path = urlsplit(url).path if url else ""
    return next((s for s in Site.registry if s.paths and s.paths.match(path)), None)


def reading(tree: HtmlElement, url: str | None) -> Reading:
    """What the page's site rule reads in it; an empty Reading without a rule."""
    site = site_for(url, tree)
    return site.read(tree) if site else Reading()


def refusal(url: str, status: int) -> str | None:
    """The site's own wording for an HTTP error at ``url`` (e.g. Kremlin's 403), or None."""
    site = site_for(url)
    return site.refusal(status) if site else None


def text_of(node: HtmlElement) -> str:
    return " ".join(node.text_content().split())


BLOCK_TAGS = ("p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th")


def block_lines(node: HtmlElement, drop: tuple[str, ...] = ()) -> list[str]:
    """One line per outermost block of a copy of ``node`` without the ``drop`` XPaths."""
    part = deepcopy(node)  # dropping nodes must not change the page's tree
    for xpath in (*drop, ".//script", ".//style", ".//noscript"):
        for found in part.xpath(xpath):
            found.drop_tree()
    for br in part.iter("br"):
        br.tail = "\n" + (br.tail or "")
    blocks = [
        el
        for el in part.iter(*BLOCK_TAGS)
        if not any(a.tag in BLOCK_TAGS for a in el.iterancestors())
    ] or [part]
    lines = (" ".join(line.split()) for el in blocks for line in el.text_content().splitlines())
    return [line for line in lines if line]


# The site modules register their rules on import.
from monitor.sites import andalpost, kremlin  # noqa: E402, F401
