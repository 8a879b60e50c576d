"""The outbox across processes and kinds of message: one owner per message, nothing given up
that is still configured, late receivers are not failures, secrets stay secret.

Two `Storage` objects on one file stand for two processes (SQLite locks per connection, so
they contend exactly as two processes would). Receivers are real HTTP servers on 127.0.0.1.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from monitor.alerts import channel_secrets, deliver_due, load_channels
from monitor.config import Config, Notify
from monitor.events import Policy
from monitor.models import Article, article_id
from monitor.redact import Redactor
from monitor.runner import deliver, match_stored
from monitor.store import Storage
from monitor.topic import load_topics
from tests.conftest import Mailbox, Receiver, free_port, invoke
from tests.test_alerts import stored_event

DEAD = f"json://127.0.0.1:{free_port()}/hook"  # nothing listens there


def events_for(storage: Storage, channels: list[str], count: int) -> None:
    for n in range(count):
        # a meeting a month apart each: each its own event
        day = date(2023, 1, 21) + timedelta(days=30 * n)
        stored_event(storage, channels, f"Talks {n}", f"https://example.com/a/{n}", day)


def states(storage: Storage) -> dict[str, str]:
    return {row["subject"]: row["state"] for row in storage.db.query("SELECT * FROM outbox")}


def test_two_deliverers_on_one_database_send_each_message_once(tmp_path: Path) -> None:
    slow = Receiver(delay=0.2)  # slow enough that both deliverers are busy at once
    try:
        channels = load_channels([slow.url], "notify.alerts")
        with Storage(tmp_path / "n.db") as storage:
            events_for(storage, [channels[0].key], 6)
        reports = []

        def deliverer() -> None:
            with Storage(tmp_path / "n.db") as own:
                reports.append(deliver_due(own, channels, ignore_backoff=True))

        threads = [threading.Thread(target=deliverer) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(slow.posts) == 6  # not 12: no message went out twice
        sent = [headers["X-Newsmon-Message-Id"] for headers in slow.headers]
        assert len(sent) == 6 and len(set(sent)) == 6, sent
        assert sum(report.sent for report in reports) == 6
    finally:
        slow.stop()


def test_two_matchers_on_one_database_make_one_event_per_meeting(tmp_path: Path) -> None:
    topics = load_topics(["china-russia-summit"])
    texts = [
        ("Xi Jinping and Vladimir Putin held talks in Moscow", "Moscow, 21 March 2023"),
        ("Putin and Xi hold talks in the Kremlin", "21 March 2023"),
        ("Xi Jinping, Putin talk in Moscow", "21 March 2023"),
    ]
    with Storage(tmp_path / "n.db") as storage:
        for n, (title, dateline) in enumerate(texts * 4):
            url = f"https://example.com/{n}"
            text = f"{dateline}. Chinese President Xi Jinping and Russian President Vladimir "
            text += f"Putin held talks in the Kremlin on Tuesday. Report number {n}."
            storage.save_article(
                Article(article_id(url), "wire", url, url, title, text, "en", None, None, url)
            )
    barrier = threading.Barrier(2)

    def matcher() -> None:
        with Storage(tmp_path / "n.db") as own:
            barrier.wait()
            match_stored(own, topics, Policy(alert_channels=("c1",)))

    threads = [threading.Thread(target=matcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Storage(tmp_path / "n.db") as storage:
        events = storage.events()
        outbox = list(storage.db.query("SELECT * FROM outbox"))
        matched = storage.db.execute("SELECT count(*) FROM matches").fetchone()[0]
    assert len(events) == 1, [e.id for e in events]
    assert len(outbox) == 1
    assert matched == 12


def two_kinds(tmp_path: Path, alerts: str, digest: str) -> Config:
    return Config(
        database=tmp_path / "n.db", notify=Notify(alerts=[alerts], digest=[digest], max_age=0)
    )


def test_sending_the_digest_keeps_the_alerts_queued(tmp_path: Path, mailbox: Mailbox) -> None:
    config = two_kinds(tmp_path, DEAD, mailbox.url)
    alert, digest = (load_channels([url], "x")[0] for url in (DEAD, mailbox.url))
    with Storage(config.database) as storage:
        events_for(storage, [alert.key], 4)
        storage.enqueue_message("digest:2024-W20", [digest.key], "Digest", "<p>week</p>")
        report = deliver(storage, config, ignore_backoff=True, subject_prefix="digest:")
        assert (report.sent, report.dead) == (1, 0)
        assert [s for s in states(storage).values()].count("pending") == 4
        # and the crawl's delivery tries them, and keeps them for a retry
        report = deliver(storage, config, ignore_backoff=True)
        assert (report.sent, report.failed, report.dead) == (0, 4, 0)
    assert len(mailbox.messages) == 1


def test_a_crawl_keeps_a_queued_digest(tmp_path: Path, receiver: Receiver) -> None:
    config = two_kinds(tmp_path, receiver.url, DEAD)
    digest = load_channels([DEAD], "x")[0]
    with Storage(config.database) as storage:
        storage.enqueue_message("digest:2024-W20", [digest.key], "Digest", "week")
        report = deliver(storage, config, ignore_backoff=True)
        assert (report.failed, report.dead) == (1, 0)
        assert states(storage)["digest:2024-W20"] == "retrying"


def test_a_channel_removed_from_the_config_is_given_up(tmp_path: Path, receiver: Receiver) -> None:
    config = Config(database=tmp_path / "n.db", notify=Notify(alerts=[receiver.url], max_age=0))
    with Storage(config.database) as storage:
        events_for(storage, ["0123456789abcdef"], 1)
        report = deliver(storage, config, ignore_backoff=True)
        assert report.dead == 1
        assert states(storage) == {"event:1": "dead"}


def test_a_receiver_that_accepts_late_is_sent_once_with_a_message_id(tmp_path: Path) -> None:
    # The channel's own Apprise read timeout is 1 s (Apprise's default, 4 s, set by the
    # URL, so that the test waits 1.5 s, not 5): the receiver answers after it.
    late = Receiver(delay=1.5)
    try:
        channels = load_channels([f"{late.url}?rto=1"], "notify.alerts")
        with Storage(tmp_path / "n.db") as storage:
            events_for(storage, [channels[0].key], 1)
            first = deliver_due(storage, channels, ignore_backoff=True, timeout=30)
            again = deliver_due(storage, channels, ignore_backoff=True, timeout=30)
        assert (first.sent, first.failed, again.sent) == (1, 0, 0)
        assert len(late.posts) == 1
        assert late.headers[0]["X-Newsmon-Message-Id"].endswith("event:1")
    finally:
        late.stop()


def test_a_claim_left_by_a_dead_process_expires(tmp_path: Path, receiver: Receiver) -> None:
    from datetime import UTC, datetime, timedelta

    from monitor.store import CLAIM_LEASE

    channels = load_channels([receiver.url], "notify.alerts")
    with Storage(tmp_path / "n.db") as storage:
        events_for(storage, [channels[0].key], 1)
        now = datetime.now(UTC)
        assert storage.claim_next("dead-process", now) is not None  # and then it died
        assert deliver_due(storage, channels, ignore_backoff=True).sent == 0
        later = now + CLAIM_LEASE + timedelta(seconds=1)
        assert deliver_due(storage, channels, ignore_backoff=True, now=later).sent == 1
    assert len(receiver.posts) == 1


# -- secrets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/987654321", "AAHdqTcvCH1vGWJx"),
        ("mailtos://team:s3cr3t-pass@example.org?to=a@example.org", "s3cr3t-pass"),
        ("json://hook-user:hook-pass-99@127.0.0.1:9/newsmon/path", "hook-pass-99"),
    ],
)
def test_only_the_secret_parts_of_a_channel_are_masked(url: str, secret: str) -> None:
    redactor = Redactor(channel_secrets(url))
    line = f"newsmon daemon started; sending to {url} from source newsmon-feed"
    masked = redactor.redact(line)
    assert secret not in masked
    assert masked.startswith("newsmon daemon started")
    assert "newsmon-feed" in masked


def test_an_empty_secret_masks_nothing() -> None:
    assert Redactor(["", "abcd"]).redact("newsmon abc") == "newsmon abc"


def test_log_records_and_tracebacks_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    handler = logging.StreamHandler()
    redactor = Redactor(["hunter2-key"])
    try:
        raise ValueError("cannot fetch https://x.org/feed?key=hunter2-key")
    except ValueError:
        record = logging.LogRecord("t", logging.ERROR, "", 0, "got %s", ("hunter2-key",), None)
        record.exc_info = __import__("sys").exc_info()
    redactor.filter(record)
    assert "hunter2-key" not in handler.format(record)


def test_failing_channels_keep_their_alerts_queued_with_backoff_and_say_why(
    tmp_path: Path,
) -> None:
    # Issue 9: a channel that times out, one that answers 500, and an SMTP server that
    # refuses the login (aiosmtpd takes no AUTH without TLS), beside one that works.
    late, broken, good = Receiver(delay=2), Receiver(failures=1_000), Receiver()
    password = "Smtp-Pa55-x9q"
    with Mailbox() as mailbox:
        urls = [
            late.url,
            broken.url.replace("/hook", "/broken"),
            f"mailto://bob:{password}@127.0.0.1:{mailbox.port}"
            "?from=newsmon@example.com&to=you@example.com",
            good.url.replace("/hook", "/good"),
        ]
        config = tmp_path / "config.yaml"
        config.write_text(
            f"database: n.db\nnotify:\n  alerts: {urls!r}\n  timeout: 0.5\n", encoding="utf-8"
        )
        channels = load_channels(urls, "notify.alerts")
        try:
            with Storage(tmp_path / "n.db") as storage:
                events_for(storage, [channel.key for channel in channels], 2)
                start = datetime.now(UTC)
                first = deliver_due(storage, channels, timeout=0.5, now=start)
                assert (first.sent, first.failed, first.dead) == (2, 6, 0)
                assert len(good.posts) == 2  # the working channel is not held up
                # backed off: not retried half a minute later
                soon = deliver_due(
                    storage, channels, timeout=0.5, now=start + timedelta(seconds=30)
                )
                assert (soon.sent, soon.failed) == (0, 0)
                status = invoke("status", config=config)
                assert "alerts: 6 pending (6 retrying), 2 sent, 0 dead" in status.stdout
                retrying = [line for line in status.stdout.splitlines() if "retrying: 2 to" in line]
                assert len(retrying) == 3, status.stdout
                assert any("json://127.0.0.1" in line and "/broken" in line for line in retrying)
                assert any("mailto://bob:****@" in line for line in retrying)
                assert password not in status.stdout + status.stderr
                # the webhooks recover; the mail server still refuses
                broken.failures, late.delay = 0, 0
                later = deliver_due(
                    storage, channels, timeout=0.5, now=start + timedelta(minutes=2)
                )
                assert (later.sent, later.failed, later.dead) == (4, 2, 0)
                assert states(storage).keys() == {"event:1", "event:2"}
                waiting = storage.retrying_channels()
                assert [count for _, count, _, _ in waiting] == [2]
                assert waiting[0][2] - (start + timedelta(minutes=2)) == timedelta(minutes=2)
            assert len(good.posts) == 2 and len(broken.posts) == 2  # nothing lost or repeated
            # the late receiver may have kept the timed-out tries too: each says which it is
            assert len({headers["X-Newsmon-Message-Id"] for headers in late.headers}) == 2
            assert mailbox.messages == []
        finally:
            for receiver in (late, broken, good):
                receiver.stop()
