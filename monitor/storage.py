"""The SQLite database: the only module that speaks SQL.

Owns the schema (applied by migrations at open), the article store and its
full-text indexes, crawl runs, per-source state, and the HTTP validators that make
re-fetching an unchanged feed cost nothing. Writes go through one connection in
``BEGIN IMMEDIATE`` transactions (deferred BEGIN deadlocks under concurrent writers,
see PITFALLS.md); every write is an idempotent upsert keyed by a stable id.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from monitor.cluster import EventSpan, event_days, event_kind
from monitor.digest import DigestArticle, DigestData, DigestEvent, SourceHealth
from monitor.errors import StorageError
from monitor.models import Article, CrawlStats, Match

# An article URL that failed this many times (HTTP errors, timeouts) is given up on.
MAX_FETCH_ATTEMPTS = 5

migrations = Migrations("newsmon")


@migrations()
def m001_initial(db: Database) -> None:
    db.execute(
        """CREATE TABLE articles (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            url TEXT NOT NULL,
            canonical_url TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            language TEXT,
            published TEXT,
            author TEXT,
            content_hash TEXT,
            first_seen TEXT NOT NULL,
            extract_error TEXT,
            duplicate_of TEXT
        )"""
    )
    db.execute("CREATE INDEX articles_source ON articles(source, first_seen)")
    db.execute("CREATE INDEX articles_hash ON articles(content_hash)")
    # Two indexes over the same text: unicode61 finds words in space-separated
    # languages, trigram finds substrings where there are no spaces (Chinese) and
    # inflected forms (Путин in Путина).
    for name, tokenize in (
        ("articles_fts", "unicode61 remove_diacritics 2"),
        ("articles_trigram", "trigram"),
    ):
        db.execute(
            f"CREATE VIRTUAL TABLE {name} USING fts5(title, text, "
            f"content='articles', content_rowid='rowid', tokenize='{tokenize}')"
        )
        db.execute(
            f"""CREATE TRIGGER {name}_ai AFTER INSERT ON articles BEGIN
                INSERT INTO {name}(rowid, title, text) VALUES (new.rowid, new.title, new.text);
            END"""
        )
        db.execute(
            f"""CREATE TRIGGER {name}_ad AFTER DELETE ON articles BEGIN
                INSERT INTO {name}({name}, rowid, title, text)
                VALUES ('delete', old.rowid, old.title, old.text);
            END"""
        )
        db.execute(
            f"""CREATE TRIGGER {name}_au AFTER UPDATE ON articles BEGIN
                INSERT INTO {name}({name}, rowid, title, text)
                VALUES ('delete', old.rowid, old.title, old.text);
                INSERT INTO {name}(rowid, title, text) VALUES (new.rowid, new.title, new.text);
            END"""
        )
    db.execute(
        """CREATE TABLE fetch_failures (
            id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            url TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            last_error TEXT NOT NULL,
            last_attempt_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE validators (
            url TEXT PRIMARY KEY,
            etag TEXT,
            last_modified TEXT,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            pages INTEGER NOT NULL,
            articles_fetched INTEGER NOT NULL,
            new_articles INTEGER NOT NULL,
            errors INTEGER NOT NULL,
            error_messages TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX crawl_runs_source ON crawl_runs(source, started_at)")
    db.execute(
        """CREATE TABLE source_state (
            source TEXT PRIMARY KEY,
            last_run_at TEXT,
            last_success_at TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        )"""
    )


@migrations()
def m002_events(db: Database) -> None:
    db.execute(
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            topic TEXT NOT NULL,
            participants TEXT NOT NULL,
            kind TEXT NOT NULL,
            first_day TEXT NOT NULL,
            last_day TEXT NOT NULL,
            exact INTEGER NOT NULL DEFAULT 0,
            first_article TEXT NOT NULL REFERENCES articles(id),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX events_days ON events(topic, first_day)")
    db.execute(
        """CREATE TABLE matches (
            article_id TEXT NOT NULL REFERENCES articles(id),
            topic TEXT NOT NULL,
            event_id INTEGER NOT NULL REFERENCES events(id),
            score REAL NOT NULL,
            kind TEXT NOT NULL,
            day TEXT,
            day_from_text INTEGER NOT NULL,
            announcement INTEGER NOT NULL,
            evidence TEXT NOT NULL,
            near_duplicate_of TEXT,
            matched_at TEXT NOT NULL,
            PRIMARY KEY (article_id, topic)
        )"""
    )
    db.execute("CREATE INDEX matches_event ON matches(event_id)")
    # Which articles have been judged for which topic, matched or not.
    db.execute(
        """CREATE TABLE article_checks (
            article_id TEXT NOT NULL,
            topic TEXT NOT NULL,
            PRIMARY KEY (article_id, topic)
        )"""
    )


@migrations()
def m003_outbox(db: Database) -> None:
    # One row per message and channel; the unique key makes enqueueing idempotent, so a
    # re-crawl or a rematch can never queue an event twice for one channel.
    db.execute(
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            subject TEXT NOT NULL,
            channel TEXT NOT NULL,
            event_id INTEGER REFERENCES events(id),
            title TEXT,
            body TEXT,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (subject, channel)
        )"""
    )
    db.execute("CREATE INDEX outbox_due ON outbox(state, next_attempt_at)")


@migrations()
def m004_owners(db: Database) -> None:
    # A message is claimed by one delivering process (a lease that expires, so a process
    # that died mid-send does not hold it for ever) before it is sent.
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_until TEXT")
    # ok | failed | interrupted: an interrupted run is neither a success nor a failure.
    db.execute("ALTER TABLE crawl_runs ADD COLUMN outcome TEXT NOT NULL DEFAULT 'ok'")


# How long a delivering process owns a claimed message; longer than any one send.
CLAIM_LEASE = timedelta(minutes=15)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _now() -> datetime:
    return datetime.now(UTC)


_QUERY_TOKEN = re.compile(r'"[^"]*"?|[^\s"]+')


def fts_expression(query: str) -> tuple[str, list[str], bool]:
    """A user's search as a safe FTS5 expression: (expression, its words, whether it is
    plain words only). Operators OR / NOT (upper case), "phrases" and prefix* are kept;
    everything else is a quoted word, so stray syntax never reaches FTS5."""
    parts: list[str] = []
    terms: list[str] = []
    plain = True
    for token in _QUERY_TOKEN.findall(query):
        if token in ("OR", "NOT", "AND"):
            # an operator needs a word on each side
            if parts and parts[-1] not in ("OR", "NOT", "AND"):
                parts.append(token)
            plain = False
            continue
        prefix = token.endswith("*") and not token.startswith('"')
        word = (token.strip('"').rstrip("*") if prefix else token.strip('"')).strip()
        if not word:
            continue
        plain = plain and not prefix and not token.startswith('"')
        terms.append(word)
        parts.append('"' + word.replace('"', '""') + '"' + ("*" if prefix else ""))
    while parts and parts[-1] in ("OR", "NOT", "AND"):
        parts.pop()
    return " ".join(parts), terms, plain


@dataclass(frozen=True)
class StoredArticle:
    """An article row as read back (search results, listings)."""

    id: str
    source: str
    url: str
    title: str
    language: str | None
    published: str | None
    first_seen: str
    snippet: str = ""


@dataclass(frozen=True)
class SourceStatus:
    """What `newsmon status` shows for one source."""

    source: str
    last_run_at: str | None
    last_success_at: str | None
    consecutive_failures: int
    last_error: str | None
    articles: int
    events: int
    last_run: CrawlStats | None


class Storage:
    """One SQLite file. Create one per thread; only one should write at a time."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves.
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self.db = Database(conn)
            with self.write():
                migrations.apply(self.db)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open database {self.path}: {exc}") from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[None]:
        """One write transaction, taken with BEGIN IMMEDIATE so writers queue instead of fail."""
        conn = self.db.conn
        if conn.in_transaction:  # nested: part of the enclosing transaction
            yield
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield
            conn.execute("COMMIT")
        except BaseException as exc:
            # SQLite may already have rolled back (disk full): only roll back what is open.
            if conn.in_transaction:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"database {self.path.name}: {exc}") from exc
            raise

    # -- articles ---------------------------------------------------------------

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of these article ids need no fetching: stored, or given up on."""
        wanted = list(set(ids))
        known: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            known.update(
                row[0]
                for row in self.db.execute(
                    f"SELECT id FROM articles WHERE id IN ({marks}) UNION "
                    f"SELECT id FROM fetch_failures WHERE id IN ({marks}) AND attempts >= ?",
                    [*chunk, *chunk, MAX_FETCH_ATTEMPTS],
                )
            )
        return known

    def retry_urls(self, source: str) -> list[str]:
        """Article URLs of this source whose fetch failed and that are still worth retrying."""
        rows = self.db.execute(
            "SELECT url FROM fetch_failures WHERE source = ? AND attempts < ? "
            "AND id NOT IN (SELECT id FROM articles) ORDER BY last_attempt_at",
            [source, MAX_FETCH_ATTEMPTS],
        )
        return [row[0] for row in rows]

    def save_article(self, article: Article) -> bool:
        """Store an article; True when it is new. A repeat of a stored URL changes nothing.

        The same text under another URL (a print view, a syndicated copy) is kept, so
        its URL is not fetched again, but marked as a duplicate of the first.
        """
        with self.write():
            original = self.db.execute(
                "SELECT id FROM articles WHERE content_hash = ? AND id != ? "
                "AND duplicate_of IS NULL ORDER BY rowid LIMIT 1",
                [article.content_hash, article.id],
            ).fetchone()
            cursor = self.db.execute(
                """INSERT INTO articles (id, source, url, canonical_url, title, text, language,
                       published, author, content_hash, first_seen, duplicate_of)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(id) DO NOTHING""",
                [
                    article.id,
                    article.source,
                    article.url,
                    article.canonical_url,
                    article.title,
                    article.text,
                    article.language,
                    _iso(article.published),
                    article.author,
                    article.content_hash,
                    _iso(_now()),
                    original[0] if original else None,
                ],
            )
            self.db.execute("DELETE FROM fetch_failures WHERE id = ?", [article.id])
        return cursor.rowcount == 1 and original is None

    def save_unextractable(
        self, article_id: str, source: str, url: str, canonical_url: str, reason: str
    ) -> None:
        """Record a fetched page that had no article text, so it is neither lost nor refetched."""
        with self.write():
            self.db.execute(
                """INSERT INTO articles (id, source, url, canonical_url, first_seen, extract_error)
                   VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING""",
                [article_id, source, url, canonical_url, _iso(_now()), reason],
            )
            self.db.execute("DELETE FROM fetch_failures WHERE id = ?", [article_id])

    def record_fetch_failure(self, article_id: str, source: str, url: str, error: str) -> None:
        """Count a failed article fetch; it is retried on later crawls up to a limit."""
        with self.write():
            self.db.execute(
                """INSERT INTO fetch_failures (id, source, url, attempts, last_error,
                       last_attempt_at) VALUES (?, ?, ?, 1, ?, ?)
                   ON CONFLICT(id) DO UPDATE SET attempts = attempts + 1,
                       last_error = excluded.last_error,
                       last_attempt_at = excluded.last_attempt_at""",
                [article_id, source, url, error, _iso(_now())],
            )

    def article(self, article_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM articles WHERE id = ?", [article_id]))
        return rows[0] if rows else None

    def articles(self, source: str | None = None) -> list[dict[str, Any]]:
        """Every stored article (with text), oldest first."""
        if source is None:
            return list(self.db.query("SELECT * FROM articles ORDER BY first_seen, rowid"))
        return list(
            self.db.query(
                "SELECT * FROM articles WHERE source = ? ORDER BY first_seen, rowid", [source]
            )
        )

    def search(self, query: str, limit: int = 20) -> list[StoredArticle]:
        """Full-text search. The query may use ``OR``, ``NOT``, ``"a phrase"`` and
        ``prefix*``; every word is quoted (``fts_expression``), so no input is an FTS5
        syntax error. All words must match otherwise."""
        expression, terms, plain = fts_expression(query)
        if not terms:
            return []
        ranked: dict[str, StoredArticle] = {}
        plans = [("articles_fts", expression)]
        # trigram needs every term to be at least three characters long
        if all(len(term) >= 3 for term in terms):
            plans.append(("articles_trigram", expression))
        for table, match in plans:
            for row in self.db.query(
                f"""SELECT a.id, a.source, a.url, a.title, a.language, a.published,
                           a.first_seen, snippet({table}, 1, '[', ']', '…', 12) AS snippet
                    FROM {table} JOIN articles a ON a.rowid = {table}.rowid
                    WHERE {table} MATCH ? AND a.duplicate_of IS NULL
                    ORDER BY bm25({table}) LIMIT ?""",
                [match, limit],
            ):
                ranked.setdefault(row["id"], StoredArticle(**row))
        if len(ranked) < limit and plain:
            # Short terms (two-character Chinese names such as 普京) escape both indexes.
            where = " AND ".join("(a.title || ' ' || a.text) LIKE ?" for _ in terms)
            for row in self.db.query(
                f"""SELECT a.id, a.source, a.url, a.title, a.language, a.published,
                           a.first_seen, substr(a.text, 1, 120) AS snippet
                    FROM articles a WHERE a.extract_error IS NULL AND a.duplicate_of IS NULL
                    AND {where}
                    ORDER BY a.first_seen DESC LIMIT ?""",
                [*(f"%{term}%" for term in terms), limit],
            ):
                ranked.setdefault(row["id"], StoredArticle(**row))
        return list(ranked.values())[:limit]

    # -- conditional GET ---------------------------------------------------------

    def validators(self, url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) last seen for a feed, sitemap or listing URL."""
        for row in self.db.execute(
            "SELECT etag, last_modified FROM validators WHERE url = ?", [url]
        ):
            return row[0], row[1]
        return None, None

    def save_validators(self, entries: dict[str, tuple[str | None, str | None]]) -> None:
        with self.write():
            for url, (etag, last_modified) in entries.items():
                self.db.execute(
                    """INSERT INTO validators (url, etag, last_modified, updated_at)
                       VALUES (?, ?, ?, ?) ON CONFLICT(url) DO UPDATE SET
                       etag = excluded.etag, last_modified = excluded.last_modified,
                       updated_at = excluded.updated_at""",
                    [url, etag, last_modified, _iso(_now())],
                )

    # -- crawl runs and source state ----------------------------------------------

    def record_crawl(self, stats: CrawlStats) -> int:
        """Store a crawl run and update the source's state in one transaction; return the
        number of consecutive failures before this run (to notice a change of state).

        The run's ``outcome`` is one of RUN_OUTCOMES: "failed" means the source could not be read or
        its pages could not be stored; "interrupted" (a stop mid-crawl) changes neither the
        last success nor the failure count, so the source is due again at the next start.
        """
        outcome = stats.outcome
        with self.write():
            before = self.db.execute(
                "SELECT consecutive_failures FROM source_state WHERE source = ?", [stats.source]
            ).fetchone()
            self.db.execute(
                """INSERT INTO crawl_runs (source, started_at, finished_at, pages,
                       articles_fetched, new_articles, errors, error_messages, outcome)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    stats.source,
                    _iso(stats.started_at),
                    _iso(stats.finished_at),
                    stats.pages,
                    stats.articles_fetched,
                    stats.new_articles,
                    stats.errors,
                    json.dumps(list(stats.error_messages), ensure_ascii=False),
                    outcome,
                ],
            )
            last_error = stats.error_messages[0] if stats.error_messages else None
            if outcome == "interrupted":
                self.db.execute(
                    """INSERT INTO source_state (source, last_run_at) VALUES (?, ?)
                       ON CONFLICT(source) DO UPDATE SET last_run_at = excluded.last_run_at""",
                    [stats.source, _iso(stats.finished_at)],
                )
            elif outcome == "failed":
                self.db.execute(
                    """INSERT INTO source_state (source, last_run_at, consecutive_failures,
                           last_error) VALUES (?, ?, 1, ?)
                       ON CONFLICT(source) DO UPDATE SET last_run_at = excluded.last_run_at,
                           consecutive_failures = consecutive_failures + 1,
                           last_error = excluded.last_error""",
                    [stats.source, _iso(stats.finished_at), last_error],
                )
            else:
                self.db.execute(
                    """INSERT INTO source_state (source, last_run_at, last_success_at,
                           consecutive_failures, last_error) VALUES (?, ?, ?, 0, ?)
                       ON CONFLICT(source) DO UPDATE SET last_run_at = excluded.last_run_at,
                           last_success_at = excluded.last_success_at,
                           consecutive_failures = 0, last_error = excluded.last_error""",
                    [stats.source, _iso(stats.finished_at), _iso(stats.finished_at), last_error],
                )
        return before[0] if before else 0

    def source_status(self, source: str) -> SourceStatus:
        state = next(
            iter(self.db.query("SELECT * FROM source_state WHERE source = ?", [source])), {}
        )
        runs = list(
            self.db.query(
                "SELECT * FROM crawl_runs WHERE source = ? ORDER BY id DESC LIMIT 1", [source]
            )
        )
        last_run = None
        if runs:
            run = runs[0]
            last_run = CrawlStats(
                source=run["source"],
                started_at=datetime.fromisoformat(run["started_at"]),
                finished_at=datetime.fromisoformat(run["finished_at"]),
                pages=run["pages"],
                articles_fetched=run["articles_fetched"],
                new_articles=run["new_articles"],
                errors=run["errors"],
                error_messages=tuple(json.loads(run["error_messages"])),
                outcome=run["outcome"],
            )
        count = self.db.execute(
            "SELECT count(*) FROM articles WHERE source = ? AND extract_error IS NULL "
            "AND duplicate_of IS NULL",
            [source],
        ).fetchone()[0]
        events = self.db.execute(
            "SELECT count(DISTINCT m.event_id) FROM matches m JOIN articles a "
            "ON a.id = m.article_id WHERE a.source = ?",
            [source],
        ).fetchone()[0]
        return SourceStatus(
            source=source,
            events=events,
            last_run_at=state.get("last_run_at"),
            last_success_at=state.get("last_success_at"),
            consecutive_failures=state.get("consecutive_failures", 0),
            last_error=state.get("last_error"),
            articles=count,
            last_run=last_run,
        )

    def quiet_since(self, source: str, now: datetime, minimum: timedelta) -> datetime | None:
        """When a source that still answers last yielded a new article, if that is much
        longer ago than usual for it (a layout change that hides the articles); else None.

        "Usual" is four times the median gap between its crawls that found something over
        the last 60 days, and never less than ``minimum``; it needs three such crawls.
        """
        since = _iso(now - timedelta(days=60))
        found = [
            datetime.fromisoformat(row[0])
            for row in self.db.execute(
                "SELECT finished_at FROM crawl_runs WHERE source = ? AND new_articles > 0 "
                "AND finished_at >= ? ORDER BY finished_at",
                [source, since],
            )
        ]
        if len(found) < 3:
            return None
        gaps = sorted(b - a for a, b in pairwise(found))
        usual = max(gaps[len(gaps) // 2] * 4, minimum)
        answering = self.db.execute(
            "SELECT count(*) FROM crawl_runs WHERE source = ? AND finished_at > ? AND pages > 0",
            [source, _iso(found[-1])],
        ).fetchone()[0]
        return found[-1] if now - found[-1] > usual and answering else None

    def counts(self) -> dict[str, int]:
        """Totals for `newsmon status`."""
        row = self.db.execute(
            "SELECT sum(extract_error IS NULL AND duplicate_of IS NULL), "
            "sum(extract_error IS NOT NULL), sum(duplicate_of IS NOT NULL) FROM articles"
        ).fetchone()
        failures = self.db.execute(
            "SELECT count(*) FROM fetch_failures WHERE id NOT IN (SELECT id FROM articles)"
        ).fetchone()[0]
        return {
            "articles": row[0] or 0,
            "unextractable": row[1] or 0,
            "duplicates": row[2] or 0,
            "fetch_failures": failures,
        }

    # -- matches and events --------------------------------------------------------

    def unchecked_articles(self, topic: str) -> list[dict[str, Any]]:
        """Articles with text not yet judged for a topic, in the order they were found."""
        return list(
            self.db.query(
                """SELECT a.* FROM articles a
                   LEFT JOIN article_checks c ON c.article_id = a.id AND c.topic = ?
                   WHERE c.article_id IS NULL AND a.extract_error IS NULL
                   ORDER BY a.first_seen, a.rowid""",
                [topic],
            )
        )

    def is_checked(self, article_id: str, topic: str) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM article_checks WHERE article_id = ? AND topic = ?",
                [article_id, topic],
            ).fetchone()
            is not None
        )

    def mark_checked(self, article_id: str, topic: str) -> None:
        with self.write():
            self.db.execute(
                "INSERT OR IGNORE INTO article_checks (article_id, topic) VALUES (?, ?)",
                [article_id, topic],
            )

    def event_spans(self, topic: str, around: date, days: int = 30) -> list[EventSpan]:
        rows = self.db.execute(
            """SELECT id, topic, participants, first_day, last_day, exact,
                      NOT EXISTS (SELECT 1 FROM matches m WHERE m.event_id = events.id
                                  AND m.announcement = 0) AS announced_only
               FROM events
               WHERE topic = ? AND first_day <= date(?, ?) AND last_day >= date(?, ?)""",
            [topic, around.isoformat(), f"+{days} days", around.isoformat(), f"-{days} days"],
        )
        return [
            EventSpan(
                row[0],
                row[1],
                tuple(json.loads(row[2])),
                date.fromisoformat(row[3]),
                date.fromisoformat(row[4]),
                bool(row[5]),
                bool(row[6]),
            )
            for row in rows
        ]

    def event_texts(self, event_id: int) -> list[tuple[str, str]]:
        """(article id, text) of an event's articles, oldest first."""
        rows = self.db.execute(
            """SELECT a.id, a.text FROM matches m JOIN articles a ON a.id = m.article_id
               WHERE m.event_id = ? ORDER BY m.matched_at, a.rowid""",
            [event_id],
        )
        return [(row[0], row[1]) for row in rows]

    def save_match(
        self,
        article_id: str,
        match: Match,
        event_id: int | None,
        near_duplicate_of: str | None,
        alert_channels: Sequence[str] = (),
        tell_when_held: bool = False,
    ) -> tuple[int, bool]:
        """Attach a match to an event (a new one when ``event_id`` is None), in one transaction.

        A new event is queued for each of ``alert_channels`` in the same transaction, so an
        event is never stored without its alerts, nor alerted twice. Returns the event's id
        and whether it was created. With ``tell_when_held``, the first report of an event
        known until then only from announcements is queued too.
        """
        now = _iso(_now())
        with self.write():
            created = event_id is None
            only_announced = not created and all(
                m.announcement for m in self.event_matches(event_id or 0)
            )
            if event_id is None:
                day = (match.date or _now().date()).isoformat()
                cursor = self.db.execute(
                    """INSERT INTO events (topic, participants, kind, first_day, last_day,
                           first_article, created_at, updated_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    [
                        match.topic,
                        json.dumps(list(match.participants), ensure_ascii=False),
                        match.kind,
                        day,
                        day,
                        article_id,
                        now,
                        now,
                    ],
                )
                event_id = int(cursor.lastrowid or 0)
            self.db.execute(
                """INSERT INTO matches (article_id, topic, event_id, score, kind, day,
                       day_from_text, announcement, evidence, near_duplicate_of, matched_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(article_id, topic) DO UPDATE SET event_id = excluded.event_id,
                       score = excluded.score, kind = excluded.kind, day = excluded.day,
                       day_from_text = excluded.day_from_text,
                       announcement = excluded.announcement, evidence = excluded.evidence,
                       near_duplicate_of = excluded.near_duplicate_of""",
                [
                    article_id,
                    match.topic,
                    event_id,
                    match.score,
                    match.kind,
                    match.date.isoformat() if match.date else None,
                    int(match.date_from_text),
                    int(match.announcement),
                    json.dumps(list(match.evidence), ensure_ascii=False),
                    near_duplicate_of,
                    now,
                ],
            )
            members = self.event_matches(event_id)
            first, last, exact = event_days(members)
            self.db.execute(
                "UPDATE events SET kind = ?, first_day = ?, last_day = ?, exact = ?, "
                "updated_at = ? WHERE id = ?",
                [
                    event_kind(members),
                    first.isoformat(),
                    last.isoformat(),
                    int(exact),
                    now,
                    event_id,
                ],
            )
            self.db.execute(
                "INSERT OR IGNORE INTO article_checks (article_id, topic) VALUES (?, ?)",
                [article_id, match.topic],
            )
            if created:
                for channel in alert_channels:
                    self._enqueue(f"event:{event_id}", channel, event_id, None, None)
            elif tell_when_held and only_announced and not match.announcement:
                # only channels that were told of the announcement hear that it happened
                for channel in self._told(event_id):
                    self._enqueue(f"event:{event_id}:held", channel, event_id, None, None)
        return event_id, created

    def event_matches(self, event_id: int) -> list[Match]:
        rows = self.db.query(
            "SELECT m.*, e.participants FROM matches m JOIN events e ON e.id = m.event_id "
            "WHERE m.event_id = ? ORDER BY m.matched_at",
            [event_id],
        )
        return [
            Match(
                topic=row["topic"],
                score=row["score"],
                participants=tuple(json.loads(row["participants"])),
                kind=row["kind"],
                date=date.fromisoformat(row["day"]) if row["day"] else None,
                date_from_text=bool(row["day_from_text"]),
                announcement=bool(row["announcement"]),
                evidence=tuple(json.loads(row["evidence"])),
            )
            for row in rows
        ]

    def events(self, since: date | None = None) -> list[dict[str, Any]]:
        """Events newest first, each with its articles (oldest first)."""
        events = list(
            self.db.query(
                "SELECT * FROM events WHERE last_day >= ? ORDER BY first_day DESC, id DESC",
                [since.isoformat() if since else "0000-00-00"],
            )
        )
        return [self._with_articles(event) for event in events]

    def _with_articles(self, event: dict[str, Any]) -> dict[str, Any]:
        event["participants"] = json.loads(event["participants"])
        event["articles"] = list(
            self.db.query(
                """SELECT a.id, a.source, a.url, a.title, a.language, a.published,
                          a.first_seen, m.score, m.kind, m.day, m.announcement, m.evidence,
                          m.near_duplicate_of
                   FROM matches m JOIN articles a ON a.id = m.article_id
                   WHERE m.event_id = ? ORDER BY m.matched_at, a.rowid""",
                [event["id"]],
            )
        )
        for article in event["articles"]:
            article["evidence"] = json.loads(article["evidence"])
        return event

    # -- the outbox ----------------------------------------------------------------

    def _enqueue(
        self,
        subject: str,
        channel: str,
        event_id: int | None,
        title: str | None,
        body: str | None,
    ) -> bool:
        cursor = self.db.execute(
            """INSERT INTO outbox (subject, channel, event_id, title, body, next_attempt_at,
                   created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT(subject, channel) DO NOTHING""",
            [subject, channel, event_id, title, body, _iso(_now()), _iso(_now())],
        )
        return cursor.rowcount == 1

    def _told(self, event_id: int) -> list[str]:
        rows = self.db.execute(
            "SELECT channel FROM outbox WHERE subject = ?", [f"event:{event_id}"]
        )
        return [row[0] for row in rows]

    def enqueue_message(self, subject: str, channels: Sequence[str], title: str, body: str) -> int:
        """Queue a ready-made message (a notice, a digest) once per subject and channel."""
        with self.write():
            return sum(self._enqueue(subject, c, None, title, body) for c in channels)

    def claim_next(
        self,
        owner: str,
        now: datetime,
        after_id: int = 0,
        ignore_backoff: bool = False,
        subject_prefix: str = "",
    ) -> dict[str, Any] | None:
        """Take the next message due after ``after_id`` for ``owner``, or None.

        The claim is a lease written in the same ``BEGIN IMMEDIATE`` transaction that
        found the row, so two processes on one database never send the same message;
        a lease left by a process that died expires after ``CLAIM_LEASE``.
        """
        with self.write():
            rows = list(
                self.db.query(
                    """SELECT * FROM outbox WHERE state IN ('pending', 'retrying') AND id > ?
                       AND (? OR next_attempt_at <= ?) AND subject LIKE ? ESCAPE '\\'
                       AND (claimed_until IS NULL OR claimed_until <= ?)
                       ORDER BY id LIMIT 1""",
                    [
                        after_id,
                        int(ignore_backoff),
                        _iso(now),
                        subject_prefix.replace("%", "\\%").replace("_", "\\_") + "%",
                        _iso(now),
                    ],
                )
            )
            if not rows:
                return None
            self.db.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?",
                [owner, _iso(now + CLAIM_LEASE), rows[0]["id"]],
            )
        return rows[0]

    def mark_sent(self, message_id: int) -> None:
        with self.write():
            self.db.execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, "
                "last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE id = ?",
                [_iso(_now()), message_id],
            )

    def mark_failed(self, message_id: int, error: str, retry_at: datetime | None) -> None:
        """Count a failed attempt and release the claim; without ``retry_at`` it is dead."""
        with self.write():
            self.db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = COALESCE(?, next_attempt_at), claimed_by = NULL, "
                "claimed_until = NULL WHERE id = ?",
                ["retrying" if retry_at else "dead", error, _iso(retry_at), message_id],
            )

    def give_up(self, message_id: int, reason: str) -> None:
        """A message that can never be sent (its channel or event is gone): dead, untried."""
        with self.write():
            self.db.execute(
                "UPDATE outbox SET state = 'dead', last_error = ?, claimed_by = NULL, "
                "claimed_until = NULL WHERE id = ?",
                [reason, message_id],
            )

    def outbox_counts(self) -> dict[str, int]:
        rows = self.db.execute("SELECT state, count(*) FROM outbox GROUP BY state")
        counts = {"pending": 0, "retrying": 0, "sent": 0, "dead": 0}
        counts.update({row[0]: row[1] for row in rows})
        return counts

    def dead_messages(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM outbox WHERE state = 'dead' ORDER BY id"))

    def event(self, event_id: int) -> dict[str, Any] | None:
        """One event with its articles, oldest first (what an alert is made of)."""
        rows = list(self.db.query("SELECT * FROM events WHERE id = ?", [event_id]))
        if not rows:
            return None
        return self._with_articles(rows[0])

    # -- the weekly digest -----------------------------------------------------------

    def digest_data(self, week: str, start: date, end: date, sources: Sequence[str]) -> DigestData:
        """What one week's digest shows: the events that began that week, or that have a
        matched article published that week (or, if the page gives no date, first stored
        then: ``monitor.digest.article_day``) or first stored that week, each with all its
        articles; and each source's health in the week.

        Counting the articles per day is the digest's: it counts what it lists."""
        after, before = start.isoformat(), (end + timedelta(days=1)).isoformat()
        ids = [
            row[0]
            for row in self.db.execute(
                """SELECT id FROM events WHERE (first_day >= ? AND first_day < ?)
                   OR id IN (SELECT m.event_id FROM matches m JOIN articles a
                             ON a.id = m.article_id
                             WHERE (a.first_seen >= ? AND a.first_seen < ?)
                             OR substr(coalesce(a.published, a.first_seen), 1, 10)
                                BETWEEN ? AND ?)
                   ORDER BY first_day DESC, id DESC""",
                [after, before, after, before, start.isoformat(), end.isoformat()],
            )
        ]
        events = []
        for event_id in ids:
            event = self.event(event_id)
            if event is None:
                continue
            articles = tuple(
                DigestArticle(
                    title=a["title"],
                    url=a["url"],
                    source=a["source"],
                    language=a["language"],
                    published=date.fromisoformat(a["published"][:10]) if a["published"] else None,
                    found=date.fromisoformat(a["first_seen"][:10]),  # stored in UTC
                    announcement=bool(a["announcement"]),
                )
                for a in event["articles"]
            )
            events.append(
                DigestEvent(
                    id=event_id,
                    topic=event["topic"],
                    participants=tuple(event["participants"]),
                    kind=event["kind"],
                    first_day=date.fromisoformat(event["first_day"]),
                    last_day=date.fromisoformat(event["last_day"]),
                    place=None,
                    articles=articles,
                )
            )
        return DigestData(
            week=week,
            start=start,
            end=end,
            events=tuple(events),
            sources=tuple(self._health(name, after, before) for name in sources),
        )

    def _health(self, source: str, after: str, before: str) -> SourceHealth:
        runs, pages, new, errors = self.db.execute(
            """SELECT count(*), coalesce(sum(pages), 0), coalesce(sum(new_articles), 0),
                      coalesce(sum(errors), 0)
               FROM crawl_runs WHERE source = ? AND started_at >= ? AND started_at < ?""",
            [source, after, before],
        ).fetchone()
        state = self.source_status(source)
        failing_since = None
        if state.consecutive_failures:
            first = self.db.execute(
                "SELECT min(started_at) FROM crawl_runs WHERE source = ? AND started_at > ?",
                [source, state.last_success_at or ""],
            ).fetchone()[0]
            failing_since = datetime.fromisoformat(first) if first else None
        return SourceHealth(
            name=source,
            runs=runs,
            pages=pages,
            new_articles=new,
            errors=errors,
            last_success=(
                datetime.fromisoformat(state.last_success_at) if state.last_success_at else None
            ),
            failing_since=failing_since,
            last_error=state.last_error if state.consecutive_failures else None,
        )

    def forget_matches(self) -> None:
        """Before a rematch: every article is judged again; events stay, so ids and the
        record of what was alerted survive."""
        with self.write():
            self.db.execute("DELETE FROM matches")
            self.db.execute("DELETE FROM article_checks")

    def drop_empty_events(self) -> int:
        """Remove events no article supports any more, unless someone was told of them."""
        with self.write():
            cursor = self.db.execute(
                "DELETE FROM events WHERE id NOT IN (SELECT event_id FROM matches) "
                "AND id NOT IN (SELECT event_id FROM outbox WHERE event_id IS NOT NULL)"
            )
        return cursor.rowcount
