"""`newsmon demo`: the whole pipeline on the bundled replica sites, narrated.

Starts the replicas and a local SMTP server, writes a config pointing at them, then runs
the runner functions that `newsmon crawl` and the daemon run: a first crawl cycle over
every source, then, once a new article has appeared on one replica, that source's next
cycle. It shows each step, the articles that name a leader but were not alerted (with
the matcher's reason), and the alerts as the inbox received them; then writes and mails
the digest. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

from monitor.alerts import Channel, load_channels
from monitor.config import Config, Source, load_config
from monitor.demo.mailbox import Mailbox
from monitor.demo.replicas import ReplicaSite, ReplicaSites
from monitor.matcher import Miss, why_not_matched
from monitor.models import Event
from monitor.render import KIND_WORDS, day_span
from monitor.runner import (
    CycleReport,
    build_digest,
    crawl_sources,
    deliver,
    match_and_queue,
    run_once,
    send_digest,
)
from monitor.store import Storage
from monitor.topic import load_topics

ABOUT = {
    "kremlin-en": "en.kremlin.ru: Atom feed + listing pages",
    "kremlin-ru": "kremlin.ru: Atom feed + listing pages, one page in windows-1251",
    "andalpost": "andalpost.com: WordPress RSS + Yoast sitemaps",
    "xinhua-zh": "news.cn: listing page only, robots.txt",
}
# Published on a replica between the two cycles: the page and its feed entry are kept
# beside the site's files under names starting with "_", which a replica never serves.
LATER_SITE = "kremlin-en"
LATER_PAGE = "/events/president/news/74042"
LATER_FEED = "/events/president/news/feed"
NEAR_MISSES_SHOWN = 3

Echo = Callable[[str], None]


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


async def _cycle(
    config: Config, sources: Sequence[Source], storage: Storage, channels: Sequence[Channel]
) -> CycleReport:
    """What `newsmon crawl` does, inside the one reactor run that both cycles share
    (Scrapy's reactor cannot be started twice in a process)."""
    keys = [channel.key for channel in channels]
    crawls = await crawl_sources(config, sources, storage, notify=keys)
    matching = match_and_queue(storage, config, channels)
    return CycleReport(crawls, matching, deliver(storage, config, ignore_backoff=True))


def _show_crawls(report: CycleReport, echo: Echo) -> None:
    for stats in report.crawls:
        echo(
            f"        {stats.source:<11} {stats.pages:>3} pages, {stats.new_articles:>2} new "
            f"articles, {stats.errors} errors, {stats.seconds:.1f} s"
        )


def publish_later(site: ReplicaSite) -> None:
    """Put the kept-back article on the site and at the top of its feed."""
    folder = site.root / LATER_PAGE.strip("/").rsplit("/", 1)[0]
    name = LATER_PAGE.rsplit("/", 1)[1]
    site.put(LATER_PAGE, (folder / f"_{name}").read_bytes())
    entry = (folder / f"_feed-entry-{name}").read_text("utf-8")
    feed = (site.root / LATER_FEED.strip("/")).read_text("utf-8")
    first = feed.index("  <entry>")
    site.put(LATER_FEED, feed[:first] + entry + feed[first:])


def near_misses(config: Config, storage: Storage, limit: int) -> list[tuple[str, Miss]]:
    """Stored articles that name a leader but were not alerted, with the matcher's reason:
    one article per rule, at most ``limit``, English ones first (the demo speaks English)."""
    topics = load_topics(config.topics)
    alerted = {article.id for event in storage.events() for article in event.articles}
    articles = sorted(
        (article for article in storage.articles() if article.id not in alerted),
        key=lambda a: (a.language != "en", a.published.isoformat() if a.published else "", a.title),
    )
    shown: list[tuple[str, Miss]] = []
    for article in articles:
        published = article.published.date() if article.published else None
        for topic in topics:
            miss = why_not_matched(article.title, article.text, published, topic)
            if miss and miss.near and all(miss.rule != m.rule for _, m in shown):
                shown.append((article.title, miss))
    return shown[:limit]


def _by_meeting_day(
    messages: list[EmailMessage], events: list[Event]
) -> list[tuple[str, str, str]]:
    """The alerts in the order of their meetings (they arrive in the order the crawl met
    the articles), each with its plain-text body; an alert names its first article's URL."""
    first_day = {a.url: e.first_day.isoformat() for e in events for a in e.articles}
    alerts: list[tuple[str, str, str]] = []
    for message in messages:
        part = message.get_body(preferencelist=("plain",))
        text = part.get_content() if part else ""
        days = [day for url, day in first_day.items() if url in text]
        alerts.append((min(days, default=""), str(message["Subject"]), text))
    return sorted(alerts)


def run_demo(workdir: Path, echo: Echo) -> None:
    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    echo("newsmon demo: the whole pipeline on local replicas of real news sites (no internet)\n")
    with ReplicaSites() as sites, Mailbox() as inbox:
        echo("[1/6] Replica sites started on 127.0.0.1:")
        for site in sites:
            echo(f"        {site.name:<11} {site.base_url}  ({ABOUT.get(site.name, '')})")
        echo(f"\n[2/6] Local mail server (aiosmtpd) listening on 127.0.0.1:{inbox.port}")
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
        channels = load_channels(config.notify.alerts, "notify.alerts")
        later = sites.site(LATER_SITE)

        with Storage(config.database) as storage:

            async def both_cycles() -> tuple[CycleReport, CycleReport]:
                echo("\n[3/6] First crawl cycle: every source, extracting, matching …")
                first = await _cycle(config, config.sources, storage, channels)
                _show_crawls(first, echo)
                matching = first.matching
                echo(
                    f"        {matching.checked} articles judged, {matching.matched} about a "
                    f"watched meeting, {len(matching.new_events)} events, "
                    f"{first.delivery.sent} alerts sent"
                )
                echo("        Not alerted though they name a leader, as the matcher judged them:")
                for title, miss in near_misses(config, storage, NEAR_MISSES_SHOWN):
                    echo(f"        not alerted: {title} — because {miss.reason}")
                _show_events(storage, echo)
                echo(f"\n[5/6] A new article appears in {LATER_SITE}'s feed; its next cycle:")
                publish_later(later)
                second = await _cycle(config, [config.source(LATER_SITE)], storage, channels)
                return first, second

            first, second = run_once(both_cycles)
            _show_crawls(second, echo)
            _show_joined(storage, later.url(LATER_PAGE), second, echo)
            events = storage.events()

        sent = first.delivery.sent + second.delivery.sent
        echo(f"\n[6/6] Alerts, as your inbox received them ({sent} sent), by meeting day:")
        for _, subject, text in _by_meeting_day(inbox.parsed(), events):
            echo(f"\n    ┌─ {subject}")
            for line in text.strip().splitlines():
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
        f"  {newsmon} check --json tests/data/seed/andalpost-2022-12-30.txt\n"
        f"\nSee it in a browser (events, sources, search; read-only, on 127.0.0.1 only):\n"
        f"  {newsmon} --config {config_path} serve    # then open http://127.0.0.1:8001/"
    )


def _show_events(storage: Storage, echo: Echo) -> None:
    echo("\n[4/6] Events: one per meeting, whatever the number of articles and languages")
    for event in reversed(storage.events()):
        days = day_span(event.first_day, event.last_day)
        languages = ", ".join(sorted({a.language or "?" for a in event.articles}))
        echo(
            f"        #{event.id} {days:<16} {' – '.join(event.participants)}, "
            f"{KIND_WORDS.get(event.kind, 'meeting')}: {len(event.articles)} "
            f"articles ({languages})"
        )


def _show_joined(storage: Storage, url: str, report: CycleReport, echo: Echo) -> None:
    """Where the new article went, and whether anyone was told again."""
    for event in storage.events():
        for article in event.articles:
            if article.url == url:
                verb = "opened" if event.id in report.matching.new_events else "joined"
                sent = report.delivery.sent
                told = f"{sent} new alerts" if sent else "no new alert"
                echo(f"        {article.title}: {verb} event #{event.id}, {told}")
                return
    echo(f"        {url}: about no watched meeting")
