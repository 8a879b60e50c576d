"""The `newsmon` command line: one short function per verb, all calling `runner`.

Each command imports what it needs inside its function (Scrapy and trafilatura, but
also the config's pydantic models, sqlite-utils, Jinja2, Apprise and the topics), so
`newsmon --help` answers at once and a read command (status, events, search, digest)
costs little more (tests/test_docs.py lists what each may import).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from monitor.errors import Interrupted, NewsmonError

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.models import Document
    from monitor.redact import Redactor
    from monitor.topic import CompiledTopic

logger = logging.getLogger(__name__)


class _JsonLines(logging.Formatter):
    """One JSON object per log record, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _setup_logging(verbose: int, log_format: str, daemon: bool) -> None:
    # The daemon reports each source's cycle at INFO; one-shot commands stay quiet.
    quiet = logging.INFO if daemon else logging.WARNING
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else quiet
    handler = logging.StreamHandler()
    handler.setFormatter(
        _JsonLines()
        if log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Scrapy and APScheduler narrate every request and job at INFO, and Scrapy prints a
    # traceback for every unreachable page: our own one line per source says it; their
    # words only when asked twice.
    for name in ("scrapy", "apscheduler", "twisted", "py.warnings"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose > 1 else logging.CRITICAL)


class _ConfigRedactor(logging.Filter):
    """No log line may carry a secret, whatever the level: no ``${VAR}`` value, no URL
    password, nothing Apprise considers private in a channel URL.

    The redactor is built at the first log record, not at start: the channels' secrets
    take Apprise (0.1 s to import) and most commands log nothing. Records logged while it
    is built (by Apprise, reading the channels) are dropped: nothing masks them yet.
    """

    def __init__(self, config: Config) -> None:
        super().__init__()
        self._config = config
        self._redactor: Redactor | None = None
        self._building = False
        self._lock = threading.RLock()  # other threads wait; the builder's own re-enters

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            if self._redactor is None:
                if self._building:
                    return False
                self._building = True
                try:
                    self._redactor = _redactor(self._config)
                finally:
                    self._building = False
        return self._redactor.filter(record)


def _redactor(config: Config) -> Redactor:
    from monitor.redact import Redactor

    secrets = set(config.secrets)
    channels = [*config.notify.alerts, *config.notify.digest]
    if channels:
        from monitor.alerts import channel_secrets

        for url in channels:
            secrets |= channel_secrets(url)
    return Redactor(secrets)


def _redact_logs(config: Config) -> None:
    redactor = _ConfigRedactor(config)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    # Apprise and urllib3 print bot tokens at DEBUG (docs/pitfalls.md).
    for name in ("apprise", "urllib3"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))


class _Context:
    def __init__(
        self, config_path: str, verbose: int = 0, log_format: str = "text", progress: bool = True
    ) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self.log_format = log_format
        self.show_progress = progress
        self._config: Config | None = None

    @property
    def progress(self) -> bool:
        """Whether long work shows a progress line (``monitor.progress.wanted``)."""
        from monitor.progress import wanted

        return wanted(self.log_format, not self.show_progress)

    @property
    def config(self) -> Config:
        if self._config is None:
            from monitor.config import load_config

            self._config = load_config(self.config_path)
            _redact_logs(self._config)
        return self._config

    def config_or_defaults(self) -> Config:
        """For commands that store nothing (check): the defaults when there is no file."""
        if self._config is None and not Path(self.config_path).exists():
            from monitor.config import Config

            return Config()
        return self.config

    def topics(self, config: Config) -> list[CompiledTopic]:
        """The config's topics, compiled, for the commands that match: a bad topic is
        refused before any work starts (the commands that only read never compile them)."""
        from monitor.topic import load_topics

        return load_topics(config.topics)


