"""monitor.dates against the case table in tests/data/dates.yaml, plus a few invariants."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.dates import DateMention, find_dateline, find_dates, that_day, written_days

CASES: dict[str, dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "dates.yaml").read_text(encoding="utf-8")
)


def seen(mention: DateMention, sentence: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``mention`` that a case checks, in the case's own terms."""
    values = {
        "day": mention.day,
        "kind": mention.kind,
        "text": sentence[mention.start : mention.end],
        "end_day": mention.end_day,
        "has_year": mention.has_year,
    }
    return {key: values[key] for key in fields}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_case(case: dict[str, Any]) -> None:
    sentence, expect = case["sentence"], case["expect"]
    mentions = find_dates(sentence, case["ref"])
    assert len(mentions) == len(expect), [sentence[m.start : m.end] for m in mentions]
    assert [seen(m, sentence, want) for m, want in zip(mentions, expect, strict=True)] == expect


def test_table_covers_every_language() -> None:
    prefixes = {name.split("_")[0] for name in CASES}
    assert prefixes == {"en", "ru", "zh", "id"}
    assert len(CASES) >= 60
    assert sum(1 for case in CASES.values() if not case["expect"]) >= 8  # negatives


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_mentions_are_ordered_and_disjoint(case: dict[str, Any]) -> None:
    sentence = case["sentence"]
    mentions = find_dates(sentence, case["ref"])
    ends = [0] + [m.end for m in mentions]
    for previous_end, mention in zip(ends, mentions, strict=False):
        assert previous_end <= mention.start < mention.end <= len(sentence)
        assert (
            sentence[mention.start : mention.end].strip() == sentence[mention.start : mention.end]
        )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_written_days_are_the_dated_mentions_without_a_reference(case: dict[str, Any]) -> None:
    sentence = case["sentence"]
    days = [m.day for m in find_dates(sentence, None) if m.has_year]
    assert written_days(sentence) == days


@pytest.mark.parametrize(
    "name", ["Monday", "Wednesday", "Friday", "Sunday", "в пятницу", "Sabtu", "周四", "星期日"]
)
def test_bare_weekday_is_within_three_days(name: str) -> None:
    for offset in range(7):
        reference = date(2023, 1, 2) + timedelta(days=offset)
        (mention,) = find_dates(f"They met {name}.", reference)
        assert abs((mention.day - reference).days) <= 3
        assert find_dates(f"They met {name}.", mention.day)[0].day == mention.day


def test_reference_may_be_a_datetime() -> None:
    (mention,) = find_dates("Talks resume tomorrow.", datetime(2022, 12, 31, 23, 30))
    assert mention.day == date(2023, 1, 1)


def test_capitals_do_not_matter_except_for_verbs() -> None:
    reference = date(2023, 1, 2)
    assert [m.day for m in find_dates("TALKS ON FRIDAY, MAY 5", reference)] == [date(2023, 5, 5)]
    assert find_dates("prices may 5 times exceed", reference) == []


DATELINES = {
    "xinhua_month_day": ("新华社莫斯科7月16日电 国家主席江泽民今天同普京会谈。", date(2001, 7, 16)),
    "cna_day_only": ("（中央社台北4日电）中国国家主席习近平下午与普丁视讯会晤。", date(2026, 2, 4)),
    "paper_full_date": ("本报北京2022年12月30日电", date(2022, 12, 30)),
    "no_dateline": ("国家主席习近平16日同普京会谈。", None),
    "a_date_later_in_the_lead": ("据新华社报道，两国元首16日电话交谈。", None),
    "a_phone_call_on_a_day": ("两国元首16日电话交谈。", None),
}


@pytest.mark.parametrize(("text", "day"), DATELINES.values(), ids=DATELINES.keys())
def test_a_chinese_dateline_tells_the_day_a_story_was_filed(text: str, day: date | None) -> None:
    assert find_dateline(text, date(2026, 2, 5) if day is None else day + timedelta(days=1)) == day


def test_that_day_is_the_day_the_sentence_before_names() -> None:
    before, sentence = "金砖峰会22日至24日在喀山举行。", "习近平抵达喀山当天便同普京举行会晤。"
    (mention,) = that_day(sentence, before, date(2024, 10, 23))
    assert (mention.day, mention.end_day, mention.kind) == (date(2024, 10, 22), None, "explicit")
    assert sentence[mention.start : mention.end] == "当天"
    assert that_day("两国元首举行会晤。", before, date(2024, 10, 23)) == []
    assert that_day("当天两国元首举行会晤。", "峰会在喀山举行。", date(2024, 10, 23)) == []
