"""The matcher on excerpts written the way real outlets write (issue 13), for each built-in
topic: China–Russia in five scripts and usages (traditional Chinese included) and five eras
of heads of state; India–Russia (a topic defined only in YAML) in wire and Indian English,
Russian and Chinese, over four eras. Half of each are hard negatives.

Only the tuning parts are asserted here; the held-out parts are scored by
`bench/matcher.py` and never tuned on. An excerpt without a dateline gets the date its page
or feed would give it (the label's `published`), as a crawled article does.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.extract import extract_text
from monitor.matcher import match_article
from monitor.models import Match
from monitor.topic import load_topics

DATA = Path(__file__).parent / "data"
CORPORA = {
    "outlets": ("china-russia-summit", {"en", "ru", "zh", "zh-hant", "id"}),
    "outlets-india": ("india-russia-summit", {"en", "en-in", "ru", "zh"}),
}


def labels(corpus: str) -> list[dict[str, Any]]:
    return yaml.safe_load((DATA / corpus / "labels.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def found() -> dict[str, Match | None]:
    results = {}
    for corpus, (name, _) in CORPORA.items():
        topic = load_topics([name])[0]
        for label in labels(corpus):
            doc = extract_text((DATA / corpus / label["file"]).read_text(encoding="utf-8"))
            published = doc.published.date() if doc.published else label["published"]
            results[f"{corpus}/{label['file']}"] = match_article(
                doc.title, doc.text, published, topic
            )
    return results


@pytest.mark.parametrize("corpus", CORPORA)
def test_the_corpus_covers_every_language_half_negatives(corpus: str) -> None:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for label in labels(corpus):
        counts[label["file"].split("/")[0]][0 if label["match"] else 1] += 1
    assert set(counts) == CORPORA[corpus][1]
    assert all(pos >= 8 and neg >= 8 for pos, neg in counts.values()), dict(counts)


CASES = [(corpus, language) for corpus, (_, languages) in CORPORA.items() for language in languages]


@pytest.mark.parametrize(("corpus", "language"), sorted(CASES))
def test_precision_recall_date_and_kind_per_language(
    found: dict[str, Match | None], corpus: str, language: str
) -> None:
    mine = [
        (f"{corpus}/{label['file']}", label)
        for label in labels(corpus)
        if label["file"].startswith(f"{language}/")
    ]
    tp = [(key, label) for key, label in mine if label["match"] and found[key]]
    fp = [key for key, label in mine if not label["match"] and found[key]]
    fn = [key for key, label in mine if label["match"] and not found[key]]
    precision = len(tp) / max(1, len(tp) + len(fp))
    recall = len(tp) / max(1, len(tp) + len(fn))
    assert precision >= 0.95 and recall >= 0.95, (fp, fn)
    dates = [key for key, label in tp if found[key].date == label["date"]]  # type: ignore[union-attr]
    kinds = [key for key, label in tp if found[key].kind == label["kind"]]  # type: ignore[union-attr]
    assert len(dates) >= 0.9 * len(tp) and len(kinds) >= 0.9 * len(tp)


@pytest.mark.parametrize("corpus", CORPORA)
def test_participants_are_the_heads_of_the_day(found: dict[str, Match | None], corpus: str) -> None:
    wrong = []
    for label in labels(corpus):
        match = found[f"{corpus}/{label['file']}"]
        if label["match"] and match and set(match.participants) != set(label["participants"]):
            wrong.append((label["file"], match.participants, label["participants"]))
    assert not wrong, wrong