class _Group(click.Group):
    """Global options may also follow the command (`newsmon status --config x.yaml`)."""

    GLOBAL = ("--config", "--log-format")
    FLAGS = ("-v", "-vv", "-vvv", "--verbose", "--no-progress")

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        hoisted: list[str] = []
        rest: list[str] = []
        index = 0
        while index < len(args):
            arg = args[index]
            if arg == "--":
                rest += args[index:]
                break
            if arg in self.GLOBAL and index + 1 < len(args):
                hoisted += args[index : index + 2]
                index += 2
                continue
            if arg.startswith(tuple(f"{name}=" for name in self.GLOBAL)) or arg in self.FLAGS:
                hoisted.append(arg)
            else:
                rest.append(arg)
            index += 1
        return super().parse_args(ctx, hoisted + rest)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newsmon", message="newsmon %(version)s")
@click.option(
    "--config",
    "config_path",
    default=lambda: os.environ.get("NEWSMON_CONFIG", "config.yaml"),
    show_default="$NEWSMON_CONFIG or ./config.yaml",
    help="Configuration file.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines for people, or JSON lines for log shippers.",
)
@click.option(
    "--no-progress",
    is_flag=True,
    help="No progress line for long work (shown only on a terminal, never with JSON logs).",
)
@click.pass_context
def cli(
    ctx: click.Context, config_path: str, verbose: int, log_format: str, no_progress: bool
) -> None:
    """newsmon: watch news sites and hear once about each event you care about."""
    _setup_logging(verbose, log_format, daemon=ctx.invoked_subcommand == "run")
    ctx.obj = _Context(config_path, verbose, log_format, not no_progress)


@cli.command()
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Only this source.")
@click.pass_obj
def crawl(obj: _Context, sources: tuple[str, ...]) -> None:
    """Run one full cycle now: crawl, extract and store (failed sources are reported)."""
    from monitor.progress import progress
    from monitor.runner import crawl_cycle

    obj.topics(obj.config)
    try:
        with progress("crawl", None, obj.progress) as bar:
            report = crawl_cycle(obj.config, sources, bar.advance)
    except Interrupted:
        click.echo("interrupted: what was fetched is stored; the rest next time", err=True)
        sys.exit(130)
    for warning in obj.config.warnings:
        click.echo(f"warning: {warning}", err=True)
    for reason in report.skipped:
        click.echo(f"skipped: {reason}; it stores what it finds")
    for stats in report.crawls:
        line = (
            f"{stats.source}: {stats.pages} pages, {stats.articles_fetched} articles fetched, "
            f"{stats.new_articles} new, {stats.errors} errors, {stats.seconds:.1f} s"
        )
        first = stats.error_messages[0] if stats.error_messages else "no response"
        if stats.outcome == "failed":
            line += f" — FAILED: {first}"
        elif stats.errors:
            line += f" — first error: {first}"
        click.echo(line)
        # the errors themselves with -v; one line per source is enough otherwise
        if obj.verbose:
            for message in stats.error_messages[:20]:
                click.echo(f"  error: {message}", err=True)
    matching = report.matching
    click.echo(
        f"matching: {matching.checked} articles checked, {matching.matched} matched, "
        f"{len(matching.new_events)} new events"
    )
    delivery = report.delivery
    click.echo(
        f"alerts: {delivery.sent} sent, {delivery.failed} to retry, {delivery.dead} given up"
    )
    for message in delivery.errors[:5]:
        click.echo(f"  alert error: {message}", err=True)


