"""Extraction quality and speed on Scrapinghub's article-extraction benchmark (181 real pages).

    .venv/bin/python bench/extraction.py [--quick] [--passes N] [--write] [BENCHMARK_DIR]

Scores newsmon's own extraction — ``extract_document`` on the page's bytes, as the crawler
calls it — beside plain ``trafilatura.extract(html)`` (defaults) in the same run. The score
is the benchmark's own: ``\\w+`` tokens; each text a multiset of 4-token shingles (under 4
tokens: one shingle); per page, TP/FP/FN from the multiset overlap; precision is the mean
over pages with output, recall the mean over pages with a non-empty truth, F1 the harmonic
mean of those two means.

Quality is reported for all pages and for a fixed split fixed before any tuning: pages in
sorted file-name order, every third (index 2, 5, 8…) held out, the rest for tuning.

Speed: the machine is shared and noisy, so the two extractors are interleaved page by
page (which goes first alternates), each pass timed per extractor, and the medians over
passes reported with the median of the per-pass speed ratios. ``--quick``: every fourth
page (both parts), one pass. The data are not in the repository (see shared/bench/README.md).
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from monitor.errors import ExtractError
from monitor.extract import extract_document

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, write_section

DEFAULT_DIR = Path("/work/shared/bench/article-extraction-benchmark")
_TOKEN = re.compile(r"\w+")
_SHINGLE = 4
_HELD_OUT_EVERY = 3  # every third page in sorted order is held out (never tuned on)
_WORST = 10


@dataclass(frozen=True)
class BenchPage:
    key: str  # the file name before ".html.gz"
    url: str
    raw: bytes  # what the crawler would hand over
    html: str  # the same, decoded (UTF-8, see SOURCE.txt), for trafilatura's own API
    truth: str
    held_out: bool


@dataclass(frozen=True)
class Score:
    precision: float | None  # None where the benchmark leaves the page out
    recall: float | None
    extracted: int  # shingles extracted / in the truth, to say what went wrong
    truth: int

    @property
    def f1(self) -> float:
        p, r = self.precision or 0.0, self.recall or 0.0
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Quality:
    f1: float
    precision: float
    recall: float
    empty: int  # pages the extractor gave nothing for


Extractor = Callable[[BenchPage], str]


def load(directory: Path) -> list[BenchPage]:
    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for index, (key, item) in enumerate(sorted(truth.items())):
        raw = gzip.decompress((directory / "html" / f"{key}.html.gz").read_bytes())
        pages.append(
            BenchPage(
                key=key,
                url=item["url"],
                raw=raw,
                html=raw.decode("utf-8"),
                truth=item.get("articleBody") or "",
                held_out=index % _HELD_OUT_EVERY == _HELD_OUT_EVERY - 1,
            )
        )
    return pages


def shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    if not tokens:
        return Counter()
    return Counter(
        tuple(tokens[i : i + _SHINGLE]) for i in range(max(1, len(tokens) - _SHINGLE + 1))
    )


def page_score(truth: str, predicted: str) -> Score:
    want, got = shingles(truth), shingles(predicted)
    tp = sum((want & got).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    extracted, wanted = sum(got.values()), sum(want.values())
    if fp == fn == 0:
        both = 1.0 if tp else None
        return Score(both, both, extracted, wanted)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return Score(precision, recall, extracted, wanted)


def quality(scores: Sequence[Score], outputs: Sequence[str]) -> Quality:
    precision = statistics.mean(s.precision for s in scores if s.precision is not None)
    recall = statistics.mean(s.recall for s in scores if s.recall is not None)
    return Quality(
        f1=2 * precision * recall / (precision + recall),
        precision=precision,
        recall=recall,
        empty=sum(1 for out in outputs if not out.strip()),
    )


def what_went_wrong(score: Score) -> str:
    if score.extracted == 0:
        return "nothing extracted"
    problems = []
    if score.recall is not None and score.recall < 0.95:
        problems.append(f"missed paragraphs ({1 - score.recall:.0%} of the body)")
    if score.precision is not None and score.precision < 0.95:
        problems.append(f"boilerplate kept ({1 - score.precision:.0%} of the output)")
    return "; ".join(problems) or "small differences"


def newsmon(page: BenchPage) -> str:
    try:
        return extract_document(page.raw, page.url).text
    except ExtractError:
        return ""


def trafilatura_defaults(page: BenchPage) -> str:
    return trafilatura.extract(page.html) or ""


def timed_passes(
    extractors: Sequence[Extractor], pages: Sequence[BenchPage], passes: int
) -> tuple[list[list[str]], list[list[float]]]:
    """Every extractor's outputs (first pass) and seconds per pass, interleaved page by page."""
    for extractor in extractors:
        extractor(pages[0])  # warm-up: models and locale data load on first use
    outputs: list[list[str]] = [[] for _ in extractors]
    seconds: list[list[float]] = [[] for _ in extractors]
    for number in range(passes):
        spent = [0.0] * len(extractors)
        for index, page in enumerate(pages):
            order = range(len(extractors))
            for which in order if (index + number) % 2 == 0 else reversed(order):
                started = time.perf_counter()
                out = extractors[which](page)
                spent[which] += time.perf_counter() - started
                if number == 0:
                    outputs[which].append(out)
        for which, value in enumerate(spent):
            seconds[which].append(value)
    return outputs, seconds


