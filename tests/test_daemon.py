"""`newsmon run`: the daemon as a real process against the replica sites.

Waits poll the receiver or the database until a condition holds or a deadline passes;
no test sleeps for a fixed time.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from monitor.demo.replicas import ReplicaSites
from tests.conftest import ROOT, Receiver, invoke, newsmon

# generous: the machine may be shared; a deadline only bounds how long a failure takes
DEADLINE = 120.0


def wait_for(condition: Callable[[], bool], what: str, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def daemon_config(sites: ReplicaSites, directory: Path, receiver: Receiver, every: str) -> Path:
    config = yaml.safe_load(sites.config_yaml(str(directory / "newsmon.db")))
    for source in config["sources"]:
        source["every"] = every
    config["notify"] = {"alerts": [receiver.url], "max_age": 0}
    config["schedule"] = {"deliver_every": "1s"}
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextmanager
def daemon(config: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# A stop waits at most STOP_GRACE (4 s) for jobs in flight; the bound only has to show it
# does not wait for systemd's kill (30 s), on a machine that may be busy.
STOP_BOUND = 15


def stop(process: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)
    return time.monotonic() - started


def runs(database: Path, source: str | None = None) -> int:
    """Crawl runs recorded so far (0 before the daemon has created its database)."""
    if not database.exists():
        return 0
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'crawl_runs'").fetchone():
            return 0
        if source is None:
            return conn.execute("SELECT count(*) FROM crawl_runs").fetchone()[0]
        return conn.execute(
            "SELECT count(*) FROM crawl_runs WHERE source = ?", [source]
        ).fetchone()[0]


def test_cycles_alert_once_stop_on_sigterm_and_resume(tmp_path: Path, receiver: Receiver) -> None:
    database, log = tmp_path / "newsmon.db", tmp_path / "daemon.log"
    with ReplicaSites() as sites:
        config = daemon_config(sites, tmp_path, receiver, every="1s")
        with daemon(config, log) as process:
            wait_for(
                lambda: len(receiver.posts) >= 4 and runs(database) >= 12,
                "alerts and several cycles",
            )
            assert stop(process) < STOP_BOUND
            assert process.returncode == 0, log.read_text()
        titles = [post["title"] for post in receiver.posts]
        assert len(titles) == 4 and len(set(titles)) == 4, titles
        assert "stopped" in log.read_text()

        # Restarted with a long interval: nothing is due, except a source made overdue.
        config = daemon_config(sites, tmp_path, receiver, every="1h")
        with sqlite3.connect(database) as conn:
            hours_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
            conn.execute(
                "UPDATE source_state SET last_success_at = ? WHERE source = 'xinhua-zh'",
                [hours_ago],
            )
        before = {name: runs(database, name) for name in sites.names}
        with daemon(config, log) as process:
            wait_for(
                lambda: runs(database, "xinhua-zh") > before["xinhua-zh"],
                "the overdue source to catch up",
            )
            assert stop(process) < STOP_BOUND
            assert process.returncode == 0
        after = {name: runs(database, name) for name in sites.names}
        assert after["xinhua-zh"] == before["xinhua-zh"] + 1
        assert all(after[name] == before[name] for name in sites.names if name != "xinhua-zh")
        assert len(receiver.posts) == 4  # nothing alerted twice


def test_failing_source_is_announced_once_and_its_recovery_once(
    tmp_path: Path, receiver: Receiver
) -> None:
    database, log = tmp_path / "newsmon.db", tmp_path / "daemon.log"
    with ReplicaSites(["andalpost"]) as sites:
        config = daemon_config(sites, tmp_path, receiver, every="1s")
        andalpost = sites.site("andalpost")
        with daemon(config, log) as process:
            wait_for(lambda: runs(database) >= 1, "a first crawl")
            andalpost.fail_all(503)
            wait_for(lambda: any("failing" in p["title"] for p in receiver.posts), "a notice")
            failing_runs = runs(database)
            wait_for(lambda: runs(database) >= failing_runs + 3, "more failing crawls")
            andalpost.fail_all(None)
            wait_for(lambda: any("recovered" in p["title"] for p in receiver.posts), "recovery")
            recovered_runs = runs(database)
            wait_for(lambda: runs(database) >= recovered_runs + 2, "more healthy crawls")
            assert stop(process) < STOP_BOUND
        notices = [p["title"] for p in receiver.posts if "source andalpost" in p["title"]]
        assert notices == [
            next(t for t in notices if "failing since" in t),
            "newsmon: source andalpost recovered",
        ], notices
        assert process.returncode == 0


def test_daemon_skips_a_source_while_a_backfill_holds_it(
    tmp_path: Path, receiver: Receiver
) -> None:
    from monitor.locks import source_lock

    database, log = tmp_path / "newsmon.db", tmp_path / "daemon.log"
    with ReplicaSites() as sites:
        config = daemon_config(sites, tmp_path, receiver, every="1s")
        with source_lock(database, "kremlin-en", "backfill"), daemon(config, log) as process:
            wait_for(lambda: runs(database, "andalpost") >= 3, "other sources' cycles")
            assert runs(database, "kremlin-en") == 0
            assert "kremlin-en: skipped this cycle: kremlin-en is being crawled by backfill" in (
                log.read_text()
            )
            assert stop(process) < STOP_BOUND
        # released, the daemon crawls it again
        with daemon(config, log) as process:
            wait_for(lambda: runs(database, "kremlin-en") >= 1, "kremlin-en once released")
            assert stop(process) < STOP_BOUND


def test_twenty_sources_every_two_seconds_stay_flat() -> None:
    """The load case, shortened (BENCHMARKS.md has the three-minute run): the daemon's
    memory, open files, threads and child processes after the first cycle and at the end."""
    run = subprocess.run(
        [sys.executable, "bench/soak.py", "--sources", "20", "--every", "2s", "--seconds", "20"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr
    assert "exit code 0." in " ".join(run.stdout.split()), run.stdout  # stopped cleanly
    first_and_end = {}  # the table's rows: name → (after the first cycle, at the end)
    for line in run.stdout.splitlines():
        cells = [c.strip().replace(",", "") for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1][:1].isdigit():
            first_and_end[cells[0]] = (float(cells[1]), float(cells[2]))
    rss, files, threads, children = (
        first_and_end[row] for row in ("RSS (MiB)", "open files", "threads", "child processes")
    )
    assert rss[1] <= rss[0] * 1.25, first_and_end
    assert files[1] <= files[0] + 8, first_and_end
    assert threads[1] <= threads[0] + 4, first_and_end
    assert children[1] == children[0], first_and_end


def test_a_daemon_killed_while_a_channel_accepts_an_alert_loses_none_and_repeats_only_that_one(
    tmp_path: Path,
) -> None:
    database, log = tmp_path / "newsmon.db", tmp_path / "daemon.log"
    slow = Receiver(delay=2)  # the kill lands while the channel is accepting
    try:
        with ReplicaSites() as sites:
            config = daemon_config(sites, tmp_path, slow, every="1h")
            with daemon(config, log) as process:
                wait_for(lambda: slow.arrived >= 1, "an alert being accepted")
                process.kill()
                process.wait()
            # the channel accepted it after the sender died: the documented window
            wait_for(lambda: len(slow.posts) == 1, "the receiver to accept it")
            (accepted,) = [post["title"] for post in slow.posts]
            with sqlite3.connect(database) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                # the dead daemon's claim, as it is 15 minutes later when its lease expires
                claimed = conn.execute(
                    "UPDATE outbox SET claimed_until = ? WHERE claimed_by IS NOT NULL",
                    [(datetime.now(UTC) - timedelta(seconds=1)).isoformat()],
                ).rowcount
            assert claimed == 1
            slow.delay = 0
            again = newsmon("crawl", config=config)
            assert again.returncode == 0, again.stderr
            assert "alerts: 4 sent" in again.stdout, again.stdout
        titles = [post["title"] for post in slow.posts]
        with sqlite3.connect(database) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert conn.execute("SELECT DISTINCT state FROM outbox").fetchall() == [("sent",)]
            alerts = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
        # none lost, one repeated: the one being accepted at the kill. Its repeat may be
        # titled anew (an alert is rendered when sent: the restart's crawl may have
        # widened its event's days), so it is counted, not compared by title.
        assert alerts == 4 and len(titles) == alerts + 1, titles
        assert accepted in titles
    finally:
        slow.stop()


def test_a_database_refusing_writes_is_one_log_line_and_the_daemon_carries_on(
    tmp_path: Path, receiver: Receiver
) -> None:
    database, log = tmp_path / "newsmon.db", tmp_path / "daemon.log"
    with ReplicaSites() as sites:
        config = daemon_config(sites, tmp_path, receiver, every="2s")
        assert invoke("status", config=config).returncode == 0  # creates the schema
        # a real SQLite error on filing any event, as a full disk gives
        with sqlite3.connect(database) as conn:
            conn.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON events "
                "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
            )
        with daemon(config, log) as process:
            wait_for(lambda: "is full: free space there" in log.read_text(), "the full disk")
            with sqlite3.connect(database) as conn:
                conn.execute("DROP TRIGGER refuse")  # space freed
            wait_for(lambda: len(receiver.posts) == 4, "the four meetings, alerted")
            assert stop(process) < STOP_BOUND
    text = log.read_text()
    assert "Traceback" not in text, text
    assert "failed: the disk holding database" in text and "the daemon carries on" in text
