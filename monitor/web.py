"""`newsmon serve`: a read-only web view of the database, built on Datasette.

Owns the pages people want — events, one event, sources and their health, search, alerts
— as Datasette canned queries plus one custom page (an event, with a per-day chart), and
what keeps the view safe: nothing written, nothing secret shown.

- Read-only, not immutable: Datasette's ``immutable=1`` would ignore the WAL, so a view
  beside a running daemon would show a stale or inconsistent database. The file is opened
  ``mode=ro`` (Datasette's mutable mode) and every connection is ``query_only``.
- Search is the CLI's search (``ArticleStore.search``: FTS5 words and trigrams, the trigram
  vocabulary for two-character Chinese terms such as 普京), registered as the SQL function
  ``newsmon_search`` on Datasette's own connections; there is no second search.
- Secrets: the outbox stores a hash of each channel URL; ``newsmon_channel`` shows the
  configured channel masked (Apprise's privacy view), ``newsmon_redact`` masks every
  config secret in error texts. Tables that can hold a secret (the outbox, feed
  validators) cannot be browsed, arbitrary SQL is off, and the database file cannot be
  downloaded.

It does not touch the crawler, the matcher or delivery; it reads what they stored.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from datasette import hookimpl
from markupsafe import Markup

from monitor.digest import day_bars, event_view
from monitor.errors import StorageError
from monitor.redact import Redactor
from monitor.store import Storage

TEMPLATES = Path(__file__).parent / "templates" / "web"
# The tables shown as tables; the others are reached only through the canned queries.
BROWSABLE = frozenset({"articles", "events", "matches", "crawl_runs", "source_state"})
SEARCH_LIMIT = 100
EVENT_DAYS_MAX = 62  # bars on an event's chart; an event spanning longer shows its first

EVENTS_SQL = """
SELECT e.id AS event,
       (SELECT group_concat(value, ' – ') FROM json_each(e.participants)) AS participants,
       e.kind, e.first_day, e.last_day, e.articles,
       (SELECT group_concat(language, ', ') FROM (
            SELECT DISTINCT coalesce(a.language, '?') AS language
            FROM matches m JOIN articles a ON a.id = m.article_id
            WHERE m.event_id = e.id ORDER BY 1)) AS languages,
       (SELECT replace(substr(min(o.sent_at), 1, 16), 'T', ' ') FROM outbox o
        WHERE o.subject = 'event:' || e.id AND o.state = 'sent') AS first_alert,
       e.topic
FROM events e
ORDER BY e.first_day DESC, e.id DESC
"""

EVENT_ARTICLES_SQL = """
SELECT coalesce(a.language, '?') AS language, a.source, a.title, a.url,
       substr(coalesce(a.published, a.first_seen), 1, 10) AS day, m.kind, m.score,
       m.announcement, m.near_duplicate_of IS NOT NULL AS near_duplicate
