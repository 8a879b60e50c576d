"""Extraction: from a fetched page or a plain-text file to a ``Document`` and an ``Article``.

This module owns everything between the bytes of a page and the readable article:
decoding, choosing the article body (trafilatura, plus a few per-host selectors in
``_SITE_RULES``), dropping boilerplate lines, cleaning the title, and deciding the
published date, the language and the author. A site with rules of its own
(``monitor.sites``) gives its title, date and body lines first. It is pure — no I/O, no
network, no clock, no logging set-up — and CPU-bound (10 to 40 ms a page): callers keep
it off the reactor thread. Fetching belongs to the crawler, storing to ``storage``.

Published date, the first step that answers:

1. the hint (the feed's or sitemap's date for this article), unless the page's structured
   date (step 2) is more than a day away from it: then the page wins, and
   ``Document.feed_published`` keeps the overruled hint;
2. structured page data: JSON-LD ``datePublished``, ``<meta>`` (``article:published_time``,
   ``itemprop``, Dublin Core…), then the article's ``time[datetime]``;
3. a full date in the URL path (``/20221230/``, ``/2022-12/30/``, ``/2022/12/30/``);
4. htmldate (trafilatura's metadata), unless it says 1 January;
5. a date in the first lines of the text, read by dateparser (en, ru, zh, id);
6. htmldate's 1 January, as a last resort.

Values keep the source's offset when it gave one (tz-aware); date-only values are
naive midnight of that day. A date before 1990 or more than a day after the page was
fetched is not believed at any step (``believed``): a CMS's epoch 0 or year 2099 would
file the article under a meeting decades away, hide it from this week's digest, or (with
``crawl.lookback``) keep it from being fetched at all. The next step answers instead;
when none does, the article is undated and the day it was found stands for its date.

Language (ISO 639-1): py3langid on the headline and text. A language the page declares
(``<html lang>``) or the source hints wins when the text finds it plausible; a close
Malay/Indonesian call goes to Indonesian; when the text is too short or too unsure, the
declared language, then the hint, decide.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from copy import deepcopy
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import chain, islice
from typing import Any
from urllib.parse import urlsplit

import dateparser
import trafilatura
from charset_normalizer import from_bytes
from htmldate import find_date
from lxml.etree import Element, LxmlError, XPath
from lxml.html import HtmlElement, fragment_fromstring
from lxml.html import fromstring as html_fromstring
from py3langid.langid import MODEL_FILE, LanguageIdentifier
from readability import Document as ReadabilityDocument
from readability.readability import Unparseable
from trafilatura.json_metadata import normalize_authors
from trafilatura.metadata import (
    examine_meta,
    extract_meta_json,
    extract_sitename,
    extract_title,
)
from trafilatura.settings import Document as TrafilaturaDocument
from trafilatura.settings import set_date_params
from trafilatura.utils import HTML_PARSER, repair_faulty_html
from w3lib.encoding import html_body_declared_encoding, html_to_unicode

from monitor.errors import ExtractError
from monitor.models import Article, Document, Hints, Page, article_id, aware
from monitor.sites import reading as site_reading
from monitor.text import language_code

__all__ = [
    "article_of",
    "believed",
    "content_hash",
    "extract",
    "extract_document",
    "extract_text",
    "load_models",
]

logger = logging.getLogger(__name__)


def _has_class(name: str) -> str:
    """XPath predicate: the element's class list contains ``name`` (not a substring of it)."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


@dataclass(frozen=True)
class _SiteRule:
    """Where one site keeps its article body; an improvement over the generic path only."""

    body: tuple[str, ...]  # XPaths of the body's parts in reading order (first match of each)
    drop: tuple[str, ...] = ()  # XPaths, relative to a part, of boilerplate inside it


# Keyed by host suffix. Routing by host, never by class alone: Kompas also uses
# `read__content`. Every page here must also come out clean without its rule, because
# the same HTML is served from 127.0.0.1 in tests (see tests/test_extract.py).
_SITE_RULES: dict[str, _SiteRule] = {
    "news.cn": _SiteRule(body=("//*[@id='detailContent']",)),
}

# Precision-mode text shorter than this (characters) is checked against balanced mode.
_PRECISION_ENOUGH = 500

_BLOCK_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th")

# Whole lines that are never article text, whatever the site.
_BOILERPLATE_LINE = re.compile(
    r"""^(?:
      baca\s+juga\b.*                                  # Indonesian related-article links
    | (?:simak|lihat|tonton)\s+(?:juga|selengkapnya|berita\s+lainnya|video)\b.*
    | (?:share|share\s+this(?:\s+article)?|bagikan|поделиться|分享到?)\s*:?  # share widgets
    | (?:tags?|теги|метки)\s*:.*
    | \(?(?:photo|foto|фото|图片)\s*:.{0,120}\)?        # photo credits
    | (?:publication\s+status|статус\s+материала)        # Kremlin's trailing block
    | (?:published\s+in\s+sections?|publication\s+date|direct\s+link
       |опубликован\s+в\s+раздел\w*|дата\s+публикации|ссылка\s+на\s+материал)\s*:.*
    | \N{LEFT BLACK LENTICULAR BRACKET}责任编辑\s*[:\N{FULLWIDTH COLON}].*  # Xinhua's editor
    )$""",
    re.IGNORECASE | re.VERBOSE,
)

