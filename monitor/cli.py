"""The `newsmon` command line: one short function per verb, all calling `runner`.

Scrapy and trafilatura are imported inside the commands that need them, so
`newsmon --help` answers at once.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from monitor.config import Config, load_config
from monitor.errors import NewsmonError

logger = logging.getLogger(__name__)


def _setup_logging(verbose: int) -> None:
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Scrapy narrates every request at INFO; keep it to warnings unless asked twice.
    logging.getLogger("scrapy").setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)


class _Context:
    def __init__(self, config_path: str) -> None:
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    default=lambda: os.environ.get("NEWSMON_CONFIG", "config.yaml"),
    show_default="$NEWSMON_CONFIG or ./config.yaml",
    help="Configuration file.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, config_path: str, verbose: int) -> None:
    """newsmon: watch news sites and hear once about each event you care about."""
    _setup_logging(verbose)
    ctx.obj = _Context(config_path)


@cli.command()
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Only this source.")
@click.pass_obj
def crawl(obj: _Context, sources: tuple[str, ...]) -> None:
    """Run one full cycle now: crawl, extract and store (failed sources are reported)."""
    from monitor.runner import crawl_cycle

    for stats in crawl_cycle(obj.config, sources):
        click.echo(
            f"{stats.source}: {stats.pages} pages, {stats.articles_fetched} articles fetched, "
            f"{stats.new_articles} new, {stats.errors} errors, {stats.seconds:.1f} s"
        )
        for message in stats.error_messages[:5]:
            click.echo(f"  error: {message}", err=True)
        if len(stats.error_messages) > 5:
            click.echo(f"  … and {len(stats.error_messages) - 5} more errors", err=True)


@cli.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=20, show_default=True, help="Most results to show.")
@click.pass_obj
def search(obj: _Context, query: tuple[str, ...], limit: int) -> None:
    """Full-text search of stored articles (any language, Chinese included)."""
    from monitor.storage import Storage

    with Storage(obj.config.database) as storage:
        results = storage.search(" ".join(query), limit=limit)
    if not results:
        click.echo("no articles found")
    for hit in results:
        date = (hit.published or hit.first_seen)[:10]
        click.echo(f"{date}  [{hit.language or '?'}] {hit.title}\n            {hit.url}")
        if hit.snippet:
            click.echo(f"            {' '.join(hit.snippet.split())}")


def _ago(moment: str | None, now: datetime) -> str:
    if not moment:
        return "never"
    delta = now - datetime.fromisoformat(moment)
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
    from monitor.storage import Storage

    config = obj.config
    now = datetime.now(UTC)
    with Storage(config.database) as storage:
        click.echo(f"database: {config.database}")
        for source in config.sources:
            state = storage.source_status(source.name)
            if state.last_run is None:
                result = "not crawled yet"
            elif state.consecutive_failures:
                result = (
                    f"FAILING ({state.consecutive_failures}x): {state.last_error or 'no response'}"
                )
            else:
                run = state.last_run
                result = f"ok: {run.pages} pages, {run.new_articles} new, {run.errors} errors"
            if state.last_success_at:
                due = datetime.fromisoformat(state.last_success_at) + source.every
                next_run = "now (overdue)" if due <= now else f"in {_until(due - now)}"
            else:
                next_run = "now"
            click.echo(
                f"  {source.name:<16} last run {_ago(state.last_run_at, now):<14} {result}\n"
                f"  {'':<16} {state.articles} articles, every {_until(source.every)}, "
                f"next run {next_run}"
            )
        counts = storage.counts()
    click.echo(
        f"articles: {counts['articles']} stored, {counts['unextractable']} without text, "
        f"{counts['duplicates']} duplicates, "
        f"{counts['fetch_failures']} fetch failures"
    )


def _until(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if (seconds >= size and seconds % size == 0) or seconds >= 10 * size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="PATH_OR_URL...")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input, per line.")
@click.pass_obj
def extract(obj: _Context, inputs: tuple[str, ...], as_json: bool) -> None:
    """Show what newsmon sees in a page: title, date, language, author, text."""
    from monitor.runner import read_document

    failed = False
    for item in inputs:
        try:
            doc = read_document(item)
        except NewsmonError as exc:
            failed = True
            click.echo(f"{item}: {exc}", err=True)
            if as_json:
                click.echo(json.dumps({"input": item, "error": str(exc)}, ensure_ascii=False))
            continue
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
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the demo's config and database in this directory.",
)
def demo(keep: Path | None) -> None:
    """Run the pipeline on bundled local replicas of real news sites (no internet needed)."""
    import tempfile

    from monitor.demo.replicas import ReplicaSites
    from monitor.runner import crawl_cycle
    from monitor.storage import Storage

    workdir = keep or Path(tempfile.mkdtemp(prefix="newsmon-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    with ReplicaSites() as sites:
        click.echo("Replica sites on 127.0.0.1:")
        for site in sites:
            click.echo(f"  {site.name:<12} {site.base_url}")
        config_path = workdir / "config.yaml"
        config_path.write_text(sites.config_yaml(str(workdir / "newsmon.db")), encoding="utf-8")
        config = load_config(config_path)
        click.echo("\nCrawling every source once…")
        for stats in crawl_cycle(config):
            click.echo(
                f"  {stats.source}: {stats.pages} pages, {stats.new_articles} new articles, "
                f"{stats.errors} errors, {stats.seconds:.1f} s"
            )
    with Storage(config.database) as storage:
        click.echo("\nStored articles:")
        for row in storage.articles():
            if row["extract_error"] is None and row["duplicate_of"] is None:
                date = (row["published"] or "")[:10]
                click.echo(f"  {date} [{row['language']}] {row['source']:<11} {row['title']}")
    click.echo(f"\nDatabase: {config.database}\nConfig:   {config_path}")
    click.echo(f"Try: newsmon --config {config_path} search Putin")


def main() -> None:
    """Console-script entry: newsmon's own errors become one line and exit code 2."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except NewsmonError as exc:
        click.echo(f"newsmon: error: {exc}", err=True)
        sys.exit(2)
