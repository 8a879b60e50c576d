"""The weekly digest's rendering: ISO weeks, what a reader sees in each format, escaping."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest
from apprise.conversion.format import markdown_to_html

from monitor.digest import (
    CHART_BLOCKS,
    CHART_HEIGHT,
    DigestData,
    last_complete_week,
    parse_week,
    render_digest,
)
from monitor.models import Event, EventArticle, SourceHealth
from monitor.render import day_span, web_url
from tests.conftest import event_article, make_event

# -- ISO weeks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("week", "monday", "sunday"),
    [
        ("2024-W20", date(2024, 5, 13), date(2024, 5, 19)),
        ("2020-W53", date(2020, 12, 28), date(2021, 1, 3)),  # a 53-week year, into the next
        ("2021-W01", date(2021, 1, 4), date(2021, 1, 10)),
        ("2019-W01", date(2018, 12, 31), date(2019, 1, 6)),  # week 1 starts in December
        ("2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
        (" 2024-w20 ", date(2024, 5, 13), date(2024, 5, 19)),
    ],
)
def test_parse_week(week: str, monday: date, sunday: date) -> None:
    assert parse_week(week) == (monday, sunday)


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2021-W53", "2021 has ISO weeks W01 to W52"),
        ("2024-W00", "W01 to W52"),
        ("2020-W54", "2020 has ISO weeks W01 to W53"),
        ("0000-W01", "has ISO weeks"),
        ("2024-20", "expected an ISO week like 2024-W20"),
        ("2024W20", "expected an ISO week"),
        ("2024-W1", "expected an ISO week"),
        ("24-W20", "expected an ISO week"),
        ("2024-05-13", "expected an ISO week"),
        ("", "expected an ISO week"),
    ],
)
def test_parse_week_rejects_bad_weeks_clearly(week: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_week(week)


@pytest.mark.parametrize(
    ("today", "week"),
    [
        (date(2024, 5, 22), "2024-W20"),  # a Wednesday
        (date(2024, 5, 20), "2024-W20"),  # Monday: last week is complete
        (date(2024, 5, 19), "2024-W19"),  # Sunday: this week is not over
        (date(2021, 1, 5), "2020-W53"),
        (date(2023, 1, 2), "2022-W52"),
        (date(2025, 1, 1), "2024-W52"),  # 30 Dec 2024 already began 2025-W01
    ],
)
def test_last_complete_week(today: date, week: str) -> None:
    assert last_complete_week(today) == week
    _, sunday = parse_week(week)
    assert sunday < today <= sunday + timedelta(days=7)


@pytest.mark.parametrize(
    ("first", "last", "text"),
    [
        (date(2022, 12, 30), date(2022, 12, 30), "30 Dec 2022"),
        (date(2023, 3, 20), date(2023, 3, 22), "20–22 Mar 2023"),
        (date(2023, 3, 30), date(2023, 4, 2), "30 Mar – 2 Apr 2023"),
        (date(2022, 12, 30), date(2023, 1, 2), "30 Dec 2022 – 2 Jan 2023"),
    ],
)
def test_day_span(first: date, last: date, text: str) -> None:
    assert day_span(first, last) == text


@pytest.mark.parametrize(
    ("url", "href"),
    [
        ("https://example.org/a?b=1&c=2#d", "https://example.org/a?b=1&c=2#d"),
        ("HTTP://example.org/", "http://example.org/"),
        ("https://example.org/a b(c)\"'<x>", "https://example.org/a%20b%28c%29%22%27%3Cx%3E"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("java\nscript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("//example.org/a", None),
        ("http:///etc/passwd", None),
        ("file:///etc/passwd", None),
        ("http://[::1", None),
    ],
)
def test_only_http_urls_become_links(url: str, href: str | None) -> None:
    assert web_url(url) == href


# -- a week with two events ------------------------------------------------------------

PARTIES = ("Xi Jinping", "Vladimir Putin")
WEEK = "2024-W20"
MONDAY = date(2024, 5, 13)


def article(
    source: str, language: str | None, day: int, title: str, url: str, announcement: bool = False
) -> EventArticle:
    return event_article(
        datetime(2024, 5, day, 9),
        id=url,
        source=source,
        url=url,
        title=title,
        language=language,
        announcement=announcement,
    )


def event(
    event_id: int,
    kind: str,
    first_day: date,
    last_day: date,
    articles: tuple[EventArticle, ...],
) -> Event:
    stamp = datetime(2024, 5, 20, tzinfo=UTC)
    return make_event(
        articles,
        id=event_id,
        kind=kind,
        first_day=first_day,
        last_day=last_day,
        created_at=stamp,
        updated_at=stamp,
    )


VISIT = event(
    7,
    "in-person",
    date(2024, 5, 16),
    date(2024, 5, 17),
    (
        article("tass", "ru", 16, "Путин прибыл в Пекин", "https://tass.ru/politika/1"),
        article(
            "kremlin-en",
            "en",
            14,
            "Vladimir Putin to visit China",
            "http://en.kremlin.ru/events/president/news/73990",
            announcement=True,
        ),
        article("xinhua", "zh", 16, "习近平同普京会谈", "https://www.news.cn/20240516/a/c.html"),
        article(
            "kremlin-en",
            "en",
            16,
            "Russian-Chinese talks",
            "http://en.kremlin.ru/events/president/news/74000",
        ),
        article(
            "xinhua",
            "en",
            16,
            "Xi holds talks with Putin",
            "https://english.news.cn/20240516/b/c.html",
        ),
    ),
)
CALL = event(
    6,
    "phone",
    date(2024, 5, 13),
    date(2024, 5, 13),
    (
        article(
            "andalpost",
            "id",
            13,
            "Xi dan Putin berbicara melalui telepon",
            "https://andalpost.com/xi-putin-telepon/",
        ),
    ),
)
SOURCES = (
    SourceHealth(
        "kremlin-en",
        runs=168,
        pages=1214,
        new_articles=46,
        errors=0,
        last_success=datetime(2024, 5, 19, 23, 5, tzinfo=UTC),
        failing_since=None,
        last_error=None,
    ),
    SourceHealth(
        "xinhua",
        runs=168,
        pages=388,
        new_articles=27,
        errors=92,
        last_success=datetime(2024, 5, 16, 5, 12, tzinfo=UTC),
        failing_since=datetime(2024, 5, 16, 6, 12, tzinfo=UTC),
        last_error="HTTP 403 Forbidden: https://www.news.cn/politics/",
    ),
    SourceHealth(
        "andalpost",
        runs=42,
        pages=517,
        new_articles=88,
        errors=1,
        last_success=None,
        failing_since=None,
        last_error=None,
    ),
)
PER_DAY = (1, 1, 0, 4, 0, 0, 0)  # the articles of VISIT and CALL, by the day of each


def week_data(events: tuple[Event, ...] = (VISIT, CALL)) -> DigestData:
    return DigestData(
        week=WEEK,
        start=MONDAY,
        end=MONDAY + timedelta(days=6),
        events=events,
        sources=SOURCES,
    )


def in_order(text: str, *parts: str) -> bool:
    """Each part occurs in ``text``, after the one before."""
    at = 0
    for part in parts:
        at = text.find(part, at)
        if at < 0:
            return False
        at += len(part)
    return True


def test_subject_counts_events_and_failing_sources() -> None:
    assert render_digest(week_data()).subject == (
        "newsmon weekly digest — 2024-W20: 2 events, 1 source failing"
    )


def test_html_shows_both_events_grouped_by_language_then_source() -> None:
    html = render_digest(week_data()).html
    assert "<script" not in html and "<style" not in html and "<svg" not in html
    assert "13–19 May 2024" in html and "2024-W20" in html
    # Newest event first, each with participants, kind in words and dates.
    assert in_order(
        html,
        "Xi Jinping – Vladimir Putin",
        "in-person meeting",
        "16–17 May 2024",
        "Xi Jinping – Vladimir Putin",
        "phone call",
        "13 May 2024",
    )
    # Languages by name; within one, each source with its own articles, all linked.
    assert in_order(
        html,
        "Chinese",
        "xinhua",
        '<a href="https://www.news.cn/20240516/a/c.html"',
        ">习近平同普京会谈</a>",
        "English",
        "kremlin-en",
        ">Vladimir Putin to visit China</a>",
        "announcement",
        ">Russian-Chinese talks</a>",
        "xinhua",
        ">Xi holds talks with Putin</a>",
        "Russian",
        "tass",
        ">Путин прибыл в Пекин</a>",
        "Indonesian",
        "andalpost",
        ">Xi dan Putin berbicara melalui telepon</a>",
    )
    assert html.count(">announcement<") == 1


def test_html_shows_source_health_and_the_failing_warning() -> None:
    html = render_digest(week_data()).html
    assert in_order(html, "kremlin-en", "168", "1214", "46", "19 May, 23:05 UTC")
    assert in_order(html, "xinhua", "92", "16 May, 05:12 UTC", "Failing since 16 May, 06:12 UTC")
    assert "HTTP 403 Forbidden: https://www.news.cn/politics/" in html
    assert in_order(html, "andalpost", "never")
    assert html.count("Failing since") == 1


def test_html_chart_has_a_bar_per_day_scaled_to_the_busiest() -> None:
    html = render_digest(week_data()).html
    chart = html[html.index("Matched articles per day") : html.index(">Events<")]
    labels = re.findall(r">(Mon|Tue|Wed|Thu|Fri|Sat|Sun)<", chart)
    assert labels == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert in_order(chart, *(f"{13 + n} May" for n in range(7)))
    bars = [int(h) for h in re.findall(r'<td height="(\d+)"', chart)]
    assert bars == [20, 20, CHART_HEIGHT]  # one bar per day with matches: 1, 1 and 4


def text_chart(body: str) -> list[tuple[str, int, str]]:
    lines = re.findall(r"^\s*(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d+ \w{3}\s+(\d+)\s+(█+|·)$", body, re.M)
    return [(day, int(count), bar) for day, count, bar in lines]


@pytest.mark.parametrize("fmt", ["markdown", "text"])
def test_text_chart_has_seven_days(fmt: str) -> None:
    body = getattr(render_digest(week_data()), fmt)
    chart = text_chart(body)
    assert [(day, count) for day, count, _ in chart] == list(
        zip(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], PER_DAY, strict=True)
    )
    assert [len(bar) for _, count, bar in chart if count] == [6, 6, CHART_BLOCKS]


def test_markdown_shows_events_links_and_health() -> None:
    markdown = render_digest(week_data()).markdown
    assert in_order(
        markdown,
        "### Xi Jinping – Vladimir Putin",
        "**in\\-person meeting**",
        "16–17 May 2024",
        "**Chinese**",
        "_xinhua_",
        "[习近平同普京会谈](https://www.news.cn/20240516/a/c.html)",
        "**English**",
        "_kremlin\\-en_",
        "[Vladimir Putin to visit China](http://en.kremlin.ru/events/president/news/73990)",
        "*announcement*",
        "**Russian**",
        "_tass_",
        "### Xi Jinping – Vladimir Putin",
        "**phone call**",
        "13 May 2024",
        "**Indonesian**",
    )
    assert "| kremlin\\-en | 168 | 1214 | 46 | 0 | 19 May, 23:05 UTC |" in markdown
    assert "| xinhua ⚠ | 168 | 388 | 27 | 92 | 16 May, 05:12 UTC |" in markdown
    assert "**xinhua failing since 16 May, 06:12 UTC**" in markdown
    rendered = markdown_to_html(markdown)  # as Apprise delivers it
    assert '<a href="https://tass.ru/politika/1">Путин прибыл в Пекин</a>' in rendered
    assert "<table>" in rendered


def test_text_shows_events_links_and_health() -> None:
    text = render_digest(week_data()).text
    assert in_order(
        text,
        "1. Xi Jinping – Vladimir Putin",
        "in-person meeting · 16–17 May 2024",
        "Chinese",
        "xinhua",
        "习近平同普京会谈",
        "https://www.news.cn/20240516/a/c.html",
        "English",
        "kremlin-en",
        "Vladimir Putin to visit China [announcement]",
        "2. Xi Jinping – Vladimir Putin",
        "phone call · 13 May 2024",
    )
    assert in_order(text, "xinhua: FAILING", "errors 92", "⚠ Failing since 16 May, 06:12 UTC")
    assert "andalpost: ok" in text and "last success never" in text


def test_an_unknown_kind_is_a_meeting_and_an_all_announced_event_says_announced() -> None:
    announced = tuple(replace(a, announcement=True) for a in CALL.articles)
    unknown = event(1, "unknown", date(2024, 6, 3), date(2024, 6, 3), announced)
    digest = render_digest(week_data(events=(unknown,)))
    assert "meeting (announced) · 3 Jun 2024" in digest.text
    assert ">meeting</span>" in digest.html and ">announced</span>" in digest.html


def test_the_counts_are_the_listed_articles_each_on_its_own_day() -> None:
    articles = (
        article("tass", "ru", 16, "Путин прибыл в Пекин", "https://tass.ru/politika/1"),
        # Undated: counted on the day it was found, and shown without a date.
        replace(article("blog", "en", 18, "Undated", "https://blog.example/u"), published=None),
        # Published before the week, found in it: listed, not in the chart.
        replace(
            article("xinhua", "en", 16, "Earlier", "https://e.org/a"),
            published=datetime(2024, 5, 10, 9),
        ),
    )
    digest = render_digest(week_data(events=(replace(VISIT, articles=articles),)))
    assert [(day, count) for day, count, _ in text_chart(digest.text)] == [
        ("Mon", 0),
        ("Tue", 0),
        ("Wed", 0),
        ("Thu", 1),
        ("Fri", 0),
        ("Sat", 1),
        ("Sun", 0),
    ]
    for body in (digest.text, digest.markdown):
        assert "1 event · 3 matched articles · 3 sources, 1 failing" in body
        assert "1 listed article dated outside this week" in body
    assert re.search(r"- Undated$", digest.text, re.M)  # shown without a date
    assert "Earlier · 10 May" in digest.text


# -- an empty week ---------------------------------------------------------------------


def test_an_empty_week_says_so_and_still_shows_source_health() -> None:
    digest = render_digest(week_data(events=()))
    assert digest.subject == "newsmon weekly digest — 2024-W20: no events, 1 source failing"
    for body in (digest.html, digest.markdown, digest.text):
        assert "No watched events this week." in body
        assert "Xi Jinping" not in body
        assert "kremlin" in body and "andalpost" in body
        assert re.search("failing since 16 May, 06:12 UTC", body, re.I)
    assert [count for _, count, _ in text_chart(digest.text)] == [0] * 7
    assert 'height="' not in digest.html.split(">Events<")[0].split("per day")[1]


# -- hostile pages ---------------------------------------------------------------------

HOSTILE_TITLE = "<script>alert(1)</script> [x](javascript:alert(1))"


def hostile_week() -> DigestData:
    hostile = event(
        9,
        "video",
        date(2024, 5, 14),
        date(2024, 5, 14),
        (
            article("<b>evil</b>", "en", 14, HOSTILE_TITLE, "https://example.org/a"),
            article("evil", "en", 14, "Click me", "javascript:alert(2)"),
            article("evil", "en", 14, "Quote", 'https://example.org/"onmouseover="alert(3)'),
            article("evil", "en", 14, "Line\n# Injected heading\n\u202eesrever", "https://e.org/"),
            article("evil", "en", 14, "Image ![x](https://evil.example/p.png)", "https://e.org/"),
        ),
    )
    bad_source = SourceHealth(
        "<img src=x onerror=alert(4)>",
        1,
        1,
        0,
        1,
        None,
        datetime(2024, 5, 14, tzinfo=UTC),
        "<script>alert(5)</script> | broken | table",
    )
    return replace(week_data(events=(hostile,)), sources=(bad_source,))


def test_hostile_strings_cannot_inject_html() -> None:
    html = render_digest(hostile_week()).html
    assert "<script" not in html and "<img" not in html and "<b>evil" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs)
    assert '"onmouseover' not in html and "%22onmouseover=%22" in html
    assert "Click me" in html and "javascript:alert(2)" in html  # shown, not linked
    assert "\u202e" not in html


def test_hostile_strings_cannot_inject_markdown() -> None:
    markdown = render_digest(hostile_week()).markdown
    assert not re.search(r"(?<!\\)<", markdown), "an unescaped < in the Markdown"
    assert "](javascript:" not in markdown
    assert "[Click me](" not in markdown
    assert not re.search(r"^#+ Injected", markdown, re.M)
    assert "\\<script\\>" in markdown
    rendered = markdown_to_html(markdown)  # what a chat channel or mail would show
    assert "<script" not in rendered and "<img" not in rendered and "<i>" not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    hrefs = re.findall(r'href="([^"]*)"', rendered)
    assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs)
    assert "<h1>Injected" not in rendered
    # The source's name stays in its cell: every row of the health table has six.
    table = rendered[rendered.index("<table>") : rendered.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    assert len(rows) == 2 and all(len(re.findall(r"<t[hd]", row)) == 6 for row in rows)


def test_text_keeps_hostile_titles_on_one_line() -> None:
    text = render_digest(hostile_week()).text
    assert "- Line # Injected heading esrever" in text
    assert "\u202e" not in text


# -- templates -------------------------------------------------------------------------


def test_a_template_directory_overrides_file_by_file(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text(
        "CUSTOM {{ digest.week }}: {{ digest.events | length }} events\n", encoding="utf-8"
    )
    (tmp_path / "digest.md.j2").write_text(
        "{% for e in data.events %}{{ e.articles[0].title }}{% endfor %}", encoding="utf-8"
    )
    (tmp_path / "digest.html.j2").write_text(
        "<p>{{ data.events[0].articles[0].title }}</p>", encoding="utf-8"
    )
    digest = render_digest(week_data(), templates=tmp_path)
    assert digest.text == "CUSTOM 2024-W20: 2 events\n"
    # Overrides get the same escaping as the built-in templates.
    hostile = render_digest(hostile_week(), templates=tmp_path)
    assert hostile.html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; [x](javascript:alert(1))</p>"
    assert hostile.markdown.startswith("\\<script\\>alert\\(1\\)")
    assert "](javascript" not in hostile.markdown


def test_a_partial_template_directory_keeps_the_other_built_in_templates(tmp_path: Path) -> None:
    (tmp_path / "digest.txt.j2").write_text("CUSTOM\n", encoding="utf-8")
    digest = render_digest(week_data(), templates=tmp_path)
    assert digest.text == "CUSTOM\n"
    built_in = render_digest(week_data())
    assert (digest.subject, digest.html, digest.markdown) == (
        built_in.subject,
        built_in.html,
        built_in.markdown,
    )


def test_a_missing_template_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a directory"):
        render_digest(week_data(), templates=tmp_path / "nope")


def test_regional_and_unknown_languages() -> None:
    articles = (
        article("xinhua", "zh", 16, "习近平同普京会谈", "https://www.news.cn/a"),
        article("rthk", "zh-TW", 16, "習近平與普京會談", "https://news.rthk.hk/b"),
        article("blog", None, 16, "Untagged", "https://blog.example/c"),
        replace(
            article("tass", "en", 16, "Old piece", "https://e.org/d"),
            published=datetime(2023, 12, 30, 9),
        ),
    )
    event = replace(VISIT, articles=articles)
    text = render_digest(week_data(events=(event,))).text
    assert in_order(
        text,
        "Chinese",
        "rthk",
        "習近平與普京會談 · 16 May",
        "xinhua",
        "English",
        "Old piece · 30 Dec 2023",
        "Unknown language",
        "Untagged",
    )
    assert "ZH-TW" not in text


# -- layout ----------------------------------------------------------------------------


def _style(element: lxml.html.HtmlElement) -> dict[str, str]:
    style = element.get("style", "")
    pairs = (part.split(":", 1) for part in style.split(";") if ":" in part)
    return {name.strip(): value.strip() for name, value in pairs}


def _px(value: str, side: int = 0) -> int:
    """One side of a CSS length list ("3px 0 0 8px"), top/right/bottom/left as 0..3."""
    parts = value.split()
    if len(parts) == 3:
        parts.append(parts[1])
    return int(parts[side % len(parts)].removesuffix("px"))


def test_html_keeps_a_date_with_its_year_apart_from_the_headline() -> None:
    older = article("xinhua", "zh", 16, "习近平同普京会谈", "https://www.news.cn/a")
    older = replace(older, published=datetime(2023, 10, 22, 9))  # another year: shown in full
    html = render_digest(week_data(events=(replace(VISIT, articles=(older,)),))).html
    (row,) = [
        tr
        for tr in lxml.html.fromstring(html).iter("tr")
        if tr.findall("td/a") and "习近平" in tr.text_content()
    ]
    day, headline = row.findall("td")
    assert [day.text_content().strip(), headline.text_content().strip()] == [
        "22 Oct 2023",
        "习近平同普京会谈",
    ]
    # The date's column holds the date (12px text: at most 0.6em, 7.2px, a character;
    # nowrap, so a narrower column lets it run under the headline) and a gap follows.
    assert "nowrap" in _style(day)["white-space"]
    assert _px(_style(day)["width"]) >= len("22 Oct 2023") * 7.2
    gap = _px(_style(day)["padding"], 1) + _px(_style(headline)["padding"], 3)
    assert gap >= 6
    # The source's name above stands over the headlines.
    source = row.getparent().getprevious()
    assert source.text_content() == "xinhua"
    assert _px(_style(source)["padding-left"]) == _px(_style(day)["width"]) + gap
