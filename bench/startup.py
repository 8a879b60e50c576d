"""Start-up and read commands as the archive grows: each command's median wall time, as a
subprocess, on databases of synthetic articles, and its difference to `newsmon --help`.

    python bench/startup.py [--quick] [--repeat N] [--write]

The articles are written straight into one transaction, with the columns `save_article`
fills (the triggers keep the search indexes in step, as they do for a crawl): titles and
texts in English, Russian, Indonesian and Chinese, one in twenty naming Putin, and an event
every 200 articles. `--quick`: 1k and 10k articles (under a minute) instead of 1k and 100k.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from report import machine, write_section

from monitor.store import Storage

NEWSMON = Path(sys.executable).parent / "newsmon"
# searched in-process, on the open database (the target: under 50 ms median at 100k)
QUERIES = ["Putin", "普京", "Путин", "перегово*", "pembicaraan energi"]
COMMANDS = ["--help", "status", "events", "search Putin", "search 普京", "digest --out -"]
SOURCES = ["kremlin-en", "kremlin-ru", "andalpost", "xinhua-zh"]
PARTICIPANTS = json.dumps(["Xi Jinping", "Vladimir Putin"])

# (language, title, sentence); {who} is Putin in one article of twenty, else another name
PHRASES = {
    "en": ("{who} discusses trade with officials", "{who} said the talks on energy went well."),
    "ru": ("{who} обсудил торговлю с коллегами", "{who} заявил, что переговоры прошли успешно."),
    "id": ("{who} membahas perdagangan", "{who} mengatakan pembicaraan berjalan baik."),
    "zh": ("外交部长会见{who}", "{who}表示，能源领域的会谈进展顺利。"),
}
PUTIN = {"en": "Putin", "ru": "Путин", "id": "Putin", "zh": "普京"}
OTHERS = {
    "en": ["Macron", "Scholz", "Modi", "Lula", "Erdogan"],
    "ru": ["Макрон", "Шольц", "Моди", "Лула", "Эрдоган"],
    "id": ["Jokowi", "Prabowo", "Anwar", "Marcos", "Modi"],
    "zh": ["马克龙", "朔尔茨", "莫迪", "卢拉", "埃尔多安"],
}
FILLER = {
    "en": "Markets rose as the ministry published new figures on exports and prices.",
    "ru": "Рынки выросли после публикации министерством новых данных об экспорте.",
    "id": "Pasar naik setelah kementerian merilis angka ekspor dan harga terbaru.",
    "zh": "商务部公布了最新的出口和价格数据，市场随之上涨。",
}


def populate(path: Path, count: int, seed: int = 8) -> None:
    """A database of ``count`` articles (see the module docstring), written in one go."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with Storage(path) as storage, storage.write():
        for number in range(count):
            language = rng.choice(list(PHRASES))
            who = PUTIN[language] if number % 20 == 0 else rng.choice(OTHERS[language])
            title, sentence = PHRASES[language]
            filler = [FILLER[language]] * rng.randint(3, 8)
            text = " ".join([sentence.format(who=who), *filler, f"#{number}"])
            url = f"https://{SOURCES[number % 4]}.example/news/{number}"
            seen = start + timedelta(minutes=number)
            storage.db.execute(
                """INSERT INTO articles (id, source, url, canonical_url, title, text, language,
                       published, author, content_hash, first_seen, duplicate_of)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, NULL)""",
                [
                    hashlib.sha256(url.encode()).hexdigest()[:32],
                    SOURCES[number % 4],
                    url,
                    url,
                    title.format(who=who),
                    text,
                    language,
                    seen.isoformat(),
                    hashlib.sha256(text.encode()).hexdigest(),
                    seen.isoformat(),
                ],
            )
        _events(storage, count)
        _runs(storage, count)


def _events(storage: Storage, count: int) -> None:
    """An event every 200 articles, matched by the article that opens it and the next."""
    stamp = datetime(2024, 6, 1, tzinfo=UTC).isoformat()
    rows = storage.db.execute("SELECT id, first_seen FROM articles ORDER BY rowid").fetchall()
    for event_id, first in enumerate(range(0, count - 1, 200), start=1):
        day = rows[first][1][:10]
        storage.db.execute(
            """INSERT INTO events (id, topic, participants, kind, first_day, last_day,
                   first_article, created_at, updated_at)
               VALUES (?, 'china-russia-summit', ?, 'in-person', ?, ?, ?, ?, ?)""",
            [event_id, PARTICIPANTS, day, day, rows[first][0], stamp, stamp],
        )
        for article_id, _ in rows[first : first + 2]:
            storage.db.execute(
                """INSERT INTO matches (article_id, topic, event_id, score, kind, day,
                       day_from_text, announcement, evidence, near_duplicate_of, matched_at)
                   VALUES (?, 'china-russia-summit', ?, 1, 'in-person', ?, 0, 0, '[]', NULL, ?)""",
                [article_id, event_id, day, stamp],
            )


