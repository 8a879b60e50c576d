"""Extraction quality and speed on Scrapinghub's article-extraction benchmark (181 real pages).

    .venv/bin/python bench/extraction.py [BENCHMARK_DIR]

Runs newsmon's ``extract_document`` and plain ``trafilatura.extract(html)`` (defaults) over
the same pages in one process and prints one row each. The score is the benchmark's own:
``\\w+`` tokens; each text a multiset of 4-token shingles (under 4 tokens: one shingle);
per page, TP/FP/FN from the multiset overlap, normalised to sum to 1; precision is the mean
over pages with output, recall the mean over pages with a non-empty truth, F1 the harmonic
mean of those two means. The data are not in the repository (see shared/bench/README.md).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from monitor.errors import ExtractError
from monitor.extract import extract_document

DEFAULT_DIR = Path("/work/shared/bench/article-extraction-benchmark")
_TOKEN = re.compile(r"\w+")
_SHINGLE = 4


@dataclass(frozen=True)
class BenchPage:
    url: str
    html: str
    truth: str


@dataclass(frozen=True)
class Row:
    name: str
    f1: float
    precision: float
    recall: float
    pages_per_second: float
    empty: int  # pages the extractor gave nothing for


def load(directory: Path) -> list[BenchPage]:
    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    return [
        BenchPage(
            url=item["url"],
            html=gzip.decompress((directory / "html" / f"{key}.html.gz").read_bytes()).decode(
                "utf-8"
            ),
            truth=item.get("articleBody") or "",
        )
        for key, item in sorted(truth.items())
    ]


def shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    if not tokens:
        return Counter()
    return Counter(
        tuple(tokens[i : i + _SHINGLE]) for i in range(max(1, len(tokens) - _SHINGLE + 1))
    )


def page_score(truth: str, predicted: str) -> tuple[float | None, float | None]:
    """(precision, recall) of one page; None where the benchmark leaves the page out."""
    want, got = shingles(truth), shingles(predicted)
    tp = sum((want & got).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    if fp == fn == 0:
        return (1.0 if tp else None), (1.0 if tp else None)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return precision, recall


def run(name: str, extractor: Callable[[BenchPage], str], pages: list[BenchPage]) -> Row:
    extractor(pages[0])  # warm-up: model and locale data load on first use
    started = time.perf_counter()
    outputs = [extractor(page) for page in pages]
    elapsed = time.perf_counter() - started
    scores = [page_score(page.truth, out) for page, out in zip(pages, outputs, strict=True)]
    precision = statistics.mean(p for p, _ in scores if p is not None)
    recall = statistics.mean(r for _, r in scores if r is not None)
    return Row(
        name=name,
        f1=2 * precision * recall / (precision + recall),
        precision=precision,
        recall=recall,
        pages_per_second=len(pages) / elapsed,
        empty=sum(1 for out in outputs if not out.strip()),
    )


def newsmon(page: BenchPage) -> str:
    try:
        return extract_document(page.html, page.url).text
    except ExtractError:
        return ""


def trafilatura_defaults(page: BenchPage) -> str:
    return trafilatura.extract(page.html) or ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    if not (args.directory / "ground-truth.json").is_file():
        parser.error(f"no ground-truth.json in {args.directory}")
    pages = load(args.directory)
    rows = [
        run("newsmon extract_document", newsmon, pages),
        run("trafilatura.extract(html) defaults", trafilatura_defaults, pages),
    ]
    print(f"{len(pages)} pages from {args.directory}\n")
    print("| extractor | F1 | P | R | pages/s | empty |")
    print("| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row.name} | {row.f1:.3f} | {row.precision:.3f} | {row.recall:.3f} "
            f"| {row.pages_per_second:.0f} | {row.empty} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
