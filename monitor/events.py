"""The event stage (pure: a match and what is stored around it in, a decision out).

Every rule about events lives here. Articles about one meeting — across sources and
languages, the announcement and the coverage, verbatim wire copies — share the topic,
the participants and, within a few days, the meeting's date: they are one event. The
same leaders meeting again weeks later is a new event. The kind does not split events:
one article calling a visit "talks" must not create a second event. Near-duplicate
texts (one story on two sites) are recognised by shingles. A new event is alerted on
every alert channel, unless it is older than the policy's ``max_age``; an event known
only from announcements is told as held, once, when its first report comes.

A summit's event gets thousands of articles in a day, so nothing here reads all of an
event's articles: an event comes as its ``Tally`` (running values of its days, kind and
announcements), and a new text is compared only with the few members that MinHash LSH
(``lsh_bands``) names as possible copies.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from typing import TYPE_CHECKING

from monitor.models import EventArticle, Match, StoredArticle
from monitor.text import CJK

if TYPE_CHECKING:
    import numpy as np

# How far a match's date may lie outside an event's dates and still be that event: a
# state visit spans days, and a date taken from the article (not the text) can lag.
TOLERANCE_TEXT_DATE = timedelta(days=3)
# ...and more where one side only knows "next week" or the article's own date.
TOLERANCE_INEXACT = timedelta(days=7)
NEAR_DUPLICATE = 0.6  # Jaccard similarity of shingles


# An announcement without a day ("next month", "soon after the summit") is met by the
# reports of the meeting up to this long after it was made.
ANNOUNCEMENT_REACH = timedelta(days=30)


def vote(score: float, announcement: bool) -> float:
    """What one article's word on the kind weighs (an announcement counts for less)."""
    return score * (0.5 if announcement else 1.0)


@dataclass(frozen=True)
class Tally:
    """What an event's articles add up to, kept as running values so that filing one more
    costs the same however many there are: the event's first and last day — the days
    written in the texts, else the articles' own (or "next week") dates — its kind (what
    most reports agree on) and whether it is still only announced."""

    first_day: date
    last_day: date
    exact: bool  # some article wrote the meeting's day: from then on only such days count
    articles: int
    announcements: int
    # each kind's votes, in the order the kinds came: a tie goes to the earlier
    votes: tuple[tuple[str, float], ...]

    @classmethod
    def start(cls, article: EventArticle, day: date) -> Tally:
        """The tally of an event's first article, filed under ``day``."""
        weight = vote(article.score, article.announcement)
        return cls(
            day, day, article.day_from_text, 1, int(article.announcement), ((article.kind, weight),)
        )

    def add(self, article: EventArticle, day: date) -> Tally:
        """The tally with one more article, filed under ``day``."""
        if article.day_from_text and not self.exact:  # the first written day: it alone counts
            first, last = day, day
        elif article.day_from_text == self.exact:
            first, last = min(self.first_day, day), max(self.last_day, day)
        else:  # an article's own date, where the texts wrote the day
            first, last = self.first_day, self.last_day
        votes = dict(self.votes)
        votes[article.kind] = votes.get(article.kind, 0.0) + vote(
            article.score, article.announcement
        )
        return Tally(
            first,
            last,
            self.exact or article.day_from_text,
            self.articles + 1,
            self.announcements + article.announcement,
            tuple(votes.items()),
        )

    @property
    def kind(self) -> str:
        votes = dict(self.votes)
        return max(votes, key=lambda kind: (votes[kind], kind != "unknown"))

    @property
    def announced_only(self) -> bool:
        """Every article so far announces it: the meeting is still to come."""
        return self.announcements == self.articles