FROM matches m JOIN articles a ON a.id = m.article_id
WHERE m.event_id = :event
ORDER BY language, a.source, day
"""

SOURCES_SQL = """
SELECT s.source,
       CASE WHEN s.consecutive_failures > 0 THEN 'FAILING' ELSE 'ok' END AS health,
       newsmon_failing_since(s.source) AS failing_since,
       s.consecutive_failures, newsmon_redact(s.last_error) AS last_error,
       s.last_success_at, s.last_run_at,
       (SELECT count(*) FROM articles a WHERE a.source = s.source
        AND a.extract_error IS NULL AND a.duplicate_of IS NULL
        AND a.first_seen >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-7 days'))
        AS articles_last_7_days,
       (SELECT count(*) FROM articles a WHERE a.source = s.source
        AND a.extract_error IS NULL AND a.duplicate_of IS NULL) AS articles
FROM source_state s
ORDER BY s.consecutive_failures > 0 DESC, s.source
"""

SEARCH_SQL = f"""
SELECT a.title, a.language, a.source,
       substr(coalesce(a.published, a.first_seen), 1, 10) AS day,
       json_extract(hit.value, '$.snippet') AS snippet, a.url
FROM json_each(newsmon_search(:q, {SEARCH_LIMIT})) hit
JOIN articles a ON a.id = json_extract(hit.value, '$.id')
ORDER BY hit.key
"""

ALERTS_SQL = """
SELECT o.id, o.event_id AS event, o.subject, newsmon_channel(o.channel) AS channel, o.state,
       o.attempts, o.created_at, o.sent_at,
       CASE WHEN o.state = 'retrying' THEN o.next_attempt_at END AS next_attempt,
       newsmon_redact(o.last_error) AS last_error
FROM outbox o
ORDER BY o.id DESC
"""

QUERIES: dict[str, dict[str, Any]] = {
    "events": {
        "title": "Events",
        "description": "Detected events, newest first (open one by its number).",
        "sql": EVENTS_SQL,
        "hide_sql": True,
    },
    "event_articles": {
        "title": "One event's articles",
        "description": "The articles of an event, by language and source.",
        "sql": EVENT_ARTICLES_SQL,
        "hide_sql": True,
    },
    "sources": {
        "title": "Sources",
        "description": "Each source's health: failing since, last success, recent articles.",
        "sql": SOURCES_SQL,
        "hide_sql": True,
    },
    "search": {
        "title": "Search",
        "description": 'Full-text search in every language (OR, NOT, "a phrase", prefix*): '
        "the same search as `newsmon search`.",
        "sql": SEARCH_SQL,
        "hide_sql": True,
    },
    "alerts": {
        "title": "Alerts",
        "description": "Every message owed to a channel and its delivery state (channels masked).",
        "sql": ALERTS_SQL,
        "hide_sql": True,
    },
}


class Newsmon:
    """The Datasette plugin of one `newsmon serve`: its SQL functions, what may be seen,
    links from events to their page, and the event page."""

    def __init__(self, database: str, channels: Mapping[str, str], redactor: Redactor) -> None:
        self.__name__ = "newsmon_web"  # Datasette lists plugins (modules, usually) by name
        self.database = database  # Datasette's name for the file
        self.channels = channels  # outbox key → masked URL
        self.redactor = redactor

    def metadata(self) -> dict[str, Any]:
        links = " · ".join(
            f'<a href="/{self.database}/{name}">{query["title"]}</a>'
            for name, query in QUERIES.items()
            if name != "event_articles"
        )
        return {
            "title": "newsmon",
            "description_html": f"<p>What newsmon has found: {links}</p>",
            "databases": {self.database: {"queries": QUERIES}},
        }

    @hookimpl
    def prepare_connection(self, conn: sqlite3.Connection, database: str) -> None:
        if database != self.database:
            return  # Datasette's own in-memory database is written by Datasette
        conn.execute("PRAGMA query_only = 1")
        store = Storage.on(conn)
        conn.create_function("newsmon_search", 2, _json_of(store.search))
        conn.create_function("newsmon_channel", 1, self._channel)
        conn.create_function("newsmon_redact", 1, self._redact)
        conn.create_function(
            "newsmon_failing_since",
            1,
            lambda source: _iso(store.failing_since(source)),
        )

    def _channel(self, key: str) -> str:
        return self.channels.get(key, "a channel no longer configured")

    def _redact(self, text: str | None) -> str | None:
        return self.redactor.redact(text) if text else text

    @hookimpl
    def permission_allowed(self, action: str, resource: Any) -> bool | None:
        if action == "execute-sql":
            return False  # arbitrary SQL could select the outbox or the validators
        if action == "view-table":
            _, table = resource
            return None if table in BROWSABLE else False
        return None

    @hookimpl
    def render_cell(self, value: Any, column: str, database: str) -> Markup | None:
        if database == self.database and column == "event" and isinstance(value, int):
            return Markup(f'<a href="/-/event/{value}">#{value}</a>')
        return None

    @hookimpl
    def menu_links(self) -> list[dict[str, str]]:
        return [
            {"href": f"/{self.database}/{name}", "label": query["title"]}
            for name, query in QUERIES.items()
            if name != "event_articles"
        ]

    @hookimpl
    def register_routes(self) -> list[tuple[str, Callable[..., Any]]]:
        return [(r"^/-/event/(?P<id>\d+)$", self.event_page)]

    async def event_page(self, request: Any, datasette: Any) -> Any:
        from datasette.utils.asgi import NotFound, Response

        event_id = int(request.url_vars["id"])
        event = await datasette.get_database(self.database).execute_fn(
            lambda conn: Storage.on(conn).event(event_id)
        )
        if event is None:
            raise NotFound(f"no event #{event_id}")
        days = sorted(article.day_of for article in event.articles)
        span = min((days[-1] - days[0]).days + 1, EVENT_DAYS_MAX) if days else 0
        html = await datasette.render_template(
            "event.html",
            {
                "event": event_view(event, datetime.now(UTC).year),
                "bars": day_bars(days[0], event.articles, span) if days else (),
                "database": self.database,
            },
            request=request,
        )
        return Response.html(html)


def _json_of(search: Callable[[str, int], list[Any]]) -> Callable[[str | None, int], str]:
    """A search as a SQL function: the hits' ids and snippets, best first, as JSON."""

    def run(query: str | None, limit: int) -> str:
        hits = search(query or "", limit)
        return json.dumps([{"id": hit.id, "snippet": hit.snippet} for hit in hits])

    return run


def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat(timespec="seconds") if isinstance(moment, datetime) else None


def datasette(database: Path, channels: Mapping[str, str], redactor: Redactor) -> Any:
    """Datasette serving ``database`` read-only, with newsmon's pages (``.app()`` is the
    ASGI app)."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    if not database.exists():
        raise StorageError(f"no database at {database}: run `newsmon crawl` first")
    plugin = Newsmon(database.stem, channels, redactor)
    if pm.get_plugin("newsmon") is not None:
        pm.unregister(name="newsmon")  # one server per process; tests make several
    pm.register(plugin, name="newsmon")
    return Datasette(
        files=[str(database)],
        metadata=plugin.metadata(),
        template_dir=str(TEMPLATES),
        settings={"allow_download": False, "default_allow_sql": False, "suggest_facets": False},
    )
