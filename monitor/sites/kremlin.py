"""kremlin.ru and en.kremlin.ru: the President's news and transcripts (SOURCES.md).

An article is ``article.read__in.h-entry``: the title ``h1.entry-title``, the date
``time.read__published[datetime]``, the place ``div.read__place``, the lead
``div.read__lead`` and the body ``div.entry-content``, where transcripts give each speaker's turn as
``<p><b>В.Путин:</b> …</p>`` (kept as text) and split sections with a bold ``* * *``
(dropped). The tags (``div.read__tags``), the trailing "Publication status…" block
(``.read__bottommeta``) and everything marked ``masha-ignore`` are not article text.

The site refuses (403) after a few hundred requests in a session, and sometimes refuses
datacenter addresses outright: that is "come back later", never "no content".
"""

from __future__ import annotations

import re
from datetime import datetime

from lxml.html import HtmlElement

from monitor.sites import Reading, Site, block_lines, has_class, text_of

REFUSED = "refused: back off and retry later"

_ARTICLE = f"//article[{has_class('read__in')}]"
_DROP = (
    f".//*[{has_class('read__bottommeta')}]",
    f".//*[{has_class('read__tags')}]",
    f".//*[{has_class('masha-ignore')}]",
    ".//figure",
)
_SECTION_BREAK = re.compile(r"^\*(?:\s*\*){2,}$")


class Kremlin(Site):
    """kremlin.ru: title, date, place, lead and body with speaker turns."""

    hosts = ("kremlin.ru",)
    names = ("president of russia", "президент россии")
    paths = re.compile(r"^/events/president/(?:news|transcripts)(?:/|$)")

    @classmethod
    def read(cls, tree: HtmlElement) -> Reading:
        article = next(iter(tree.xpath(_ARTICLE)), tree)
        title = _first_text(article, f".//h1[{has_class('entry-title')}]")
        place = _first_text(article, f".//*[{has_class('read__place')}]")
        lines: list[str] = [place] if place else []
        for part in (
            f".//*[{has_class('read__lead')}]",
            f".//*[{has_class('entry-content')}]",
        ):
            for node in article.xpath(part)[:1]:
                lines += [
                    line for line in block_lines(node, _DROP) if not _SECTION_BREAK.match(line)
                ]
        body = [line for line in lines if line != place]
        return Reading(
            title=title,
            published=_published(article),
            # A place alone is no article: without lead or body the generic path reads it.
            lines=tuple(lines) if body else (),
        )

    @classmethod
    def refusal(cls, status: int) -> str | None:
        return f"{REFUSED} (HTTP {status})" if status in (403, 429) else None


def _first_text(root: HtmlElement, xpath: str) -> str | None:
    for node in root.xpath(xpath)[:1]:
        return text_of(node) or None
    return None


def _published(article: HtmlElement) -> datetime | None:
    """``time.read__published[datetime]``: a day (naive, as extraction keeps date-only
    values) or a moment with its offset."""
    for value in article.xpath(f".//time[{has_class('read__published')}]/@datetime")[:1]:
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
