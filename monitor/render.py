"""Values into text: the one place where alerts and digests are written out (pure).

Owns the Jinja2 environment (one per output format, ``environment``), the filters the
templates use (``md``, ``web_url``, ``link``), the words and dates shared by alerts and
digests (``KIND_WORDS``, ``day_span``), Markdown escaping, and ``render_alert``. It must
not query the database, read the config or send anything.

Escaping is the environment's default, not the template's duty, so a template (a built-in
one or a user's override) that forgets ``|e`` is still safe:

- HTML is autoescaped.
- In Markdown *every* ``{{ … }}`` output is escaped (``markdown_escape``) unless it is a
  ``MarkdownSafe`` made here from escaped parts, such as a link or the ``md`` filter's
  result; ``join`` escapes what it joins, so ``map("md") | join`` is not escaped twice.
- In every format, C0/C1 control characters in an output become spaces and bidi
  embeddings, overrides and isolates are dropped, so a page string cannot break a line or
  reorder the text shown around it.

Only http(s) URLs become links; any other URL is shown as text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from contextlib import suppress
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
)
from jinja2.bccache import Bucket
from markupsafe import Markup

from monitor.models import Event

_SUFFIX = {"markdown": "md", "html": "html", "text": "txt"}

# -- words and dates -------------------------------------------------------------------

KIND_WORDS = {
    "in-person": "in-person meeting",
    "video": "video call",
    "phone": "phone call",
    "unknown": "meeting",
}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_day(day: date, year: bool = True) -> str:
    """ "30 Dec 2022" (locale-free: a message reads the same on every server)."""
    text = f"{day.day} {_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def day_span(first: date, last: date) -> str:
    """ "30 Dec 2022", "20–22 Mar 2023", "30 Mar – 2 Apr 2023", "30 Dec 2022 – 2 Jan 2023"."""
    if first == last:
        return format_day(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{format_day(last)}"
    return f"{format_day(first, year=first.year != last.year)} – {format_day(last)}"


# -- escaping and links ----------------------------------------------------------------

# C0/C1 controls (line breaks included) become spaces; bidi embeddings, overrides and
# isolates are dropped: they would reorder the text shown after a hostile title.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str) -> str:
    """``text`` on one line, without characters that reorder what is shown around it."""
    return _BIDI.sub("", _CONTROL.sub(" ", text))


class MarkdownSafe(str):
    """Markdown built here from escaped parts: the Markdown environment prints it as is."""


# The characters that start Markdown syntax inline or at a line's start, plus `<`, `>`
# and `&` (raw HTML, entities). `.` is left alone: it only matters after digits at a
# line's start, where no page string is put, and escaping it litters dates.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>&#+\-!|~])")


def markdown_escape(value: object) -> str:
    """``value`` as Markdown text that renders literally (CommonMark, Apprise)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(value))


def md(value: object) -> MarkdownSafe:
    """The ``md`` filter: ``value`` escaped for Markdown, once."""
    if isinstance(value, MarkdownSafe):
        return value
    return MarkdownSafe(markdown_escape(strip_controls(str(value))))


def _markdown_join(items: Iterable[object], separator: str = "") -> MarkdownSafe:
    """``join`` for Markdown: each item escaped unless it already is (as ``md`` made it);
    the separator is the template's own text, like the rest of the template."""
    return MarkdownSafe(separator.join(md(item) for item in items))


# Kept in URLs as they are; everything else (spaces, quotes, brackets, parentheses,
# backslashes, non-ASCII) is percent-encoded, so a URL cannot end a Markdown link early.
_URL_SAFE = "/:?#[]@!$&*+,;=%-._~"