@cli.command()
@click.option("--source", "source", required=True, metavar="NAME", help="The source to walk.")
@click.option(
    "--since",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Walk back to this day.",
)
@click.pass_context
def backfill(ctx: click.Context, source: str, since: datetime) -> None:
    """Fetch a source's older articles back to a date (resumable; no alerts older than
    notify.max_age)."""
    from monitor.runner import backfill as walk

    obj: _Context = ctx.obj
    obj.topics(obj.config)
    try:
        report = walk(obj.config, source, since.date(), obj.progress)
    except Interrupted:
        click.echo("interrupted: what was fetched is stored; run it again to go on", err=True)
        sys.exit(130)
    for stats in report.crawls:
        click.echo(
            f"{stats.source}: {stats.pages} pages, {stats.articles_fetched} articles fetched, "
            f"{stats.new_articles} new, {stats.errors} errors, {stats.seconds:.1f} s"
            + (f" — first error: {stats.error_messages[0]}" if stats.error_messages else "")
        )
    matching, delivery = report.matching, report.delivery
    click.echo(
        f"matching: {matching.checked} articles checked, {matching.matched} matched, "
        f"{len(matching.new_events)} new events"
    )
    click.echo(
        f"alerts: {delivery.sent} sent, {delivery.failed} to retry, {delivery.dead} given up"
    )


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=20, show_default=True, help="Most results to show.")
@click.pass_obj
def search(obj: _Context, query: tuple[str, ...], limit: int) -> None:
    """Full-text search of stored articles (any language, Chinese included)."""
    from monitor.store import Storage

    with Storage(obj.config.database) as storage:
        results = storage.search(" ".join(query), limit=limit)
    if not results:
        click.echo("no articles found")
    for hit in results:
        date = f"{hit.published or hit.first_seen:%Y-%m-%d}"
        click.echo(f"{date}  [{hit.language or '?'}] {hit.title}\n            {hit.url}")
        if hit.snippet:
            click.echo(f"            {' '.join(hit.snippet.split())}")


def _ago(moment: datetime | None, now: datetime) -> str:
    if not moment:
        return "never"
    delta = now - moment
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} days ago"


@cli.command()
@click.pass_obj
def status(obj: _Context) -> None:
    """Sources, their last crawl and result, next runs, and counts."""
    from monitor.health import QUIET_HISTORY, next_run, quiet_since, span
    from monitor.locks import lock_holder
    from monitor.store import RETRY_FOR, Storage

    config = obj.config
    now = datetime.now(UTC)
    with Storage(config.database) as storage:
        click.echo(f"database: {config.database}")
        for warning in config.warnings:
            click.echo(f"warning: {warning}")
        failures = storage.fetch_failures()
        for source in config.sources:
            state = storage.source_state(source.name)
            if state.last_run is None:
                result = "not crawled yet"
            elif state.consecutive_failures:
                # a stop mid-crawl says nothing new of a failing source: its error still holds
                result = (
                    f"FAILING ({state.consecutive_failures}x): {state.last_error or 'no response'}"
                )
            elif state.last_run.outcome == "interrupted":
                # stopped by a signal, or by the site's refusal: that is its first error
                why = state.last_run.error_messages[:1] or ["stopped mid-crawl"]
                result = f"INTERRUPTED ({why[0]}; the rest at the next run)"
            else:
                run = state.last_run
                result = f"ok: {run.pages} pages, {run.new_articles} new, {run.errors} errors"
                if run.error_messages:
                    result += f" (first: {run.error_messages[0]})"
                runs = storage.productive_runs(source.name, now - QUIET_HISTORY)
                quiet = quiet_since(*runs, now, source.every)
                if quiet is not None:
                    result += f"; POSSIBLY BROKEN: no new article since {quiet:%Y-%m-%d %H:%M}"
            due, retry = next_run(state, source.every, now)
            if due > now and due == state.not_before:
                when = f"in {span(due - now)} (the site asked to wait)"
            elif not retry and state.last_success_at is None:
                when = "now"
            elif due <= now:
                when = "now (overdue)"
            else:
                when = f"in {span(due - now)}{' (retry)' if retry else ''}"
            holder = lock_holder(config.database, source.name)
            if holder:
                result += f"; BUSY: being crawled by {holder}"
            waiting, given_up = failures.get(source.name, (0, 0))
            retries = f", {waiting} to fetch again" if waiting else ""
            if given_up:
                retries += f", {given_up} GIVEN UP (their fetch failed for {span(RETRY_FOR)})"
            click.echo(
                f"  {source.name:<16} last run {_ago(state.last_run_at, now):<14} {result}\n"
                f"  {'':<16} {state.articles} articles in {state.events} events{retries}, "
                f"every {span(source.every)}, next run {when}"
            )
        counts = storage.counts()
        events = storage.event_count()
        outbox = storage.outbox_counts()
        dead = storage.dead_messages()
        retrying = storage.retrying_channels()
    click.echo(
        f"alerts: {outbox['pending'] + outbox['retrying']} pending "
        f"({outbox['retrying']} retrying), {outbox['sent']} sent, {outbox['dead']} dead"
    )
    if dead or retrying:
        from monitor.runner import all_channels

        alerts, digests = all_channels(config)
        names = {channel.key: channel.display for channel in [*alerts, *digests]}
        for key, waiting, next_at, error in retrying:
            when = f"in {span(next_at - now)}" if next_at > now else "now"
            click.echo(
                f"  retrying: {waiting} to {names.get(key, 'a removed channel')}, "
                f"next try {when}: {error}"
            )
        for message in dead[:10]:
            where = names.get(message.channel, "a removed channel")
            click.echo(
                f"  dead: {message.subject} to {where} after {message.attempts} tries: "
                f"{message.last_error}"
            )
    click.echo(
        f"articles: {counts['articles']} stored, {counts['unextractable']} without text, "
        f"{counts['duplicates']} duplicates, "
        f"{counts['fetch_failures']} fetch failures; events: {events}"
    )


