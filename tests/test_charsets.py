"""Decoding a page's bytes (``monitor.extract._decode``): legacy charsets declared only in
a ``<meta>``, declarations the bytes disprove, and bytes that are no charset at all."""

from __future__ import annotations

import pytest

from monitor.extract import _decode, extract_document
from tests.test_faults import HEAD_CLUTTER

RUSSIAN = "Путин и Си Цзиньпин провели переговоры в Москве"
RUSSIAN_BODY = "Президент России и Председатель КНР обсудили торговлю и энергетику в Кремле."
SIMPLIFIED = "习近平同普京在莫斯科举行会谈"
SIMPLIFIED_BODY = "国家主席习近平在克里姆林宫同俄罗斯总统普京举行会谈，两国元首交换了意见。"
TRADITIONAL = "習近平同普京在莫斯科舉行會談"
TRADITIONAL_BODY = "國家主席習近平在克里姆林宮同俄羅斯總統普京舉行會談，兩國元首交換了意見。"


def page(title: str, body: str, meta: str, head: str = "") -> str:
    return (
        f"<!doctype html><html><head>{head}{meta}<title>{title}</title></head>"
        f"<body><article><h1>{title}</h1><p>{body}</p></article></body></html>"
    )


CASES = [
    ("windows-1251", RUSSIAN, RUSSIAN_BODY),
    ("koi8-r", RUSSIAN, RUSSIAN_BODY),
    ("gbk", SIMPLIFIED, SIMPLIFIED_BODY),
    ("gb18030", SIMPLIFIED, SIMPLIFIED_BODY),
    ("big5", TRADITIONAL, TRADITIONAL_BODY),
]


@pytest.mark.parametrize("head", ["", HEAD_CLUTTER], ids=["meta-first", "meta-past-4k"])
@pytest.mark.parametrize(
    "meta",
    [
        '<meta http-equiv="Content-Type" content="text/html; charset={}">',
        '<meta charset="{}">',
    ],
    ids=["http-equiv", "charset"],
)
@pytest.mark.parametrize(("encoding", "title", "body"), CASES, ids=[c[0] for c in CASES])
def test_charset_declared_only_in_meta(
    encoding: str, title: str, body: str, meta: str, head: str
) -> None:
    raw = page(title, body, meta.format(encoding), head).encode(encoding)
    # the server's header names no charset
    text = _decode(raw, "text/html")
    assert title in text and body in text


@pytest.mark.parametrize(("encoding", "title", "body"), CASES, ids=[c[0] for c in CASES])
def test_legacy_bytes_declared_utf8_are_read_in_their_charset(
    encoding: str, title: str, body: str
) -> None:
    # header and meta both say UTF-8, the bytes disprove it: the declaration is ignored
    raw = page(title, body, '<meta charset="utf-8">').encode(encoding)
    text = _decode(raw, "text/html; charset=utf-8")
    assert title in text and body in text


@pytest.mark.parametrize("meta", ["", '<meta charset="utf-8">'], ids=["none", "late-utf8"])
@pytest.mark.parametrize(("encoding", "title", "body"), CASES, ids=[c[0] for c in CASES])
def test_undeclared_charset_is_guessed_from_the_text_not_the_markup(
    encoding: str, title: str, body: str, meta: str
) -> None:
    # nothing declares the charset but (past 4 KiB) a UTF-8 the bytes disprove
    raw = page(title, body, meta, HEAD_CLUTTER).encode(encoding)
    text = _decode(raw, "text/html")
    assert title in text and body in text


@pytest.mark.parametrize("declared", ["windows-1251", "iso-8859-1", "gbk"])
def test_utf8_bytes_win_over_any_declared_charset(declared: str) -> None:
    raw = page(RUSSIAN, SIMPLIFIED_BODY, f'<meta charset="{declared}">').encode()
    text = _decode(raw, f"text/html; charset={declared}")
    assert RUSSIAN in text and SIMPLIFIED_BODY in text


def test_header_charset_wins_over_a_contradicting_meta() -> None:
    # the server is right, the template's meta is a leftover
    raw = page(RUSSIAN, RUSSIAN_BODY, '<meta charset="iso-8859-1">').encode("koi8-r")
    text = _decode(raw, "text/html; charset=koi8-r")
    assert RUSSIAN in text


def test_invalid_utf8_is_decoded_without_an_exception_and_keeps_the_valid_text() -> None:
    # a UTF-8 page with a truncated sequence and a stray byte in its body
    raw = page(RUSSIAN, RUSSIAN_BODY + " \xa0", '<meta charset="utf-8">').encode()
    raw = raw.replace(" \xa0".encode(), b" \xd0 \xff")
    doc = extract_document(raw, "https://ria.example/20230321/1.html", content_type="text/html")
    assert doc.title == RUSSIAN
    assert RUSSIAN_BODY in doc.text
