"""Crawl runs and what they leave: each source's state, the HTTP validators that make
re-reading an unchanged feed cost nothing, and the facts of a source's health."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from monitor.models import CrawlStats, SourceHealth, SourceState
from monitor.store.schema import Connection, iso, now, parse


def _run(row: dict[str, Any]) -> CrawlStats:
    return CrawlStats(
        source=row["source"],
        started_at=datetime.fromisoformat(row["started_at"]),
        finished_at=datetime.fromisoformat(row["finished_at"]),
        pages=row["pages"],
        articles_fetched=row["articles_fetched"],
        new_articles=row["new_articles"],
        errors=row["errors"],
        error_messages=tuple(json.loads(row["error_messages"])),
        outcome=row["outcome"],
    )


class RunStore(Connection):
    def validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) last seen for a feed, sitemap or listing URL."""
        for row in self.db.execute(
            "SELECT etag, last_modified FROM validators WHERE url = ?", [url]
        ):
            return row[0], row[1]
        return None, None

    def save_validators(self, entries: dict[str, tuple[str | None, str | None]]) -> None:
        stamp = iso(now())
        rows = [
            {"url": url, "etag": etag, "last_modified": modified, "updated_at": stamp}
            for url, (etag, modified) in entries.items()
        ]
        with self.write():
            self.db.table("validators").upsert_all(rows, pk="url")

    # -- backfill walks -------------------------------------------------------------

    def backfill_position(
        self, source: str, entry: str, since: datetime
    ) -> tuple[str | None, bool]:
        """(page to start at, whether the walk is complete) of a feed's or listing's walk
        back to ``since``; a walk to another date starts again at the entry."""
        for row in self.db.execute(
            "SELECT page, done FROM backfills WHERE source = ? AND entry = ? AND since = ?",
            [source, entry, iso(since)],
        ):
            return row[0], bool(row[1])
        return None, False

    def save_backfill(
        self, source: str, entry: str, since: datetime, page: str | None, done: bool
    ) -> None:
        with self.write():
            self.db.execute(
                """INSERT INTO backfills (source, entry, since, page, done, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (source, entry) DO UPDATE SET since = excluded.since,
                       page = excluded.page, done = excluded.done,
                       updated_at = excluded.updated_at""",
                [source, entry, iso(since), page, int(done), iso(now())],
            )

    # -- crawl runs and source state ----------------------------------------------

    def record_crawl(self, stats: CrawlStats) -> int:
        """Store a crawl run and update the source's state in one transaction; return the
        number of consecutive failures before this run (to notice a change of state).

        The run's ``outcome``: "failed" means the source could not be read or
        its pages could not be stored; "interrupted" (a stop mid-crawl) changes neither the
        last success nor the failure count, so the source is due again at the next start.
        """
        outcome = stats.outcome
        with self.write():
            before = self.db.execute(
                "SELECT consecutive_failures FROM source_state WHERE source = ?", [stats.source]
            ).fetchone()
            self.db.table("crawl_runs").insert(
                {
                    "source": stats.source,
                    "started_at": iso(stats.started_at),
                    "finished_at": iso(stats.finished_at),
                    "pages": stats.pages,
                    "articles_fetched": stats.articles_fetched,
                    "new_articles": stats.new_articles,
                    "errors": stats.errors,
                    "error_messages": json.dumps(list(stats.error_messages), ensure_ascii=False),
                    "outcome": outcome,
                }
            )
            last_error = stats.error_messages[0] if stats.error_messages else None
            if outcome == "interrupted":
                self.db.execute(
                    """INSERT INTO source_state (source, last_run_at) VALUES (?, ?)
                       ON CONFLICT(source) DO UPDATE SET last_run_at = excluded.last_run_at""",
                    [stats.source, iso(stats.finished_at)],
                )
            elif outcome == "failed":
                self.db.execute(
                    """INSERT INTO source_state (source, last_run_at, consecutive_failures,
                           last_error) VALUES (?, ?, 1, ?)
                       ON CONFLICT(source) DO UPDATE SET last_run_at = excluded.last_run_at,
                           consecutive_failures = consecutive_failures + 1,
                           last_error = excluded.last_error""",
                    [stats.source, iso(stats.finished_at), last_error],
                )
            else:
                self.db.execute(
                    """INSERT INTO source_state (source, last_run_at, last_success_at,
                           consecutive_failures, last_error) VALUES (?, ?, ?, 0, ?)
                       ON CONFLICT(source) DO UPDATE SET last_run_at = excluded.last_run_at,
                           last_success_at = excluded.last_success_at,
                           consecutive_failures = 0, last_error = excluded.last_error""",
                    [stats.source, iso(stats.finished_at), iso(stats.finished_at), last_error],
                )
            self.db.execute(
                "UPDATE source_state SET not_before = ? WHERE source = ?",
                [iso(stats.not_before), stats.source],
            )
        return before[0] if before else 0

    def last_successes(self) -> dict[str, datetime]:
        """When each source last crawled successfully (those that ever did)."""
        rows = self.db.execute(
            "SELECT source, last_success_at FROM source_state WHERE last_success_at IS NOT NULL"
        )
        return {row[0]: datetime.fromisoformat(row[1]) for row in rows}

    def source_state(self, source: str) -> SourceState:
        state = next(
            iter(self.db.query("SELECT * FROM source_state WHERE source = ?", [source])), {}
        )
        runs = list(
            self.db.query(
                "SELECT * FROM crawl_runs WHERE source = ? ORDER BY id DESC LIMIT 1", [source]
            )
        )
        counted = self.db.execute(
            "SELECT readable FROM article_counts WHERE source = ?", [source]
        ).fetchone()
        articles = counted[0] if counted else 0
        # CROSS JOIN keeps matches (a few) outside: SQLite would rather read every article
        # of the source and look each up in matches (its source from an index, m007).
        events = self.db.execute(
            "SELECT count(DISTINCT m.event_id) FROM matches m CROSS JOIN articles a "
            "ON a.id = m.article_id WHERE a.source = ?",
            [source],
        ).fetchone()[0]
        return SourceState(
            source=source,
            last_run_at=parse(state.get("last_run_at")),
            last_success_at=parse(state.get("last_success_at")),
            consecutive_failures=state.get("consecutive_failures", 0),
            last_error=state.get("last_error"),
            articles=articles,
            events=events,
            last_run=_run(runs[0]) if runs else None,
            not_before=parse(state.get("not_before")),
        )

    def productive_runs(self, source: str, since: datetime) -> tuple[list[datetime], int]:
        """When the source's crawls since ``since`` found new articles (oldest first), and
        how many crawls got an answer (pages) after the last of those."""
        found = [
            datetime.fromisoformat(row[0])
            for row in self.db.execute(
                "SELECT finished_at FROM crawl_runs WHERE source = ? AND new_articles > 0 "
                "AND finished_at >= ? ORDER BY finished_at",
                [source, iso(since)],
            )
        ]
        answering = self.db.execute(
            "SELECT count(*) FROM crawl_runs WHERE source = ? AND finished_at > ? AND pages > 0",
            [source, iso(found[-1]) if found else iso(since)],
        ).fetchone()[0]
        return found, answering

    def week_health(self, source: str, start: date, end: date) -> SourceHealth:
        """How a source's crawls went from ``start`` to ``end`` (days, inclusive)."""
        after, before = start.isoformat(), (end + timedelta(days=1)).isoformat()
        runs, pages, new, errors = self.db.execute(
            """SELECT count(*), coalesce(sum(pages), 0), coalesce(sum(new_articles), 0),
                      coalesce(sum(errors), 0)
               FROM crawl_runs WHERE source = ? AND started_at >= ? AND started_at < ?""",
            [source, after, before],
        ).fetchone()
        state = self.source_state(source)
        return SourceHealth(
            name=source,
            runs=runs,
            pages=pages,
            new_articles=new,
            errors=errors,
            last_success=state.last_success_at,
            failing_since=self.failing_since(source, state),
            last_error=state.last_error if state.consecutive_failures else None,
        )

    def failing_since(self, source: str, state: SourceState | None = None) -> datetime | None:
        """When the source's current run of failures began; None if it is not failing."""
        state = state or self.source_state(source)
        if not state.consecutive_failures:
            return None
        first = self.db.execute(
            "SELECT min(started_at) FROM crawl_runs WHERE source = ? AND started_at > ?",
            [source, iso(state.last_success_at) or ""],
        ).fetchone()[0]
        return parse(first)