def _documents(
    inputs: tuple[str, ...], as_json: bool, failed: list[str]
) -> Iterator[tuple[str, Document]]:
    """Each input read and extracted; one that cannot be is reported (on stderr, and as
    an error line in JSON mode), added to ``failed``, and the rest go on."""
    from monitor.inputs import read_document

    for item in inputs:
        try:
            yield item, read_document(item)
        except NewsmonError as exc:
            failed.append(item)
            click.echo(f"{item}: {exc}", err=True)
            if as_json:
                click.echo(json.dumps({"input": item, "error": str(exc)}, ensure_ascii=False))


@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="PATH_OR_URL...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input, per line.")
@click.pass_obj
def extract(obj: _Context, inputs: tuple[str, ...], as_json: bool) -> None:
    """Show what newsmon sees in a page: title, date, language, author, text."""
    failed: list[str] = []
    for item, doc in _documents(inputs, as_json, failed):
        record: dict[str, Any] = {
            "input": item,
            "title": doc.title,
            "published": doc.published.isoformat() if doc.published else None,
            "language": doc.language,
            "author": doc.author,
            "text": doc.text,
        }
        if as_json:
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            click.echo(
                f"== {item}\ntitle:     {doc.title}\npublished: {record['published']}\n"
                f"language:  {doc.language}\nauthor:    {doc.author}\n\n{doc.text}\n"
            )
    if failed:
        sys.exit(1)


@cli.command()
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve Prometheus metrics at http://HOST:PORT/metrics (off by default).",
)
@click.option(
    "--metrics-host", default="127.0.0.1", show_default=True, help="Address for the metrics."
)
@click.pass_obj
def run(obj: _Context, metrics_port: int | None, metrics_host: str) -> None:
    """The daemon: every source on its own interval, alert delivery, the weekly digest.

    Stops cleanly on SIGTERM or SIGINT.
    """
    from monitor.scheduler import run_daemon

    obj.topics(obj.config)
    run_daemon(obj.config, (metrics_host, metrics_port) if metrics_port else None)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, help="Port to listen on.")
