"""`newsmon demo`: the whole product on bundled replicas, as a newcomer sees it."""

from pathlib import Path

from tests.conftest import newsmon


def test_demo_shows_events_alerts_and_writes_a_digest(tmp_path: Path) -> None:
    run = newsmon("demo", "--keep", str(tmp_path), timeout=60)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "33 articles judged, 20 about a watched meeting, 4 events" in out
    assert "Alerts, as your inbox received them (4 sent)" in out
    assert out.count("┌─ Xi Jinping – Vladimir Putin:") == 4
    assert "video call, 30 Dec 2022" in out
    assert (tmp_path / "digest.html").read_text().count("Xi Jinping – Vladimir Putin") >= 4
    assert (tmp_path / "newsmon.db").exists()