def report(pages: list[BenchPage], passes: int, command: str) -> str:
    names = ["newsmon `extract_document` (bytes)", "`trafilatura.extract(html)` defaults"]
    outputs, seconds = timed_passes([newsmon, trafilatura_defaults], pages, passes)
    scores = [
        [page_score(p.truth, out) for p, out in zip(pages, outs, strict=True)] for outs in outputs
    ]
    parts = [
        ("all", [True] * len(pages)),
        ("tuning", [not p.held_out for p in pages]),
        ("held-out", [p.held_out for p in pages]),
    ]
    lines = [
        f"### Article extraction (`{command}`)",
        "",
        f"{len(pages)} pages of Scrapinghub's article-extraction benchmark; {passes} "
        "interleaved pass(es). Held out: every third page in sorted file-name order.",
        f"Machine: {machine()}.",
        "",
        "| extractor | part | pages | F1 | P | R | empty |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, outs, page_scores in zip(names, outputs, scores, strict=True):
        for part, chosen in parts:
            picked = [s for s, keep in zip(page_scores, chosen, strict=True) if keep]
            picked_out = [o for o, keep in zip(outs, chosen, strict=True) if keep]
            q = quality(picked, picked_out)
            lines.append(
                f"| {name} | {part} | {len(picked)} | {q.f1:.3f} | {q.precision:.3f} "
                f"| {q.recall:.3f} | {q.empty} |"
            )
    speeds = [[len(pages) / s for s in per_pass] for per_pass in seconds]
    ratios = [n / t for n, t in zip(speeds[0], speeds[1], strict=True)]
    lines += [
        "",
        "| extractor | pages/s (median of passes) | per pass |",
        "| --- | --- | --- |",
    ]
    for name, per_pass in zip(names, speeds, strict=True):
        runs = ", ".join(f"{s:.0f}" for s in per_pass)
        lines.append(f"| {name} | {statistics.median(per_pass):.0f} | {runs} |")
    lines += [
        "",
        f"Speed ratio newsmon / trafilatura: **{statistics.median(ratios):.2f}** (median of "
        f"per-pass ratios: {', '.join(f'{r:.2f}' for r in ratios)}).",
        "",
        f"The {_WORST} worst pages for newsmon:",
        "",
        "| file id | part | F1 | what went wrong |",
        "| --- | --- | --- | --- |",
    ]
    worst = sorted(zip(pages, scores[0], strict=True), key=lambda ps: ps[1].f1)[:_WORST]
    for page, score in worst:
        part = "held-out" if page.held_out else "tuning"
        lines.append(f"| `{page.key[:12]}` | {part} | {score.f1:.3f} | {what_went_wrong(score)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--quick", action="store_true", help="every fourth page, one pass")
    parser.add_argument("--passes", type=int, default=5, help="timed passes (default 5)")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args(argv)
    if not (args.directory / "ground-truth.json").is_file():
        parser.error(f"no ground-truth.json in {args.directory}")
    pages = load(args.directory)
    passes = args.passes
    command = "python bench/extraction.py"
    if args.quick:
        pages, passes, command = pages[::4], 1, command + " --quick"
    markdown = report(pages, passes, command)
    print(markdown)
    if args.write:
        write_section("extraction", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