@dataclass(frozen=True)
class EventSummary:
    """A stored event as this stage sees it: where it lies in time and what its articles
    add up to, never the articles themselves."""

    id: int
    topic: str
    participants: tuple[str, ...]
    first_day: date
    last_day: date
    exact: bool
    # None once a rematch has taken its articles away: it keeps its place in time, and
    # the next article to join it counts as its first
    tally: Tally | None

    @property
    def announced_only(self) -> bool:
        return self.tally is not None and self.tally.announced_only


def tolerance(match: Match, event: EventSummary) -> timedelta:
    exact = match.date_from_text and event.exact
    return TOLERANCE_TEXT_DATE if exact else TOLERANCE_INEXACT


def find_event(match: Match, events: Iterable[EventSummary]) -> EventSummary | None:
    """The stored event this match belongs to, or None for a new event."""
    if match.date is None:
        return None
    best: tuple[int, EventSummary] | None = None
    for event in events:
        if event.topic != match.topic or set(event.participants) != set(match.participants):
            continue
        slack = tolerance(match, event)
        ahead = ANNOUNCEMENT_REACH if event.announced_only and not event.exact else timedelta(0)
        if event.first_day - slack <= match.date <= event.last_day + max(slack, ahead):
            gap = max((event.first_day - match.date).days, (match.date - event.last_day).days, 0)
            if best is None or gap < best[0]:
                best = (gap, event)
    return best[1] if best else None


_WORD = re.compile(r"\w+")


