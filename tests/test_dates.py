"""monitor.dates against the case table in tests/data/dates.yaml, plus a few invariants."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.dates import DateMention, find_dates

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
