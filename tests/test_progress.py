"""Progress on long work: a live line in a terminal, nothing in logs.

The commands run in a pseudo-terminal (their standard error is one, as in a person's
shell) against the replicas; `wanted` decides for every other combination.
"""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.demo.replicas import ReplicaSites
from monitor.progress import progress, wanted
from tests.conftest import ROOT, write_config

FRAME = re.compile(rb"crawl (\d+) pages(?: \xc2\xb7 (\d+) articles)?")


def in_terminal(*args: str, config: Path) -> tuple[int, str, bytes]:
    """Run newsmon with standard error on a pseudo-terminal: (exit code, stdout, what the
    terminal received)."""
    main, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
    )
    os.close(terminal)
    received = b""
    while True:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # the other end closed: the process is gone
                break
            if not chunk:
                break
            received += chunk
        elif process.poll() is not None:
            break
    os.close(main)
    stdout = process.stdout.read().decode() if process.stdout else ""
    return process.wait(timeout=60), stdout, received


def test_a_crawl_and_a_rematch_move_on_a_terminal_and_json_logs_stay_clean(
    sites: ReplicaSites, tmp_path: Path
) -> None:
    config = write_config(sites, tmp_path)
    code, stdout, seen = in_terminal("crawl", config=config)
    assert code == 0, seen.decode(errors="replace")
    frames = [(int(pages), int(articles or 0)) for pages, articles in FRAME.findall(seen)]
    assert len(set(frames)) >= 3  # it moved, frame by frame
    assert frames == sorted(frames)  # counts only grow
    assert frames[-1][1] == 33 and "33 articles checked" in stdout
    assert b"pages/s" in seen
    assert "pages ·" not in stdout  # the summary lines stay clean

    code, stdout, seen = in_terminal("rematch", config=config)
    assert code == 0
    assert re.search(rb"rematch .*33 articles", seen) and "33 articles checked" in stdout

    for quiet in (["--log-format", "json", "crawl"], ["rematch", "--no-progress"]):
        code, _, seen = in_terminal(*quiet, config=config)
        assert code == 0 and b"pages" not in seen and b"articles" not in seen, (quiet, seen)


def test_progress_is_for_a_person_at_a_terminal(tmp_path: Path) -> None:
    main, terminal = pty.openpty()
    with os.fdopen(terminal, "w") as tty, (tmp_path / "log").open("w") as file:
        assert wanted("text", disabled=False, stream=tty)
        assert not wanted("json", disabled=False, stream=tty)
        assert not wanted("text", disabled=True, stream=tty)
        assert not wanted("text", disabled=False, stream=file)
    os.close(main)


def test_disabled_progress_shows_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with progress("crawl", 10, enabled=False) as bar:
        bar.advance(pages=5, articles=2)
    assert capsys.readouterr() == ("", "")
