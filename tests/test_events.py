"""The event stage: grouping matches into events, telling copies of one story apart from
new stories, and deciding whom to tell — with plain values, no database."""

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from monitor.events import (
    NEAR_DUPLICATE,
    EventSummary,
    Nearby,
    Policy,
    Tally,
    decide,
    find_event,
    lsh_bands,
    near_duplicate_of,
    shingles,
    similarity,
)
from monitor.models import EventArticle, Match, StoredArticle
from tests.conftest import event_article

PARTIES = ("Xi Jinping", "Vladimir Putin")
TOPIC = "china-russia-summit"


def match(
    day: date | None, kind: str = "in-person", from_text: bool = True, **extra: object
) -> Match:
    fields = dict(
        topic=TOPIC,
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


def member(
    day: date, announcement: bool = False, from_text: bool = True, **extra: object
) -> EventArticle:
    found = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    fields: dict[str, object] = dict(
        id=f"a{day.isoformat()}",
        url=f"https://wire.example/{day.isoformat()}",
        day_from_text=from_text,
        announcement=announcement,
    )
    fields.update(extra)
    return event_article(found, **fields)


def tally(articles: list[EventArticle]) -> Tally:
    """The tally of ``articles``, filed in that order."""
    first, *rest = articles
    assert first.day
    counted = Tally.start(first, first.day)
    for article in rest:
        assert article.day
        counted = counted.add(article, article.day)
    return counted


def span(
    event_id: int,
    first: date,
    last: date | None = None,
    exact: bool = True,
    announced_only: bool = False,
    topic: str = TOPIC,
    participants: tuple[str, ...] = PARTIES,
    articles: list[EventArticle] | None = None,
) -> EventSummary:
    articles = articles or [member(first, announcement=announced_only, from_text=exact)]
    return EventSummary(
        id=event_id,
        topic=topic,
        participants=participants,
        first_day=first,
        last_day=last or first,
        exact=exact,
        tally=tally(articles),
    )


def article(
    text: str = "", found: datetime = datetime(2024, 5, 16, 8, tzinfo=UTC)
) -> StoredArticle:
    return StoredArticle(
        id="new",
        source="agency",
        url="https://agency.example/new",
        title="Xi, Putin talk",
        language="en",
        published=None,
        first_seen=found,
        text=text,
    )


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
    other = span(1, date(2024, 10, 23), topic="india-china-border")
    others = span(2, date(2024, 10, 23), participants=("Narendra Modi", "Xi Jinping"))
    assert find_event(match(date(2024, 10, 23)), [other, others]) is None


def test_event_days_and_kind_follow_the_reports() -> None:
    articles = [
        member(date(2023, 3, 20), announcement=True, kind="in-person"),
        member(date(2023, 3, 21)),
        member(date(2023, 3, 25), from_text=False, kind="video"),  # article date only
    ]
    counted = tally(articles)
    assert (counted.first_day, counted.last_day, counted.exact) == (
        date(2023, 3, 20),
        date(2023, 3, 21),
        True,
    )
    assert counted.kind == "in-person"


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
    announced = span(1, date(2024, 4, 20), exact=False, announced_only=True)
    assert find_event(match(date(2024, 5, 16)), [announced]) == announced
    reported = span(2, date(2024, 4, 20), exact=False)
    assert find_event(match(date(2024, 5, 16)), [reported]) is None


ALERT = Policy(alert_channels=("mail", "chat"), max_age=timedelta(days=14), tell_when_held=True)
TODAY = date(2024, 5, 16)


def test_a_new_meeting_is_a_new_event_alerted_on_every_channel() -> None:
    decision = decide(match(TODAY), article(), Nearby(checked=False), TODAY, ALERT)
    assert decision.event_id is None and decision.alert == ("mail", "chat")
    assert (decision.first_day, decision.last_day, decision.exact) == (TODAY, TODAY, True)


def test_a_meeting_long_past_is_stored_but_not_alerted() -> None:
    old = TODAY - timedelta(days=30)
    decision = decide(match(old), article(), Nearby(checked=False), TODAY, ALERT)
    assert decision.event_id is None and decision.alert == ()
    assert decide(match(old), article(), Nearby(checked=False), TODAY, Policy(("mail",))).alert


def test_an_undated_match_is_filed_under_the_day_it_was_found() -> None:
    found = datetime(2024, 5, 14, 23, tzinfo=UTC)
    decision = decide(match(None), article(found=found), Nearby(checked=False), TODAY, ALERT)
    assert decision.article.day == date(2024, 5, 14) == decision.first_day


def test_a_report_joins_its_event_and_widens_it_without_a_new_alert() -> None:
    visit = span(7, date(2024, 5, 16))
    later = decide(match(date(2024, 5, 17)), article(), Nearby(False, (visit,)), TODAY, ALERT)
    assert later.event_id == 7 and later.alert == () and later.held == ()
    assert (later.first_day, later.last_day) == (date(2024, 5, 16), date(2024, 5, 17))


def test_the_first_report_of_an_announced_meeting_tells_those_told_of_it() -> None:
    announced = span(3, date(2024, 5, 16), announced_only=True)
    nearby = Nearby(False, (announced,), told={3: ("mail",)})
    held = decide(match(TODAY), article(), nearby, TODAY, ALERT)
    assert held.event_id == 3 and held.held == ("mail",)
    again = decide(match(TODAY, announcement=True), article(), nearby, TODAY, ALERT)
    assert again.held == ()  # another announcement tells nothing new
    quiet = decide(match(TODAY), article(), nearby, TODAY, replace(ALERT, tell_when_held=False))
    assert quiet.held == ()


def test_a_copy_of_an_event_article_is_marked_as_its_near_duplicate() -> None:
    call = span(5, TODAY)
    nearby = Nearby(False, (call,), texts={5: [("a1", WIRE)]})
    copy = decide(match(TODAY), article("UPDATE 1 - " + WIRE), nearby, TODAY, ALERT)
    assert copy.event_id == 5 and copy.article.near_duplicate_of == "a1"


def test_the_kind_is_what_most_reports_say() -> None:
    visit = span(2, TODAY, articles=[member(TODAY, kind="video")])
    decision = decide(
        match(TODAY, kind="in-person", score=0.95), article(), Nearby(False, (visit,)), TODAY, ALERT
    )
    assert decision.kind == "in-person"


def test_lsh_bands_name_every_copy_past_the_threshold_and_few_others() -> None:
    rng = random.Random(8)
    words = [f"w{n}" for n in range(2_000)]
    copies = distinct = 0
    for _ in range(300):
        text = rng.choices(words, k=rng.randint(40, 200))
        other = list(text)
        for _ in range(rng.randint(0, len(text) // 4)):
            other[rng.randrange(len(other))] = rng.choice(words)
        a, b = " ".join(text), " ".join(other)
        shared = set(lsh_bands(a)) & set(lsh_bands(b))
        if similarity(shingles(a), shingles(b)) >= NEAR_DUPLICATE:
            copies += 1
            assert shared, (a, b)
        distinct += bool(set(lsh_bands(a)) & set(lsh_bands(" ".join(rng.choices(words, k=100)))))
    assert copies > 50 and distinct == 0


def test_a_tie_of_kinds_goes_to_the_one_reported_first() -> None:
    video, visit = member(TODAY, kind="video"), member(TODAY, kind="in-person")
    assert tally([video, visit]).kind == "video" and tally([visit, video]).kind == "in-person"
    unknown = member(TODAY, kind="unknown")
    assert tally([unknown, visit]).kind == "in-person"  # "unknown" loses a tie
