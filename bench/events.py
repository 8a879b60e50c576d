"""The event stage's cost as one event and the archive grow (issue 8).

    python bench/events.py [--quick] [--write]

Everything goes through the real path, ``runner.file_match`` on a SQLite file: one event
(a summit day) grows to 100 … 5,000 matched articles — distinct reports plus wire copies —
and at each size the median time to attach one more distinct report and one more
near-duplicate copy is measured. Then archives of 1k / 10k / 100k matched articles
(``--quick``: 1k / 10k), in events of a few dozen across the years, and the median time to
file one new article. Articles are stored before the clock starts: only filing is timed.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from report import machine, write_section

from monitor.events import Policy
from monitor.extract import content_hash
from monitor.models import Article, Match, StoredArticle, article_id
from monitor.runner import file_match
from monitor.store import Storage

TOPIC = "china-russia-summit"
PARTIES = ("Vladimir Putin", "Xi Jinping")
SUMMIT = date(2024, 5, 16)
SIZES = (100, 200, 1_000, 3_000, 5_000)
ARCHIVES = (1_000, 10_000, 100_000)
REPEAT = 9  # attaches measured at each size, per kind of article
WIRE_STORIES = 20
COPY_SHARE = 0.1  # of the articles growing the event, copies of a wire story

# Phrases every report of a summit repeats: distinct reports share some word 5-grams.
COMMON = [
    "Chinese President Xi Jinping and Russian President Vladimir Putin held talks in Beijing",
    "the two leaders signed a joint statement on deepening their comprehensive partnership",
    "according to a readout published by the Kremlin after the meeting",
    "Putin said relations between Moscow and Beijing were at their best level in history",
    "Xi told his Russian counterpart that China was ready to work with Russia",
    "the talks covered energy, trade, the Power of Siberia 2 pipeline and the war in Ukraine",
    "Western governments have watched the growing ties between the two countries with concern",
]


class Texts:
    """Synthetic news texts: Zipf-distributed words in sentences, a few common phrases."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words = [f"w{n}" for n in range(20_000)]
        self.cumulative = list(itertools.accumulate(1 / rank for rank in range(1, 20_001)))

    def sentence(self) -> str:
        size = self.rng.randint(12, 28)
        return " ".join(self.rng.choices(self.words, cum_weights=self.cumulative, k=size)) + "."

    def report(self) -> str:
        """A distinct report of 300-500 words, quoting two or three common phrases."""
        parts = [self.sentence() for _ in range(self.rng.randint(14, 22))]
        for phrase in self.rng.sample(COMMON, self.rng.randint(2, 3)):
            parts.insert(self.rng.randrange(len(parts)), phrase + ".")
        return " ".join(parts)

    def copy_of(self, story: str) -> str:
        """A syndicated copy: a slug in front, a credit behind, a few words changed."""
        words = story.split()
        for _ in range(self.rng.randint(0, 4)):
            words[self.rng.randrange(len(words))] = self.rng.choice(self.words)
        return f"UPDATE {self.rng.randint(1, 3)} - " + " ".join(words) + " (Reporting by staff)"


class Filing:
    """One database, and the articles filed into it through ``runner.file_match``."""

    def __init__(self, path: Path, texts: Texts) -> None:
        self.storage = Storage(path)
        self.texts = texts
        self.count = 0
        self.wire: list[str] = []

    def store(self, text: str, day: date) -> StoredArticle:
        self.count += 1
        url = f"https://site{self.count % 300}.example/news/{self.count}"
        found = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=8)
        self.storage.save_article(
            Article(
                id=article_id(url),
                source=f"site{self.count % 300}",
                url=url,
                canonical_url=url,
                title=f"Xi and Putin meet ({self.count})",
                text=text,
                language="en",
                published=found,
                author=None,
                content_hash=content_hash(text),
            )
        )
        stored = self.storage.article(article_id(url))
        assert stored is not None
        return stored

    def file(self, stored: StoredArticle, day: date) -> float:
        """Seconds to file one stored article as a match of ``day``'s meeting."""
        found = Match(
            topic=TOPIC,
            score=round(self.texts.rng.uniform(0.6, 1.0), 2),
            participants=PARTIES,
            kind=self.texts.rng.choice(("in-person", "in-person", "video")),
            date=day,
            date_from_text=True,
            announcement=False,
            evidence=("Xi Jinping", "Putin"),
        )
        start = time.perf_counter()
        filed = file_match(self.storage, stored, found, Policy(), SUMMIT)
        elapsed = time.perf_counter() - start
        assert filed is not None
        return elapsed

    def text(self) -> str:
        """The next text growing an event: mostly distinct reports, some wire copies."""
        if len(self.wire) < WIRE_STORIES:
            self.wire.append(self.texts.report())
            return self.wire[-1]
        if self.texts.rng.random() < COPY_SHARE:
            return self.texts.copy_of(self.texts.rng.choice(self.wire))
        return self.texts.report()

    def grow(self, day: date, articles: int) -> None:
        """Add ``articles`` to the event of ``day`` (stored in one transaction, then filed)."""
        with self.storage.write():
            batch = [self.store(self.text(), day) for _ in range(articles)]
        for stored in batch:
            self.file(stored, day)

    def attach(self, day: date, copy: bool) -> float:
        text = self.texts.copy_of(self.texts.rng.choice(self.wire)) if copy else self.texts.report()
        return self.file(self.store(text, day), day)


