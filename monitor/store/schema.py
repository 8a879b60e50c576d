"""The SQLite file and its schema: opening it, migrating it, and write transactions.

Writes go through one connection in ``BEGIN IMMEDIATE`` transactions (a deferred BEGIN
deadlocks under concurrent writers); every write is an idempotent
upsert keyed by a stable id. The schema is applied by numbered migrations at open; a
migration that has run on a user's database stays as written. Writes use sqlite-utils'
Table API where a row is written as it is (it joins the open transaction), and SQL where
the write computes (counters, ``ON CONFLICT`` updates) or runs per article (the Table API
reads the table's columns first).

sqlite-utils is imported only by a command that writes through its Table API or finds a
migration pending: it takes ~100 ms to import (numpy with it, which py3langid installs),
more than all the work of `newsmon status`. Reads are plain sqlite3 (``LazyDatabase``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from monitor.errors import StorageError

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.db import Table

    Migration = Callable[[Database], None]


class LazyDatabase:
    """The calls newsmon makes on sqlite-utils' ``Database``: ``execute`` and ``query``
    (rows as dicts) answered by sqlite3 as sqlite-utils would answer them, ``table`` by
    sqlite-utils itself, imported at the first call."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        # as sqlite-utils sets it: a REPLACE fires the delete triggers (the FTS indexes)
        conn.execute("PRAGMA recursive_triggers = on")

    @cached_property
    def utils(self) -> Database:
        from sqlite_utils import Database

        return Database(self.conn)

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, parameters)

    def query(self, sql: str, params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        cursor = self.conn.execute(sql, params)
        keys = [column[0] for column in cursor.description]
        return (dict(zip(keys, row, strict=True)) for row in cursor)

    def table(self, name: str) -> Table:
        return self.utils.table(name)

    def close(self) -> None:
        self.conn.close()


class _Migrations:
    """sqlite-utils' ``Migrations``, registered here and handed to sqlite-utils only when
    the database lacks one (its record, the ``_sqlite_migrations`` table, is read with
    sqlite3)."""

    TABLE = "_sqlite_migrations"

    def __init__(self, name: str) -> None:
        self.name = name
        self.functions: list[Migration] = []

    def __call__(self) -> Callable[[Migration], Migration]:
        def register(function: Migration) -> Migration:
            self.functions.append(function)
            return function

        return register

    def pending(self, db: LazyDatabase) -> bool:
        if self.TABLE not in {row[0] for row in db.execute("SELECT name FROM sqlite_master")}:
            return True
        applied = {
            row[0]
            for row in db.execute(
                f"SELECT name FROM {self.TABLE} WHERE migration_set = ?", [self.name]
            )
        }
        return not applied >= {function.__name__ for function in self.functions}

    def apply(self, db: LazyDatabase) -> None:
        """Apply what is pending (sqlite-utils reads again what has been applied)."""
        from sqlite_utils.migrations import Migrations

        pending = Migrations(self.name)
        for function in self.functions:
            pending()(function)
        pending.apply(db.utils)


migrations = _Migrations("newsmon")


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


@migrations()
def m005_event_tallies(db: Database) -> None:
    # What an event's articles add up to, as running values (``monitor.events.Tally``), so
    # that filing one more article never reads them all: their number, how many only
    # announce the meeting, and each kind's votes (JSON [[kind, votes], ...], in the order
    # the kinds came). first_day, last_day and exact already are such values.
    db.execute("ALTER TABLE events ADD COLUMN articles INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE events ADD COLUMN announcements INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE events ADD COLUMN votes TEXT NOT NULL DEFAULT '[]'")
    # An event's recent ones are found by their last day (the first can lie far back).
    db.execute("CREATE INDEX events_last_day ON events(topic, last_day)")
    # The LSH bands of each member's MinHash signature (``monitor.events.lsh_bands``): the
    # members sharing one with a new article are the only ones compared with it.
    db.execute(
        """CREATE TABLE event_bands (
            event_id INTEGER NOT NULL REFERENCES events(id),
            band INTEGER NOT NULL,
            article_id TEXT NOT NULL REFERENCES articles(id),
            PRIMARY KEY (event_id, band, article_id)
        ) WITHOUT ROWID"""
    )
    # The events stored so far, tallied from their matches in the order they were filed.
    from monitor.events import lsh_bands, vote

    tallies: dict[int, tuple[int, int, dict[str, float]]] = {}
    for event_id, article_id, kind, score, announcement, text in db.execute(
        """SELECT m.event_id, m.article_id, m.kind, m.score, m.announcement, a.text
           FROM matches m JOIN articles a ON a.id = m.article_id
           ORDER BY m.matched_at, a.rowid"""
    ):
        articles, announcements, votes = tallies.get(event_id, (0, 0, {}))
        votes[kind] = votes.get(kind, 0.0) + vote(score, bool(announcement))
        tallies[event_id] = (articles + 1, announcements + announcement, votes)
        db.conn.executemany(
            "INSERT OR IGNORE INTO event_bands (event_id, band, article_id) VALUES (?, ?, ?)",
            [(event_id, band, article_id) for band in lsh_bands(text)],
        )
    db.conn.executemany(
        "UPDATE events SET articles = ?, announcements = ?, votes = ? WHERE id = ?",
        [
            (articles, announcements, json.dumps(list(votes.items()), ensure_ascii=False), id_)
            for id_, (articles, announcements, votes) in tallies.items()
        ],
    )


@migrations()
def m006_reads(db: Database) -> None:
    # Two-character Chinese terms (普京) are below the trigram index's three: they are
    # found through its vocabulary (the trigrams they begin) and, where a field ends with
    # one, through these two indexes on a field's last two characters (articles.search).
    db.execute("CREATE VIRTUAL TABLE articles_trigram_vocab USING fts5vocab(articles_trigram, row)")
    db.execute("CREATE INDEX articles_title_end ON articles(substr(title, -2))")
    db.execute("CREATE INDEX articles_text_end ON articles(substr(text, -2))")
    # `status` counts each kind of article per source from an index, not from the
    # table's rows, texts and all.
    db.execute(
        "CREATE INDEX articles_readable ON articles(source) "
        "WHERE extract_error IS NULL AND duplicate_of IS NULL"
    )
    db.execute(
        "CREATE INDEX articles_unextractable ON articles(source) WHERE extract_error IS NOT NULL"
    )
    db.execute(
        "CREATE INDEX articles_duplicates ON articles(source) WHERE duplicate_of IS NOT NULL"
    )
    # A source's latest run and its recent productive runs, without reading all its runs.
    db.execute("CREATE INDEX crawl_runs_finished ON crawl_runs(source, finished_at)")
    db.execute("CREATE INDEX crawl_runs_latest ON crawl_runs(source, id)")
    # The digest's events that began in a week, of any topic.
    db.execute("CREATE INDEX events_first_day ON events(first_day)")


@migrations()
def m007_counts(db: Database) -> None:
    # `status` without counting: each source's articles by kind, kept by triggers (a
    # count on m006's indexes still read every entry, ~10 ms per 25k articles).
    db.execute(
        """CREATE TABLE article_counts (
               source TEXT PRIMARY KEY,
               readable INTEGER NOT NULL DEFAULT 0,
               unextractable INTEGER NOT NULL DEFAULT 0,
               duplicates INTEGER NOT NULL DEFAULT 0)"""
    )
    db.execute(
        """INSERT INTO article_counts
           SELECT source,
                  sum(extract_error IS NULL AND duplicate_of IS NULL),
                  sum(extract_error IS NOT NULL),
                  sum(duplicate_of IS NOT NULL)
           FROM articles GROUP BY source"""
    )
    add = """INSERT INTO article_counts (source) VALUES (new.source) ON CONFLICT DO NOTHING;
             UPDATE article_counts SET
                 readable = readable + (new.extract_error IS NULL AND new.duplicate_of IS NULL),
                 unextractable = unextractable + (new.extract_error IS NOT NULL),
                 duplicates = duplicates + (new.duplicate_of IS NOT NULL)
             WHERE source = new.source;"""
    remove = """UPDATE article_counts SET
                    readable = readable - (old.extract_error IS NULL AND old.duplicate_of IS NULL),
                    unextractable = unextractable - (old.extract_error IS NOT NULL),
                    duplicates = duplicates - (old.duplicate_of IS NOT NULL)
                WHERE source = old.source;"""
    db.execute(f"CREATE TRIGGER article_counts_ai AFTER INSERT ON articles BEGIN {add} END")
    db.execute(f"CREATE TRIGGER article_counts_ad AFTER DELETE ON articles BEGIN {remove} END")
    db.execute(
        "CREATE TRIGGER article_counts_au AFTER UPDATE OF source, extract_error, duplicate_of "
        f"ON articles BEGIN {remove} {add} END"
    )
    # A source's events: each match's article looked up for its source in the index alone.
    db.execute("CREATE INDEX articles_id_source ON articles(id, source)")


@migrations()
def m008_backfills(db: Database) -> None:
    # Where each backfill walk stands, so an interrupted one goes on from there: the page
    # to start at (None: walk complete) for the date it walks back to.
    db.execute(
        """CREATE TABLE backfills (
               source TEXT NOT NULL,
               entry TEXT NOT NULL,
               since TEXT NOT NULL,
               page TEXT,
               done INTEGER NOT NULL DEFAULT 0,
               updated_at TEXT NOT NULL,
               PRIMARY KEY (source, entry))"""
    )


@migrations()
def m009_fetch_failure_span(db: Database) -> None:
    # When an article's fetch first failed: it is given up on only once its failures have
    # spanned a while (store.articles.RETRY_FOR), not after a few cycles of one outage.
    db.execute("ALTER TABLE fetch_failures ADD COLUMN first_failed_at TEXT")
    db.execute("UPDATE fetch_failures SET first_failed_at = last_attempt_at")


@migrations()
def m010_not_before(db: Database) -> None:
    # When a site last asked not to be asked again before (Retry-After): a restarted
    # daemon, and `status`, know it too.
    db.execute("ALTER TABLE source_state ADD COLUMN not_before TEXT")


# How long a write waits for another process's write lock (seconds) before it fails: read
# when a connection opens, so a test may shorten it in its own process.
BUSY_TIMEOUT = 30.0


def storage_error(path: Path, exc: sqlite3.Error, otherwise: str) -> StorageError:
    """SQLite's error on the database at ``path`` as a sentence that says what to do: its
    own words ("database is locked", "database or disk is full") do not. Other errors are
    ``otherwise: <SQLite's words>``."""
    message = str(exc)
    if "database is locked" in message:
        return StorageError(
            f"database {path} is locked by another process (waited {BUSY_TIMEOUT:g} s): let "
            "that process finish (an open sqlite3 shell, a backup) and run again; what was "
            "not stored is fetched again then"
        )
    if "database or disk is full" in message:
        return StorageError(
            f"the disk holding database {path} is full: free space there and run again; "
            "what was not stored is fetched again then"
        )
    return StorageError(f"{otherwise}: {message}")


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def now() -> datetime:
    return datetime.now(UTC)


class Connection:
    """One SQLite file. Create one per thread; only one should write at a time."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN IMMEDIATE ourselves.
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT)
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self.db = LazyDatabase(conn)
            # a read takes no write lock: it would wait for a crawl's transaction
            if migrations.pending(self.db):
                with self.write():
                    migrations.apply(self.db)
        except sqlite3.Error as exc:
            raise storage_error(self.path, exc, f"cannot open database {self.path}") from exc
        except OSError as exc:
            raise StorageError(f"cannot open database {self.path}: {exc}") from exc

    @classmethod
    def on(cls, conn: sqlite3.Connection) -> Self:
        """This store's reads on a connection opened elsewhere (`newsmon serve`: Datasette's
        read-only ones), as it is: nothing is migrated, and nothing may be written."""
        store = cls.__new__(cls)
        store.path = Path(conn.execute("PRAGMA database_list").fetchone()[2])
        store.db = LazyDatabase(conn)
        return store

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
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
                raise storage_error(self.path, exc, f"database {self.path.name}") from exc
            raise
