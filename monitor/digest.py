"""The weekly digest, rendered (pure: a week's values in, subject and bodies out).

Owns the digest's values (``DigestData`` and what it holds), ISO-week arithmetic, and
the week prepared for display (``digest_view``: grouped, sorted, dates written out, page
strings cleaned and shortened). It must not query the database, read the config or send
anything: the runner fills ``DigestData`` from the store and delivers the ``Digest``.
Writing it out — HTML for email, Markdown for chat channels, plain text — is
``monitor.render``'s, with the templates in ``monitor/templates/``; there every string is
escaped for its format by default, and only http(s) URLs become links.

Templates receive ``digest`` (a ``DigestView``) and ``data`` (the ``DigestData`` as
given). A directory passed to ``render_digest`` overrides the built-in templates file by
file.

The counts a digest shows are made here from what it lists, so they cannot disagree with
it: "N matched articles" is the number of articles listed under the events, and the chart
spreads those of them dated in the week over its days (``EventArticle.day_of``: the day
published, or first stored for a page that gives no date).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path

from monitor.models import Event, EventArticle, SourceHealth
from monitor.render import KIND_WORDS, day_span, format_day, render, strip_controls, web_url
from monitor.text import language_code

# -- the values the digest is made from ------------------------------------------------


@dataclass(frozen=True)
class DigestData:
    """Everything one week's digest shows."""

    week: str  # ISO week, "2024-W20"
    start: date  # Monday
    end: date  # Sunday
    events: tuple[Event, ...]  # newest first
    sources: tuple[SourceHealth, ...]


class Digest:
    """A digest: its subject, and each of its three bodies rendered when first read (a
    command that writes one format compiles no other template)."""

    def __init__(self, subject: str, render: Callable[[str], str]) -> None:
        self.subject = subject
        self._render = render

    @cached_property
    def html(self) -> str:
        return self._render("html")

    @cached_property
    def markdown(self) -> str:
        return self._render("markdown")

    @cached_property
    def text(self) -> str:
        return self._render("text")


# -- ISO weeks -------------------------------------------------------------------------

_WEEK = re.compile(r"(\d{4})-W(\d{2})")