def growing_event(folder: Path) -> list[tuple[int, float, float]]:
    """(size, median seconds to attach a distinct report, … a copy) as one event grows."""
    filing = Filing(folder / "event.db", Texts(1))
    rows = []
    size = 0
    for target in SIZES:
        filing.grow(SUMMIT, target - size)
        distinct = statistics.median(filing.attach(SUMMIT, copy=False) for _ in range(REPEAT))
        copies = statistics.median(filing.attach(SUMMIT, copy=True) for _ in range(REPEAT))
        size = target + 2 * REPEAT
        rows.append((target, distinct, copies))
        print(f"  event of {target:>5}: {distinct * 1e3:7.2f} ms, copy {copies * 1e3:7.2f} ms")
    filing.storage.close()
    return rows


def meeting_days(count: int) -> Iterator[date]:
    """Meeting days going back from the summit, one every 9 days (events stay apart)."""
    for n in range(count, 0, -1):
        yield SUMMIT - timedelta(days=9 * n)


def archive(folder: Path, size: int) -> float:
    """Median seconds to file a new article once ``size`` matched articles are stored."""
    filing = Filing(folder / f"archive-{size}.db", Texts(2))
    per_event = 25
    for day in meeting_days(size // per_event):
        filing.wire = []  # each event its own wire stories
        filing.grow(day, per_event)
    filing.wire = []
    filing.grow(SUMMIT, WIRE_STORIES)
    seconds = statistics.median(filing.attach(SUMMIT, copy=False) for _ in range(3 * REPEAT))
    filing.storage.close()
    print(f"  archive of {size:>7}: {seconds * 1e3:7.2f} ms per new article")
    return seconds


def table(event: list[tuple[int, float, float]], archives: list[tuple[int, float]]) -> str:
    base_distinct, base_copy = event[0][1], event[0][2]
    lines = [
        "## The event stage in bounded time (issue 8)",
        "",
        f"`python bench/events.py{' --quick' if len(archives) < len(ARCHIVES) else ''}` — "
        f"{machine()}",
        "",
        "Median time to attach one more article to one event, through `runner.file_match` on",
        "a SQLite file (ratio: to the event of 100; target ≤ 2× at 3,000 and 5,000):",
        "",
        "| event size | distinct report | ratio | near-duplicate copy | ratio |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, distinct, copy in event:
        lines.append(
            f"| {size:,} | {distinct * 1e3:.2f} ms | {distinct / base_distinct:.2f}× "
            f"| {copy * 1e3:.2f} ms | {copy / base_copy:.2f}× |"
        )
    lines += [
        "",
        "Median time to file one new article as the archive grows (matched articles in events",
        "of 25; ratio: to 1k; target ≤ 1.5× at 100k):",
        "",
        "| archive | per new article | ratio |",
        "| ---: | ---: | ---: |",
    ]
    for size, seconds in archives:
        lines.append(f"| {size:,} | {seconds * 1e3:.2f} ms | {seconds / archives[0][1]:.2f}× |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="archives of 1k and 10k only")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print("one event growing")
        event = growing_event(Path(folder))
        print("the archive growing")
        sizes = ARCHIVES[:2] if args.quick else ARCHIVES
        archives = [(size, archive(Path(folder), size)) for size in sizes]
    markdown = table(event, archives)
    print(markdown)
    if args.write:
        write_section("events", markdown)


if __name__ == "__main__":
    main()
