"""The matcher on excerpts written the way real outlets write (issue 13): five scripts and
usages (traditional Chinese included), five eras of heads of state, half hard negatives.

Only the tuning part (`tests/data/outlets`) is asserted here; the held-out part is scored by
`bench/matcher.py` and never tuned on. An excerpt without a dateline gets the date its page
or feed would give it (the label's `published`), as a crawled article does.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from monitor.extract import extract_text
from monitor.matcher import match_article
from monitor.models import Match
from monitor.topic import CompiledTopic, load_topics

CORPUS = Path(__file__).parent / "data" / "outlets"
LABELS = yaml.safe_load((CORPUS / "labels.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def found() -> dict[str, Match | None]:
    topic: CompiledTopic = load_topics(["china-russia-summit"])[0]
    results = {}
    for label in LABELS:
        doc = extract_text((CORPUS / label["file"]).read_text(encoding="utf-8"))
        published = doc.published.date() if doc.published else label["published"]
        results[label["file"]] = match_article(doc.title, doc.text, published, topic)
    return results


def test_the_corpus_covers_every_script_half_negatives() -> None:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for label in LABELS:
        counts[label["file"].split("/")[0]][0 if label["match"] else 1] += 1
    assert set(counts) == {"en", "ru", "zh", "zh-hant", "id"}
    assert all(pos >= 9 and neg >= 9 for pos, neg in counts.values()), dict(counts)


@pytest.mark.parametrize("language", ["en", "ru", "zh", "zh-hant", "id"])
def test_precision_recall_date_and_kind_per_language(
    found: dict[str, Match | None], language: str
) -> None:
    mine = [label for label in LABELS if label["file"].startswith(f"{language}/")]
    tp = [label for label in mine if label["match"] and found[label["file"]]]
    fp = [label["file"] for label in mine if not label["match"] and found[label["file"]]]
    fn = [label["file"] for label in mine if label["match"] and not found[label["file"]]]
    precision = len(tp) / max(1, len(tp) + len(fp))
    recall = len(tp) / max(1, len(tp) + len(fn))
    assert precision >= 0.95 and recall >= 0.95, (fp, fn)
    dates = [label for label in tp if found[label["file"]].date == label["date"]]  # type: ignore[union-attr]
    kinds = [label for label in tp if found[label["file"]].kind == label["kind"]]  # type: ignore[union-attr]
    assert len(dates) >= 0.9 * len(tp) and len(kinds) >= 0.9 * len(tp)


def test_participants_are_the_heads_of_state_of_the_day(found: dict[str, Match | None]) -> None:
    wrong = [
        (label["file"], found[label["file"]].participants, label["participants"])  # type: ignore[union-attr]
        for label in LABELS
        if label["match"]
        and found[label["file"]]
        and "participants" in label
        and set(found[label["file"]].participants) != set(label["participants"])  # type: ignore[union-attr]
    ]
    assert not wrong, wrong
