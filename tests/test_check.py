"""`invoke check`: the contract's JSON lines, plain text and HTML, topics from config."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, invoke

SEED = ROOT / "tests" / "data" / "seed" / "andalpost-2022-12-30.txt"
SITES = ROOT / "monitor" / "demo" / "sites"


def lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_seed_article_in_json(tmp_path: Path) -> None:
    run = invoke("check", "--json", str(SEED), config=tmp_path / "absent.yaml")
    assert run.returncode == 0, run.stderr
    (record,) = lines(run.stdout)
    assert record["input"] == str(SEED)
    assert record["language"] == "id"
    (match,) = record["matches"]
    assert match["topic"] == "china-russia-summit"
    assert 0.5 <= match["score"] <= 1
    assert match["event"] == {
        "participants": ["Xi Jinping", "Vladimir Putin"],
        "kind": "video",
        "date": "2022-12-30",
    }
    assert {"Xi Jinping", "konferensi video"} <= set(match["evidence"])


def test_html_pages_and_a_negative(tmp_path: Path) -> None:
    positive = SITES / "kremlin-ru" / "events" / "president" / "news" / "70255"  # windows-1251
    negative = SITES / "kremlin-en" / "events" / "president" / "news" / "75380"  # Putin – Modi
    announcement = SITES / "xinhua-zh" / "20230317" / "83e3dcb49703d1e21cc648e7bc057e68" / "c.html"
    run = invoke(
        "check",
        "--json",
        str(positive),
        str(negative),
        str(announcement),
        config=tmp_path / "absent.yaml",
    )
    assert run.returncode == 0, run.stderr
    video, modi, visit = lines(run.stdout)
    assert video["language"] == "ru" and video["published"] == "2022-12-30"
    assert video["matches"][0]["event"]["kind"] == "video"
    assert modi["matches"] == []
    assert visit["matches"][0]["event"]["date"] == "2023-03-20"
    assert visit["matches"][0]["announcement"] is True


def test_plain_text_with_dateline(tmp_path: Path) -> None:
    article = tmp_path / "call.txt"
    article.write_text(
        "Путин и Си Цзиньпин провели телефонный разговор\n"
        "Москва, 24 февраля 2025 года\n\n"
        "Президент России Владимир Путин в понедельник провёл телефонный разговор с "
        "Председателем КНР Си Цзиньпином. Лидеры обсудили двусторонние отношения.\n",
        encoding="utf-8",
    )
    (record,) = lines(invoke("check", "--json", str(article), config=tmp_path / "x.yaml").stdout)
    assert record["published"] == "2025-02-24"
    assert record["matches"][0]["event"]["kind"] == "phone"
    assert record["matches"][0]["event"]["date"] == "2025-02-24"


def test_unreadable_input_is_reported_and_the_rest_checked(tmp_path: Path) -> None:
    run = invoke(
        "check", "--json", str(tmp_path / "missing.txt"), str(SEED), config=tmp_path / "absent.yaml"
    )
    assert run.returncode == 1
    missing, seed = lines(run.stdout)
    assert "error" in missing and seed["matches"]
    assert "missing.txt" in run.stderr


def test_topic_defined_in_config(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        """topics:
  - name: india-china-border
    parties:
      - name: Narendra Modi
        aliases: {en: [Modi, Indian Prime Minister]}
      - name: Xi Jinping
        aliases: {en: [Xi, Xi Jinping, Chinese President]}
    meeting:
      talks: {en: [talks, met]}
      in-person: {en: [visit]}
    announcement: {en: [will]}
""",
        encoding="utf-8",
    )
    article = tmp_path / "border.txt"
    article.write_text(
        "Modi and Xi hold talks on border patrolling\nKazan, 23 October 2024\n\n"
        "Indian Prime Minister Narendra Modi and Chinese President Xi Jinping held talks "
        "on Wednesday, their first formal meeting in five years.\n",
        encoding="utf-8",
    )
    run = invoke("check", "--json", "--topic", "india-china-border", str(article), config=config)
    (record,) = lines(run.stdout)
    (match,) = record["matches"]
    assert match["event"]["participants"] == ["Narendra Modi", "Xi Jinping"]
    assert match["event"]["date"] == "2024-10-23"
    both = invoke("check", "--json", "--topic", "china-russia-summit", str(article), config=config)
    assert lines(both.stdout)[0]["matches"] == []


def test_bad_topic_is_refused_with_its_key(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("topics:\n  - name: x\n    parties: []\n    meeting: {}\n    colour: red\n")
    run = invoke("check", str(SEED), config=config)
    assert run.returncode == 2
    assert "parties" in run.stderr and "colour: unknown key" in run.stderr
    unknown = invoke("check", "--topic", "no-such-topic", str(SEED), config=tmp_path / "a.yaml")
    assert unknown.returncode == 2 and "no built-in topic 'no-such-topic'" in unknown.stderr
