"""Grouping matches into events, and telling copies of one story apart from new stories."""

from datetime import date

from monitor.cluster import EventSpan, event_days, event_kind, find_event, near_duplicate_of
from monitor.models import Match

PARTIES = ("Xi Jinping", "Vladimir Putin")


def match(day: date, kind: str = "in-person", from_text: bool = True, **extra: object) -> Match:
    fields = dict(
        topic="china-russia-summit",
        score=0.9,
        participants=PARTIES,
        kind=kind,
        date=day,
        date_from_text=from_text,
        announcement=False,
        evidence=(),
    )
    fields.update(extra)
    return Match(**fields)  # type: ignore[arg-type]


def span(event_id: int, first: date, last: date | None = None, exact: bool = True) -> EventSpan:
    return EventSpan(event_id, "china-russia-summit", PARTIES, first, last or first, exact)


def test_a_visit_spanning_days_is_one_event() -> None:
    moscow = span(1, date(2023, 3, 20), date(2023, 3, 21))
    assert find_event(match(date(2023, 3, 22)), [moscow]) == moscow


def test_the_same_leaders_weeks_later_is_a_new_event() -> None:
    moscow = span(1, date(2023, 3, 20), date(2023, 3, 21))
    assert find_event(match(date(2023, 4, 20)), [moscow]) is None


def test_the_nearest_event_wins() -> None:
    early, late = span(1, date(2024, 10, 1)), span(2, date(2024, 10, 8))
    assert find_event(match(date(2024, 10, 7)), [early, late]) == late


def test_an_inexact_date_reaches_further() -> None:
    announced = span(1, date(2023, 3, 24), exact=False)  # "next week"
    assert find_event(match(date(2023, 3, 20)), [announced]) == announced
    exact = span(2, date(2023, 3, 27))
    assert find_event(match(date(2023, 3, 20)), [exact]) is None


def test_other_participants_or_topic_are_other_events() -> None:
    other = EventSpan(
        1,
        "india-china-border",
        ("Narendra Modi", "Xi Jinping"),
        date(2024, 10, 23),
        date(2024, 10, 23),
        True,
    )
    assert find_event(match(date(2024, 10, 23)), [other]) is None


def test_event_days_and_kind_follow_the_reports() -> None:
    matches = [
        match(date(2023, 3, 20), announcement=True, kind="in-person"),
        match(date(2023, 3, 21)),
        match(date(2023, 3, 25), from_text=False, kind="video"),  # article date only
    ]
    assert event_days(matches) == (date(2023, 3, 20), date(2023, 3, 21), True)
    assert event_kind(matches) == "in-person"


WIRE = (
    "Chinese President Xi Jinping and Russian President Vladimir Putin held a video call on "
    "Tuesday and pledged to deepen their partnership, according to the Kremlin, which said "
    "the two leaders discussed energy, trade and the situation in Ukraine at length."
)


def test_syndicated_copy_is_a_near_duplicate() -> None:
    copy = "UPDATE 1 - " + WIRE.replace("at length", "in detail") + " (Reporting by staff)"
    other_story = (
        "Xi and Putin spoke by video on Tuesday; Beijing's readout stressed multilateralism "
        "while Moscow highlighted gas supplies through the Power of Siberia pipeline."
    )
    assert near_duplicate_of(copy, [("a1", WIRE)]) == "a1"
    assert near_duplicate_of(other_story, [("a1", WIRE)]) is None


def test_chinese_copies_are_compared_by_characters() -> None:
    text = (
        "国家主席习近平同俄罗斯总统普京举行视频会晤。"
        "两国元首就双边关系和共同关心的国际问题交换意见。"
    )
    assert near_duplicate_of("新华社北京电 " + text, [("z1", text)]) == "z1"


def test_an_undated_announcement_is_met_by_its_reports_weeks_later() -> None:
    announced = EventSpan(
        1,
        "china-russia-summit",
        PARTIES,
        date(2024, 4, 20),
        date(2024, 4, 20),
        exact=False,
        announced_only=True,
    )
    assert find_event(match(date(2024, 5, 16)), [announced]) == announced
    reported = EventSpan(
        2, "china-russia-summit", PARTIES, date(2024, 4, 20), date(2024, 4, 20), exact=False
    )
    assert find_event(match(date(2024, 5, 16)), [reported]) is None
