"""Matcher quality and throughput on the labelled corpora (tests/data/).

    python bench/matcher.py [--repeat N]

First the quality per corpus and language (precision, recall, F1; the meeting's date and
kind on true positives) for each built-in topic, then the speed: every corpus article
(positives and hard negatives, four languages) matched N times, and the fast path alone,
on ordinary news naming neither party.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import yaml

from monitor.extract import extract_document, extract_text
from monitor.matcher import match_article
from monitor.topic import CompiledTopic, load_topics

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CORPORA = [DATA / "corpus", DATA / "heldout", DATA / "heldout2"]
# Excerpts as outlets publish them (issue 13): many have no dateline, and the date the page
# or feed would carry is the label's `published`, passed as a crawled article's would be.
# The held-out part is scored here and never tuned on.
EXCERPTS = [DATA / "outlets", DATA / "outlets-heldout"]
# The second topic, defined only in YAML, on its own excerpts (tuning and held-out).
INDIA = [DATA / "outlets-india", DATA / "outlets-india-heldout"]

ORDINARY = (
    "City council approves new budget\n\nThe council voted on Tuesday to approve a budget "
    "that raises spending on schools and roads. Opposition members said the plan relied on "
    "optimistic revenue forecasts. The mayor called the vote a victory for residents. "
) * 1


def quality(topic: CompiledTopic, corpora: list[Path], excerpts: list[Path]) -> None:
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    labels = [
        (corpus / label["file"], label, corpus in excerpts)
        for corpus in corpora + excerpts
        for label in yaml.safe_load((corpus / "labels.yaml").read_text(encoding="utf-8"))
    ]
    for path, label, excerpt in labels:
        if path.suffix == ".html":
            doc = extract_document(path.read_bytes())
        else:
            doc = extract_text(path.read_text(encoding="utf-8"))
        published = doc.published.date() if doc.published else None
        if excerpt:
            published = published or label["published"]
        found = match_article(doc.title, doc.text, published, topic)
        total = "all excerpts" if excerpt else "all"
        for row in (f"{path.parents[1].name}/{path.parent.name}", total):
            counts = table[row]
            if label["match"] and found:
                counts["tp"] += 1
                counts["date"] += found.date == label["date"]
                counts["kind"] += found.kind == label["kind"]
            counts["fp"] += bool(not label["match"] and found)
            counts["fn"] += bool(label["match"] and not found)
            counts["n"] += 1
    print(f"{topic.name}\ncorpus/lang     articles  precision  recall     F1  date ok  kind ok")
    for row, c in table.items():
        p = c["tp"] / max(1, c["tp"] + c["fp"])
        r = c["tp"] / max(1, c["tp"] + c["fn"])
        f1 = 2 * p * r / max(1e-9, p + r)
        print(
            f"{row:<15} {c['n']:>8} {p:>10.3f} {r:>7.3f} {f1:>6.3f} "
            f"{c['date'] / max(1, c['tp']):>8.0%} {c['kind'] / max(1, c['tp']):>8.0%}"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    topic, india = load_topics(["china-russia-summit", "india-russia-summit"])
    quality(topic, CORPORA, EXCERPTS)
    quality(india, [], INDIA)
    docs = [
        extract_text(p.read_text(encoding="utf-8"))
        for corpus in CORPORA
        for p in sorted(corpus.rglob("*.txt"))
    ]
    inputs = [(d.title, d.text, d.published.date() if d.published else None) for d in docs]
    ordinary = extract_text(ORDINARY)
    for label, batch in (
        ("labelled corpus (mostly on-topic)", inputs),
        ("ordinary news (fast path)", [(ordinary.title, ordinary.text, None)] * len(inputs)),
    ):
        start = time.perf_counter()
        for _ in range(args.repeat):
            for title, text, published in batch:
                match_article(title, text, published, topic)
        elapsed = time.perf_counter() - start
        count = args.repeat * len(batch)
        print(f"{label:<36} {count:>7} articles  {count / elapsed:>9.0f} articles/s")


if __name__ == "__main__":
    main()
