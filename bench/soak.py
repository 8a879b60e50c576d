"""Soak: the daemon polls many local sources on a short interval for minutes; are its
memory, open files, threads and child processes flat?

    python bench/soak.py [--sources 20] [--every 2s] [--seconds 180] [--quick] [--write]

Starts the bundled replica sites, runs `newsmon run` with ``--sources`` sources (the
replicas' own, then copies of them under other names) each every ``--every``, samples the
daemon's resident memory (VmRSS), open file descriptors, threads and child processes once
the first cycle is done and then every two seconds for ``--seconds``, then stops the
daemon with SIGTERM and reports how long the stop took.
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
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--every", default="2s")
    parser.add_argument("--seconds", type=float, default=180, help="how long to soak")
    parser.add_argument("--quick", action="store_true", help="30 seconds")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    soak_for = 30.0 if args.quick else args.seconds
    work = Path(tempfile.mkdtemp(prefix="newsmon-soak-"))
    with ReplicaSites() as sites:
        config = yaml.safe_load(sites.config_yaml(str(work / "newsmon.db")))
        own = config["sources"]
        config["sources"] = [
            {**own[n % len(own)], "name": f"{own[n % len(own)]['name']}-{n // len(own)}"}
            for n in range(args.sources)
        ]
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
        while cycles(database) < args.sources:  # the first full cycle (fetch everything)
            time.sleep(0.5)
        first, started = sample(daemon.pid), time.monotonic()
        points = [(cycles(database), first)]
        while time.monotonic() - started < soak_for:
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
    command = "bench/soak.py" + (
        " --quick" if args.quick else f" --sources {args.sources} --seconds {soak_for:.0f}"
    )
    table = f"""### Daemon soak (`python {command}`)

{machine()}.

`newsmon run` on {args.sources} sources (the bundled replicas, copied under other names), each
every {args.every}: {points[-1][0] - points[0][0]:,} crawl runs (one source each) in
{seconds:.0f} s after the first full cycle; SIGTERM stopped it in {stop_seconds:.1f} s with
exit code {code}.

| after the first cycle → at the end | first | end | peak | end / first |
| --- | --- | --- | --- | --- |
{rows}
"""
    print(table)
    if args.write:
        write_section("soak", table)


if __name__ == "__main__":
    main()
