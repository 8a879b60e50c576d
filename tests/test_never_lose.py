"""Nothing a feed listed is skipped for good: not after a stop mid-crawl, a database that
refuses writes, or a backfill bigger than one cycle; and a dead source costs one line.

A generated WordPress-like site (an RSS feed of N posts with an ETag, one page per post)
is served on 127.0.0.1. Crawl cycles run in process (the ``crawl`` fixture) where the
database and the site's request log are what is checked; the real command line runs in a
subprocess where its output, a signal or a second process is.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from monitor.demo.replicas import ReplicaSites
from tests.conftest import ROOT, Receiver, free_port, invoke, newsmon
from tests.test_daemon import daemon, runs, stop, wait_for
from tests.test_hostile import Site

WORDS = "The ministry said the new bridge across the river will open to traffic next spring."


class GeneratedSite:
    """/feed lists ``count`` posts (newest first, ETag "v1", 304 on a match); /post/N is a
    post page. ``delay`` slows each post page (a slow site, to stop a crawl in the middle);
    ``broken`` makes the feed answer 500. With ``hold_after``, every post request after
    that many waits until ``release()``: a crawl stopped at a known point, not by a race."""

    def __init__(self, count: int, delay: float = 0.0, hold_after: int | None = None) -> None:
        self.count = count
        self.delay = delay
        self.hold_after = hold_after
        self.released = threading.Event()
        self.broken = False
        self.requests: list[tuple[str, str | None]] = []  # (path, If-None-Match)
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append((self.path, self.headers.get("If-None-Match")))
                path = self.path.split("?", 1)[0]
                if path == "/robots.txt":
                    return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                if path == "/feed":
                    if site.broken:
                        return self._send(500, b"oops", "text/plain")
                    if self.headers.get("If-None-Match") == '"v1"':
                        return self._send(304, b"", "text/plain")
                    return self._send(200, site.feed(), "application/rss+xml")
                if path.startswith("/post/"):
                    if site.hold_after is not None and site.article_requests() > site.hold_after:
                        site.released.wait()
                    if site.delay:
                        time.sleep(site.delay)  # the site is slow, not the test
                    return self._send(200, site.page(int(path.rsplit("/", 1)[1])), "text/html")
                self._send(404, b"not found", "text/plain")

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                if self.path.startswith("/feed") and status == 200:
                    self.send_header("ETag", '"v1"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # polled every 50 ms, not 500: stopping the server must not cost the test 0.5 s
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def published(self, n: int) -> datetime:
        return datetime(2026, 11, 1, 8, tzinfo=UTC) + timedelta(hours=n)

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>Bridge report {n}</title><link>{self.base}/post/{n}</link>"
            f"<pubDate>{format_datetime(self.published(n))}</pubDate></item>"
            for n in reversed(range(self.count))
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Generated</title><link>{self.base}/</link>{items}</channel></rss>"
        ).encode()

    def page(self, n: int) -> bytes:
        body = "".join(f"<p>{WORDS} Paragraph {i} of report {n}.</p>" for i in range(6))
        return (
            f'<!doctype html><html lang="en"><head><title>Bridge report {n}</title>'
            f'<meta property="article:published_time" content="{self.published(n).isoformat()}">'
            f"</head><body><article><h1>Bridge report {n}</h1>{body}</article></body></html>"
        ).encode()

    def article_requests(self) -> int:
        return sum(path.startswith("/post/") for path, _ in self.requests)

    def release(self) -> None:
        self.released.set()

    def stop(self) -> None:
        self.release()  # a held request would keep its thread waiting for ever
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site_factory() -> Iterator[Callable[..., GeneratedSite]]:
    started: list[GeneratedSite] = []

    def start(count: int, delay: float = 0.0, hold_after: int | None = None) -> GeneratedSite:
        started.append(GeneratedSite(count, delay, hold_after))
        return started[-1]

    yield start
    for site in started:
        site.stop()


def config_for(directory: Path, sources: list[dict], **extra: object) -> Path:
    config = {
        "database": str(directory / "newsmon.db"),
        "sources": sources,
        "crawl": {"delay": 0, "concurrency_per_host": 4},
        "notify": {"max_age": 0},
        **extra,
    }
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def one_source(site: GeneratedSite, directory: Path, **crawl: object) -> Path:
    source = {"name": "gen", "feeds": [f"{site.base}/feed"], "every": "15m"}
    if crawl:
        source["crawl"] = crawl
    return config_for(directory, [source])


def query(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(database) as conn:
        return list(conn.execute(sql))


def stored(database: Path) -> int:
    return query(database, "SELECT count(*) FROM articles WHERE extract_error IS NULL")[0][0]


def test_a_backfill_bigger_than_a_cycle_is_read_again_until_every_link_is_handled(
    tmp_path: Path, site_factory: Callable[..., GeneratedSite], crawl: Callable
) -> None:
    site = site_factory(5)
    config = one_source(site, tmp_path, max_new_per_cycle=2)
    database = tmp_path / "newsmon.db"
    for expected in (2, 4, 5):
        (run,) = crawl(config).crawls
        assert run.outcome == "ok", run
        assert stored(database) == expected
    # oldest first: the two posts of the first cycle were 0 and 1
    first = query(database, "SELECT title FROM articles ORDER BY rowid LIMIT 2")
    assert sorted(row[0] for row in first) == ["Bridge report 0", "Bridge report 1"]
    # no validator was kept while links were left: each feed request was unconditional
    feeds = [etag for path, etag in site.requests if path == "/feed"]
    assert feeds == [None, None, None]
    # now everything is handled: the next cycle costs one 304
    crawl(config)
    assert [etag for path, etag in site.requests if path == "/feed"][-1] == '"v1"'
    assert site.article_requests() == 5


def test_a_database_that_refuses_writes_fails_the_run_and_loses_nothing(
    tmp_path: Path, site_factory: Callable[..., GeneratedSite], crawl: Callable
) -> None:
    site = site_factory(4)
    config = one_source(site, tmp_path)
    database = tmp_path / "newsmon.db"
    assert invoke("status", config=config).returncode == 0  # creates the schema
    # A real SQLite error on every article insert, as a full disk gives.
    with sqlite3.connect(database) as conn:
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON articles "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    (run,) = crawl(config).crawls
    # the run fails (the summary's "FAILED: <first error>"), and nothing crashed
    assert run.outcome == "failed" and "not stored" in run.error_messages[0], run
    assert not any("crashed" in message for message in run.error_messages), run
    assert stored(database) == 0
    assert query(database, "SELECT count(*) FROM validators") == [(0,)]
    status = invoke("status", config=config).stdout
    assert "FAILING" in status, status
    # space is freed: the next cycle stores every post
    with sqlite3.connect(database) as conn:
        conn.execute("DROP TRIGGER refuse")
    assert [stats.outcome for stats in crawl(config).crawls] == ["ok"]
    assert stored(database) == 4
    assert "ok:" in invoke("status", config=config).stdout


@contextmanager
def held(database: Path, begin: str) -> Iterator[None]:
    """Another process with a transaction open on ``database`` (``begin``, then until the
    block ends): a long read, or an exclusive lock."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"conn = sqlite3.connect({str(database)!r}, isolation_level=None)\n"
            f"conn.execute({begin!r}); conn.execute('SELECT count(*) FROM articles').fetchall()\n"
            "print('held', flush=True); sys.stdin.readline(); conn.execute('COMMIT')",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline() == "held\n"
        yield
    finally:
        holder.stdin.write("\n")
        holder.stdin.close()
        assert holder.wait(timeout=60) == 0