@click.pass_obj
def serve(obj: _Context, host: str, port: int) -> None:
    """A read-only web view of the database: events, sources, search, alerts."""
    import uvicorn

    from monitor.runner import all_channels
    from monitor.web import datasette

    config = obj.config
    alerts, digests = all_channels(config)
    channels = {channel.key: channel.display for channel in [*alerts, *digests]}
    server = datasette(config.database, channels, _redactor(config))
    click.echo(f"newsmon: serving {config.database} read-only at http://{host}:{port}/", err=True)
    uvicorn.run(server.app(), host=host, port=port, log_level="warning")


@cli.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the demo's config and database in this directory.",
)
def demo(keep: Path | None) -> None:
    """Run the pipeline on bundled local replicas of real news sites (no internet needed)."""
    import tempfile

    from monitor.demo.walkthrough import run_demo

    run_demo(keep or Path(tempfile.mkdtemp(prefix="newsmon-demo-")), click.echo)


@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="PATH_OR_URL...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input, per line.")
@click.option(
    "--topic",
    "topic_names",
    multiple=True,
    metavar="NAME",
    help="Only this topic (a configured or built-in one); repeatable.",
)
@click.pass_obj
def check(
    obj: _Context, inputs: tuple[str, ...], as_json: bool, topic_names: tuple[str, ...]
) -> None:
    """Extract and match HTML or plain-text files (or URLs) without storing anything.

    Plain text: the first line is the headline; a dateline such as "Moscow, 14 December
    2021" may follow on the second line and gives the article's date.
    """
    from monitor.matcher import match_article
    from monitor.topic import compile_topic, load_topic

    topics = obj.topics(obj.config_or_defaults())
    if topic_names:
        configured = {topic.name: topic for topic in topics}
        topics = [configured.get(name) or compile_topic(load_topic(name)) for name in topic_names]
    failed: list[str] = []
    for item, doc in _documents(inputs, as_json, failed):
        published = doc.published.date() if doc.published else None
        matches = [
            found
            for topic in topics
            if (found := match_article(doc.title, doc.text, published, topic)) is not None
        ]
        if as_json:
            record = {
                "input": item,
                "title": doc.title,
                "language": doc.language,
                "published": published.isoformat() if published else None,
                "matches": [
                    {
                        "topic": found.topic,
                        "score": found.score,
                        "event": {
                            "participants": list(found.participants),
                            "kind": found.kind,
                            "date": found.date.isoformat() if found.date else None,
                        },
                        "evidence": list(found.evidence),
                        "announcement": found.announcement,
                    }
                    for found in matches
                ],
            }
            click.echo(json.dumps(record, ensure_ascii=False))
            continue
        click.echo(f"{item}: {doc.title}")
        if not matches:
            click.echo("  no watched event")
        for found in matches:
            when = found.date.isoformat() if found.date else "date unknown"
            announced = ", announced" if found.announcement else ""
            click.echo(
                f"  {found.topic} (score {found.score:.2f}): {' – '.join(found.participants)}, "
                f"{found.kind}, {when}{announced}\n  evidence: {'; '.join(found.evidence)}"
            )
    if failed:
        sys.exit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event, per line.")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only events on or after this day (YYYY-MM-DD).",
)
@click.pass_obj
def events(obj: _Context, as_json: bool, since: datetime | None) -> None:
    """The detected events, newest first, with their articles."""
    from monitor.store import Storage

    with Storage(obj.config.database) as storage:
        found = storage.events(since.date() if since else None)
    if not found and not as_json:
        click.echo(f"no events since {since:%Y-%m-%d}" if since else "no events yet")
    lines = []  # echoed at once: a year's events are thousands of lines
    for event in found:
        if as_json:
            lines.append(json.dumps(event.to_json(), ensure_ascii=False))
            continue
        days = event.first_day.isoformat()
        if event.last_day != event.first_day:
            days += f" – {event.last_day.isoformat()}"
        languages = sorted({a.language or "?" for a in event.articles})
        lines.append(
            f"#{event.id} {days}  {' – '.join(event.participants)}, {event.kind}  "
            f"({len(event.articles)} articles; {', '.join(languages)})"
        )
        for article in event.articles:
            mark = " [announcement]" if article.announcement else ""
            mark += " [near-duplicate]" if article.near_duplicate_of else ""
            lines.append(
                f"    [{article.language or '?'}] {article.source}: "
                f"{article.title}{mark}\n        {article.url}"
            )
    if lines:
        click.echo("\n".join(lines))


