"""`newsmon demo`: the whole pipeline on the bundled replica sites, narrated.

Starts the replicas and a local SMTP server, writes a config pointing at them, then runs
the same runner functions as `newsmon crawl` and `newsmon digest`, showing each step and
the alerts as the inbox received them. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

from monitor.config import load_config
from monitor.demo.mailbox import Mailbox
from monitor.demo.replicas import ReplicaSites
from monitor.digest import KIND_WORDS, day_span
from monitor.runner import build_digest, crawl_cycle, send_digest
from monitor.storage import Storage

ABOUT = {
    "kremlin-en": "en.kremlin.ru: Atom feed + listing pages",
    "kremlin-ru": "kremlin.ru: Atom feed + listing pages, one page in windows-1251",
    "andalpost": "andalpost.com: WordPress RSS + Yoast sitemaps",
    "xinhua-zh": "news.cn: listing page only, robots.txt",
}


def _this_week(today: date) -> str:
    year, week, _ = today.isocalendar()
    return f"{year}-W{week:02d}"


def _command() -> str:
    """How the user can call newsmon again: by name if it is on PATH, else as started."""
    if shutil.which("newsmon"):
        return "newsmon"
    if Path(sys.argv[0]).name == "newsmon":
        return os.path.relpath(sys.argv[0])
    return f"{sys.executable} -m monitor"


def run_demo(workdir: Path, echo: Callable[[str], None]) -> None:
    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    echo("newsmon demo: the whole pipeline on local replicas of real news sites (no internet)\n")
    with ReplicaSites() as sites, Mailbox() as inbox:
        echo("[1/5] Replica sites started on 127.0.0.1:")
        for site in sites:
            echo(f"        {site.name:<11} {site.base_url}  ({ABOUT.get(site.name, '')})")
        echo(f"\n[2/5] Local mail server (aiosmtpd) listening on 127.0.0.1:{inbox.port}")
        config_path = workdir / "config.yaml"
        config_path.write_text(
            sites.config_yaml(
                str(workdir / "newsmon.db"),
                # Replica articles are years old: alert them all (max_age 0).
                extra={"notify": {"alerts": [inbox.url], "digest": [inbox.url], "max_age": 0}},
            ),
            encoding="utf-8",
        )
        config = load_config(config_path)

        echo("\n[3/5] Crawling every source, extracting, matching …")
        report = crawl_cycle(config)
        for stats in report.crawls:
            echo(
                f"        {stats.source:<11} {stats.pages:>3} pages, {stats.new_articles:>2} new "
                f"articles, {stats.errors} errors, {stats.seconds:.1f} s"
            )
        matching = report.matching
        echo(
            f"        {matching.checked} articles judged, {matching.matched} about a watched "
            f"meeting, {len(matching.new_events)} events"
        )

        echo("\n[4/5] Events: one per meeting, whatever the number of articles and languages")
        with Storage(config.database) as storage:
            events = storage.events()
        for event in reversed(events):
            days = day_span(
                date.fromisoformat(event["first_day"]), date.fromisoformat(event["last_day"])
            )
            languages = ", ".join(sorted({a["language"] or "?" for a in event["articles"]}))
            echo(
                f"        #{event['id']} {days:<16} {' – '.join(event['participants'])}, "
                f"{KIND_WORDS.get(event['kind'], 'meeting')}: {len(event['articles'])} "
                f"articles ({languages})"
            )

        echo(f"\n[5/5] Alerts, as your inbox received them ({report.delivery.sent} sent):")
        for message in inbox.parsed():
            text = message.get_body(preferencelist=("plain",))
            echo(f"\n    ┌─ {message['Subject']}")
            for line in (text.get_content() if text else "").strip().splitlines():
                echo(f"    │ {line}")
            echo("    └─")

        week = _this_week(datetime.now(UTC).date())
        digest = build_digest(config, week)
        digest_path = workdir / "digest.html"
        digest_path.write_text(digest.html, encoding="utf-8")
        send_digest(config, digest, week)

    newsmon = _command()
    echo(
        f"\nDone in {time.monotonic() - started:.0f} s. Everything is in {workdir}:\n"
        f"  config    {config_path}\n"
        f"  database  {config.database}\n"
        f"  digest    {digest_path}  (this week's; also mailed)\n"
        f"\nTry:\n"
        f"  {newsmon} --config {config_path} events\n"
        f"  {newsmon} --config {config_path} search 习近平\n"
        f"  {newsmon} --config {config_path} status\n"
        f"  {newsmon} --config {config_path} digest --week {week} --out digest.md\n"
        f"  {newsmon} check --json tests/data/seed/andalpost-2022-12-30.txt"
    )