def web_url(url: str) -> str | None:
    """``url`` ready for an href if it is an http(s) URL with a host, else None."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    return quote(urlunsplit(parts._replace(scheme=parts.scheme.lower())), safe=_URL_SAFE)


def _markdown_web_url(url: str) -> MarkdownSafe | None:
    """``web_url`` for Markdown: percent-encoded, so it can stand in a link as it is."""
    href = web_url(url)
    return None if href is None else MarkdownSafe(href)


def _markdown_link(item: Any) -> MarkdownSafe:
    """The ``link`` filter: ``item.title`` linked to ``item.href``, or title and URL as
    text when there is no http(s) href (``item``: anything with title, url and href)."""
    if item.href is None:
        return MarkdownSafe(f"{md(item.title)} ({md(item.url)})")
    return MarkdownSafe(f"[{md(item.title)}]({item.href})")


# -- the environment -------------------------------------------------------------------


def _finalize_html(value: object) -> object:
    # Markup was escaped where it was made; anything else is autoescaped after this.
    return value if isinstance(value, Markup) else strip_controls(str(value))


def _finalize_text(value: object) -> str:
    return strip_controls(str(value))


_FINALIZE: dict[str, Callable[[object], object]] = {
    "html": _finalize_html,
    "markdown": md,
    "text": _finalize_text,
}
_FILTERS: dict[str, dict[str, Callable[..., Any]]] = {
    "html": {"web_url": web_url},
    "markdown": {
        "web_url": _markdown_web_url,
        "md": md,
        "join": _markdown_join,
        "link": _markdown_link,
    },
    "text": {"web_url": web_url},
}


class _BytecodeCache(FileSystemBytecodeCache):
    """Compiled templates kept between runs in Jinja's per-user temporary directory
    (compiling the digest's three took ~35 ms of each `digest`); Jinja checks each
    against its template's source. A cache it cannot write is skipped, never an error."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        with suppress(OSError):
            super().dump_bytecode(bucket)


def _bytecode_cache(fmt: str) -> FileSystemBytecodeCache | None:
    try:  # one file set per format: the same template name compiles differently in each
        return _BytecodeCache(pattern=f"newsmon-{fmt}-%s.cache")
    except (OSError, RuntimeError):  # no usable temporary directory
        return None


@functools.cache
def environment(fmt: str, templates: Path | None = None) -> Environment:
    """The Jinja2 environment for one output format ("markdown", "html" or "text").

    ``templates``: a directory whose files replace the built-in templates of
    ``monitor/templates/`` file by file. Kept per (format, directory): Jinja reloads a
    template whose file has changed since.
    """
    loaders: list[Any] = [PackageLoader("monitor", "templates")]
    if templates is not None:
        loaders.insert(0, FileSystemLoader(str(templates)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=fmt == "html",
        finalize=_FINALIZE[fmt],
        undefined=StrictUndefined,  # a typo in an overriding template fails loudly
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(fmt),
    )
    env.filters.update(_FILTERS[fmt])
    return env


def render(name: str, fmt: str, templates: Path | None, context: dict[str, Any]) -> str:
    """Template ``name`` ("alert", "digest") in format ``fmt`` (``name.md.j2`` …)."""
    return environment(fmt, templates).get_template(f"{name}.{_SUFFIX[fmt]}.j2").render(context)


# -- alerts ----------------------------------------------------------------------------


def render_alert(
    event: Event, fmt: str, templates: Path | None = None, purpose: str = "alert"
) -> tuple[str, str]:
    """Title and body of the message about one event, for one channel format.

    ``purpose``: "alert" (a new event) or "update" (an announced event now reported held).
    """
    context = _alert_context(event, purpose)
    title = f"{' – '.join(event.participants)}: {context['kind_words']}, {context['day_text']}"
    if purpose == "update":
        title = f"Held: {title}"
    elif context["announced"]:
        title = f"Announced: {title}"
    return title, render("alert", fmt, templates, context).strip()


def _alert_context(event: Event, purpose: str) -> dict[str, Any]:
    """What the alert templates receive."""
    articles = event.articles
    evidence: list[str] = []
    for article in articles:
        for phrase in article.evidence:
            if phrase.lower() not in (e.lower() for e in evidence):
                evidence.append(phrase)
    # Our own words, not a page's: Markdown shows them as they are ("in-person", not
    # "in\\-person"), and in HTML they are autoescaped all the same.
    kind_words = MarkdownSafe(KIND_WORDS.get(event.kind, "meeting"))
    return {
        "event": event,
        "first": articles[0],
        "evidence": evidence[:8],
        "count": len(articles),
        "sources": sorted({a.source for a in articles}),
        "kind_words": kind_words,
        "day_text": MarkdownSafe(day_span(event.first_day, event.last_day)),
        "announced": event.announced_only,
        "purpose": purpose,
    }
