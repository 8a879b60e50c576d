"""The event stage (pure: a match and what is stored around it in, a decision out).

Every rule about events lives here. Articles about one meeting — across sources and
languages, the announcement and the coverage, verbatim wire copies — share the topic,
the participants and, within a few days, the meeting's date: they are one event. The
same leaders meeting again weeks later is a new event. The kind does not split events:
one article calling a visit "talks" must not create a second event. Near-duplicate
texts (one story on two sites) are recognised by shingles. A new event is alerted on
every alert channel, unless it is older than the policy's ``max_age``; an event known
only from announcements is told as held, once, when its first report comes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from monitor.models import Event, EventArticle, Match, StoredArticle
from monitor.text import CJK

# How far a match's date may lie outside an event's dates and still be that event: a
# state visit spans days, and a date taken from the article (not the text) can lag.
TOLERANCE_TEXT_DATE = timedelta(days=3)
# ...and more where one side only knows "next week" or the article's own date.
TOLERANCE_INEXACT = timedelta(days=7)
NEAR_DUPLICATE = 0.6  # Jaccard similarity of shingles


# An announcement without a day ("next month", "soon after the summit") is met by the
# reports of the meeting up to this long after it was made.
ANNOUNCEMENT_REACH = timedelta(days=30)


def tolerance(match: Match, event: Event) -> timedelta:
    exact = match.date_from_text and event.exact
    return TOLERANCE_TEXT_DATE if exact else TOLERANCE_INEXACT


def find_event(match: Match, events: Iterable[Event]) -> Event | None:
    """The stored event this match belongs to, or None for a new event."""
    if match.date is None:
        return None
    best: tuple[int, Event] | None = None
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


def event_kind(articles: Sequence[EventArticle]) -> str:
    """The kind most of an event's reports agree on (announcements count for less)."""
    votes: dict[str, float] = {}
    for article in articles:
        weight = article.score * (0.5 if article.announcement else 1.0)
        votes[article.kind] = votes.get(article.kind, 0.0) + weight
    return max(votes, key=lambda kind: (votes[kind], kind != "unknown")) if votes else "unknown"


def event_days(articles: Sequence[EventArticle]) -> tuple[date, date, bool]:
    """First and last day of an event, and whether they are exact: the days written in
    the texts, else the articles' own (or "next week") dates."""
    from_text = [a.day for a in articles if a.day is not None and a.day_from_text]
    days = from_text or [a.day for a in articles if a.day is not None]
    return min(days), max(days), bool(from_text)


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
    events: tuple[Event, ...] = ()  # the topic's events within SEARCH_DAYS of the day
    # of the events with the match's participants: (article id, text) of their articles,
    # and the channels their alert was queued for
    texts: Mapping[int, Sequence[tuple[str, str]]] = field(default_factory=dict)
    told: Mapping[int, Sequence[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """What to store for one match: the event it joins (or a new one), the event's days
    and kind with it, and whom to tell."""

    topic: str
    participants: tuple[str, ...]
    event_id: int | None  # None: a new event
    article: EventArticle  # the match as the event shows it
    first_day: date
    last_day: date
    exact: bool
    kind: str
    alert: tuple[str, ...] = ()  # channels to alert of the new event
    held: tuple[str, ...] = ()  # channels to tell that the announced meeting was held


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
    members: list[EventArticle] = []
    alert: tuple[str, ...] = ()
    held: tuple[str, ...] = ()
    if event is None:
        if not policy.max_age or day >= today - policy.max_age:
            alert = policy.alert_channels
    else:
        members = [a for a in event.articles if a.id != article.id]
        if policy.tell_when_held and event.announced_only and not match.announcement:
            # only channels that were told of the announcement hear that it happened
            held = tuple(nearby.told.get(event.id, ()))
    members.append(member)  # last, as it was stored: a tie of kinds goes to the earlier
    first, last, exact = event_days(members)
    return Decision(
        topic=match.topic,
        participants=match.participants,
        event_id=event.id if event else None,
        article=member,
        first_day=first,
        last_day=last,
        exact=exact,
        kind=event_kind(members),
        alert=alert,
        held=held,
    )
