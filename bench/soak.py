"""Soak: the daemon runs many short cycles against the local replicas; are its memory,
open files, threads and child processes flat?

    python bench/soak.py [--runs 500] [--every 1s] [--quick] [--write]

Starts the bundled replica sites, runs `newsmon run` with every source on a short
interval, samples the daemon's resident memory (VmRSS), open file descriptors, threads and
child processes once the first cycle is done and then as the crawl runs (one source each)
accumulate, then stops the daemon with SIGTERM and reports how long the stop took.
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from monitor.demo.replicas import ReplicaSites

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, write_section

ROOT = Path(__file__).resolve().parent.parent


def status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key}")


def children(pid: int) -> int:
    tasks = Path(f"/proc/{pid}/task")
    return sum(len((t / "children").read_text().split()) for t in tasks.iterdir())


def sample(pid: int) -> tuple[float, int, int, int]:
    """(RSS MiB, open files, threads, child processes) of the daemon now."""
    files = len(list(Path(f"/proc/{pid}/fd").iterdir()))
    return status(pid, "VmRSS") / 1024, files, status(pid, "Threads"), children(pid)


def cycles(database: Path) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name='crawl_runs'").fetchone():
            return 0
        return int(conn.execute("SELECT count(*) FROM crawl_runs").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=500, help="crawl runs to soak through")
    parser.add_argument("--every", default="1s")
    parser.add_argument("--quick", action="store_true", help="60 runs")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    runs = 60 if args.quick else args.runs
    work = Path(tempfile.mkdtemp(prefix="newsmon-soak-"))
    with ReplicaSites() as sites:
        config = yaml.safe_load(sites.config_yaml(str(work / "newsmon.db")))
        for source in config["sources"]:
            source["every"] = args.every
        config["schedule"] = {"deliver_every": "1s"}
        (work / "config.yaml").write_text(yaml.safe_dump(config))
        log = (work / "daemon.log").open("wb")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(work / "config.yaml"), "run"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        database = work / "newsmon.db"
        while cycles(database) < len(sites.names):  # the first full cycle (fetch everything)
            time.sleep(0.5)
        first, started = sample(daemon.pid), time.monotonic()
        points = [(cycles(database), first)]
        while points[-1][0] < runs:
            time.sleep(2)
            points.append((cycles(database), sample(daemon.pid)))
        seconds = time.monotonic() - started
        stop_started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=60)
        stop_seconds = time.monotonic() - stop_started
    last = points[-1][1]
    peak = [max(p[1][i] for p in points) for i in range(4)]
    rows = "\n".join(
        f"| {name} | {first[i]:,.1f} | {last[i]:,.1f} | {peak[i]:,.1f} | {last[i] / first[i]:.2f} |"
        if first[i]
        else f"| {name} | {first[i]} | {last[i]} | {peak[i]} | – |"
        for i, name in enumerate(("RSS (MiB)", "open files", "threads", "child processes"))
    )
    command = "bench/soak.py" + (" --quick" if args.quick else f" --runs {runs}")
    table = f"""### Daemon soak (`python {command}`)

{machine()}.

`newsmon run` on the bundled replicas, every source every {args.every}: {points[-1][0]} crawl
runs (one source each) in {seconds:.0f} s after the first full cycle; SIGTERM stopped it in
{stop_seconds:.1f} s with exit code {code}.

| after the first cycle → at the end | first | end | peak | end / first |
| --- | --- | --- | --- | --- |
{rows}
"""
    print(table)
    if args.write:
        write_section("soak", table)


if __name__ == "__main__":
    main()