# Short lines (see _SHORT_LINE) that are never article text either: what sites put
# around and between paragraphs, in the four languages newsmon reads and a few more.
_SHORT_BOILERPLATE = re.compile(
    r"""^(?:
      (?:read\s+(?:more|also|next)|see\s+(?:more|also)|also\s+read|related(?:\s+\w+)?
       |more\s+on\s+this(?:\s+story)?|читайте\s+(?:также|еще|ещё)|смотрите\s+также|по\s+теме
       |相关\w{0,2}|延伸阅读|推荐阅读)\s*[:：].*                # "Read more: <headline>"
    | read\s+more|related\s+(?:articles|stories|news|posts)|don[’']?t\s+miss|читайте\s+также
    | 相关新闻|相关阅读|更多阅读
    | (?:like\s+this\s+(?:story|article)\?\s*)?share\s+(?:it|this)\b.{0,60}
    | follow\s+.{1,60}\s+on\s+(?:twitter|facebook|instagram|telegram|youtube|tiktok|linkedin)\b.*
    | (?:подписывайтесь|подпишитесь)\s+на\s.*
    | ikuti\s.{1,60}\s+di\s+(?:google\s+news|instagram|twitter|facebook|telegram|whatsapp)\b.*
    | sign\s+up\s.{0,60}newsletter.*|subscribe\s+to\s+(?:our|the)\s.{0,40}newsletter.*
    | (?:copyright|©|\(c\))\s.*
    | .*(?:\ball\s+rights\s+reserved|все\s+права\s+защищены|版权所有).*
    | .{0,120}\b(?:photos?|images?|fotos?|фото)\s*(?:credits?\s*)?[:©].{0,80}  # photo credits
    | (?:filed\s+under|posted\s+in|categor(?:y|ies)|kategori|рубрик[аи])\s*:.*|tags
    | (?:\d+\s+)?comments?|leave\s+a\s+(?:comment|reply)|комментари[йи]|komentar|评论
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_SHORT_LINE = 200  # characters; a paragraph of text is longer, or is a sentence

# Some sentence of prose, as opposed to the menus and link lists a page without an
# article leaves behind.
_PROSE = re.compile(
    r"^.{20,}[.!?…。\N{FULLWIDTH EXCLAMATION MARK}\N{FULLWIDTH QUESTION MARK}]"
    r"[\"'”»」)\N{RIGHT SINGLE QUOTATION MARK}]*(?:\s|$)",
    re.MULTILINE,
)

_HTML_TAG = re.compile(
    r"<\s*(?:!doctype|html|head|body|title|meta|div|p|span|article|main|section|table|h[1-6])\b",
    re.IGNORECASE,
)

_TITLE_SEPARATOR = re.compile(r"\s*[|•]\s*|\s+[·\-\N{EN DASH}\N{EM DASH}]\s+")

# What a path says about the day: /20221230/, /2022-12/30/, /2022/12/30/.
_URL_DATE = re.compile(
    r"/(?P<y>(?:19|20)\d\d)(?P<sep>[-/_]?)(?P<m>0[1-9]|1[0-2])(?:(?P=sep)|/)"
    r"(?P<d>0[1-9]|[12]\d|3[01])(?=[/_.-]|$)"
)

# Dates as they are written in datelines; dateparser decides whether the word is a month.
_TEXT_DATE = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日"
    r"|\b\d{1,2}[./]\d{1,2}[./]\d{4}\b"
    r"|\b\d{4}-\d{2}-\d{2}\b"
    r"|\b\d{1,2}\.?\s+[^\W\d_]{3,12}\.?,?\s+\d{4}\b"
    r"|\b[^\W\d_]{3,12}\.?\s+\d{1,2},?\s+\d{4}\b"
)
_DATE_LANGUAGES = ["en", "ru", "zh", "id"]
# A bare "2024" is not a date; numeric dates in these languages are day-first.
_DATEPARSER_SETTINGS: Any = {"REQUIRE_PARTS": ["day", "month", "year"], "DATE_ORDER": "DMY"}
_DATELINE_LINES = 3  # how far into the text a dateline may sit
_DATELINE_MAX_CHARS = 80  # a plain-text file's second line longer than this is body

_META_DATE_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date.issued",
    "dcterms.issued",
    "dcterms.created",
    "dc.date",
    "date",
    "sailthru.date",
    "parsely-pub-date",
)
_TIME_XPATHS = tuple(
    XPath(expression)
    for expression in (
        f"//time[@datetime][{_has_class('read__published')}]/@datetime",  # Kremlin
        f"//time[@datetime][{_has_class('entry-date')}][{_has_class('published')}]/@datetime",  # WP
        f"//time[@datetime][{_has_class('dt-published')} or {_has_class('published')}]/@datetime",
        "//*[@itemprop='datePublished']/@datetime | //*[@itemprop='datePublished']/@content",
        "(//article//time[@datetime])[1]/@datetime",
    )
)
_ARTICLE_TYPES = re.compile(r"Article|BlogPosting|Report|Posting", re.IGNORECASE)

# py3langid labels without an ISO 639-1 code of their own, folded into the written
# language they are read as (a one-line Chinese headline often scores as "wuu").
_LANGUAGE_FOLD = {"wuu": "zh", "yue": "zh", "arz": "ar", "ary": "ar", "uzs": "uz", "gug": "gn"}
# Pairs py3langid cannot tell apart in a paragraph: when it prefers the first and still
# gives the second a fair share, take the second. Indonesian news outnumbers Malay by far
# (a short Andalpost paragraph scores ms 0.52 / id 0.48); long Malay text still scores ms.
_CLOSE_CALLS = {"ms": "id"}
# Characters. On 788 texts (the benchmark's pages, the test corpora) 1,000 and 3,000 gave
# the same language every time, in a third of the time; on 804, every length from 400 to
# 1,000 did, and 500 costs half of 1,000 (0.75 ms a benchmark page); at 300 two short
# pages changed.
_LANGID_SAMPLE = 500
_LANGID_MIN_CHARS = 30  # below this the text alone does not decide
_LANGID_MIN_CONFIDENCE = 0.5
_PLAUSIBLE = 0.25  # a declared language the text gives this much is taken (id vs ms)


def extract_document(
    html: str | bytes,
    url: str | None = None,
    hints: Hints = Hints(),  # noqa: B008 - frozen, so one shared default is safe
    content_type: str | None = None,
    fetched_at: datetime | None = None,
) -> Document:
    """Read the article in one HTML page; raises ``ExtractError`` when there is none.

    ``content_type`` is the HTTP header the bytes came with: its charset is one clue
    to their encoding, after UTF-8 (see ``_decode``). No date after ``fetched_at``
    (and a day) is believed; without it, only dates before 1990 are refused."""
    markup = _decode(html, content_type) if isinstance(html, bytes) else html
    if not markup.strip():
        raise ExtractError("empty-page", "nothing but whitespace")
    if "\x00" in markup or not _HTML_TAG.search(markup):
        raise ExtractError("not-html", "no HTML markup")
    tree = _parse(markup)
    if tree is None:
        raise ExtractError("not-html", "lxml could not parse it")

    page = _page_metadata(tree)
    metas = _meta_values(tree)
    site = site_reading(tree, url)  # the page's own site rule, if it has one
    title = site.title or _title(tree, metas, page.title, page.sitename, url) or hints.title or ""
    text = _clean_lines(site.lines, title) if site.lines else ""
    text = text if _PROSE.search(text) else _body_text(tree, url, title, markup)
    if not _PROSE.search(text):
        raise ExtractError("no-text", "no paragraph of article text")

    page_date = believed(site.published or _structured_date(tree, metas), fetched_at)
    feed_date, overruled = believed(hints.published, fetched_at), None
    if feed_date and page_date and abs((feed_date.date() - page_date.date()).days) > 1:
        # The page's own dateline is written with the article; a feed's date may be a
        # re-publication, a template's bug or another item's, and the matcher would
        # file the article under whatever meeting took place that day. One calendar day
        # apart is left alone: time zones make that much.
        feed_date, overruled = None, hints.published
    published = (
        feed_date
        or page_date
        or believed(_url_date(url), fetched_at)
        or believed(_unstructured_date(tree, url, text), fetched_at)
    )
    language = _language(
        f"{title}\n{text[:_LANGID_SAMPLE]}",
        language_code(tree.get("lang") or metas.get("og:locale")),
        language_code(hints.language),
    )
    author = page.author or _byline(tree) or hints.author
    return Document(
        title=title,
        text=text,
        language=language,
        published=published,
        author=author.strip() if author else None,
        feed_published=overruled,
    )


def extract(page: Page) -> Article:
    """The Article of one fetched page; raises ``ExtractError`` when it has no article."""
    return article_of(
        page, extract_document(page.html, page.url, page.hints, page.content_type, page.fetched_at)
    )


def article_of(page: Page, document: Document) -> Article:
    """The Article of a page whose Document was read (maybe in another process: the log
    line about a contradicted feed date is written here, where logging is set up)."""
    if document.feed_published is not None:
        logger.info(
            "%s: %s: the feed dates it %s but the page %s; the page's date is kept",
            page.source,
            page.url,
            document.feed_published.isoformat(),
            document.published.isoformat() if document.published else None,
        )
    return Article(
        id=article_id(page.canonical_url),
        source=page.source,
        url=page.url,
        canonical_url=page.canonical_url,
        title=document.title,
        text=document.text,
        language=document.language,
        published=document.published,
        author=document.author,
        content_hash=content_hash(document.text),
    )


def extract_text(text: str) -> Document:
    """Read a plain-text article: headline, an optional dateline, then the body.

    The dateline line ("Moscow, 14 December 2021", "北京 2022年12月30日") gives the date
    and stays out of the text, so the text hashes like the same story's HTML page.
    A first line that reads as a paragraph (a file that starts with its lede) is
    both the title and the start of the text.
    """
    lines = [" ".join(line.split()) for line in text.lstrip("\ufeff").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise ExtractError("empty-page", "no text")
    title, body = lines[0], lines[1:]
    published = None
    if body and len(body[0]) <= _DATELINE_MAX_CHARS:
        published = _date_in_text(body[0])
        if published:
            body = body[1:]
    starts_with_lede = len(title) >= 80 and bool(_PROSE.search(title))
    cleaned = _clean_lines(
        [title, *body] if starts_with_lede else body, "" if starts_with_lede else title
    )
    if not cleaned:
        raise ExtractError("no-text", "only a headline")
    article = cleaned if starts_with_lede else f"{title}\n{cleaned}"
    return Document(
        title=title,
        text=cleaned,
        language=_language(article, None, None),
        published=published or _date_in_text(article),
        author=None,
    )


def content_hash(text: str) -> str:
    """Fingerprint of an article's text: equal for the same story on two URLs."""
    normalised = " ".join(text.lower().split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


# --- decoding -------------------------------------------------------------------------


def _decode(html: bytes, content_type: str | None = None) -> str:
    """Bytes that are valid UTF-8 are UTF-8, whatever the server or the page declares;
    else w3lib's ``html_to_unicode``: BOM, then the HTTP header's charset, then
    ``<meta charset>``/http-equiv in the first 4 KiB, then ``_undeclared_encoding``.

    UTF-8 comes first because declarations are the part that goes wrong (a CMS moved to
    UTF-8 keeps its old ``windows-1251`` header or meta), while text in a legacy
    encoding is next to never valid UTF-8 beyond plain ASCII, which reads the same.
    """
    try:
        return html.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    encoding, text = html_to_unicode(content_type, html, auto_detect_fun=_undeclared_encoding)
    if codecs.lookup(encoding).name == "utf-8":
        # Declared UTF-8 (header or meta), but the bytes just failed to decode as UTF-8:
        # the declaration is wrong, and the text would come out as replacement characters.
        guessed = _undeclared_encoding(html)
        if guessed and codecs.lookup(guessed).name != "utf-8":
            return html.decode(guessed, errors="replace")
    return text


def _undeclared_encoding(body: bytes) -> str | None:
    """A ``<meta>`` charset later in the head than w3lib looks (its first 4 KiB: a
    Russian CMS's head of scripts and styles puts it further), else charset-normalizer's
    guess from the page's non-ASCII text alone: over the whole page, mostly ASCII markup
    and scripts, it reads a windows-1251, koi8-r, gbk or big5 article as cp1250."""
    head = body[:_HEAD_SCAN]
    if (end := head.lower().find(b"<body")) >= 0:
        head = head[:end]
    for tag in _META_TAG.finditer(head):
        declared = html_body_declared_encoding(tag.group())
        # UTF-8 is not: the bytes have already failed to decode as UTF-8
        if declared and codecs.lookup(declared).name != "utf-8":
            return declared
    text = b"\n".join(run for run in _BETWEEN_TAGS.findall(body) if _NON_ASCII.search(run))
    best = from_bytes(text or body).best()
    return best.encoding if best else None


_BETWEEN_TAGS = re.compile(rb"[^<>]+")
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_HEAD_SCAN = 256 * 1024  # bytes: a head longer than this declares nothing we look for
_META_TAG = re.compile(rb"<meta\b[^>]*>", re.IGNORECASE)

# What trafilatura's ``load_html`` deletes before parsing (``INVALID_XML_CHARS``): lxml
# keeps these in the tree, and then refuses them in text trafilatura sets. Each is one
# byte in UTF-8, or a three-byte sequence for U+FFFE and U+FFFF.
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_NONCHARACTERS = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")


def _parse(markup: str) -> HtmlElement | None:
    """trafilatura's ``load_html`` on UTF-8 bytes rather than on the string.

    Its regular expression over the string cost 1 ms a page (a third of the parse), and
    libxml2 reads UTF-8 bytes faster than a Python string; deleting the same characters
    from the bytes costs ~0.1 ms. Its two repairs of the first lines are kept (``<!DOCTYPE
    .../>``, a self-closing ``<html/>``), on those lines only.
    """
    head, rest = markup[:_REPAIRED_HEAD], markup[_REPAIRED_HEAD:]
    data = (repair_faulty_html(head, head[:50].lower()) + rest).encode("utf-8", "surrogatepass")
    data = data.translate(None, _CONTROL_BYTES)
    for sequence in _NONCHARACTERS:
        data = data.replace(sequence, b"")
    try:
        tree = html_fromstring(data, parser=HTML_PARSER)
    except (ValueError, LxmlError):
        return None
    # load_html's test: a page that never says "html" and parses to one element is a
    # fragment or plain text.
    if "html" not in markup[:50].lower() and len(tree) < 2:
        return None
    return tree


_REPAIRED_HEAD = 4096  # characters; load_html looks for a self-closing <html/> this far


# --- body -----------------------------------------------------------------------------


def _site_lines(tree: HtmlElement, url: str | None) -> list[str]:
    """The body by the host's rule; empty when there is no rule or it matched nothing."""
    host = (urlsplit(url).hostname or "") if url else ""
    rule = next(
        (r for suffix, r in _SITE_RULES.items() if host == suffix or host.endswith("." + suffix)),
        None,
    )
    if rule is None:
        return []
    lines: list[str] = []
    for xpath in rule.body:
        for found in tree.xpath(xpath)[:1]:
            part = deepcopy(found)  # dropping nodes must not change the page's tree
            for drop in (*rule.drop, ".//script", ".//style", ".//noscript"):
                for node in part.xpath(drop):
                    node.drop_tree()
            lines.extend(_block_lines(part))
    return lines


def _block_lines(root: HtmlElement) -> list[str]:
    """One line per outermost block element (paragraph, heading, list item…)."""
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    blocks = [
        el
        for el in root.iter(*_BLOCK_TAGS)
        if not any(a.tag in _BLOCK_TAGS for a in el.iterancestors())
    ] or [root]
    return [line for el in blocks for line in el.text_content().splitlines()]


def _microformat_lead(tree: HtmlElement) -> str | None:
    """The lead of an h-entry (microformats2 ``p-summary`` beside its ``e-content``).

    trafilatura takes the ``itemprop=articleBody`` container and leaves the lead out, yet
    on Kremlin pages the lead is the sentence that says who met whom.
    """
    # The plain `contains` walks the tree cheaply; the exact class test runs on its finds.
    entries = (
        candidate
        for candidate in tree.xpath("//*[contains(@class, 'h-entry')]")
        if candidate.xpath(f"self::*[{_has_class('h-entry')}][.//*[{_has_class('e-content')}]]")
    )
    for entry in islice(entries, 1):
        for summary in entry.xpath(f".//*[{_has_class('p-summary')}]")[:1]:
            return " ".join(summary.text_content().split()) or None
    return None


def _body_text(tree: HtmlElement, url: str | None, title: str, markup: str) -> str:
    """The host's rule where it finds prose, else trafilatura's text with the h-entry lead."""
    text = _clean_lines(_site_lines(tree, url), title)
    if _PROSE.search(text):
        return text
    extracted = _article_text(tree, url)
    lines = extracted.splitlines()
    # The markup test is ~50x cheaper than the class XPath's walk, and most pages fail it.
    lead = _microformat_lead(tree) if "h-entry" in markup else None
    if lead and _squash(lead) not in _squash(extracted):
        lines.insert(0, lead)
    return _clean_lines(lines, title)


def _article_text(tree: HtmlElement, url: str | None) -> str:
    """trafilatura's precision mode; where it finds little, its balanced mode, and where
    the two disagree, readability-lxml as a second opinion.

    Precision drops more related-link lists, newsletter boxes and teasers (tuning part of
    bench/extraction.py: F1 0.964 → 0.968), but on some layouts it keeps next to nothing
    of the article, and balanced mode then keeps the menus too. readability's text is
    taken when it lies between the two (F1 0.968 → 0.974 on the tuning part; it costs
    ~20 ms a page, so it runs only there: 5 pages in 121).
    """
    options: dict[str, Any] = {
        "url": url,
        "with_metadata": False,  # read by _page_metadata, without the costly parts
        "include_comments": False,  # measurably helps (docs/pitfalls.md)
        "fast": True,  # same F1, ~1.4x faster, less memory
        "deduplicate": False,  # its process-global cache drops repeat pages in a daemon
    }
    # trafilatura works on a copy: `tree` stays whole for the page's own metadata.
    # No target_language: a wrong one discards the whole document.
    precise = _text_of(trafilatura.bare_extraction(tree, favor_precision=True, **options))
    if len(precise) >= _PRECISION_ENOUGH and _PROSE.search(precise):
        return precise
    balanced = _text_of(trafilatura.bare_extraction(tree, **options))
    if len(balanced) <= 2 * len(precise) and (
        _PROSE.search(precise) or not _PROSE.search(balanced)
    ):
        return precise
    try:
        # readability drops hidden nodes in place: it works on a copy.
        summary = ReadabilityDocument(deepcopy(tree), url=url).summary(html_partial=True)
    except Unparseable:
        return balanced
    second = "\n".join(_block_lines(fragment_fromstring(summary, create_parent="div")))
    if len(precise) <= len(second) <= len(balanced) and _PROSE.search(second):
        return second
    return balanced


def _text_of(result: object) -> str:
    return (result.text if isinstance(result, TrafilaturaDocument) else None) or ""


def _clean_lines(lines: Iterable[str], title: str) -> str:
    kept: list[str] = []
    for raw in lines:
        line = " ".join(raw.split())
        if not line or _BOILERPLATE_LINE.match(line):
            continue
        if len(line) <= _SHORT_LINE and _SHORT_BOILERPLATE.match(line):
            continue
        if not kept and title and _squash(line) == _squash(title):
            continue  # the headline repeated as the body's first line
        kept.append(line)
    return "\n".join(kept)


def _squash(text: str) -> str:
    return re.sub(r"\W+", "", text.casefold())


# --- metadata -------------------------------------------------------------------------


def _page_metadata(tree: HtmlElement) -> TrafilaturaDocument:
    """Title, author and site name as trafilatura's ``extract_metadata`` reads them (meta
    tags, then JSON-LD, then the title elements), without what newsmon does not use or
    does itself: categories, tags, licence, URL and htmldate (see ``_unstructured_date``),
    and without the byline search, which copies the whole tree (see ``_byline``).

    Passing ``with_metadata=True`` instead cost 24 % of the extraction time.
    """
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None  # trafilatura's own rule: a one-word "author" is a handle
    metadata = extract_meta_json(tree, metadata)
    metadata.title = metadata.title or extract_title(tree)
    metadata.sitename = metadata.sitename or extract_sitename(tree)
    return metadata


def _byline(tree: HtmlElement) -> str | None:
    """trafilatura's byline search (``extract_author``: its three author XPaths in turn on
    the tree without its discard XPaths' nodes), in one walk over the tree, which it leaves
    as it was.

    Its XPaths test attributes with EXSLT regular expressions, one call into Python per
    element and expression: 5–7 ms a page on the benchmark's pages, against ~3 ms here,
    with the same bylines on its 181 pages and the test pages.
    """
    discarded: set[HtmlElement] = set()
    levels: tuple[list[HtmlElement], ...] = ([], [], [])
    for el in _BYLINE_NODES(tree):
        if _author_discarded(el):
            discarded.add(el)
            continue
        for level, test in zip(levels, _AUTHOR_TESTS, strict=True):
            if test(el):
                level.append(el)
    for level in levels:
        for candidate in level:
            if any(a in discarded for a in candidate.iterancestors()):
                continue
            content = " ".join(" ".join(_visible_text(candidate, discarded)).split())
            if 2 < len(content) < _BYLINE_MAX:
                return normalize_authors(None, content)
    return None


# The only elements the tests below can match, found without leaving libxml2.
_BYLINE_NODES = XPath(
    "//*[@class or @id or @rel or @itemprop or @data-testid or @data-component]"
    " | //author | //time | //figure"
)
_BYLINE_MAX = 120  # characters; longer is a paragraph mentioning an author

# trafilatura.xpaths.AUTHOR_XPATHS and AUTHOR_DISCARD_XPATHS, attribute for attribute.
_AUTHOR_NAME_CLASS = re.compile("author-?name|AuthorName|authorName")
_AUTHOR_ID = re.compile("author|zuozhe|bianji|xiaobian")
_AUTHOR_CLASS = re.compile(
    "author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name"
)
_ANY_AUTHOR_ID = re.compile("[Aa]uthor")
_ANY_AUTHOR_CLASS = re.compile("[Aa]uthor|screenname|writer|[Bb]yline")
_DISCARD_ID = re.compile("^comments|comment-?list|ProductReviews")
_DISCARD_CLASS = re.compile(
    "^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram"
    "|article-(?:share|support)|print|category|meta-date|meta-reviewer"
)


def _attribute_test(el: HtmlElement, name: str, pattern: re.Pattern[str]) -> bool:
    value = el.get(name)
    return value is not None and pattern.search(value) is not None


def _specific_author(el: HtmlElement) -> bool:
    if el.tag == "author":
        return True
    return el.tag in ("a", "address", "div", "link", "p", "span", "strong") and (
        el.get("rel") == "author"
        or el.get("id") == "author"
        or el.get("class") == "author"
        or el.get("itemprop") == "author name"
        or el.get("data-testid") in ("AuthorCard", "AuthorURL")
        or _attribute_test(el, "class", _AUTHOR_NAME_CLASS)
    )


def _generic_author(el: HtmlElement) -> bool:
    return el.tag in ("a", "div", "h3", "h4", "p", "span") and (
        el.get("class") in ("byline", "username", "byl", "BBL")
        or "author" in el.get("itemprop", "")
        or _attribute_test(el, "id", _AUTHOR_ID)
        or _attribute_test(el, "class", _AUTHOR_CLASS)
    )


def _any_author(el: HtmlElement) -> bool:
    return (
        "Byline" in el.get("data-component", "")
        or "author" in el.get("itemprop", "")
        or _attribute_test(el, "id", _ANY_AUTHOR_ID)
        or _attribute_test(el, "class", _ANY_AUTHOR_CLASS)
    )


_AUTHOR_TESTS = (_specific_author, _generic_author, _any_author)


def _author_discarded(el: HtmlElement) -> bool:
    if el.tag in ("time", "figure"):
        return True
    return el.tag in ("a", "div", "section", "span") and (
        el.get("id") == "comments"
        or el.get("class") in ("comments", "title", "date")
        or _attribute_test(el, "id", _DISCARD_ID)
        or _attribute_test(el, "class", _DISCARD_CLASS)
        or "Figure" in el.get("data-component", "")
    )


def _visible_text(el: HtmlElement, hidden: set[HtmlElement]) -> list[str]:
    """``el.itertext()`` as it reads once the hidden nodes, and what is inside them, are
    deleted with their tails kept (``trafilatura.xml.delete_element`` joins a tail to what
    precedes it)."""
    head = el.text or ""
    children: list[tuple[list[str], str]] = []
    for child in el.iterchildren(Element):
        if child in hidden:
            if not children:
                head += child.tail or ""
            else:
                children[-1] = (children[-1][0], children[-1][1] + (child.tail or ""))
        else:
            children.append((_visible_text(child, hidden), child.tail or ""))
    pieces = [head] if head else []
    for inner, tail in children:
        pieces.extend(inner)
        if tail:
            pieces.append(tail)
    return pieces


# --- title ----------------------------------------------------------------------------


def _title(
    tree: HtmlElement,
    metas: dict[str, str],
    extracted: str | None,
    sitename: str | None,
    url: str | None,
) -> str:
    """The headline without the site's name.

    trafilatura's title, unless it is a piece of ``<title>``: it cuts that at the last
    separator and keeps the first part ("Putin - Xi talks" → "Putin", "Site | Headline" →
    "Site"). Then og:title, the page's only h1, or the whole ``<title>`` is cleaned instead.
    """
    h1s = [" ".join(h1.text_content().split()) for h1 in tree.iter("h1")]
    h1 = h1s[0] if len(h1s) == 1 else None
    og_title = metas.get("og:title")
    head_title = " ".join((tree.findtext(".//head/title") or "").split())
    extracted = " ".join(extracted.split()) if extracted else None
    if extracted and extracted in head_title and extracted not in (h1, og_title):
        extracted = None
    title = extracted or og_title or h1 or head_title
    host = (urlsplit(url).hostname or "") if url else ""
    site_names = {
        _squash(name)
        for name in (sitename, metas.get("og:site_name"), metas.get("application-name"), host)
        if name
    } | {_squash(label) for label in host.split(".")[:-1]}
    headings = {_squash(h) for h in (*h1s, og_title, metas.get("twitter:title")) if h}
    return _strip_site_name(title, site_names, headings)


def _strip_site_name(title: str, site_names: set[str], headings: set[str]) -> str:
    """Drop " • President of Russia", " - Andalpost", "Site | " around a headline."""
    for _ in range(2):  # "Headline | Section | Site"
        separators = list(_TITLE_SEPARATOR.finditer(title))
        if not separators:
            break
        last, first = separators[-1], separators[0]
        head, tail = title[: last.start()], title[last.end() :]
        if head and (
            _squash(tail) in site_names
            or _squash(head) in headings
            # "|" and "•" almost never sit inside a headline, so a short tail is a site name.
            or (last.group().strip() in "|•" and len(tail.split()) <= 4 and len(head) > len(tail))
        ):
            title = head
        elif _squash(title[: first.start()]) in site_names:
            title = title[first.end() :]
        else:
            break
    return title


# --- dates ----------------------------------------------------------------------------


def _meta_values(tree: HtmlElement) -> dict[str, str]:
    """``<meta>`` content by lower-cased property/name/itemprop; the first one wins."""
    values: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop")
        content = meta.get("content")
        if key and content and content.strip():
            values.setdefault(key.strip().lower(), content.strip())
    return values


def _structured_date(tree: HtmlElement, metas: dict[str, str]) -> datetime | None:
    # Lazily, in order: the <time> XPaths each walk the whole tree, and most pages
    # answer from JSON-LD or <meta> before them.
    candidates: Iterator[str | None] = chain(
        _jsonld_dates(tree),
        (metas.get(key) for key in _META_DATE_KEYS),
        (str(v) for xpath in _TIME_XPATHS for v in xpath(tree)[:1]),
    )
    return next((d for d in map(_parse_date_value, filter(None, candidates)) if d), None)


def _jsonld_dates(tree: HtmlElement) -> list[str]:
    """``datePublished`` values, those of Article-like objects first."""
    articles: list[str] = []
    others: list[str] = []
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "", strict=False)
        except ValueError:
            continue  # broken JSON-LD is common; the page has other dates
        for obj in _jsonld_objects(data):
            value = obj.get("datePublished")
            if isinstance(value, str):
                kind = str(obj.get("@type", ""))
                (articles if _ARTICLE_TYPES.search(kind) else others).append(value)
    return articles + others


def _jsonld_objects(data: object) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _jsonld_objects(item)
    elif isinstance(data, dict):
        yield data
        yield from _jsonld_objects(data.get("@graph"))


_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_CLOCK_SLACK = timedelta(days=1)  # time zones, and a site's clock a little ahead


def believed(moment: datetime | None, fetched_at: datetime | None) -> datetime | None:
    """``moment``, if it can be the date of an article fetched at ``fetched_at``."""
    if moment is None:
        return None
    zoned = aware(moment)
    if zoned < _EARLIEST or (fetched_at is not None and zoned > fetched_at + _CLOCK_SLACK):
        return None
    return moment


def _parse_date_value(value: str) -> datetime | None:
    value = value.strip()
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = dateparser.parse(value, languages=_DATE_LANGUAGES, settings=_DATEPARSER_SETTINGS)
    return parsed if parsed and 1990 <= parsed.year <= 2100 else None


def _url_date(url: str | None) -> datetime | None:
    match = _URL_DATE.search(urlsplit(url).path) if url else None
    if not match:
        return None
    try:
        return datetime(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:  # 2022/02/30
        return None


def _unstructured_date(tree: HtmlElement, url: str | None, text: str) -> datetime | None:
    """htmldate's guess, then a dateline in the text, then htmldate's 1 January.

    htmldate reads "6 мая 2024 года" as 2024-01-01, so 1 January is only believed when
    nothing else has a date. Called only where the structured sources gave none: htmldate
    copies and searches the whole tree.
    """
    guessed = find_date(tree, url=url, **set_date_params(extensive=True))
    parsed = _parse_date_value(guessed) if guessed else None
    if parsed and (parsed.month, parsed.day) != (1, 1):
        return parsed
    return _date_in_text(text) or parsed


def _date_in_text(text: str) -> datetime | None:
    """A dateline date in the first lines: "Jumat (30/12/2022)", "30 декабря 2022 года"…"""
    head = "\n".join(text.splitlines()[:_DATELINE_LINES])[:400]
    return next(filter(None, map(_parse_date_value, _TEXT_DATE.findall(head))), None)


# --- language -------------------------------------------------------------------------


_MODEL_LOCK = threading.Lock()


def load_models() -> None:
    """Load the language model now (an extraction worker's start), not at the first page."""
    _identifier()


def _identifier() -> LanguageIdentifier:
    # Without the lock, threads extracting at once each loaded the model (six threads:
    # ~2.5 s CPU and ~300 MB, PITFALLS.md).
    with _MODEL_LOCK:
        return _load_identifier()


@cache
def _load_identifier() -> LanguageIdentifier:
    # Loaded on first use, not at import: the CLI imports this module lazily too.
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _language(text: str, declared: str | None, hinted: str | None) -> str | None:
    sample = text[:_LANGID_SAMPLE]
    scores: dict[str, float] = {}
    for label, probability in _identifier().rank(sample):
        code = _LANGUAGE_FOLD.get(label, label)
        scores[code] = scores.get(code, 0.0) + probability
    for stated in (declared, hinted):
        # Close languages split the score (Indonesian/Malay); the page's word settles it.
        if stated and scores.get(stated, 0.0) >= _PLAUSIBLE:
            return stated
    best = max(scores, key=scores.__getitem__)
    confidence = scores[best]
    rival = _CLOSE_CALLS.get(best)
    if rival and scores.get(rival, 0.0) >= _PLAUSIBLE:
        best, confidence = rival, confidence + scores[rival]
    if len(sample) >= _LANGID_MIN_CHARS and confidence >= _LANGID_MIN_CONFIDENCE and len(best) == 2:
        return best
    return declared or hinted
