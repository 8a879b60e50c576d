"""`newsmon demo`: the whole product on bundled replicas, as a newcomer sees it."""

import re
from pathlib import Path

from tests.conftest import newsmon


def test_demo_shows_events_alerts_and_writes_a_digest(tmp_path: Path) -> None:
    run = newsmon("demo", "--keep", str(tmp_path), timeout=60)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "33 articles judged, 20 about a watched meeting, 4 events, 4 alerts sent" in out
    # near misses, with the matcher's reasons
    assert (
        "not alerted: Meeting with Prime Minister of India Narendra Modi — because other "
        "principal nearer (Modi)"
    ) in out
    assert "Wang Yi — because ministers, not heads of state (Wang Yi)" in out
    assert (
        "not alerted: Exchange of messages between Vladimir Putin and Xi Jinping on the 75th "
        "anniversary of diplomatic relations — because written message, not a meeting"
    ) in out
    assert out.count("not alerted: ") == 3
    # the talks reported on 16 May 2024 are not an announcement of 17 May
    may = re.search(r"#(\d+) 16 May 2024 +Xi Jinping – Vladimir Putin, in-person", out)
    assert may is not None, out
    # the second cycle's article joins that event, and nobody is told twice
    assert (
        "kremlin-en    3 pages,  1 new articles" in out
        and f"Statements for the press following Russian-Chinese talks: joined event "
        f"#{may[1]}, no new alert"
        in out
    )
    # one alert per meeting, oldest meeting first
    assert "Alerts, as your inbox received them (4 sent), by meeting day" in out
    subjects = re.findall(r"┌─ Xi Jinping – Vladimir Putin: [^,]+, (.+)", out)
    assert subjects == ["30 Dec 2022", "20–21 Mar 2023", "16 May 2024", "22 Oct 2024"]
    assert (tmp_path / "digest.html").read_text().count("Xi Jinping – Vladimir Putin") >= 4
    assert (tmp_path / "newsmon.db").exists()
    # it ends with the way to see it all in a browser
    last = out.rstrip().splitlines()[-1]
    assert f"--config {tmp_path / 'config.yaml'} serve" in last
    assert "http://127.0.0.1:8001/" in last