@cli.command()
@click.pass_obj
def rematch(obj: _Context) -> None:
    """Judge every stored article again, after a rule change (events keep their ids)."""
    from monitor.progress import progress
    from monitor.runner import rematch as run_rematch
    from monitor.store import Storage

    topics = obj.topics(obj.config)
    with Storage(obj.config.database) as storage:
        counts = storage.counts()
    # every article with text is judged again for each topic, duplicates included
    total = (counts["articles"] + counts["duplicates"]) * len(topics)
    with progress("rematch", total, obj.progress) as bar:
        report = run_rematch(obj.config, bar.advance)
    click.echo(
        f"{report.checked} articles checked, {report.matched} matched, "
        f"{len(report.new_events)} new events"
    )


@cli.command()
@click.option(
    "--week",
    default=None,
    metavar="YYYY-Www",
    help="ISO week, e.g. 2024-W20 (default: the last complete week).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write it here: HTML, or Markdown for .md, plain text for .txt; - for stdout (HTML).",
)
@click.option("--send", is_flag=True, help="Send it to the notify.digest channels.")
@click.pass_obj
def digest(obj: _Context, week: str | None, out: Path | None, send: bool) -> None:
    """Build the weekly digest of events and source health; write it and/or send it."""
    from monitor.digest import last_complete_week, parse_week
    from monitor.progress import progress
    from monitor.runner import build_digest, send_digest

    week = week or last_complete_week(datetime.now(UTC).date())
    try:
        parse_week(week)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from None
    with progress(f"digest {week}", None, obj.progress):
        built = build_digest(obj.config, week)
    if out is not None and str(out) == "-":
        click.echo(built.html)
    elif out is not None:
        suffix = out.suffix.lower()
        body = built.markdown if suffix == ".md" else built.text if suffix == ".txt" else built.html
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(body, encoding="utf-8")
        click.echo(f"wrote {out}")
    if send:
        if not obj.config.notify.digest:
            click.echo("digest: not sent: no digest channel configured (notify.digest)", err=True)
            sys.exit(1)
        report = send_digest(obj.config, built, week)
        click.echo(f"digest: {report.sent} sent, {report.failed} to retry, {report.dead} given up")
        for message in report.errors:
            click.echo(f"  error: {message}", err=True)
        if report.failed or report.dead:
            sys.exit(1)
    if out is None and not send:
        click.echo(built.text)


@cli.command()
@click.option(
    "--test",
    "send_test",
    is_flag=True,
    required=True,
    help="Send a test message to every configured channel.",
)
@click.pass_obj
def notify(obj: _Context, send_test: bool) -> None:
    """Send a test message to every channel (alerts and digest) and report each result."""
    from monitor.alerts import load_channels, probe_channels

    config = obj.config
    channels = load_channels(config.notify.alerts, "notify.alerts") + load_channels(
        config.notify.digest, "notify.digest"
    )
    if not channels:
        click.echo("no channels configured (notify.alerts, notify.digest)")
        return
    unique = list({channel.key: channel for channel in channels}.values())
    failures = 0
    for channel, error in probe_channels(unique, config.notify.timeout):
        if error is None:
            click.echo(f"ok      {channel.display}")
        else:
            failures += 1
            click.echo(f"FAILED  {channel.display}: {error}")
    if failures:
        sys.exit(1)


def main() -> None:
    """Console-script entry: newsmon's own errors become one line and exit code 2."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Interrupted:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except NewsmonError as exc:
        click.echo(f"newsmon: error: {exc}", err=True)
        sys.exit(2)
