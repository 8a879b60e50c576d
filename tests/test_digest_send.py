"""`invoke digest`: built from the database, written to a file, sent through real SMTP."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from monitor.config import load_config
from monitor.models import Article, CrawlStats, Match, article_id
from monitor.runner import build_digest, send_digest
from monitor.store import Storage
from tests.conftest import Mailbox, file_stored, invoke

PARTIES = ("Xi Jinping", "Vladimir Putin")


def add_event(storage: Storage, day: date, kind: str, titles: list[tuple[str, str, str]]) -> None:
    for title, language, source in titles:
        url = f"https://{source}.example/{abs(hash(title))}"
        storage.save_article(
            Article(
                id=article_id(url),
                source=source,
                url=url,
                canonical_url=url,
                title=title,
                text=title,
                language=language,
                published=datetime(day.year, day.month, day.day),
                author=None,
                content_hash=title,
            )
        )
        match = Match(
            topic="china-russia-summit",
            score=0.9,
            participants=PARTIES,
            kind=kind,
            date=day,
            date_from_text=True,
            announcement=False,
            evidence=("Xi",),
        )
        file_stored(storage, article_id(url), match)


def two_event_week(tmp_path: Path, digest_url: str) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(
        json.dumps(
            {
                "database": "n.db",
                "sources": [
                    {"name": "kremlin-en", "feeds": ["http://127.0.0.1:9/feed"]},
                    {"name": "andalpost", "feeds": ["http://127.0.0.1:9/feed/"]},
                ],
                "notify": {"digest": [digest_url]},
            }
        )
    )
    with Storage(tmp_path / "n.db") as storage:
        add_event(
            storage,
            date(2024, 5, 17),
            "in-person",
            [
                ("Russian-Chinese talks", "en", "kremlin-en"),
                ("Putin Tiba di Beijing <b>hari ini</b>", "id", "andalpost"),
            ],
        )
        # the call is a meeting of its own: more than three days before the visit
        add_event(
            storage, date(2024, 5, 13), "phone", [("Telephone conversation", "en", "kremlin-en")]
        )
        moment = datetime(2024, 5, 15, 8, tzinfo=UTC)
        storage.record_crawl(CrawlStats("kremlin-en", moment, moment, 5, 2, 2, 0))
        storage.record_crawl(
            CrawlStats("andalpost", moment, moment, 0, 0, 0, 1, ("feed: HTTP 503",), "failed")
        )
    return config


def test_digest_of_a_two_event_week_arrives_by_email(tmp_path: Path, mailbox: Mailbox) -> None:
    config = load_config(two_event_week(tmp_path, mailbox.url))
    digest = build_digest(config, "2024-W20")
    report = send_digest(config, digest, "2024-W20")
    assert report.sent == 1
    (message,) = mailbox.parsed()
    assert "2024-W20" in message["Subject"] and "2 events" in message["Subject"]
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    for body in (html, text):
        assert "Xi Jinping – Vladimir Putin" in body
        assert "phone call" in body and "in-person meeting" in body
        assert "andalpost" in body and "kremlin-en" in body
    assert "<b>hari ini</b>" not in html and "&lt;b&gt;hari ini&lt;/b&gt;" in html
    assert "HTTP 503" in html  # the failing source is shown
    # sending the same week again does not send it twice
    assert send_digest(config, digest, "2024-W20").sent == 0
    assert len(mailbox.messages) == 1


def test_digest_command_writes_html_and_markdown(tmp_path: Path) -> None:
    config = two_event_week(tmp_path, "json://127.0.0.1:9/x")
    html = invoke("digest", "--week", "2024-W20", "--out", str(tmp_path / "d.html"), config=config)
    assert html.returncode == 0, html.stderr
    assert "<table" in (tmp_path / "d.html").read_text()
    invoke("digest", "--week", "2024-W20", "--out", str(tmp_path / "d.md"), config=config)
    assert "Xi Jinping – Vladimir Putin" in (tmp_path / "d.md").read_text()
    empty = invoke("digest", "--week", "2024-W30", config=config)
    assert "No watched events this week" in empty.stdout
    bad = invoke("digest", "--week", "2024-20", config=config)
    assert bad.returncode == 2 and "--week" in bad.stderr
