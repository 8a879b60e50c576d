"""Events through the store (real SQLite): filing by tallies and LSH candidates decides
what reading every member of every event decided — the same event, days, kind, held
notice and near-duplicate — and a migrated or rematched database carries on alike."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from monitor.events import (
    NEAR_DUPLICATE,
    EventSummary,
    Policy,
    Tally,
    find_event,
    lsh_bands,
    shingles,
    similarity,
)
from monitor.models import Article, Event, EventArticle, Match, article_id
from monitor.runner import file_match
from monitor.store import Storage

PARTIES = ("Vladimir Putin", "Xi Jinping")
TOPIC = "china-russia-summit"
TODAY = date(2024, 5, 20)
POLICY = Policy(alert_channels=("mail",), tell_when_held=True)
WORDS = [f"w{n}" for n in range(3_000)]
CHINESE = "国家主席习近平同俄罗斯总统普京举行会谈两国元首就双边关系和共同关心的国际问题交换意见"


def report(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(60, 120)))


def edited(rng: random.Random, text: str, changes: int) -> str:
    """``text`` with ``changes`` words replaced: from a verbatim copy to another story."""
    words = text.split()
    for _ in range(changes):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    return " ".join(words)


@dataclass
class Reference:
    """An event as the stage saw it before tallies: all its articles and their texts."""

    id: int
    members: list[EventArticle] = field(default_factory=list)
    texts: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> EventSummary:
        """Days, kind and announcements computed from every member, as they were."""
        written = [a.day for a in self.members if a.day and a.day_from_text]
        days = written or [a.day for a in self.members if a.day]
        return EventSummary(
            self.id,
            TOPIC,
            PARTIES,
            min(days),
            max(days),
            bool(written),
            Tally(
                min(days),
                max(days),
                bool(written),
                len(self.members),
                sum(a.announcement for a in self.members),
                (),
            ),
        )

    def kind(self) -> str:
        votes: dict[str, float] = {}
        for a in self.members:
            votes[a.kind] = votes.get(a.kind, 0.0) + a.score * (0.5 if a.announcement else 1.0)
        return max(votes, key=lambda kind: (votes[kind], kind != "unknown"))

    def first_copy(self, text: str) -> str | None:
        mine = shingles(text)
        for other_id, other in self.texts:
            if similarity(mine, shingles(other)) >= NEAR_DUPLICATE:
                return other_id
        return None


def store(storage: Storage, n: int, text: str, found: datetime) -> str:
    url = f"https://site{n % 7}.example/{n}"
    storage.save_article(
        Article(article_id(url), f"site{n % 7}", url, url, f"Xi, Putin {n}", text, "en", found,
                None, f"hash{n}")
    )  # fmt: skip
    return article_id(url)


def filings(seed: int, count: int) -> list[tuple[str, Match]]:
    """Texts and matches as a crawl meets them: three meetings weeks apart, announced,
    then reported with text dates or without, in several kinds; copies of earlier texts
    edited from not at all to past the threshold; some in Chinese."""
    rng = random.Random(seed)
    texts: list[tuple[str, date]] = []
    out = []
    for n in range(count):
        meeting = date(2024, 3, 1) + timedelta(days=40 * rng.randrange(3))
        roll = rng.random()
        if texts and roll < 0.4:
            original, meeting = rng.choice(texts)  # a copy is of the same meeting
            text = edited(rng, original, rng.choice([0, 1, 3, 6, 9, 12, 20, 60]))
        elif roll < 0.5:
            start = rng.randrange(len(CHINESE) - 20)
            text = CHINESE[start:] + "".join(rng.choices("的一是在不了有和人这中大为上个国", k=12))
        else:
            text = report(rng)
        texts.append((text, meeting))
        announcement = n < 6 or rng.random() < 0.2  # the meetings are announced first
        found = Match(
            topic=TOPIC,
            score=rng.choice([0.5, 0.75, 0.9, 1.0]),
            participants=PARTIES,
            kind=rng.choice(["in-person", "video", "phone", "unknown"]),
            date=meeting + timedelta(days=rng.randint(-2, 2)),
            date_from_text=rng.random() < 0.6,
            announcement=announcement,
            evidence=("Xi", "Putin"),
        )
        out.append((text, found))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_filing_decides_what_reading_every_member_decided(tmp_path: Path, seed: int) -> None:
    references: dict[int, Reference] = {}
    held: set[str] = set()
    with Storage(tmp_path / "n.db") as storage:
        for n, (text, found) in enumerate(filings(seed, 150)):
            seen = datetime(2024, 3, 1, tzinfo=UTC) + timedelta(hours=n)
            stored = storage.article(store(storage, n, text, seen))
            assert stored is not None and found.date
            # newest first, as the store lists them: of two as near, the first wins
            newest = sorted(references.values(), key=lambda r: (r.summary().first_day, r.id))
            expected = find_event(found, [r.summary() for r in reversed(newest)])
            copy = references[expected.id].first_copy(text) if expected else None
            was_announced = expected is not None and expected.announced_only
            filed = file_match(storage, stored, found, POLICY, TODAY)
            assert filed is not None
            event_id, new = filed
            assert new == (expected is None)
            assert expected is None or event_id == expected.id
            reference = references.setdefault(event_id, Reference(event_id))
            event = storage.event(event_id)
            assert event is not None
            member = event.articles[-1]
            assert (member.id, member.near_duplicate_of) == (stored.id, copy)
            reference.members.append(member)
            reference.texts.append((stored.id, text))
            summary = reference.summary()
            assert (event.first_day, event.last_day, event.exact, event.kind) == (
                summary.first_day,
                summary.last_day,
                summary.exact,
                reference.kind(),
            )
            if was_announced and not found.announcement:
                held.add(f"event:{event_id}:held")
        subjects = {row[0] for row in storage.db.execute("SELECT subject FROM outbox")}
        events = storage.events()
    assert {s for s in subjects if s.endswith(":held")} == held and held
    assert sum(a.near_duplicate_of is not None for e in events for a in e.articles) > 10


def tallies(storage: Storage) -> list[tuple[object, ...]]:
    return list(
        storage.db.execute(
            "SELECT id, kind, first_day, last_day, exact, articles, announcements, votes "
            "FROM events ORDER BY id"
        )
    )


def bands(storage: Storage) -> set[tuple[object, ...]]:
    return set(storage.db.execute("SELECT * FROM event_bands"))


def filed(path: Path, seed: int, count: int) -> list[Event]:
    with Storage(path) as storage:
        for n, (text, found) in enumerate(filings(seed, count)):
            seen = datetime(2024, 3, 1, tzinfo=UTC) + timedelta(hours=n)
            stored = storage.article(store(storage, n, text, seen))
            assert stored is not None
            assert file_match(storage, stored, found, POLICY, TODAY)
        return storage.events()


def test_a_database_from_before_tallies_is_tallied_when_opened(tmp_path: Path) -> None:
    events = filed(tmp_path / "n.db", 4, 60)
    with Storage(tmp_path / "n.db") as storage:
        before, stored_bands = tallies(storage), bands(storage)
        # back to the schema of m004, as an older newsmon left it
        with storage.write():
            storage.db.execute("DROP TABLE event_bands")
            storage.db.execute("DROP INDEX events_last_day")
            for column in ("articles", "announcements", "votes"):
                storage.db.execute(f"ALTER TABLE events DROP COLUMN {column}")
            storage.db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm005_event_tallies'")
    with Storage(tmp_path / "n.db") as storage:
        assert tallies(storage) == before
        assert bands(storage) == stored_bands
        assert storage.events() == events


def test_a_rematch_rebuilds_the_tallies_and_keeps_the_ids(tmp_path: Path) -> None:
    events = filed(tmp_path / "n.db", 5, 60)
    with Storage(tmp_path / "n.db") as storage:
        storage.forget_matches()
        assert {row[5] for row in tallies(storage)} == {0} and not bands(storage)
    again = filed(tmp_path / "n.db", 5, 60)
    assert {e.id for e in again} == {e.id for e in events}
    with Storage(tmp_path / "n.db") as storage:
        for event_id, kind, first, last, exact, articles, announced, votes in tallies(storage):
            event = storage.event(event_id)
            assert event is not None
            counted = Tally.start(event.articles[0], event.articles[0].day or TODAY)
            for member in event.articles[1:]:
                counted = counted.add(member, member.day or TODAY)
            assert (kind, first, last, exact, articles, announced, json.loads(votes)) == (
                counted.kind,
                counted.first_day.isoformat(),
                counted.last_day.isoformat(),
                counted.exact,
                counted.articles,
                counted.announcements,
                [list(vote) for vote in counted.votes],
            )
        texts = {a.id: a.text for a in storage.articles()}
        assert bands(storage) == {
            (event.id, band, member.id)
            for event in again
            for member in event.articles
            for band in lsh_bands(texts[member.id])
        }


WIRE = (
    "Chinese President Xi Jinping and Russian President Vladimir Putin held a video call on "
    "Tuesday and pledged to deepen their partnership, according to the Kremlin, which said "
    "the two leaders discussed energy, trade and the situation in Ukraine at length."
)


def test_a_copy_is_found_among_many_reports_of_its_event(tmp_path: Path) -> None:
    rng = random.Random(6)
    call = Match(TOPIC, 0.9, PARTIES, "video", date(2024, 5, 14), True, False, ())
    seen = datetime(2024, 5, 14, 8, tzinfo=UTC)
    with Storage(tmp_path / "n.db") as storage:
        ids = [store(storage, 0, WIRE, seen)]
        ids += [store(storage, n, report(rng), seen) for n in range(1, 300)]
        ids.append(store(storage, 300, "UPDATE 1 - " + WIRE + " (Reporting by staff)", seen))
        for found in ids:
            stored = storage.article(found)
            assert stored is not None
            assert file_match(storage, stored, call, POLICY, TODAY)
        (event,) = storage.events()
    marked = {a.id: a.near_duplicate_of for a in event.articles if a.near_duplicate_of}
    assert marked == {ids[-1]: ids[0]}
