"""Site rules (monitor/sites): each site's pages, read at the site's own address and as a
replica serves them on 127.0.0.1, give the right title, date, language and a body without
the site's boilerplate; routing is by host, never by a class name alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from lxml.html import fromstring

from crawler.urls import canonical_url
from monitor.demo.replicas import SITES_DIR, ReplicaSites
from monitor.extract import extract_document
from monitor.runner import CycleReport
from monitor.sites import refusal, site_for
from monitor.sites.andalpost import Andalpost
from monitor.sites.kremlin import REFUSED, Kremlin
from tests.conftest import write_config

DATA = Path(__file__).parent / "data" / "sites"
LOCAL = "http://127.0.0.1:8765"

CASES: list[dict[str, Any]] = [
    {
        "name": "kremlin-en-transcript",
        "file": DATA / "kremlin_en_transcript.html",
        "url": "http://en.kremlin.ru/events/president/transcripts/73990",
        "title": "Russian-Chinese talks in restricted format",
        "published": "2024-05-16",
        "language": "en",
        "starts": "Beijing\nVladimir Putin and President of the People's Republic of China",
        "contains": [
            "President of the People's Republic of China Xi Jinping (retranslated): Dear",
            "President of Russia Vladimir Putin: Mr Chairman, dear friend",
            "continued with the participation of the delegations.",
        ],
        "not_contains": [
            "* * *",
            "Qingdao",  # an old photo's caption
            "2018",
            "Publication status",
            "Direct link",
            "Foreign policy",
            "See also",
            "Li Qiang",  # the sidebar's headlines
            "Print",
            "Creative Commons",
        ],
    },
    {
        "name": "kremlin-ru-news",
        "file": SITES_DIR / "kremlin-ru/events/president/news/74040",
        "url": "http://kremlin.ru/events/president/news/74040",
        "title": "Российско-китайские переговоры",
        "published": "2024-05-16",
        "language": "ru",
        "starts": "Пекин\n",
        "contains": ["В.Путин:"],
        "not_contains": ["Статус материала", "Ссылка на материал", "• Президент России"],
    },
    {
        "name": "andalpost-post",
        "file": SITES_DIR
        / "andalpost/xi-jinping-dan-putin-gelar-konferensi-video-jelang-tahun-baru/index.html",
        "url": "https://andalpost.com/xi-jinping-dan-putin-gelar-konferensi-video-jelang-tahun-baru/",
        "title": "Xi Jinping dan Putin Gelar Konferensi Video Jelang Tahun Baru",
        "published": "2022-12-30T12:12:40+00:00",  # Yoast's, not the theme's +07:00
        "language": "id",
        "starts": "ANDALPOST.COM – Presiden China Xi Jinping",
        "contains": ["Perdagangan dan Energi", "koordinasi di Perserikatan Bangsa-Bangsa."],
        "not_contains": [
            "Baca juga",
            "Rupiah Menguat",  # a "Baca juga" link's headline
            "Simak selengkapnya",
            "4 Februari 2022",  # the photo caption's older date
            "Berita Terkait",
            "Joe Biden",  # related posts
            "Terpopuler",
            "Bagikan",
            "Tag:",
            "All Rights Reserved",
        ],
    },
]


def _page(case: dict[str, Any], base: str) -> str:
    html: str = case["file"].read_text(encoding=_encoding(case["file"]))
    return html.replace("{{BASE}}", base)


def _encoding(path: Path) -> str:
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return "cp1251"
    return "utf-8"


def _site_url(case: dict[str, Any]) -> str:
    url: str = case["url"]
    return url.split("/", 3)[2]


RUNS = [
    pytest.param(case, where, id=f"{case['name']}@{where}")
    for case in CASES
    for where in ("site", "localhost")
]


@pytest.mark.parametrize(("case", "where"), RUNS)
def test_site_page_reads_clean(case: dict[str, Any], where: str) -> None:
    real_base = "/".join(case["url"].split("/", 3)[:3])
    base = real_base if where == "site" else LOCAL
    url = case["url"].replace(real_base, base)
    document = extract_document(_page(case, base), url)
    assert document.title == case["title"]
    assert document.language == case["language"]
    assert document.published is not None
    expected = case["published"]
    got = document.published.isoformat() if "T" in expected else document.published.date()
    assert str(got) == expected
    assert document.text.startswith(case["starts"])
    for snippet in case["contains"]:
        assert snippet in document.text
    for snippet in case["not_contains"]:
        assert snippet not in document.text


@pytest.mark.parametrize(
    ("url", "head", "site"),
    [
        ("http://en.kremlin.ru/events/president/news/1", "", Kremlin),
        ("http://en.special.kremlin.ru/events/president/news/1", "", Kremlin),
        ("https://www.andalpost.com/x/", "", Andalpost),
        # a replica or mirror: the page's own canonical address, or its declared site name
        (
            f"{LOCAL}/x",
            '<link rel="canonical" href="https://andalpost.com/x/">',
            Andalpost,
        ),
        (f"{LOCAL}/x", '<meta property="og:site_name" content="Президент России">', Kremlin),
        # Kompas uses Kremlin's class names too: a class is no address
        ("https://nasional.kompas.com/read/2024/05/16/1", "", None),
        ("https://kremlin.ru.example.org/news/1", "", None),
    ],
)
def test_pages_are_routed_by_host(url: str, head: str, site: type | None) -> None:
    tree = fromstring(f"<html><head>{head}</head><body><div class='read__content'></div></body>")
    assert site_for(url, tree) is site


def test_a_kremlin_403_is_a_refusal_not_missing_content() -> None:
    message = refusal("http://kremlin.ru/events/president/news/1", 403)
    assert message is not None and message.startswith(REFUSED)
    assert refusal("http://kremlin.ru/events/president/news/1", 404) is None
    assert refusal("https://andalpost.com/x/", 403) is None  # other sites: the generic word


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "http://en.kremlin.ru/events/president/transcripts/73990",
            "http://en.kremlin.ru/events/president/news/73990",
        ),
        (
            "http://kremlin.ru/events/president/news/73990/videos",
            "http://kremlin.ru/events/president/news/73990",
        ),
        (
            "https://andalpost.com/xi-jinping-dan-putin-bertemu/amp/",
            "https://andalpost.com/xi-jinping-dan-putin-bertemu/",
        ),
        (
            "https://www.andalpost.com/xi-jinping-dan-putin-bertemu/amp?utm_source=wa",
            "https://andalpost.com/xi-jinping-dan-putin-bertemu/",
        ),
    ],
)
def test_site_variants_fold_into_one_address(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_kremlin_date_is_the_pages_own() -> None:
    case = CASES[0]
    document = extract_document(_page(case, ""), case["url"])
    assert document.published == datetime(2024, 5, 16)


def test_a_403_storm_backs_off_and_is_reported_as_refusal(
    sites: ReplicaSites, crawl: Callable[..., CycleReport], tmp_path: Path
) -> None:
    kremlin = sites.site("kremlin-en")
    config = write_config(sites, tmp_path)
    kremlin.fail_all(403)
    refused = crawl(config, "kremlin-en").crawls[0]
    # refused before any feed was read: a failure (a site refusing for days shows as
    # failing), told as a refusal, not as "no content"
    assert refused.outcome == "failed"
    assert refused.error_messages
    assert all(REFUSED in message for message in refused.error_messages)
    # backed off: the first refusal stops the cycle (robots.txt, the feed, the listing)
    assert len(kremlin.requests) <= 3

    kremlin.fail_all(None)
    kremlin.clear_requests()
    again = crawl(config, "kremlin-en").crawls[0]
    assert (again.outcome, again.errors) == ("ok", 0)
    assert again.new_articles > 0
