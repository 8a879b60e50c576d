"""Soak: the daemon runs many short cycles against the local replicas; is memory flat?

    python bench/soak.py [--seconds 120] [--every 1s]

Starts the bundled replica sites and a JSON receiver, runs `newsmon run` with every
source on a short interval, samples the daemon's resident memory (VmRSS) once the first
cycle is done and at the end, counts the crawl cycles from the database, then stops the
daemon with SIGTERM and reports how long the stop took and the exit code.
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

ROOT = Path(__file__).resolve().parent.parent


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cycles(database: Path) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name='crawl_runs'").fetchone():
            return 0
        return int(conn.execute("SELECT count(*) FROM crawl_runs").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--every", default="1s")
    args = parser.parse_args()
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
        start_rss, start_cycles, started = rss_mib(daemon.pid), cycles(database), time.monotonic()
        samples = []
        while time.monotonic() - started < args.seconds:
            time.sleep(min(10.0, args.seconds / 10))
            samples.append(rss_mib(daemon.pid))
        end_rss, end_cycles = rss_mib(daemon.pid), cycles(database)
        stop_started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=30)
        stop_seconds = time.monotonic() - stop_started
    print(
        f"crawl cycles (one source each): {start_cycles} after warm-up, {end_cycles} at the end "
        f"({end_cycles - start_cycles} in {args.seconds:.0f} s)"
    )
    print(
        f"RSS after warm-up {start_rss:.1f} MiB, at the end {end_rss:.1f} MiB "
        f"(min {min(samples):.1f}, max {max(samples):.1f}); ratio end/start "
        f"{end_rss / start_rss:.3f}"
    )
    print(f"SIGTERM: exit code {code} after {stop_seconds:.2f} s; log in {work / 'daemon.log'}")


if __name__ == "__main__":
    main()