@pytest.mark.parametrize("begin", ["BEGIN", "BEGIN EXCLUSIVE"], ids=["reader", "exclusive"])
def test_a_long_read_or_a_short_exclusive_lock_makes_the_crawl_wait_and_lose_nothing(
    tmp_path: Path, site_factory: Callable[..., GeneratedSite], begin: str
) -> None:
    site = site_factory(10)
    config = one_source(site, tmp_path)
    database = tmp_path / "newsmon.db"
    assert invoke("status", config=config).returncode == 0  # creates the schema
    with held(database, begin):
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "crawl"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # every post fetched: the crawl is writing, or waiting to (well within 30 s)
        wait_for(lambda: site.article_requests() == 10, "every post fetched")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "gen: 11 pages, 10 articles fetched, 10 new, 0 errors" in out, out
    assert stored(database) == 10
    assert query(database, "PRAGMA integrity_check") == [("ok",)]


# `newsmon crawl` with the write lock's wait (monitor.store.schema.BUSY_TIMEOUT) cut to 1 s
SHORT_WAIT_NEWSMON = (
    "import monitor.store.schema as schema; schema.BUSY_TIMEOUT = 1.0\n"
    "from monitor.cli import main; main()"
)


def test_a_lock_held_past_the_wait_is_one_line_saying_what_to_do_and_the_next_crawl_recovers(
    tmp_path: Path, site_factory: Callable[..., GeneratedSite], crawl: Callable
) -> None:
    site = site_factory(10)
    config = one_source(site, tmp_path)
    database = tmp_path / "newsmon.db"
    assert invoke("status", config=config).returncode == 0
    with held(database, "BEGIN EXCLUSIVE"):
        locked = subprocess.run(
            [sys.executable, "-c", SHORT_WAIT_NEWSMON, "--config", str(config), "crawl"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert locked.returncode == 2
    assert locked.stderr.splitlines() == [
        f"newsmon: error: database {database} is locked by another process (waited 1 s): "
        "let that process finish (an open sqlite3 shell, a backup) and run again; what was "
        "not stored is fetched again then"
    ], locked.stderr
    assert stored(database) == 0
    assert query(database, "SELECT count(*) FROM validators") == [(0,)]
    # the lock gone, the next cycle stores every post
    (run,) = crawl(config).crawls
    assert run.outcome == "ok" and run.new_articles == 10, run
    assert "ok:" in invoke("status", config=config).stdout
    assert query(database, "PRAGMA integrity_check") == [("ok",)]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    """A real 16 MiB filesystem (tmpfs) at ``tmp_path/disk``, mounted in a mount namespace
    of its own so that nothing else on the machine sees it, and the command prefix that
    runs a program in that namespace."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not (shutil.which("unshare") and shutil.which("nsenter")):
        pytest.skip("unshare/nsenter (util-linux) are not installed")
    mount = 'mount -t tmpfs -o size=16m tmpfs "$0" && echo mounted && read done'
    namespace = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", mount, str(disk)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert namespace.stdin is not None and namespace.stdout is not None
    if namespace.stdout.readline() != "mounted\n":
        namespace.kill()
        reason = namespace.communicate()[1].strip()
        pytest.skip(f"cannot mount a filesystem in a private mount namespace here: {reason}")
    try:
        yield disk, ["nsenter", f"--mount=/proc/{namespace.pid}/ns/mnt", "--"]
    finally:
        namespace.stdin.close()
        namespace.wait(timeout=30)


def test_a_full_disk_mid_crawl_is_one_line_loses_nothing_and_the_next_crawl_catches_up(
    tmp_path: Path,
    site_factory: Callable[..., GeneratedSite],
    small_disk: tuple[Path, list[str]],
) -> None:
    disk, inside = small_disk
    database, filler = disk / "newsmon.db", disk / "filler"
    site = site_factory(200)
    config = one_source(site, tmp_path)  # the config outside, the database on the small disk
    config.write_text(config.read_text().replace(str(tmp_path / "newsmon.db"), str(database)))

    def python(*args: str) -> subprocess.CompletedProcess[str]:
        """Python in the namespace (SQLite resolves /proc/PID/root to this namespace's /)."""
        command = [*inside, sys.executable, *args]
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)

    def first(sql: str) -> str:
        script = (
            "import sqlite3, sys\n"
            "print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])"
        )
        return python("-c", script, str(database), sql).stdout.strip()

    assert python("-m", "monitor", "--config", str(config), "status").returncode == 0
    # all but 300 kB taken: a few batches fit, 200 posts do not
    fill = (
        "import os, sys; free = os.statvfs(sys.argv[1])\n"
        "open(sys.argv[2], 'wb').write(b'x' * (free.f_bavail * free.f_frsize - 300_000))"
    )
    assert python("-c", fill, str(disk), str(filler)).returncode == 0

    full = python("-m", "monitor", "--config", str(config), "crawl")
    assert full.returncode == 2
    assert full.stderr.splitlines() == [
        f"newsmon: error: the disk holding database {database} is full: free space there "
        "and run again; what was not stored is fetched again then"
    ], full.stderr
    assert first("PRAGMA integrity_check") == "ok"
    partial = int(first("SELECT count(*) FROM articles"))
    assert 0 < partial < 200
    assert first("SELECT count(*) FROM validators") == "0"

    assert python("-c", "import os, sys; os.remove(sys.argv[1])", str(filler)).returncode == 0
    again = python("-m", "monitor", "--config", str(config), "crawl")
    assert again.returncode == 0, again.stderr
    assert f"{200 - partial} new, 0 errors" in again.stdout, again.stdout
    assert first("SELECT count(*) FROM articles") == "200"
    assert first("PRAGMA integrity_check") == "ok"


def test_a_database_of_the_first_schema_with_alerts_sent_migrates_and_loses_nothing(
    tmp_path: Path,
    site_factory: Callable[..., GeneratedSite],
    crawl: Callable,
    receiver: Receiver,
) -> None:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

    from monitor.alerts import channel_key
    from monitor.store.schema import migrations

    database = tmp_path / "newsmon.db"
    # the schema as the first three migrations left it (articles, events, the outbox),
    # with what that newsmon wrote: an article, its event, the alert already sent, a run
    first = Migrations("newsmon")
    for migration in migrations.functions[:3]:
        first()(migration)
    old = Database(database)
    first.apply(old)
    url, stamp = "https://wire.example/xi-putin", "2023-03-21T09:00:00+00:00"
    with old.conn:
        old.execute(
            "INSERT INTO articles (id, source, url, canonical_url, title, text, language, "
            "published, first_seen) VALUES ('a1', 'wire', ?, ?, ?, ?, 'en', ?, ?)",
            [
                url,
                url,
                "Xi Jinping and Putin meet in Moscow",
                "The two leaders held talks in the Kremlin on Tuesday about trade and energy.",
                stamp,
                stamp,
            ],
        )
        old.execute(
            "INSERT INTO events (id, topic, participants, kind, first_day, last_day, exact, "
            "first_article, created_at, updated_at) VALUES (1, 'china-russia-summit', "
            "'[\"Xi Jinping\", \"Vladimir Putin\"]', 'in-person', '2023-03-21', "
            "'2023-03-21', 1, 'a1', ?, ?)",
            [stamp, stamp],
        )
        old.execute(
            "INSERT INTO matches VALUES ('a1', 'china-russia-summit', 1, 0.95, 'in-person', "
            "'2023-03-21', 1, 0, '[\"Xi Jinping\", \"Putin\"]', NULL, ?)",
            [stamp],
        )
        old.execute("INSERT INTO article_checks VALUES ('a1', 'china-russia-summit')")
        old.execute(
            "INSERT INTO outbox (subject, channel, event_id, state, attempts, next_attempt_at, "
            "created_at, sent_at) VALUES ('event:1', ?, 1, 'sent', 1, ?, ?, ?)",
            [channel_key(receiver.url), stamp, stamp, stamp],
        )
        old.execute(
            "INSERT INTO crawl_runs (source, started_at, finished_at, pages, articles_fetched, "
            "new_articles, errors, error_messages) VALUES ('wire', ?, ?, 3, 1, 1, 0, '[]')",
            [stamp, stamp],
        )
    old.close()

    site = site_factory(3)
    config = config_for(
        tmp_path,
        [{"name": "gen", "feeds": [f"{site.base}/feed"], "every": "15m"}],
        notify={"alerts": [receiver.url], "max_age": 0},
    )
    status = invoke("status", config=config)
    assert status.returncode == 0, status.stderr
    assert "articles: 1 stored" in status.stdout, status.stdout  # counted by m007
    applied = query(database, "SELECT name FROM _sqlite_migrations ORDER BY name")
    assert [name for (name,) in applied] == [f.__name__ for f in migrations.functions]
    (run,) = crawl(config).crawls
    assert run.outcome == "ok" and run.new_articles == 3, run
    assert "articles: 4 stored" in invoke("status", config=config).stdout
    (event,) = [
        json.loads(line) for line in invoke("events", "--json", config=config).stdout.splitlines()
    ]
    assert event["participants"] == ["Xi Jinping", "Vladimir Putin"], event
    assert "Xi Jinping and Putin meet" in invoke("search", "Kremlin", config=config).stdout
    assert receiver.posts == []  # the alert sent before the upgrade is not sent again
    assert query(database, "SELECT outcome FROM crawl_runs WHERE source = 'wire'") == [("ok",)]
    assert query(database, "PRAGMA integrity_check") == [("ok",)]


def articles_so_far(database: Path) -> int:
    try:
        return stored(database)
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.parametrize(
    ("command", "stop_signal", "code"),
    [(["crawl"], signal.SIGINT, 130), (["run"], signal.SIGTERM, 0)],
    ids=["ctrl-c-crawl", "sigterm-daemon"],
)
def test_a_stop_mid_crawl_is_recorded_as_interrupted_and_the_rest_comes_next_time(
    tmp_path: Path,
    site_factory: Callable[..., GeneratedSite],
    crawl: Callable,
    command: list[str],
    stop_signal: signal.Signals,
    code: int,
) -> None:
    # One page at a time, ≥ 12 s for the whole feed. A stop still fetches what is already
    # queued in the downloader (up to 16 requests, ~3 s here) before the crawl closes.
    site = site_factory(60, delay=0.2)
    config = one_source(site, tmp_path, concurrency_per_host=1, delay=0.01)
    database = tmp_path / "newsmon.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), *command],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: articles_so_far(database) >= 3, "a few stored posts")
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code, err
    assert "Traceback" not in out + err, err
    assert "interrupted" in (out + err).lower()
    partial = stored(database)
    assert 3 <= partial < 60
    assert query(database, "SELECT outcome FROM crawl_runs") == [("interrupted",)]
    assert query(database, "SELECT count(*) FROM validators") == [(0,)]
    assert "INTERRUPTED" in invoke("status", config=config).stdout
    site.delay = 0
    assert [stats.outcome for stats in crawl(config).crawls] == ["ok"]
    assert stored(database) == 60


def test_dead_sources_cost_one_line_each(tmp_path: Path) -> None:
    sources = [
        {"name": f"dead-{n}", "feeds": [f"http://127.0.0.1:{free_port()}/feed"], "every": "15m"}
        for n in range(3)
    ]
    run = newsmon("crawl", config=config_for(tmp_path, sources))
    assert run.returncode == 0
    output = run.stdout + run.stderr
    assert "Traceback" not in output
    failed = [line for line in run.stdout.splitlines() if "FAILED" in line]
    assert len(failed) == 3, output
    assert all("Connection" in line or "refused" in line for line in failed), failed
    assert len(output.splitlines()) <= 6, output  # 3 sources, matching, alerts
    verbose = newsmon("-vv", "crawl", config=config_for(tmp_path, sources))
    assert "Traceback" in verbose.stderr  # the details are there when asked for


def test_secrets_in_feed_urls_are_never_shown(
    tmp_path: Path, site_factory: Callable[..., GeneratedSite], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = site_factory(2)
    broken = site_factory(1)
    broken.broken = True
    key, password = "k3y-abcdef-123", "pa55-word-xyz"
    monkeypatch.setenv("FEED_KEY", key)
    monkeypatch.setenv("FEED_PASS", password)
    host = site.base.split("://", 1)[1]
    limited = Site()  # a rate limit: its refusal quotes the keyed URL it refused
    limited.pages[f"/feed?key={key}"] = (429, {"Retry-After": "60"}, b"slow down")
    sources = [
        {"name": "keyed", "feeds": [f"{broken.base}/feed?key=${{FEED_KEY}}"], "every": "15m"},
        {"name": "userinfo", "feeds": [f"http://reader:${{FEED_PASS}}@{host}/feed"]},
        {"name": "limited", "feeds": [f"{limited.base}/feed?key=${{FEED_KEY}}"]},
    ]
    config = config_for(tmp_path, sources)
    try:
        run = newsmon("-vv", "crawl", config=config)
    finally:
        limited.stop()
    # asked once, not retried at once
    assert [path for path in limited.requests if path != "/robots.txt"] == [f"/feed?key={key}"]
    assert run.returncode == 0, run.stderr
    status = invoke("status", config=config)
    digest = invoke("digest", "--week", datetime.now(UTC).strftime("%G-W%V"), config=config)
    shown = run.stdout + run.stderr + status.stdout + digest.stdout + digest.stderr
    assert key not in shown and password not in shown
    assert "FAILING" in status.stdout  # the keyed feed's error is there, masked
    assert "FAILING (1x): feed " in status.stdout and "HTTP 429: the site asks" in status.stdout
    # the userinfo source is on its own host: its posts were fetched, not refused
    assert stored(tmp_path / "newsmon.db") == 2, run.stdout
    stored_errors = query(
        tmp_path / "newsmon.db",
        "SELECT error_messages FROM crawl_runs UNION ALL "
        "SELECT coalesce(last_error, '') FROM source_state",
    )
    assert not any(key in row[0] or password in row[0] for row in stored_errors)


def test_a_second_daemon_on_one_database_is_refused(
    tmp_path: Path, site_factory: Callable[..., GeneratedSite], crawl: Callable
) -> None:
    site = site_factory(1)
    config = one_source(site, tmp_path)
    first = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: articles_so_far(tmp_path / "newsmon.db") == 1, "the first daemon")
        # refused at its lock, before its reactor would start: safe in this process
        second = invoke("run", config=config)
        assert second.returncode != 0
        assert "another newsmon daemon" in second.stderr and "running" in second.stderr
        # a one-off crawl beside the daemon is allowed
        assert [stats.outcome for stats in crawl(config).crawls] == ["ok"]
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert first.returncode == 0


def test_a_crawl_beside_the_daemon_skips_what_the_daemon_is_crawling_and_alerts_once(
    tmp_path: Path, site_factory: Callable[..., GeneratedSite], sites: ReplicaSites
) -> None:
    # The daemon is held mid-crawl of gen (2 posts served, the others wait); kremlin-en's
    # articles are the 4 meetings, alerted to a receiver slow enough that both processes
    # deliver at once.
    site = site_factory(10, hold_after=2)
    replica = yaml.safe_load(sites.config_yaml(str(tmp_path / "newsmon.db")))
    kremlin = [source for source in replica["sources"] if source["name"] == "kremlin-en"]
    gen = {"name": "gen", "feeds": [f"{site.base}/feed"], "every": "1h"}
    slow = Receiver(delay=0.3)
    config = config_for(
        tmp_path,
        [gen, *kremlin],
        notify={"alerts": [slow.url], "max_age": 0},
        schedule={"deliver_every": "1s"},
    )
    database = tmp_path / "newsmon.db"
    try:
        with daemon(config, tmp_path / "daemon.log") as process:
            wait_for(
                lambda: site.article_requests() >= 3 and runs(database, "kremlin-en") == 1,
                "the daemon done with kremlin-en and held mid-crawl of gen",
            )
            beside = newsmon("crawl", config=config)
            assert beside.returncode == 0, beside.stderr
            assert "Traceback" not in beside.stdout + beside.stderr
            assert (
                f"skipped: gen is being crawled by daemon (pid {process.pid}); "
                "it stores what it finds" in beside.stdout
            ), beside.stdout
            assert "kremlin-en:" in beside.stdout
            # the site was not asked twice: gen's feed was read by the daemon alone
            assert [path for path, _ in site.requests if path == "/feed"] == ["/feed"]
            site.release()
            wait_for(lambda: stored(database) >= 19 and len(slow.posts) >= 4, "the rest")
            wait_for(lambda: runs(database, "gen") == 1, "the daemon's run of gen")
            stop(process)
    finally:
        slow.stop()
    assert process.returncode == 0
    assert query(database, "SELECT count(*) FROM articles WHERE source = 'gen'") == [(10,)]
    titles = [post["title"] for post in slow.posts]
    assert len(titles) == 4 and len(set(titles)) == 4, titles


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (the extraction workers, their forkserver)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found |= {int(child), *descendants(int(child))}
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_crawl_killed_mid_batch_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, site_factory: Callable[..., GeneratedSite], crawl: Callable
) -> None:
    # SIGKILL lands while the crawl waits for posts the site holds back, with some stored.
    site = site_factory(80, hold_after=20)
    config = one_source(site, tmp_path)
    database = tmp_path / "newsmon.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "crawl"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: articles_so_far(database) >= 1 and site.article_requests() > 20,
            "a first committed batch and a held request",
        )
        workers = descendants(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        process.kill()
    assert workers, "extraction runs in worker processes"
    # the workers notice their parent's death and go
    wait_for(lambda: not any(alive(pid) for pid in workers), "the workers to exit")
    assert query(database, "PRAGMA integrity_check") == [("ok",)]
    partial = stored(database)
    assert 1 <= partial <= 20
    assert query(database, "SELECT count(*) FROM validators") == [(0,)]
    fetched = site.article_requests()
    site.release()
    (run,) = crawl(config).crawls
    assert run.outcome == "ok", run
    rows = query(database, "SELECT canonical_url, duplicate_of FROM articles")
    assert len(rows) == 80 and len({url for url, _ in rows}) == 80
    assert all(duplicate is None for _, duplicate in rows)
    assert stored(database) == 80
    # what was committed before the kill was not fetched again, the rest was
    assert site.article_requests() - fetched == 80 - partial
