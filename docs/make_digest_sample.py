"""Write docs/digest-sample.html: the weekly digest of a made-up but typical week.

Three events in ISO week 2023-W11 — a Xi Jinping – Vladimir Putin video call covered in
four languages (announced the day before), the announcement of a state visit to Moscow,
and the video call of 30 December 2022, found that week when andalpost's archive was first
crawled (its dates show the year, and the chart says they lie outside the week) — and four
sources, one of them failing. The headlines are written for the sample; the URLs have the
real sites' shapes. Run from the repository root:

    .venv/bin/python docs/make_digest_sample.py
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from monitor.digest import DigestData, parse_week, render_digest
from monitor.models import Event, EventArticle, SourceHealth

WEEK = "2023-W11"
OUT = Path(__file__).resolve().parent / "digest-sample.html"
PARTIES = ("Xi Jinping", "Vladimir Putin")


def article(
    source: str, language: str, day: int, title: str, url: str, announcement: bool = False
) -> EventArticle:
    day_of = datetime(2023, 3, day, 9)
    return EventArticle(
        url,
        source,
        url,
        title,
        language,
        day_of,
        day_of,
        0.9,
        "video",
        day_of.date(),
        True,
        announcement,
        (),
    )


def event(
    event_id: int, kind: str, first_day: date, last_day: date, *articles: EventArticle
) -> Event:
    made = datetime(2023, 3, 19, tzinfo=UTC)
    return Event(
        event_id, "china-russia-summit", PARTIES, kind, first_day, last_day, True,
        articles[0].id, made, made, articles,
    )  # fmt: skip


STATE_VISIT = event(
    42,
    "in-person",
    date(2023, 3, 20),
    date(2023, 3, 22),
    *(
        article(
            "kremlin-en",
            "en",
            17,
            "Xi Jinping to pay a state visit to Russia",
            "http://en.kremlin.ru/events/president/news/70695",
            announcement=True,
        ),
        article(
            "kremlin-ru",
            "ru",
            17,
            "О государственном визите Председателя КНР Си Цзиньпина в Россию",
            "http://kremlin.ru/events/president/news/70695",
            announcement=True,
        ),
        article(
            "kremlin-ru",
            "ru",
            18,
            "Владимир Путин и Си Цзиньпин проведут переговоры в Кремле 21 марта",
            "http://kremlin.ru/events/president/news/70701",
            announcement=True,
        ),
        article(
            "andalpost",
            "id",
            17,
            "Xi Jinping Akan Kunjungi Moskow pada 20-22 Maret",
            "https://andalpost.com/xi-jinping-akan-kunjungi-moskow-pada-20-22-maret/",
            announcement=True,
        ),
        article(
            "andalpost",
            "id",
            18,
            "Kremlin: Putin dan Xi Akan Bahas Kemitraan Strategis di Moskow",
            "https://andalpost.com/kremlin-putin-dan-xi-akan-bahas-kemitraan-strategis/",
            announcement=True,
        ),
    ),
)

VIDEO_CALL = event(
    41,
    "video",
    date(2023, 3, 14),
    date(2023, 3, 14),
    *(
        article(
            "kremlin-en",
            "en",
            13,
            "Vladimir Putin and Xi Jinping to hold talks via videoconference",
            "http://en.kremlin.ru/events/president/news/70652",
            announcement=True,
        ),
        article(
            "kremlin-en",
            "en",
            14,
            "Russian-Chinese talks via videoconference",
            "http://en.kremlin.ru/events/president/news/70660",
        ),
        article(
            "xinhua",
            "en",
            14,
            "Xi, Putin hold video talks, pledge to deepen strategic coordination",
            "https://english.news.cn/20230314/5d1e0f3c2b7a4e0d9c1a/c.html",
        ),
        article(
            "kremlin-ru",
            "ru",
            13,
            "О предстоящих переговорах с Председателем КНР Си Цзиньпином",
            "http://kremlin.ru/events/president/news/70652",
            announcement=True,
        ),
        article(
            "kremlin-ru",
            "ru",
            14,
            "Российско-китайские переговоры в формате видеоконференции",
            "http://kremlin.ru/events/president/news/70660",
        ),
        article(
            "xinhua",
            "zh",
            14,
            "习近平同俄罗斯总统普京举行视频会晤",
            "https://www.news.cn/politics/leaders/2023-03/14/c_1129432158.htm",
        ),
        article(
            "xinhua",
            "zh",
            15,
            "综述：中俄元首视频会晤为双边关系发展指明方向",
            "https://www.news.cn/world/2023-03/15/c_1129435021.htm",
        ),
        article(
            "andalpost",
            "id",
            14,
            "Xi Jinping dan Vladimir Putin Gelar Konferensi Video",
            "https://andalpost.com/xi-jinping-dan-vladimir-putin-gelar-konferensi-video/",
        ),
        article(
            "andalpost",
            "id",
            15,
            "Putin: Hubungan Rusia-China Capai Level Tertinggi",
            "https://andalpost.com/putin-hubungan-rusia-china-capai-level-tertinggi/",
        ),
    ),
)

NEW_YEAR_CALL = event(
    12,
    "video",
    date(2022, 12, 30),
    date(2022, 12, 30),
    *(
        replace(a, published=datetime(2022, 12, 30, 9))
        for a in (
            article(
                "andalpost",
                "id",
                15,
                "Xi Jinping dan Putin Gelar Konferensi Video Jelang Tahun Baru",
                "https://andalpost.com/xi-jinping-dan-putin-gelar-konferensi-video-jelang-tahun-baru/",
            ),
            article(
                "andalpost",
                "id",
                15,
                "Putin Undang Xi Jinping Berkunjung ke Moskow Musim Semi Mendatang",
                "https://andalpost.com/putin-undang-xi-jinping-berkunjung-ke-moskow/",
            ),
        )
    ),
)

SOURCES = (
    SourceHealth(
        "kremlin-en",
        runs=168,
        pages=1214,
        new_articles=46,
        errors=0,
        last_success=datetime(2023, 3, 19, 23, 5, tzinfo=UTC),
        failing_since=None,
        last_error=None,
    ),
    SourceHealth(
        "kremlin-ru",
        runs=168,
        pages=1302,
        new_articles=51,
        errors=3,
        last_success=datetime(2023, 3, 19, 22, 50, tzinfo=UTC),
        failing_since=None,
        last_error="HTTP 403 Forbidden: http://kremlin.ru/events/president/news/feed",
    ),
    SourceHealth(
        "xinhua",
        runs=168,
        pages=388,
        new_articles=27,
        errors=92,
        last_success=datetime(2023, 3, 16, 5, 12, tzinfo=UTC),
        failing_since=datetime(2023, 3, 16, 6, 12, tzinfo=UTC),
        last_error="HTTP 403 Forbidden: https://www.news.cn/politics/ (refused since the "
        "listing moved; 92 attempts)",
    ),
    SourceHealth(
        "andalpost",
        runs=42,
        pages=517,
        new_articles=88,
        errors=1,
        last_success=datetime(2023, 3, 19, 20, 0, tzinfo=UTC),
        failing_since=None,
        last_error="timeout after 30 s: https://andalpost.com/feed/",
    ),
)


def sample() -> DigestData:
    start, end = parse_week(WEEK)
    return DigestData(
        week=WEEK,
        start=start,
        end=end,
        events=(STATE_VISIT, VIDEO_CALL, NEW_YEAR_CALL),
        sources=SOURCES,
    )


if __name__ == "__main__":
    OUT.write_text(render_digest(sample()).html, encoding="utf-8")
    print(f"wrote {OUT}")
