"""Issue 9: a secret given to newsmon (a ${VAR}, a URL's password) is in no output it
makes, at any verbosity or log format, in no traceback, and not in the database file."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.demo.mailbox import Mailbox, free_port
from monitor.demo.replicas import ReplicaSites
from tests.conftest import invoke, newsmon, write_config

HOOK_PASS = "W3bh00k-Pa55-9f2c"
SMTP_PASS = "Smtp-Pa55-77ab1e"
FEED_KEY = "feed-k3y-0c4d1"


def test_secrets_are_in_no_output_log_traceback_or_database_file(
    sites: ReplicaSites, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_PASS", HOOK_PASS)
    monkeypatch.setenv("SMTP_PASS", SMTP_PASS)
    monkeypatch.setenv("FEED_KEY", FEED_KEY)
    dead = free_port()
    with Mailbox() as mailbox:  # aiosmtpd refuses a login without TLS
        config = write_config(
            sites,
            tmp_path,
            sources=[
                *(source for site in sites for source in site.sources()),
                # a source that fails with its key in the URL: its error and traceback
                {"name": "keyed", "feeds": [f"http://127.0.0.1:{dead}/rss?key=${{FEED_KEY}}"]},
            ],
            notify={
                "alerts": [
                    f"json://bob:${{HOOK_PASS}}@127.0.0.1:{dead}/hook",  # connection refused
                    f"mailto://bob:${{SMTP_PASS}}@127.0.0.1:{mailbox.port}"
                    "?from=newsmon@example.com&to=you@example.com",
                ],
                "digest": [f"json://bob:${{HOOK_PASS}}@127.0.0.1:{dead}/digest"],
                "max_age": 0,
            },
        )
        runs = [
            newsmon("-vv", "crawl", config=config),
            newsmon("-vv", "--log-format", "json", "crawl", config=config),  # the retries
            newsmon("-vv", "notify", "--test", config=config),
        ]
        assert mailbox.messages == []
    week = datetime.now(UTC).strftime("%G-W%V")
    runs += [
        invoke("-vv", "status", config=config),
        invoke("events", "--json", config=config),
        invoke("digest", "--week", week, "--out", "-", config=config),
        invoke("digest", "--week", week, "--out", str(tmp_path / "digest.md"), config=config),
        invoke("-vv", "digest", "--send", "--week", week, config=config),
    ]
    assert re.search(r"alerts: 0 sent, [1-9]\d* to retry", runs[0].stdout), runs[0].stdout
    assert "Traceback" in runs[0].stderr  # -vv shows the details, masked
    assert '"level"' in runs[1].stderr or '"level"' in runs[1].stdout
    assert "FAILING" in runs[3].stdout and "keyed" in runs[3].stdout
    shown = "".join(run.stdout + run.stderr for run in runs)
    shown += (tmp_path / "digest.md").read_text()
    assert "key=***" in shown and "bob:****@" in shown  # the places they would have been
    files = b"".join(path.read_bytes() for path in tmp_path.glob("newsmon.db*"))
    assert len(files) > 100_000  # the articles, events and queued alerts are there
    for secret in (HOOK_PASS, SMTP_PASS, FEED_KEY):
        assert secret not in shown
        assert secret.encode() not in files
