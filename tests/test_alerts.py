"""Alerts: once per event, never lost, one channel's failure never blocks another, secrets
never shown. Real receivers: a JSON webhook and an SMTP server (aiosmtpd) on 127.0.0.1;
Telegram's API is stood in for at the HTTP layer."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from monitor.alerts import channel_secrets, deliver_due, load_channels
from monitor.demo.replicas import ReplicaSites
from monitor.events import Policy
from monitor.models import Article, Match, article_id
from monitor.redact import Redactor
from monitor.render import render_alert
from monitor.runner import CycleReport
from monitor.store import Storage
from tests.conftest import (
    Mailbox,
    Receiver,
    file_stored,
    free_port,
    invoke,
    newsmon,
    one_article_event,
    write_config,
)

HOSTILE = "<script>alert(1)</script> [x](javascript:alert(1)) Xi & Putin"


def stored_event(
    storage: Storage,
    channels: list[str],
    title: str = "Xi and Putin hold talks",
    url: str = "https://example.com/a/1",
    day: date = date(2023, 3, 21),
) -> int:
    article = Article(
        id=article_id(url),
        source="wire",
        url=url,
        canonical_url=url,
        title=title,
        text="Xi Jinping and Vladimir Putin held talks in Moscow.",
        language="en",
        published=datetime(2023, 3, 21, tzinfo=UTC),
        author=None,
        content_hash=title,
    )
    storage.save_article(article)
    match = Match(
        topic="china-russia-summit",
        score=0.97,
        participants=("Xi Jinping", "Vladimir Putin"),
        kind="in-person",
        date=day,
        date_from_text=True,
        announcement=False,
        evidence=("Xi Jinping", "Vladimir Putin", "held talks"),
    )
    event_id, created = file_stored(storage, article.id, match, Policy(tuple(channels)))
    assert created
    return event_id


# -- end to end: crawl cycles (in process, as `newsmon crawl` runs them) and commands -------


def alert_config(sites: ReplicaSites, tmp_path: Path, *urls: str, max_age: int | str = 0) -> Path:
    return write_config(sites, tmp_path, notify={"alerts": list(urls), "max_age": max_age})


def sent_retry_dead(report: CycleReport) -> tuple[int, int, int]:
    """What `newsmon crawl` prints as "alerts: N sent, N to retry, N given up"."""
    return report.delivery.sent, report.delivery.failed, report.delivery.dead


def test_each_meeting_is_alerted_once_across_crawls(
    sites: ReplicaSites, tmp_path: Path, receiver: Receiver, crawl: Callable
) -> None:
    config = alert_config(sites, tmp_path, receiver.url)
    first = crawl(config)
    assert sent_retry_dead(first) == (4, 0, 0), first.delivery
    titles = sorted(post["title"] for post in receiver.posts)
    assert titles == [
        "Xi Jinping – Vladimir Putin: in-person meeting, 16 May 2024",
        "Xi Jinping – Vladimir Putin: in-person meeting, 20–21 Mar 2023",
        "Xi Jinping – Vladimir Putin: in-person meeting, 22 Oct 2024",
        "Xi Jinping – Vladimir Putin: video call, 30 Dec 2022",
    ], titles
    body = next(p["message"] for p in receiver.posts if "video call" in p["title"])
    assert "Evidence:" in body and "http://127.0.0.1:" in body
    assert "Articles so far: 4 from andalpost, kremlin-en, kremlin-ru, xinhua-zh" in body
    assert crawl(config).delivery.sent == 0
    assert invoke("rematch", config=config).returncode == 0
    assert crawl(config).delivery.sent == 0
    assert len(receiver.posts) == 4


def test_alert_held_back_by_a_failing_receiver_arrives_once(
    sites: ReplicaSites, tmp_path: Path, crawl: Callable
) -> None:
    receiver = Receiver(failures=2 * 4)  # every alert fails on the first two crawls
    try:
        config = alert_config(sites, tmp_path, receiver.url)
        first = crawl(config)
        assert sent_retry_dead(first) == (0, 4, 0), first.delivery
        status = invoke("status", config=config).stdout
        assert "alerts: 4 pending (4 retrying)" in status
        # each cycle reads the config, the channels and the database afresh: what is
        # pending lives in the database only, as across a restart
        assert sent_retry_dead(crawl(config)) == (0, 4, 0)
        assert crawl(config).delivery.sent == 4
        assert crawl(config).delivery.sent == 0
        assert len(receiver.posts) == 4
        assert len({post["title"] for post in receiver.posts}) == 4
    finally:
        receiver.stop()


def test_dead_channel_does_not_block_the_others(
    sites: ReplicaSites, tmp_path: Path, receiver: Receiver
) -> None:
    dead = f"json://user:Sup3rSecretPw@127.0.0.1:{free_port()}/hook"
    config = alert_config(sites, tmp_path, dead, receiver.url)
    # a real process: what is tested is what its -vv logging shows
    # every meeting has a kremlin-en article: one source gives the 4 events
    run = newsmon("-vv", "crawl", "--source", "kremlin-en", config=config)
    assert "alerts: 4 sent, 4 to retry" in run.stdout
    assert len(receiver.posts) == 4
    status = invoke("status", config=config)
    for output in (run.stdout, run.stderr, status.stdout, status.stderr):
        assert "Sup3rSecretPw" not in output


def test_old_events_are_stored_but_not_alerted(
    sites: ReplicaSites, tmp_path: Path, receiver: Receiver, crawl: Callable
) -> None:
    config = alert_config(sites, tmp_path, receiver.url, max_age="14d")
    run = crawl(config, "kremlin-en")
    assert run.delivery.sent == 0 and run.matching.new_events
    assert receiver.posts == []
    assert invoke("events", config=config).stdout.count("Xi Jinping – Vladimir Putin") >= 3


def test_notify_test_reports_each_channel_masked(tmp_path: Path, receiver: Receiver) -> None:
    config = tmp_path / "config.yaml"
    closed = f"json://bob:Hunter2Secret@127.0.0.1:{free_port()}/x"
    config.write_text(json.dumps({"notify": {"alerts": [receiver.url], "digest": [closed]}}))
    run = invoke("notify", "--test", config=config)
    assert run.returncode == 1
    assert re.search(r"^ok\s+json://127\.0\.0\.1:\d+/hook", run.stdout, re.MULTILINE)
    assert re.search(r"^FAILED\s+json://bob:\*+@127\.0\.0\.1", run.stdout, re.MULTILINE)
    assert "Hunter2Secret" not in run.stdout + run.stderr
    assert receiver.posts[0]["title"] == "newsmon test message"


def test_bad_channel_url_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"notify": {"alerts": ["nosuchservice://x"]}}))
    run = invoke("notify", "--test", config=config)
    assert run.returncode == 2 and "notify.alerts[0]: not a usable Apprise URL" in run.stderr


# -- in process: email, Telegram, escaping, size ---------------------------------------------


def test_email_alert_is_html_and_text_and_escapes_the_page(
    tmp_path: Path, mailbox: Mailbox
) -> None:
    channels = load_channels([mailbox.url], "notify.alerts")
    with Storage(tmp_path / "n.db") as storage:
        stored_event(storage, [channels[0].key], title=HOSTILE)
        report = deliver_due(storage, channels)
    assert (report.sent, report.failed) == (1, 0)
    (message,) = mailbox.parsed()
    assert message["Subject"] == "Xi Jinping – Vladimir Putin: in-person meeting, 21 Mar 2023"
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert 'href="https://example.com/a/1"' in html
    assert "Xi Jinping – Vladimir Putin" in text


def test_markdown_alert_escapes_the_page() -> None:
    event = one_article_event(HOSTILE, "javascript:alert(1)", source="s")
    title, body = render_alert(event, "markdown")
    assert title == "Xi Jinping – Vladimir Putin: video call, 30 Dec 2022"
    assert "](javascript" not in body and "\\<script\\>" in body


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Receiver:
    from apprise.plugins.telegram import NotifyTelegram

    api = Receiver()
    monkeypatch.setattr(NotifyTelegram, "notify_url", f"{api.base}/bot")
    monkeypatch.setattr(NotifyTelegram, "request_rate_per_sec", 0)
    yield api
    api.stop()


def test_telegram_gets_markdown_within_its_size_limit(
    tmp_path: Path, telegram: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    url = f"tgram://{token}/987654321"
    channels = load_channels([url], "notify.alerts")
    assert channels[0].format == "markdown" and token not in channels[0].display
    assert token in channel_secrets(url)
    logging.getLogger().addFilter(Redactor(channel_secrets(url)))
    for handler in logging.getLogger().handlers:
        handler.addFilter(Redactor(channel_secrets(url)))
    with caplog.at_level(logging.DEBUG), Storage(tmp_path / "n.db") as storage:
        stored_event(storage, [channels[0].key], title="Talks " + "very long title " * 600)
        report = deliver_due(storage, channels)
    assert report.sent == 1, report
    assert telegram.paths == [f"/bot{token}/sendMessage"]
    (sent,) = telegram.posts
    assert str(sent["chat_id"]) == "987654321"
    assert len(sent["text"]) <= 4096
    assert "Xi Jinping – Vladimir Putin" in sent["text"]
    assert token not in caplog.text


def test_outbox_is_idempotent_and_survives_reopening(tmp_path: Path) -> None:
    with Storage(tmp_path / "n.db") as storage:
        event_id = stored_event(storage, ["c1", "c2"])
        # a second queueing of the same event changes nothing
        storage.enqueue_message(f"event:{event_id}", ["c1"], "t", "b")
    with Storage(tmp_path / "n.db") as storage:
        assert storage.outbox_counts()["pending"] == 2


def test_update_when_an_announced_event_is_reported_held(
    tmp_path: Path, receiver: Receiver
) -> None:
    channels = load_channels([receiver.url], "notify.alerts")
    keys = [channels[0].key]
    announced = Match(
        topic="china-russia-summit",
        score=0.9,
        participants=("Xi Jinping", "Vladimir Putin"),
        kind="in-person",
        date=date(2024, 5, 16),
        date_from_text=True,
        announcement=True,
        evidence=("Путин", "посетит"),
    )
    held = Match(**{**announced.__dict__, "announcement": False, "evidence": ("переговоры",)})
    sent = 0
    with Storage(tmp_path / "n.db") as storage:
        for n, match in enumerate((announced, held)):
            url = f"https://kremlin.example/{n}"
            storage.save_article(
                Article(
                    id=article_id(url),
                    source="kremlin-ru",
                    url=url,
                    canonical_url=url,
                    title=f"title {n}",
                    text=f"text {n}",
                    language="ru",
                    published=None,
                    author=None,
                    content_hash=f"h{n}",
                )
            )
            file_stored(storage, article_id(url), match, Policy(tuple(keys), tell_when_held=True))
            sent += deliver_due(storage, channels).sent
    assert sent == 2
    assert [post["title"].split(":")[0] for post in receiver.posts] == ["Announced", "Held"]


KAZAN = one_article_event(
    "习近平会见俄罗斯总统普京",
    "http://www.news.cn/20241022/c.html",
    source="xinhua-zh",
    language="zh",
    evidence=("习近平", "普京", "会见"),
    kind="in-person",
    day=date(2024, 10, 22),
)


@pytest.mark.parametrize(
    ("purpose", "heading"),
    [
        ("alert", "**Xi Jinping – Vladimir Putin**, in-person meeting, 22 Oct 2024"),
        (
            "update",
            "Now reported as held: **Xi Jinping – Vladimir Putin**, in-person meeting, "
            "22 Oct 2024.",
        ),
    ],
)
def test_markdown_alert_puts_the_headline_and_the_source_on_lines_of_their_own(
    purpose: str, heading: str
) -> None:
    _, body = render_alert(KAZAN, "markdown", purpose=purpose)
    assert body.splitlines() == [
        heading,
        "",
        "[习近平会见俄罗斯总统普京](http://www.news.cn/20241022/c.html)",
        "_xinhua\\-zh · zh_",
        "",
        "Evidence: 习近平, 普京, 会见",
        "Articles so far: 1",
        "Topic: china\\-russia\\-summit",
    ]


@pytest.mark.parametrize(
    ("purpose", "prefix"), [("alert", ""), ("update", "Now reported as held: ")]
)
def test_text_alert_puts_the_headline_and_the_source_on_lines_of_their_own(
    purpose: str, prefix: str
) -> None:
    _, body = render_alert(KAZAN, "text", purpose=purpose)
    assert body.splitlines() == [
        f"{prefix}Xi Jinping – Vladimir Putin, in-person meeting, 22 Oct 2024",
        "",
        "习近平会见俄罗斯总统普京",
        "http://www.news.cn/20241022/c.html",
        "xinhua-zh · zh",
        "",
        "Evidence: 习近平, 普京, 会见",
        "Articles so far: 1",
        "Topic: china-russia-summit",
    ]


def test_two_crawls_at_once_on_one_database_alert_each_meeting_once(
    sites: ReplicaSites, tmp_path: Path
) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    slow = Receiver(delay=0.3)  # both processes are delivering while the other still sends
    try:
        config = alert_config(sites, tmp_path, slow.url)
        # every meeting has a kremlin-en article: one source gives the 4 events
        command = [
            *(sys.executable, "-m", "monitor", "--config", str(config)),
            *("crawl", "--source", "kremlin-en"),
        ]
        processes = [
            subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        for process in processes:
            process.communicate(timeout=180)
            assert process.returncode == 0
        titles = sorted(post["title"] for post in slow.posts)
        assert len(titles) == 4 and len(set(titles)) == 4, titles
        events = invoke("events", "--json", config=config).stdout.splitlines()
        assert len(events) == 4, events
    finally:
        slow.stop()