def parse_week(value: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week written "2024-W20"."""
    found = _WEEK.fullmatch(value.strip().upper())
    if found is None:
        raise ValueError(f"week {value!r}: expected an ISO week like 2024-W20 (YYYY-Www)")
    year, week = int(found[1]), int(found[2])
    # 28 December is always in the last ISO week of its year.
    weeks_in_year = date(year, 12, 28).isocalendar().week if year >= 1 else 0
    if year < 1 or not 1 <= week <= weeks_in_year:
        raise ValueError(f"week {value!r}: {year} has ISO weeks W01 to W{weeks_in_year:02d}")
    monday = date.fromisocalendar(year, week, 1)
    return monday, monday + timedelta(days=6)


def last_complete_week(today: date) -> str:
    """The ISO week before the one containing ``today``, as "2024-W20"."""
    year, week, _ = (today - timedelta(days=7)).isocalendar()
    return f"{year}-W{week:02d}"


# -- page strings ----------------------------------------------------------------------


def _clean(text: str, limit: int = 300) -> str:
    """A page string for display: on one line, spaces collapsed, at most ``limit`` long."""
    text = " ".join(strip_controls(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- words and dates -------------------------------------------------------------------

LANGUAGES = {
    "en": "English",
    "ru": "Russian",
    "zh": "Chinese",
    "id": "Indonesian",
    "uk": "Ukrainian",
    "kk": "Kazakh",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "ar": "Arabic",
    "ja": "Japanese",
    "ko": "Korean",
    "vi": "Vietnamese",
    "ms": "Malay",
}
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _moment(moment: datetime, this_year: int) -> str:
    """ "1 Jan, 23:10 UTC" (the year only if not ``this_year``); naive: without a zone."""
    text = f"{format_day(moment.date(), year=moment.year != this_year)}, {moment:%H:%M}"
    zone = moment.tzname()
    return f"{text} {zone}" if zone else text


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# -- the week, prepared for the templates ----------------------------------------------


@dataclass(frozen=True)
class ArticleView:
    title: str
    url: str  # as given (cleaned), for showing when it is not a web link
    href: str | None  # set only for http(s) URLs
    day: str  # "30 Dec" (with the year if not the week's), or "" when unknown
    announcement: bool


@dataclass(frozen=True)
class SourceGroup:
    name: str
    articles: tuple[ArticleView, ...]


@dataclass(frozen=True)
class LanguageGroup:
    code: str | None
    name: str  # "English"; "Unknown language" when undetected
    count: int
    sources: tuple[SourceGroup, ...]


@dataclass(frozen=True)
class EventView:
    id: int
    participants: str  # "Xi Jinping – Vladimir Putin"
    kind: str  # "video call"
    when: str  # "20–22 Mar 2023"
    announced: bool  # every article announces it: the meeting is still to come
    count: int
    languages: tuple[LanguageGroup, ...]  # by name; unknown last


@dataclass(frozen=True)
class DayBar:
    weekday: str  # "Mon"
    day: str  # "26 Dec"
    count: int
    height: int  # of the HTML bar in pixels, 0..CHART_HEIGHT
    blocks: str  # the bar in block characters, for text and Markdown


@dataclass(frozen=True)
class HealthRow:
    name: str
    crawled: bool  # it ran at least once in the week: only then can it be called healthy
    runs: int
    pages: int
    new_articles: int
    errors: int
    last_success: str  # "1 Jan, 23:10 UTC" (with the year if not the week's) or "never"
    failing_since: str | None
    last_error: str | None


@dataclass(frozen=True)
class DigestView:
    subject: str
    week: str  # "2022-W52"
    period: str  # "26 Dec 2022 – 1 Jan 2023"
    events: tuple[EventView, ...]
    days: tuple[DayBar, ...]
    matched: int  # articles listed under the events
    outside: int  # of them, dated outside the week (not in the chart)
    day_column: int  # pixels of the HTML listing's date column
    sources: tuple[HealthRow, ...]
    failing: int  # sources failing now
    idle: int  # sources not failing that were not crawled in the week
    healthy: int  # the others: crawled in the week and not failing
    summary: str  # "2 events · 14 matched articles · 4 sources, 1 failing"


CHART_HEIGHT = 80  # pixels of the tallest bar
CHART_BLOCKS = 24  # characters of the longest text bar
# The HTML's dates are 12px and never wrap: their column is sized for the longest, at
# 0.6em a character (wider than digits and month names in the fonts the template names),
# so that "22 Oct 2023" cannot run under the headline beside it.
DAY_CHARACTER_PX = 7.2
DAY_COLUMN_MIN = 44  # fits "30 Dec": the same width every week whose dates show no year


def _article_view(article: EventArticle, this_year: int) -> ArticleView:
    published = article.published.date() if article.published else None
    return ArticleView(
        title=_clean(article.title) or "(untitled)",
        url=_clean(article.url, limit=500),
        href=web_url(article.url),
        day=format_day(published, year=published.year != this_year) if published else "",
        announcement=article.announcement,
    )


def _languages(articles: Iterable[EventArticle], this_year: int) -> tuple[LanguageGroup, ...]:
    by_language: dict[str | None, dict[str, list[EventArticle]]] = {}
    for article in articles:
        # "zh-CN" and "zh-TW" are both Chinese here.
        language = language_code(article.language)
        by_language.setdefault(language, {}).setdefault(_clean(article.source), []).append(article)
    groups = []
    for code, by_source in by_language.items():
        sources = tuple(
            SourceGroup(
                name=name,
                articles=tuple(
                    _article_view(a, this_year) for a in sorted(by_source[name], key=_published_day)
                ),
            )
            for name in sorted(by_source, key=str.casefold)
        )
        name = LANGUAGES.get(code, code.upper()) if code else "Unknown language"
        count = sum(len(s.articles) for s in sources)
        groups.append(LanguageGroup(code=code, name=name, count=count, sources=sources))
    # The same order in every event, so a reader finds "their" language in one place.
    groups.sort(key=lambda g: (g.code is None, g.name))
    return tuple(groups)


def _published_day(article: EventArticle) -> date:
    return article.published.date() if article.published else date.min


def event_view(event: Event, this_year: int) -> EventView:
    """An event as the digest and `newsmon serve` show it."""
    return EventView(
        id=event.id,
        participants=" – ".join(_clean(p) for p in event.participants),
        kind=KIND_WORDS.get(event.kind, "meeting"),
        when=day_span(event.first_day, event.last_day),
        announced=event.announced_only,
        count=len(event.articles),
        languages=_languages(event.articles, this_year),
    )


def day_bars(start: date, articles: Iterable[EventArticle], days: int = 7) -> tuple[DayBar, ...]:
    """The ``days`` from ``start`` (a week from its Monday), each with the articles of that
    day."""
    per_day = dict.fromkeys((start + timedelta(days=n) for n in range(days)), 0)
    for article in articles:
        day = article.day_of
        if day in per_day:
            per_day[day] += 1
    top = max(per_day.values())
    bars = []
    for day, count in per_day.items():
        share = count / top if top else 0.0
        bars.append(
            DayBar(
                weekday=_WEEKDAYS[day.weekday()],
                day=format_day(day, year=False),
                count=count,
                # A day with any match keeps a visible stub, however busy the week.
                height=max(round(share * CHART_HEIGHT), 3) if count else 0,
                blocks="█" * max(round(share * CHART_BLOCKS), 1) if count else "·",
            )
        )
    return tuple(bars)


def _health_row(source: SourceHealth, this_year: int) -> HealthRow:
    return HealthRow(
        name=_clean(source.name),
        crawled=source.runs > 0,
        runs=source.runs,
        pages=source.pages,
        new_articles=source.new_articles,
        errors=source.errors,
        last_success=_moment(source.last_success, this_year) if source.last_success else "never",
        failing_since=_moment(source.failing_since, this_year) if source.failing_since else None,
        last_error=_clean(source.last_error) if source.last_error else None,
    )


def digest_subject(data: DigestData) -> str:
    """ "newsmon weekly digest — 2024-W20: 2 events" (and how many sources fail)."""
    events = _plural(len(data.events), "event") if data.events else "no events"
    failing = sum(1 for s in data.sources if s.failing_since is not None)
    tail = f", {_plural(failing, 'source')} failing" if failing else ""
    return f"newsmon weekly digest — {data.week}: {events}{tail}"


def digest_view(data: DigestData) -> DigestView:
    """The week as the templates show it."""
    listed = [a for e in data.events for a in e.articles]
    days = day_bars(data.start, listed)
    events = tuple(event_view(e, data.end.year) for e in data.events)
    labels = [a.day for e in events for g in e.languages for s in g.sources for a in s.articles]
    longest = max((len(label) for label in labels), default=0)
    sources = tuple(_health_row(s, data.end.year) for s in data.sources)
    failing = sum(1 for s in sources if s.failing_since is not None)
    idle = sum(1 for s in sources if s.failing_since is None and not s.crawled)
    health = _plural(len(sources), "source")
    health += f", {failing} failing" if failing else ""
    health += f", {idle} not crawled this week" if idle else ""
    summary = [_plural(len(data.events), "event"), _plural(len(listed), "matched article"), health]
    return DigestView(
        subject=digest_subject(data),
        week=data.week,
        period=day_span(data.start, data.end),
        events=events,
        days=days,
        matched=len(listed),
        outside=len(listed) - sum(bar.count for bar in days),
        day_column=max(DAY_COLUMN_MIN, math.ceil(longest * DAY_CHARACTER_PX)),
        sources=sources,
        failing=failing,
        idle=idle,
        healthy=len(sources) - failing - idle,
        summary=" · ".join(summary),
    )


# -- rendering -------------------------------------------------------------------------


def render_digest(data: DigestData, templates: Path | None = None) -> Digest:
    """Subject and HTML, Markdown and text bodies of one week's digest.

    ``templates``: a directory whose ``digest.html.j2``, ``digest.md.j2`` or
    ``digest.txt.j2`` replace the built-in ones (each on its own). Template errors
    (``jinja2.TemplateError``) are left to the caller.
    """
    if templates is not None and not templates.is_dir():
        raise ValueError(f"digest templates: {templates} is not a directory")
    view = digest_view(data)
    context = {"digest": view, "data": data, "chart_height": CHART_HEIGHT}
    return Digest(view.subject, lambda fmt: render("digest", fmt, templates, context))
