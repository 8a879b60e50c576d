"""The command line's rough edges, as a user meets them: clear refusals, exit codes that
tell the truth, output that matches `check --json`'s conventions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from monitor.alerts import load_channels
from monitor.store import Storage
from tests.conftest import Receiver, free_port, invoke, newsmon
from tests.test_alerts import stored_event


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"database": str(tmp_path / "n.db")}))
    return path


def with_event(
    config: Path, channel: str = "c1", title: str = "Xi and Putin hold talks in Moscow"
) -> None:
    database = yaml.safe_load(config.read_text())["database"]
    with Storage(database) as storage:
        stored_event(storage, [channel], title=title)


def test_binary_input_is_refused_clearly(config: Path) -> None:
    run = invoke("extract", "/bin/ls", config=config)
    assert run.returncode == 1
    assert "not an HTML page or a text file" in run.stderr
    assert "\x00" not in run.stdout and "ELF" not in run.stdout


def test_events_since_a_later_day_says_so(config: Path) -> None:
    with_event(config)
    run = invoke("events", "--since", "2030-01-01", config=config)
    assert run.stdout.strip() == "no events since 2030-01-01"


def test_events_json_has_true_false_and_utf8(config: Path) -> None:
    with_event(config, title="习近平同普京举行会谈")
    (line,) = invoke("events", "--json", config=config).stdout.splitlines()
    assert "习近平同普京举行会谈" in line  # UTF-8, not \\u escapes
    event = json.loads(line)
    assert isinstance(event["exact"], bool)
    assert event["articles"][0]["announcement"] is False
    assert event["date"] == "2023-03-21"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Putin OR Lavrov", True),
        ("Lavrov OR Shoigu", False),
        ('"hold talks"', True),
        ('"talks hold"', False),
        ("Mosc*", True),
        ("Putin NOT Moscow", False),
        ('"unbalanced', False),
        ("OR", False),
    ],
)
def test_search_takes_or_phrases_and_prefixes_safely(config: Path, query: str, found: bool) -> None:
    with_event(config)
    run = invoke("search", query, config=config)
    assert run.returncode == 0, run.stderr
    assert ("Xi and Putin hold talks" in run.stdout) is found, run.stdout


def test_digest_to_stdout(config: Path, tmp_path: Path) -> None:
    run = invoke("digest", "--week", "2023-W12", "--out", "-", config=config)
    assert run.returncode == 0, run.stderr
    assert run.stdout.lstrip().lower().startswith("<!doctype html")
    assert not (tmp_path / "-").exists() and not Path("-").exists()


def test_digest_send_without_a_channel_or_with_a_failing_one_exits_non_zero(
    config: Path, tmp_path: Path
) -> None:
    run = invoke("digest", "--week", "2023-W12", "--send", config=config)
    assert run.returncode == 1 and "no digest channel" in run.stderr
    failing = tmp_path / "failing.yaml"
    failing.write_text(
        yaml.safe_dump(
            {
                "database": str(tmp_path / "n.db"),
                "notify": {"digest": [f"json://127.0.0.1:{free_port()}/x"]},
            }
        )
    )
    run = invoke("digest", "--week", "2023-W12", "--send", config=failing)
    assert run.returncode == 1 and "0 sent, 1 to retry" in run.stdout


def test_digest_send_that_arrives_exits_zero(tmp_path: Path, receiver: Receiver) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump({"database": str(tmp_path / "n.db"), "notify": {"digest": [receiver.url]}})
    )
    run = invoke("digest", "--week", "2023-W12", "--send", config=path)
    assert run.returncode == 0 and "1 sent" in run.stdout
    assert len(receiver.posts) == 1


def test_version_and_options_after_the_command(config: Path) -> None:
    version = newsmon("--version")  # the installed entry point, in a process of its own
    assert version.returncode == 0 and version.stdout.startswith("newsmon ")
    run = invoke("status", "--config", str(config))  # --config after the command
    assert run.returncode == 0, run.stderr
    assert str(Path(yaml.safe_load(config.read_text())["database"])) in run.stdout


def test_status_warns_about_a_config_that_watches_nothing_and_tells_nobody(config: Path) -> None:
    out = invoke("status", config=config).stdout
    assert "warning: no sources configured" in out
    assert "warning: no alert channels" in out


def test_dead_messages_show_the_masked_channel(tmp_path: Path, crawl: Callable) -> None:
    url = f"json://user:s3cret-pw@127.0.0.1:{free_port()}/hook"
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {"database": str(tmp_path / "n.db"), "notify": {"alerts": [url], "max_attempts": 1}}
        )
    )
    with_event(path, load_channels([url], "x")[0].key)
    report = crawl(path)
    assert report.delivery.dead == 1, report.delivery
    status = invoke("status", config=path).stdout
    assert "dead: event:1 to json://user:" in status and "s3cret-pw" not in status


def test_crawl_summary_says_why_a_source_failed_or_erred(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lines `newsmon crawl` prints from a cycle's report (the cycles themselves are
    tested in test_crawl; here no reactor is started)."""
    from datetime import UTC, datetime

    from monitor import runner
    from monitor.alerts import DeliveryReport
    from monitor.models import CrawlStats

    moment = datetime(2024, 5, 16, tzinfo=UTC)
    crawls = [
        CrawlStats("down", moment, moment, 0, 0, 0, 1, ("feed x: HTTP 503",), "failed"),
        CrawlStats("shaky", moment, moment, 5, 4, 4, 1, ("feed y: not a readable feed",), "ok"),
    ]
    report = runner.CycleReport(crawls, runner.MatchReport(4, 2, (1,)), DeliveryReport(1, 2, 3))
    monkeypatch.setattr(runner, "crawl_cycle", lambda config, names, tick: report)
    run = invoke("crawl", config=config)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "down: 0 pages, 0 articles fetched, 0 new, 1 errors, 0.0 s — FAILED: feed x: HTTP 503",
        "shaky: 5 pages, 4 articles fetched, 4 new, 1 errors, 0.0 s — first error: feed y: "
        "not a readable feed",
        "matching: 4 articles checked, 2 matched, 1 new events",
        "alerts: 1 sent, 2 to retry, 3 given up",
    ]