def shingles(text: str, size: int = 5) -> set[str]:
    """Word 5-grams, or character 8-grams for text without spaces (Chinese)."""
    if len(CJK.findall(text)) > len(text) / 4:
        chars = "".join(_WORD.findall(text))
        return {chars[i : i + 8] for i in range(max(1, len(chars) - 7))}
    words = [w.lower() for w in _WORD.findall(text)]
    return {" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))}


def similarity(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def near_duplicate_of(text: str, others: Iterable[tuple[str, str]]) -> str | None:
    """The id of the first of ``others`` (id, text) that tells the same story in the same words."""
    mine = shingles(text)
    for other_id, other_text in others:
        if similarity(mine, shingles(other_text)) >= NEAR_DUPLICATE:
            return other_id
    return None


# MinHash LSH finds the few members that may be copies of a new text, without reading the
# others: BANDS bands of BAND_ROWS minimum hashes each, and a member sharing a band with
# the text is a candidate. At Jaccard similarity s a member shares a band with probability
# 1 - (1 - s**4)**64: a copy at the threshold (0.6) is missed 1.4 times in 10,000, at 0.65
# 3 times in a million, at 0.7 twice in 100 million; a distinct report of the same meeting
# (s < 0.05 for all but 0.15 % of the pairs in tests/data) is a candidate less than once in
# 2,500. Candidates are confirmed by ``near_duplicate_of``, exactly: a text is never marked
# the copy of one it is not. The bands are stored, so changing these or the hashing needs
# a migration that computes them again.
BANDS = 64
BAND_ROWS = 4


@cache
def _hash_functions() -> tuple[np.ndarray, np.ndarray]:
    """Multipliers (odd) and addends of the MinHash functions (the high 32 bits of
    (a·x + b) mod 2⁶⁴): derived from their numbers, not drawn from a random generator
    (whose streams may change with numpy), so that stored bands stay comparable."""
    import numpy as np

    words = [
        int.from_bytes(hashlib.blake2b(f"minhash {n}".encode(), digest_size=8).digest(), "little")
        for n in range(2 * BANDS * BAND_ROWS)
    ]
    return (
        np.array(words[::2], dtype=np.uint64) | np.uint64(1),
        np.array(words[1::2], dtype=np.uint64),
    )


def lsh_bands(text: str) -> tuple[int, ...]:
    """The keys of a text's LSH bands (signed 64-bit): an article sharing one with it may
    be its near-duplicate."""
    import numpy as np  # 0.1 s: only matching needs it, not every command

    # CRC-32 of each shingle (a fifth of blake2b's cost), then the universal
    # multiply-add-shift functions of 32-bit keys that make the permutations
    values = np.fromiter((zlib.crc32(s.encode()) for s in shingles(text)), dtype=np.uint64)
    multipliers, addends = _hash_functions()
    hashed = (values[:, None] * multipliers + addends) >> np.uint64(32)  # wraps: mod 2⁶⁴
    signature = hashed.min(axis=0).astype(np.uint32).reshape(BANDS, BAND_ROWS)
    return tuple(
        int.from_bytes(
            hashlib.blake2b(n.to_bytes(1, "little") + band.tobytes(), digest_size=8).digest(),
            "little",
            signed=True,
        )
        for n, band in enumerate(signature)
    )


# -- deciding ------------------------------------------------------------------------

# How far around a match's day stored events are looked at: more than any tolerance.
SEARCH_DAYS = 30


@dataclass(frozen=True)
class Policy:
    """What the config says about alerting new events."""

    alert_channels: tuple[str, ...] = ()
    max_age: timedelta = timedelta(0)  # an event older than this is stored, not alerted (0: any)
    tell_when_held: bool = False


@dataclass(frozen=True)
class Nearby:
    """What is stored around one match, read in the transaction that will store it."""

    checked: bool  # another process judged the article meanwhile
    events: tuple[EventSummary, ...] = ()  # the topic's events within SEARCH_DAYS of the day
    # of the events with the match's participants: (article id, text) of the articles that
    # share an LSH band with the match's (``lsh_bands``), in the order they were filed, and
    # the channels their alert was queued for
    texts: Mapping[int, Sequence[tuple[str, str]]] = field(default_factory=dict)
    told: Mapping[int, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """What to store for one match: the event it joins (or a new one), the event's tally
    with it, and whom to tell."""

    topic: str
    participants: tuple[str, ...]
    event_id: int | None  # None: a new event
    article: EventArticle  # the match as the event shows it
    tally: Tally
    alert: tuple[str, ...] = ()  # channels to alert of the new event
    held: tuple[str, ...] = ()  # channels to tell that the announced meeting was held

    @property
    def first_day(self) -> date:
        return self.tally.first_day

    @property
    def last_day(self) -> date:
        return self.tally.last_day

    @property
    def exact(self) -> bool:
        return self.tally.exact

    @property
    def kind(self) -> str:
        return self.tally.kind


def meeting_day(match: Match, article: StoredArticle) -> date:
    """The day a match is filed under: the meeting's, else the day the article was found."""
    return match.date or article.first_seen.date()


def decide(
    match: Match, article: StoredArticle, nearby: Nearby, today: date, policy: Policy
) -> Decision:
    """Where one matched article goes and who hears of it."""
    day = meeting_day(match, article)
    event = find_event(replace(match, date=day), nearby.events)
    duplicate = near_duplicate_of(article.text, nearby.texts.get(event.id, ())) if event else None
    member = EventArticle(
        id=article.id,
        source=article.source,
        url=article.url,
        title=article.title,
        language=article.language,
        published=article.published,
        first_seen=article.first_seen,
        score=match.score,
        kind=match.kind,
        day=day,
        day_from_text=match.date_from_text,
        announcement=match.announcement,
        evidence=match.evidence,
        near_duplicate_of=duplicate,
    )
    alert: tuple[str, ...] = ()
    held: tuple[str, ...] = ()
    if event is None:
        if not policy.max_age or day >= today - policy.max_age:
            alert = policy.alert_channels
    elif policy.tell_when_held and event.announced_only and not match.announcement:
        # only channels that were told of the announcement hear that it happened
        held = tuple(nearby.told.get(event.id, ()))
    tally = event.tally.add(member, day) if event and event.tally else Tally.start(member, day)
    return Decision(
        topic=match.topic,
        participants=match.participants,
        event_id=event.id if event else None,
        article=member,
        tally=tally,
        alert=alert,
        held=held,
    )
