"""monitor.extract against golden pages (tests/data/extract/cases.yaml) and a few rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml

from monitor.errors import ExtractError
from monitor.extract import content_hash, extract, extract_document, extract_text
from monitor.models import Document, Hints, Page, article_id

DATA = Path(__file__).parent / "data" / "extract"
CASES: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (DATA / "cases.yaml").read_text(encoding="utf-8")
)


def on_localhost(url: str) -> str:
    """The same page as a test replica serves it: same path, on 127.0.0.1."""
    parts = urlsplit(url)
    return urlunsplit(("http", "127.0.0.1:8765", parts.path, parts.query, ""))


def page_input(case: dict[str, Any]) -> str | bytes:
    return (DATA / case["file"]).read_bytes() if "file" in case else case["html"]


def check(document: Document, case: dict[str, Any]) -> None:
    if "title" in case:
        assert document.title == case["title"]
    if "language" in case:
        assert document.language == case["language"]
    if "author" in case:
        assert document.author == case["author"]
    if "published" in case:
        expected = case["published"]
        if expected is None:
            assert document.published is None
        elif "T" in expected:
            assert document.published is not None
            assert document.published.isoformat() == expected
        else:
            assert document.published is not None
            assert document.published.date().isoformat() == expected
    for snippet in case.get("contains", []):
        assert snippet in document.text
    for snippet in case.get("not_contains", []):
        assert snippet not in document.text


HTML_RUNS = [
    pytest.param(case, url, id=f"{case['name']}@{where}")
    for case in CASES["html"]
    for where, url in (("site", case["url"]), ("localhost", on_localhost(case["url"])))
]


@pytest.mark.parametrize(("case", "url"), HTML_RUNS)
def test_html_page(case: dict[str, Any], url: str) -> None:
    check(extract_document(page_input(case), url), case)


@pytest.mark.parametrize("case", CASES["errors"], ids=lambda c: c["name"])
def test_page_without_article(case: dict[str, Any]) -> None:
    with pytest.raises(ExtractError) as caught:
        extract_document(page_input(case), case.get("url"))
    assert caught.value.reason == case["reason"]


def test_binary_body_is_not_html() -> None:
    with pytest.raises(ExtractError) as caught:
        extract_document(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")
    assert caught.value.reason == "not-html"


@pytest.mark.parametrize("case", CASES["text"], ids=lambda c: c["name"])
def test_plain_text(case: dict[str, Any]) -> None:
    check(extract_text(case["text"]), case)


@pytest.mark.parametrize("case", CASES["text_errors"], ids=lambda c: c["name"])
def test_plain_text_without_article(case: dict[str, Any]) -> None:
    with pytest.raises(ExtractError) as caught:
        extract_text(case["text"])
    assert caught.value.reason == case["reason"]


def test_str_and_bytes_give_the_same_document() -> None:
    raw = (DATA / "kremlin_en_news.html").read_bytes()
    url = "http://127.0.0.1:8765/events/president/news/70315"
    assert extract_document(raw.decode("utf-8"), url) == extract_document(raw, url)


def test_repeated_extraction_is_stable() -> None:
    # trafilatura's deduplicate=True dropped the 4th extraction of a page (docs/pitfalls.md).
    raw = (DATA / "andalpost_wordpress.html").read_bytes()
    first = extract_document(raw, "http://127.0.0.1:8765/x/")
    assert all(extract_document(raw, "http://127.0.0.1:8765/x/") == first for _ in range(5))


KREMLIN = (DATA / "kremlin_en_news.html").read_text(encoding="utf-8")


def test_hints_date_comes_first() -> None:
    feed_date = datetime(2022, 12, 30, 13, 30, tzinfo=UTC)
    document = extract_document(KREMLIN, None, Hints(published=feed_date))
    assert document.published == feed_date


def test_hint_title_only_when_the_page_has_none() -> None:
    page = "<html><body><div><p>{}</p></div></body></html>".format(
        "The two ministers met in Beijing on Monday to prepare the summit. " * 3
    )
    assert extract_document(page, None, Hints(title="Feed title")).title == "Feed title"
    assert extract_document(KREMLIN, None, Hints(title="Feed title")).title == (
        "Talks with President of China Xi Jinping by videoconference"
    )


def test_hint_author_when_the_page_has_none() -> None:
    assert extract_document(KREMLIN, None, Hints(author="Press service")).author == (
        "Press service"
    )


@pytest.mark.parametrize(
    ("html_lang", "hint", "expected"),
    [("id-ID", None, "id"), (None, "id", "id"), (None, None, None)],
)
def test_short_text_language_falls_back(
    html_lang: str | None, hint: str | None, expected: str | None
) -> None:
    lang = f' lang="{html_lang}"' if html_lang else ""
    page = f"<html{lang}><body><article><p>Putin and Xi met today.</p></article></body></html>"
    assert extract_document(page, None, Hints(language=hint)).language == expected


def test_declared_language_settles_a_close_call() -> None:
    # One Indonesian sentence scores id 0.68 / ms 0.32: the page's lang="id" decides.
    text = "Kerja sama energi terus berfungsi sebagai jangkar hubungan kedua negara."
    page = f'<html lang="ms"><body><article><p>{text}</p></article></body></html>'
    assert extract_document(page).language == "ms"
    assert extract_document(page.replace('lang="ms"', 'lang="id"')).language == "id"


def test_declared_language_does_not_override_the_text() -> None:
    page = KREMLIN.replace('<html lang="en"', '<html lang="ru"')
    assert extract_document(page).language == "en"


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Headline of the day | Section | Daily Example", "Headline of the day"),
        ("Daily Example | Headline of the day", "Headline of the day"),
        (
            "Putin - Xi talks end with a joint statement",
            "Putin - Xi talks end with a joint statement",
        ),
    ],
)
def test_site_names_leave_the_title(title: str, expected: str) -> None:
    body = "The two leaders met on Monday and agreed to meet again in spring. " * 3
    page = (
        f"<html><head><title>{title}</title>"
        '<meta property="og:site_name" content="Daily Example"></head>'
        f"<body><article><p>{body}</p></article></body></html>"
    )
    assert extract_document(page, "http://127.0.0.1:8765/a").title == expected


def test_extract_builds_the_article() -> None:
    page = Page(
        source="kremlin-en",
        url="http://en.kremlin.ru/events/president/news/70315/print",
        canonical_url="http://en.kremlin.ru/events/president/news/70315",
        html=KREMLIN,
        hints=Hints(language="en"),
    )
    article = extract(page)
    document = extract_document(page.html, page.url, page.hints)
    assert article.id == article_id(page.canonical_url)
    assert (article.source, article.url, article.canonical_url) == (
        page.source,
        page.url,
        page.canonical_url,
    )
    assert (article.title, article.text, article.language, article.published, article.author) == (
        document.title,
        document.text,
        document.language,
        document.published,
        document.author,
    )
    assert article.content_hash == content_hash(document.text)


def test_same_story_on_two_urls_has_one_hash() -> None:
    # Syndicated copy: other site chrome, other whitespace, same story.
    copy = KREMLIN.replace("<p>The two leaders", "<p>\n   The   two leaders")
    copy = copy.replace('<aside class="sidebar">', '<aside class="sidebar"><h2>More</h2>')
    first = extract(
        Page("kremlin-en", "http://en.kremlin.ru/d/70315", "http://en.kremlin.ru/d/70315", KREMLIN)
    )
    second = extract(Page("mirror", "http://127.0.0.1:8765/n/1", "http://127.0.0.1:8765/n/1", copy))
    other = extract(
        Page(
            "kremlin-ru",
            "http://kremlin.ru/d/70748",
            "http://kremlin.ru/d/70748",
            (DATA / "kremlin_ru_transcript.html").read_text(encoding="utf-8"),
        )
    )
    assert first.id != second.id
    assert first.content_hash == second.content_hash
    assert first.content_hash != other.content_hash


def test_content_hash_ignores_case_and_spacing() -> None:
    assert content_hash("Putin  met Xi.\nTalks went on.") == content_hash(
        "putin met xi. talks went on."
    )
    assert content_hash("Putin met Xi.") != content_hash("Xi met Putin.")


RUSSIAN_PAGE = """<!doctype html><html lang="ru"><head>{meta}<title>Путин и Си Цзиньпин</title>
</head><body><article><p>Владимир Путин провёл переговоры с Председателем КНР Си Цзиньпином
в режиме видеоконференции. Лидеры обсудили двусторонние отношения.</p></article></body></html>"""


@pytest.mark.parametrize(
    ("encoding", "meta", "content_type"),
    [
        ("utf-8", "", "text/html; charset=windows-1251"),  # the header lies
        ("utf-8", '<meta charset="iso-8859-1">', None),  # the page lies
        ("utf-8", '<meta charset="koi8-r">', "text/html; charset=iso-8859-1"),  # both lie
        ("windows-1251", "", "text/html; charset=windows-1251"),  # legacy, declared
        ("windows-1251", '<meta charset="windows-1251">', "text/html"),  # legacy, in <meta>
        ("windows-1251", "", None),  # legacy, declared nowhere: charset-normalizer guesses
    ],
    ids=["header-lies", "meta-lies", "both-lie", "header", "meta", "undeclared"],
)
def test_bytes_are_decoded_utf8_first_then_as_declared(
    encoding: str, meta: str, content_type: str | None
) -> None:
    raw = RUSSIAN_PAGE.format(meta=meta).encode(encoding)
    document = extract_document(raw, "http://127.0.0.1:8765/a", content_type=content_type)
    assert document.title == "Путин и Си Цзиньпин"
    assert "с Председателем КНР Си Цзиньпином" in document.text


def test_page_date_wins_over_a_feed_date_on_another_day() -> None:
    # The page says 30 December 2022; the feed says 16 May 2024, the day of another
    # meeting, under which the matcher would have filed this article.
    feed_date = datetime(2024, 5, 16, 9, 0, tzinfo=UTC)
    document = extract_document(KREMLIN, None, Hints(published=feed_date))
    assert document.published == datetime(2022, 12, 30)
    assert document.feed_published == feed_date


def test_feed_date_a_time_zone_away_from_the_page_is_kept() -> None:
    feed_date = datetime(2022, 12, 31, 1, 30, tzinfo=UTC)  # 30 December west of UTC
    document = extract_document(KREMLIN, None, Hints(published=feed_date))
    assert document.published == feed_date
    assert document.feed_published is None


def test_contradicting_dates_are_logged_with_both(caplog: pytest.LogCaptureFixture) -> None:
    url = "http://127.0.0.1:8765/events/president/news/70315"
    hints = Hints(published=datetime(2024, 5, 16, 9, 0, tzinfo=UTC))
    with caplog.at_level("INFO", logger="monitor.extract"):
        article = extract(Page("kremlin-en", url, url, KREMLIN.encode(), hints))
    assert article.published == datetime(2022, 12, 30)
    assert [r.getMessage() for r in caplog.records] == [
        f"kremlin-en: {url}: the feed dates it 2024-05-16T09:00:00+00:00 but the page "
        "2022-12-30T00:00:00; the page's date is kept"
    ]


def test_a_page_wrongly_declared_utf8_is_read_in_its_real_charset() -> None:
    """A Russian page in windows-1251 served (or meta-tagged) as UTF-8 is not lost."""
    body = "Президент России Владимир Путин и Председатель КНР Си Цзиньпин провели переговоры. "
    page = (
        '<html><head><meta charset="utf-8"><title>Переговоры в Кремле</title></head><body>'
        f"<article><h1>Переговоры в Кремле</h1><p>{body * 4}</p><p>{body * 3}</p></article>"
        "</body></html>"
    ).encode("cp1251")
    doc = extract_document(page, content_type="text/html; charset=utf-8")
    assert "Си Цзиньпин провели переговоры" in doc.text and doc.language == "ru"


BYLINE_PAGE = """<!doctype html><html lang="en"><head><title>Talks in Moscow</title></head><body>
<article><h1>Talks in Moscow</h1>
<p class="byline">By Dana Reyes <time datetime="2024-05-16">16 May 2024</time></p>
<p>The two presidents met in the Kremlin on Thursday and signed a joint statement on
trade, energy and regional security after several hours of talks behind closed doors.</p>
<p>Officials on both sides described the meeting as productive and said working groups
would meet again before the end of the year to settle the remaining questions.</p>
</article>
<div id="comments"><span class="author">Some Commenter</span><p>First!</p></div>
</body></html>"""


def test_byline_leaves_out_its_date_and_the_comment_section() -> None:
    # The comment's author comes first among trafilatura's most specific matches, but
    # sits in the comments; the byline's <time> is not part of the name.
    assert extract_document(BYLINE_PAGE).author == "Dana Reyes"


def test_control_characters_in_a_page_are_dropped_not_fatal() -> None:
    # Stray control bytes and U+FFFF (pasted from word processors) sit in real pages.
    dirty = BYLINE_PAGE.replace("two presidents", "two\x0b presidents\x01").replace(
        "Officials", "Officials\uffff"
    )
    document = extract_document(dirty.encode("utf-8"))
    assert "The two presidents met in the Kremlin" in document.text
    assert "Officials on both sides" in document.text
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", document.text)
