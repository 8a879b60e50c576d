"""Groups matched articles into events (pure: matches in, decisions out).

Articles about one meeting — across sources and languages, the announcement and the
coverage, verbatim wire copies — share the topic, the participants and, within a few
days, the meeting's date. The same leaders meeting again weeks later is a new event.
The kind does not split events: one article calling a visit "talks" must not create a
second event. Near-duplicate texts (one story on two sites) are recognised by shingles.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from monitor.models import Match

# How far a match's date may lie outside an event's dates and still be that event: a
# state visit spans days, and a date taken from the article (not the text) can lag.
TOLERANCE_TEXT_DATE = timedelta(days=3)
# ...and more where one side only knows "next week" or the article's own date.
TOLERANCE_INEXACT = timedelta(days=7)
NEAR_DUPLICATE = 0.6  # Jaccard similarity of shingles


@dataclass(frozen=True)
class EventSpan:
    """What clustering needs to know of a stored event."""

    id: int
    topic: str
    participants: tuple[str, ...]
    first_day: date
    last_day: date
    exact: bool  # some article wrote the day of the meeting
    announced_only: bool = False  # every article so far announces it


# An announcement without a day ("next month", "soon after the summit") is met by the
# reports of the meeting up to this long after it was made.
ANNOUNCEMENT_REACH = timedelta(days=30)


def tolerance(match: Match, event: EventSpan) -> timedelta:
    exact = match.date_from_text and event.exact
    return TOLERANCE_TEXT_DATE if exact else TOLERANCE_INEXACT


def find_event(match: Match, events: Iterable[EventSpan]) -> EventSpan | None:
    """The stored event this match belongs to, or None for a new event."""
    if match.date is None:
        return None
    best: tuple[int, EventSpan] | None = None
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


def event_kind(matches: Sequence[Match]) -> str:
    """The kind most of an event's reports agree on (announcements count for less)."""
    votes: dict[str, float] = {}
    for match in matches:
        weight = match.score * (0.5 if match.announcement else 1.0)
        votes[match.kind] = votes.get(match.kind, 0.0) + weight
    return max(votes, key=lambda kind: (votes[kind], kind != "unknown")) if votes else "unknown"


def event_days(matches: Sequence[Match]) -> tuple[date, date, bool]:
    """First and last day of an event, and whether they are exact: the days written in
    the texts, else the articles' own (or "next week") dates."""
    from_text = [m.date for m in matches if m.date is not None and m.date_from_text]
    days = from_text or [m.date for m in matches if m.date is not None]
    return min(days), max(days), bool(from_text)


_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3400-\u9fff]")


def shingles(text: str, size: int = 5) -> set[str]:
    """Word 5-grams, or character 8-grams for text without spaces (Chinese)."""
    if len(_CJK.findall(text)) > len(text) / 4:
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
