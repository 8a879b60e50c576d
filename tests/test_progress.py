"""monitor.progress: counts always, draws only when enabled."""

from __future__ import annotations

import io

import pytest

from monitor.progress import progress, wanted


def test_disabled_progress_counts_and_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with progress("backfill kremlin-en", total=10, enabled=False) as shown:
        shown.advance(pages=2, articles=15)
        shown.advance(pages=1)
    assert (shown.pages, shown.articles) == (3, 15)
    assert capsys.readouterr().out == ""


def test_enabled_progress_shows_pages_and_articles(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    out = io.StringIO()
    monkeypatch.setattr("rich.progress.get_console", lambda: Console(file=out, width=120))
    with progress("backfill kremlin-en", total=4, enabled=True) as shown:
        shown.advance(pages=4, articles=37)
    text = out.getvalue()
    assert "backfill kremlin-en" in text
    assert "4/4" in text and "37 articles" in text


def test_not_a_terminal_or_json_logs_is_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert not wanted("text")
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert wanted("text")
    assert not wanted("json")