def _runs(storage: Storage, count: int) -> None:
    """A crawl run per source every 15 minutes, one for every ten articles in all."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for number in range(count // 10):
        finished = start + timedelta(minutes=15 * (number // 4))
        storage.db.execute(
            """INSERT INTO crawl_runs (source, started_at, finished_at, pages,
                   articles_fetched, new_articles, errors, error_messages, outcome)
               VALUES (?, ?, ?, 3, 2, ?, 0, '[]', 'ok')""",
            [
                SOURCES[number % 4],
                (finished - timedelta(seconds=20)).isoformat(),
                finished.isoformat(),
                number % 3,
            ],
        )
    for source in SOURCES:
        storage.db.execute(
            "INSERT INTO source_state (source, last_run_at, last_success_at) VALUES (?, ?, ?)",
            [source, start.isoformat(), start.isoformat()],
        )


def median_run(command: str, config: Path, repeat: int) -> float:
    """Median wall time of the command as a subprocess (seconds); it must succeed."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(
            [str(NEWSMON), "--config", str(config), *command.split()],
            capture_output=True,
            text=True,
        )
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"newsmon {command}: exit {done.returncode}: {done.stderr}")
    return statistics.median(times)


def search_medians(database: Path, repeat: int) -> dict[str, float]:
    """Median time of ``Storage.search`` per query (seconds), after one warm-up."""
    found: dict[str, float] = {}
    with Storage(database) as storage:
        for query in QUERIES:
            storage.search(query, limit=20)
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                storage.search(query, limit=20)
                times.append(time.perf_counter() - started)
            found[query] = statistics.median(times)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1k and 10k articles")
    parser.add_argument("--repeat", type=int, default=7, help="runs per command (median)")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 100_000]
    results: dict[int, dict[str, float]] = {}
    searches: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="newsmon-startup-") as tmp:
        for size in sizes:
            database = Path(tmp) / f"{size}.db"
            started = time.perf_counter()
            populate(database, size)
            print(f"{size:,} articles written in {time.perf_counter() - started:.1f} s")
            config = Path(tmp) / f"{size}.yaml"
            shipped = (Path(__file__).resolve().parent.parent / "config.yaml").read_text()
            config.write_text(shipped.replace("data/newsmon.db", str(database)))
            results[size] = {c: median_run(c, config, args.repeat) for c in COMMANDS}
            searches[size] = search_medians(database, 21)
    header = " | ".join(f"{size:,} articles | vs --help" for size in sizes)
    lines = [
        "## Start-up (`bench/startup.py`)",
        "",
        machine(),
        "",
        f"Median of {args.repeat} runs, each command a subprocess on the shipped config. "
        "What every command that reads the config pays beyond `--help`: the imports of "
        "msgspec, PyYAML and the storage layer, and its queries; the digest adds Jinja2 "
        "(its templates' bytecode is cached between runs).",
        "",
        f"| command | {header} |",
        "| --- |" + " ---: | ---: |" * len(sizes),
    ]
    for command in COMMANDS:
        cells = []
        for size in sizes:
            took = results[size][command]
            cells += [f"{took * 1000:.0f} ms", f"{(took - results[size]['--help']) * 1000:+.0f} ms"]
        lines.append(f"| `newsmon {command}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "`Storage.search` in-process (what `search` runs once its imports are done), "
        "median of 21 after a warm-up, 20 results asked for:",
        "",
        "| query | " + " | ".join(f"{size:,} articles" for size in sizes) + " |",
        "| --- |" + " ---: |" * len(sizes),
    ]
    for query in QUERIES:
        cells = [f"{searches[size][query] * 1000:.1f} ms" for size in sizes]
        lines.append(f"| `{query}` | " + " | ".join(cells) + " |")
    markdown = "\n".join(lines)
    print(markdown)
    if args.write:
        write_section("startup", markdown)


if __name__ == "__main__":
    main()
