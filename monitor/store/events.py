"""Events and the matches that make them: what the event stage decided, stored as told
(``monitor.events`` decides; nothing here does), and read back as typed ``Event`` values.

Filing reads no event whole: an event row carries its running tally, and ``event_bands``
its members' LSH bands, so ``nearby`` reads a few rows whatever an event's size. Whole
events (with every article) are for alerts, ``events`` and the digest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitor.models import Event, EventArticle
from monitor.store.outbox import OutboxStore
from monitor.store.schema import iso, now, parse

if TYPE_CHECKING:
    from monitor.events import Decision, EventSummary, Nearby

_ARTICLES = """SELECT a.id, a.source, a.url, a.title, a.language, a.published, a.first_seen,
                      m.event_id, m.score, m.kind, m.day, m.day_from_text, m.announcement,
                      m.evidence, m.near_duplicate_of
               FROM matches m JOIN articles a ON a.id = m.article_id"""


def _article(row: dict[str, Any]) -> EventArticle:
    return EventArticle(
        id=row["id"],
        source=row["source"],
        url=row["url"],
        title=row["title"],
        language=row["language"],
        published=parse(row["published"]),
        first_seen=datetime.fromisoformat(row["first_seen"]),
        score=row["score"],
        kind=row["kind"],
        day=date.fromisoformat(row["day"]) if row["day"] else None,
        day_from_text=bool(row["day_from_text"]),
        announcement=bool(row["announcement"]),
        evidence=tuple(json.loads(row["evidence"])),
        near_duplicate_of=row["near_duplicate_of"],
    )


def _summary(row: dict[str, Any]) -> EventSummary:
    from monitor.events import EventSummary, Tally

    first, last = date.fromisoformat(row["first_day"]), date.fromisoformat(row["last_day"])
    votes = tuple((kind, weight) for kind, weight in json.loads(row["votes"]))
    return EventSummary(
        id=row["id"],
        topic=row["topic"],
        participants=tuple(json.loads(row["participants"])),
        first_day=first,
        last_day=last,
        exact=bool(row["exact"]),
        tally=Tally(first, last, bool(row["exact"]), row["articles"], row["announcements"], votes)
        if row["articles"]
        else None,
    )


class EventStore(OutboxStore):
    """Events need the outbox: a new event and its alerts are one transaction."""

    def _events(self, where: str, values: Sequence[Any]) -> list[Event]:
        """The events ``where`` selects, newest first, each with its articles."""
        rows = list(
            self.db.query(
                f"SELECT * FROM events WHERE {where} ORDER BY first_day DESC, id DESC", values
            )
        )
        if not rows:
            return []
        articles: dict[int, list[EventArticle]] = {}
        for row in self.db.query(
            f"{_ARTICLES} WHERE m.event_id IN (SELECT id FROM events WHERE {where}) "
            "ORDER BY m.matched_at, a.rowid",
            values,
        ):
            articles.setdefault(row["event_id"], []).append(_article(row))
        return [
            Event(
                id=row["id"],
                topic=row["topic"],
                participants=tuple(json.loads(row["participants"])),
                kind=row["kind"],
                first_day=date.fromisoformat(row["first_day"]),
                last_day=date.fromisoformat(row["last_day"]),
                exact=bool(row["exact"]),
                first_article=row["first_article"],
                created_at=datetime.fromisoformat(row["created_at"]),
                updated_at=datetime.fromisoformat(row["updated_at"]),
                articles=tuple(articles.get(row["id"], ())),
            )
            for row in rows
        ]

    def event(self, event_id: int) -> Event | None:
        """One event with its articles, oldest first (what an alert is made of)."""
        found = self._events("id = ?", [event_id])
        return found[0] if found else None

    def events(self, since: date | None = None) -> list[Event]:
        """Events newest first, each with its articles (oldest first)."""
        return self._events(
            "last_day >= ?",
            [since.isoformat() if since else "0000-00-00"],
        )

    def event_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM events").fetchone()[0])

    def events_of_week(self, start: date, end: date) -> list[Event]:
        """The events a week's digest shows, newest first: those that began in the week,
        or that have a matched article published in it (or, if the page gives no date,
        first stored then) or first stored in it."""
        after, before = start.isoformat(), (end + timedelta(days=1)).isoformat()
        return self._events(
            """(first_day >= ? AND first_day < ?)
               OR id IN (SELECT m.event_id FROM matches m JOIN articles a ON a.id = m.article_id
                         WHERE (a.first_seen >= ? AND a.first_seen < ?)
                         OR substr(coalesce(a.published, a.first_seen), 1, 10) BETWEEN ? AND ?)""",
            [after, before, after, before, start.isoformat(), end.isoformat()],
        )

    def nearby(
        self,
        article_id: str,
        topic: str,
        day: date,
        participants: Sequence[str],
        bands: Sequence[int],
    ) -> Nearby:
        """What the event stage needs to place a match of ``article_id`` on ``day``: the
        events around it as their tallies, and of those with its participants the members
        sharing one of its LSH ``bands`` — never all the articles of an event."""
        # Here, not at the top: the commands that only read (status, events, search)
        # need none of the event stage (~7 ms of import).
        from monitor.events import SEARCH_DAYS, Nearby

        checked = self.db.execute(
            "SELECT 1 FROM article_checks WHERE article_id = ? AND topic = ?", [article_id, topic]
        ).fetchone()
        if checked:
            return Nearby(checked=True)
        reach = f"{SEARCH_DAYS} days"
        events = [
            _summary(row)
            for row in self.db.query(
                # By the last day (the unary + keeps the planner off the first day's index):
                # every event began before a new article, few are still going on. Newest
                # first, as ``events()`` lists them: of two as near, the first wins.
                "SELECT * FROM events WHERE topic = ? AND last_day >= date(?, ?) "
                "AND +first_day <= date(?, ?) ORDER BY first_day DESC, id DESC",
                [topic, day.isoformat(), f"-{reach}", day.isoformat(), f"+{reach}"],
            )
        ]
        same = [e.id for e in events if set(e.participants) == set(participants)]
        keys = json.dumps(list(bands))
        texts: dict[int, list[tuple[str, str]]] = {}
        for event_id in same:
            # CROSS JOIN: from the bands to the members (SQLite would walk every member).
            rows = self.db.execute(
                """SELECT a.id, a.text
                   FROM (SELECT DISTINCT article_id FROM event_bands
                         WHERE event_id = ? AND band IN (SELECT value FROM json_each(?))) b
                   CROSS JOIN matches m ON m.article_id = b.article_id AND m.topic = ?
                   JOIN articles a ON a.id = m.article_id
                   WHERE m.event_id = ?
                   ORDER BY m.matched_at, a.rowid""",
                [event_id, keys, topic, event_id],
            )
            texts[event_id] = [(row[0], row[1]) for row in rows]
        told = {event_id: self.told(event_id) for event_id in same}
        return Nearby(checked=False, events=tuple(events), texts=texts, told=told)

    def apply(self, decision: Decision, bands: Sequence[int]) -> int:
        """Store what the event stage decided for one match — its event's new tally, the
        article's LSH ``bands`` and the messages it owes — in one transaction; the event's
        id."""
        stamp = iso(now())
        article = decision.article
        tally = decision.tally
        with self.write():
            event_id = decision.event_id
            if event_id is None:
                cursor = self.db.execute(
                    """INSERT INTO events (topic, participants, kind, first_day, last_day,
                           first_article, created_at, updated_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    [
                        decision.topic,
                        json.dumps(list(decision.participants), ensure_ascii=False),
                        tally.kind,
                        tally.first_day.isoformat(),
                        tally.last_day.isoformat(),
                        article.id,
                        stamp,
                        stamp,
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
                    article.id,
                    decision.topic,
                    event_id,
                    article.score,
                    article.kind,
                    article.day.isoformat() if article.day else None,
                    int(article.day_from_text),
                    int(article.announcement),
                    json.dumps(list(article.evidence), ensure_ascii=False),
                    article.near_duplicate_of,
                    stamp,
                ],
            )
            self.db.execute(
                "INSERT OR IGNORE INTO event_bands (event_id, band, article_id) "
                "SELECT ?, value, ? FROM json_each(?)",
                [event_id, article.id, json.dumps(list(bands))],
            )
            self.db.execute(
                "UPDATE events SET kind = ?, first_day = ?, last_day = ?, exact = ?, "
                "articles = ?, announcements = ?, votes = ?, updated_at = ? WHERE id = ?",
                [
                    tally.kind,
                    tally.first_day.isoformat(),
                    tally.last_day.isoformat(),
                    int(tally.exact),
                    tally.articles,
                    tally.announcements,
                    json.dumps(tally.votes, ensure_ascii=False),
                    stamp,
                    event_id,
                ],
            )
            self.db.execute(
                "INSERT OR IGNORE INTO article_checks (article_id, topic) VALUES (?, ?)",
                [article.id, decision.topic],
            )
            for channel in decision.alert:
                self.enqueue(f"event:{event_id}", channel, event_id, None, None)
            for channel in decision.held:
                self.enqueue(f"event:{event_id}:held", channel, event_id, None, None)
        return event_id

    def forget_matches(self) -> None:
        """Before a rematch: every article is judged again; events stay, so ids and the
        record of what was alerted survive."""
        with self.write():
            self.db.execute("DELETE FROM matches")
            self.db.execute("DELETE FROM article_checks")
            self.db.execute("DELETE FROM event_bands")
            self.db.execute("UPDATE events SET articles = 0, announcements = 0, votes = '[]'")

    def drop_empty_events(self) -> int:
        """Remove events no article supports any more, unless someone was told of them."""
        with self.write():
            cursor = self.db.execute(
                "DELETE FROM events WHERE id NOT IN (SELECT event_id FROM matches) "
                "AND id NOT IN (SELECT event_id FROM outbox WHERE event_id IS NOT NULL)"
            )
        return cursor.rowcount
