"""Canonical article URLs and the host fence.

A canonical URL is the key an article is stored under: tracking parameters and
fragments dropped (courlan), and each site's known variants of one article (print
views, photo pages, copies) folded into one address by the site's rule. Site rules
are small classes that register themselves; each names the hosts it serves.
"""

from __future__ import annotations

import logging
import re
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

import regex
from courlan import normalize_url

logger = logging.getLogger(__name__)


class SiteRule:
    """How one site spells the same article several ways."""

    registry: ClassVar[list[type[SiteRule]]] = []
    hosts: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        SiteRule.registry.append(cls)

    @classmethod
    def applies(cls, host: str, path: str) -> bool:
        return any(host == h or host.endswith("." + h) for h in cls.hosts)

    @classmethod
    def fold(cls, host: str, path: str) -> tuple[str, str]:
        """Return the (host, path) that names the article."""
        return host, path


class Kremlin(SiteRule):
    """kremlin.ru: /news/ID, /transcripts/ID, /ID/print, /news/copy/ID are one article."""

    hosts = ("kremlin.ru",)
    _variant = re.compile(
        r"^/events/president/(?:news|transcripts)/(?:copy/)?(\d+)(?:/(?:print|photos|videos))?/?$"
    )

    @classmethod
    def applies(cls, host: str, path: str) -> bool:
        # The path shape is Kremlin's own, so the rule also holds for a mirror or a
        # local replica of the site that runs under another host name.
        return super().applies(host, path) or bool(cls._variant.match(path))

    @classmethod
    def fold(cls, host: str, path: str) -> tuple[str, str]:
        match = cls._variant.match(path)
        if match:
            path = f"/events/president/news/{match[1]}"
        # The text-only mirror carries the same articles as the main site.
        return host.replace("special.kremlin.ru", "kremlin.ru"), path


class Andalpost(SiteRule):
    """andalpost.com (WordPress): a post's AMP view /{slug}/amp/ is the post /{slug}/."""

    hosts = ("andalpost.com",)
    _amp = re.compile(r"^(/[^/]+/)amp/?$")

    @classmethod
    def fold(cls, host: str, path: str) -> tuple[str, str]:
        match = cls._amp.match(path)
        return host, match[1] if match else path


def canonical_url(url: str) -> str:
    """The one address an article is stored under."""
    try:
        cleaned = normalize_url(url)
    except ValueError:
        cleaned = url
    parts = urlsplit(cleaned)
    # "www." or not, one site: both spellings must name one article
    host, path = parts.netloc.lower().removeprefix("www."), parts.path or "/"
    for rule in SiteRule.registry:
        if rule.applies(parts.hostname or "", path):
            host, path = rule.fold(host, path)
            break
    return urlunsplit((parts.scheme.lower(), host, path, parts.query, ""))


def host_of(url: str) -> str:
    """host[:port] as written in a URL, lowercased; the unit of 'the source's own hosts'."""
    netloc = urlsplit(url).netloc.lower()
    return netloc.rsplit("@", 1)[-1]


_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")


def _spellings(host: str) -> set[str]:
    """The names one site answers to: with or without "www.", loopback under any name."""
    name, _, port = host.partition(":")
    names = {name, name.removeprefix("www."), "www." + name.removeprefix("www.")}
    if name in _LOOPBACK:
        names |= set(_LOOPBACK)
    return {f"{n}:{port}" if port else n for n in names}


def on_hosts(url: str, hosts: frozenset[str]) -> bool:
    """True for an http(s) URL on one of the given hosts (default ports are equivalent;
    "www." and the names of the loopback address are the same site)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = host_of(url)
    default = {"http": ":80", "https": ":443"}[parts.scheme]
    candidates = {host, host.removesuffix(default), host + default}
    return any(not _spellings(c).isdisjoint(hosts) for c in candidates)


# Without a `follow` pattern, a listing's links are guessed at: these are never articles.
_NOT_ARTICLE = re.compile(
    r"/(?:tag|tags|category|categories|author|authors|topic|topics|search|login|register|"
    r"subscribe|about|contact|privacy|terms|feed|rss|wp-admin|wp-login\.php|page/\d+)(?:/|$)"
    r"|\.(?:jpe?g|png|gif|webp|svg|pdf|zip|mp3|mp4|css|js|xml|rss)$",
    re.IGNORECASE,
)


def looks_like_article(url: str, listing_url: str) -> bool:
    """A cautious guess for listings without `follow`: not the listing, not a section
    above it, not an archive, tag, author, feed or file link."""
    path = urlsplit(url).path or "/"
    listing_path = urlsplit(listing_url).path or "/"
    if path.rstrip("/") == listing_path.rstrip("/") or path == "/":
        return False
    if listing_path.startswith(path.rstrip("/") + "/"):
        return False  # a parent section of the listing
    return not _NOT_ARTICLE.search(path)


class FollowPattern:
    """A source's ``follow`` regex, applied to URLs that the site controls.

    With ``re`` a pattern such as ``(a|aa)+$`` backtracks for tens of seconds on a link
    of 30 characters, on the reactor thread, stalling every crawl in the process. The
    ``regex`` package takes a timeout: a URL that needs longer, or that is longer than
    any article's address, is not followed.
    """

    MAX_URL = 2048  # characters
    TIMEOUT = 0.1  # seconds per URL

    def __init__(self, pattern: str, source: str) -> None:
        self.pattern = regex.compile(pattern)
        self.source = source
        self.timed_out = 0

    def search(self, url: str) -> bool:
        """True when ``url`` is to be followed."""
        if len(url) > self.MAX_URL:
            return False
        try:
            return self.pattern.search(url, timeout=self.TIMEOUT) is not None
        except TimeoutError:
            self.timed_out += 1
            if self.timed_out == 1:  # once: the next links will be no different
                logger.warning(
                    "%s: follow pattern %r took over %.1f s on %s: such links are not followed",
                    self.source,
                    self.pattern.pattern,
                    self.TIMEOUT,
                    url[:200],
                )
            return False
