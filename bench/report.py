"""Shared by the bench scripts: the machine a figure was measured on, and writing a
script's section of BENCHMARKS.md.

Each script prints its section (Markdown) and, with ``--write``, replaces its own part of
BENCHMARKS.md, between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` (appended at
the end the first time), so `make bench` regenerates every figure in one run.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
LIBRARIES = ("scrapy", "trafilatura", "sqlite-utils", "apprise", "pyahocorasick", "datasketch")


def machine() -> str:
    """One line: when, where, with what."""
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load {load:.1f}, "
        f"Python {platform.python_version()}, {', '.join(versions)}"
    )


def median_seconds(run: Callable[[], object], repeat: int) -> float:
    """The median wall time of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the script's own section of BENCHMARKS.md."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else ""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text, encoding="utf-8")
