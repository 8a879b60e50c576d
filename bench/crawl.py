"""Crawl throughput end to end, beside what the same machine does without newsmon.

    .venv/bin/python bench/crawl.py [--quick] [--write]

A generated news site (30–80 KB pages: navigation, sidebars, scripts, and article text
made up from word lists, varied per page) is served behind a sitemap on 127.0.0.1. For
each N (300, 1,000 and 3,000; ``--quick``: 300) the same run measures:

- trafilatura alone: ``bare_extraction`` over the same HTML, one process (the limit);
  newsmon's own ``extract`` beside it, for what newsmon adds per page;
- trafilatura's CLI fetching the URL list: ``trafilatura -i urls.txt --parallel 8``;
- a hand-written Scrapy spider (bench/scrapy_peer.py: SitemapSpider, ``bare_extraction``
  in ``parse``, one SQLite row per article);
- ``newsmon crawl`` end to end in one process (delay 0, concurrency 8), then the same
  crawl again on the unchanged site (article fetches, time as a share of the first).

Peers run one after another, each a fresh process, so their ratios are comparable on a
shared machine; the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trafilatura
import yaml
from report import machine, write_section

from monitor.extract import extract
from monitor.models import Page

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

SECTIONS = [
    "World",
    "Politics",
    "Business",
    "Markets",
    "Technology",
    "Science",
    "Health",
    "Sport",
    "Culture",
    "Opinion",
    "Travel",
    "Weather",
    "Local",
    "Education",
]
PEOPLE = [
    "the minister",
    "the mayor",
    "a spokeswoman",
    "the committee chair",
    "the governor",
    "union leaders",
    "the central bank",
    "local residents",
    "the prosecutor",
    "researchers",
    "the coach",
    "the chief executive",
    "opposition MPs",
]
VERBS = [
    "said",
    "warned",
    "announced",
    "confirmed",
    "denied",
    "argued",
    "estimated",
    "promised",
    "suggested",
    "reported",
    "acknowledged",
    "insisted",
]
THINGS = [
    "the new budget",
    "the rail link",
    "water prices",
    "the harbour project",
    "the school reform",
    "wildfire season",
    "the election timetable",
    "grain exports",
    "the hospital merger",
    "interest rates",
    "the stadium lease",
    "flood defences",
    "the housing plan",
    "fuel subsidies",
    "the museum's collection",
    "bus fares",
]
PLACES = [
    "Northbridge",
    "Lake Arden",
    "Port Selwyn",
    "Eastmoor",
    "Kessler Valley",
    "Old Harrow",
    "Marrow Bay",
    "Fenwick",
    "Saltcombe",
    "Brightwater",
]
LINKERS = [
    "However,",
    "Meanwhile,",
    "Earlier this week,",
    "By contrast,",
    "In a statement,",
    "According to officials,",
    "Last year,",
    "On Tuesday,",
    "Critics say",
    "",
]
ADJECTIVES = [
    "sharp",
    "modest",
    "unexpected",
    "long-awaited",
    "controversial",
    "temporary",
    "record",
    "gradual",
    "costly",
    "widely expected",
]


def sentence(rng: random.Random) -> str:
    linker = rng.choice(LINKERS)
    words = (
        f"{linker} {rng.choice(PEOPLE)} in {rng.choice(PLACES)} {rng.choice(VERBS)} that "
        f"{rng.choice(THINGS)} would see a {rng.choice(ADJECTIVES)} change of "
        f"{rng.randint(2, 97)} per cent by {rng.choice(['spring', 'the autumn', '2027', 'March'])}"
    ).strip()
    if rng.random() < 0.4:
        words += f", after {rng.choice(PEOPLE)} said {rng.choice(THINGS)} was at risk"
    return words[0].upper() + words[1:] + "."


def headline(rng: random.Random) -> str:
    return (
        f"{rng.choice(PLACES)}: {rng.choice(PEOPLE).capitalize()} "
        f"{rng.choice(VERBS)} {rng.choice(ADJECTIVES)} plan for {rng.choice(THINGS)}"
    )


class Site:
    """``count`` article pages and a sitemap, generated once and served from memory.
    ``hits`` counts the requests per kind (sitemap, article, other)."""

    def __init__(self, count: int, seed: int = 8) -> None:
        rng = random.Random(seed)
        self.count = count
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        start = datetime(2026, 3, 1, 6, tzinfo=UTC)
        self.paths = [
            f"/{SECTIONS[n % len(SECTIONS)].lower()}/2026/{n // 1000:02d}/story-{n}.html"
            for n in range(count)
        ]
        self.pages = {
            path: self._page(rng, path, start + timedelta(minutes=37 * n))
            for n, path in enumerate(self.paths)
        }
        self.sitemap = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(
                f"<url><loc>{self.base}{path}</loc>"
                f"<lastmod>{(start + timedelta(minutes=37 * n)).isoformat()}</lastmod></url>"
                for n, path in enumerate(self.paths)
            )
            + "</urlset>"
        ).encode()
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def _page(self, rng: random.Random, path: str, published: datetime) -> bytes:
        size = rng.randint(30_000, 80_000)
        title = headline(rng)
        paragraphs = "".join(
            f"<p>{' '.join(sentence(rng) for _ in range(rng.randint(2, 6)))}</p>"
            for _ in range(rng.randint(6, 22))
        )
        nav = "".join(f'<li><a href="/{s.lower()}/">{s}</a></li>' for s in SECTIONS)
        head = (
            f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | '
            f'The Harbour Gazette</title><meta property="og:title" content="{title}">'
            f'<meta property="article:published_time" content="{published.isoformat()}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "'
            f'{title}", "datePublished": "{published.isoformat()}"}}</script>'
            "<style>" + ".card{margin:0 0 1em}.nav a{padding:4px}" * 40 + "</style>"
            "<script>window.dataLayer=window.dataLayer||[];"
            + "".join(f"dataLayer.push({{'slot':{i},'zone':'top'}});" for i in range(60))
            + "</script></head>"
        )
        article = (
            f'<main><article class="story"><h1>{title}</h1>'
            f'<p class="byline">By {rng.choice(["Ana Ruiz", "Tom Okafor", "Mei Lin"])}, '
            f'<time datetime="{published.isoformat()}">{published:%d %B %Y}</time></p>'
            f'<div class="story-body">{paragraphs}</div></article></main>'
        )
        body = [
            f'<body><header class="site"><div class="brand">The Harbour Gazette</div>'
            f'<nav class="nav"><ul>{nav}</ul></nav>'
            f'<div class="ticker">Breaking: {headline(rng)}</div></header>{article}'
            '<aside class="sidebar"><h2>Most read</h2><ul>'
        ]
        length = len(head) + sum(map(len, body))
        while length < size - 600:  # teaser cards until the page has its size
            card = (
                f'<li class="card"><a href="/{rng.choice(SECTIONS).lower()}/2026/teaser-'
                f'{rng.randint(1, 10**6)}.html"><img src="/img/{rng.randint(1, 10**6)}.jpg" '
                f'alt=""><span>{headline(rng)}</span></a><p class="teaser">{sentence(rng)}</p>'
                "</li>"
            )
            body.append(card)
            length += len(card)
        body.append(
            f"</ul></aside><footer><ul>{nav}</ul><p>© 2026 The Harbour Gazette. "
            "All rights reserved.</p></footer></body></html>"
        )
        return (head + "".join(body)).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real server

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/sitemap.xml":
                    kind, body, ctype = "sitemap", site.sitemap, "application/xml"
                elif path in site.pages:
                    kind, body, ctype = "article", site.pages[path], "text/html; charset=utf-8"
                elif path == "/robots.txt":
                    kind, body, ctype = "other", b"User-agent: *\nAllow: /\n", "text/plain"
                else:
                    kind, body, ctype = "other", b"not found", "text/plain"
                with site.lock:
                    site.hits[kind] += 1
                self.send_response(404 if body == b"not found" else 200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler

    def urls(self) -> list[str]:
        return [self.base + path for path in self.paths]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def timed(command: list[str], **kwargs: object) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - started


def extraction_alone(site: Site, repeat: int) -> tuple[float, float]:
    """(pages/s of bare trafilatura, pages/s of newsmon's extract), one process."""
    pages = [(site.base + path, site.pages[path]) for path in site.paths]

    def bare() -> None:
        for url, html in pages:
            trafilatura.bare_extraction(html.decode(), url=url, with_metadata=True)

    def ours() -> None:
        for url, html in pages:
            extract(Page("bench", url, url, html, content_type="text/html; charset=utf-8"))

    ours()  # loads the language model
    rates = []
    for run in (bare, ours):
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        rates.append(len(pages) / statistics.median(times))
    return rates[0], rates[1]


def trafilatura_cli(site: Site, work: Path) -> float:
    """Its own settings, but for the two that would measure something else: no 5 s sleep
    between requests to a host (the others have delay 0 too), and 127.0.0.1 allowed."""
    urls = work / "urls.txt"
    urls.write_text("\n".join(site.urls()) + "\n")
    settings = (Path(trafilatura.__file__).parent / "settings.cfg").read_text()
    settings = re.sub(r"(?m)^SLEEP_TIME = .*$", "SLEEP_TIME = 0", settings)
    settings = re.sub(r"(?m)^SSRF_PROTECTION = .*$", "SSRF_PROTECTION = off", settings)
    (work / "trafilatura.cfg").write_text(settings)
    out = work / "trafilatura-out"
    seconds = timed(
        [
            str(BIN / "trafilatura"),
            "-i",
            str(urls),
            "--parallel",
            "8",
            "-o",
            str(out),
            "--config-file",
            str(work / "trafilatura.cfg"),
        ]
    )
    # past 1,000 files it writes into numbered subdirectories
    extracted = sum(path.is_file() for path in out.rglob("*"))
    assert extracted >= site.count * 0.99, f"trafilatura wrote {extracted} of {site.count}"
    return site.count / seconds


def scrapy_peer(site: Site, work: Path) -> float:
    database = work / "peer.db"
    seconds = timed(
        [
            sys.executable,
            str(ROOT / "bench" / "scrapy_peer.py"),
            f"{site.base}/sitemap.xml",
            str(database),
        ]
    )
    with sqlite3.connect(database) as conn:
        stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert stored == site.count, f"peer stored {stored} of {site.count}"
    return site.count / seconds


def crawl_seconds(database: Path) -> list[float]:
    with sqlite3.connect(database) as conn:
        rows = conn.execute("SELECT started_at, finished_at FROM crawl_runs ORDER BY id")
        return [
            (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
            for start, end in rows
        ]


def newsmon_crawl(site: Site, work: Path) -> dict[str, float]:
    """The first crawl (pages/s end to end and of the crawl stage), then the unchanged
    re-crawl (its article fetches, seconds, and share of the first)."""
    database = work / "newsmon.db"
    config = work / "config.yaml"
    source = {"name": "bench", "sitemaps": [f"{site.base}/sitemap.xml"], "every": "1h"}
    crawl = {"delay": 0, "concurrency_per_host": 8, "max_new_per_cycle": site.count}
    config.write_text(
        yaml.safe_dump(
            {
                "database": str(database),
                "sources": [source],
                "crawl": crawl,
                "notify": {"max_age": 0},
            }
        )
    )
    command = [str(BIN / "newsmon"), "--config", str(config), "crawl"]
    site.hits.clear()
    first = timed(command)
    fetched_first = site.hits["article"]
    with sqlite3.connect(database) as conn:
        stored = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert stored == site.count, f"newsmon stored {stored} of {site.count}"
    site.hits.clear()
    again = timed(command)
    stages = crawl_seconds(database)
    return {
        "rate": site.count / first,
        "crawl_rate": site.count / stages[0],
        "fetched": fetched_first,
        "refetched": site.hits["article"],
        "first": first,
        "again": again,
        "again_crawl": stages[1],
        "first_crawl": stages[0],
    }


def startup_seconds(work: Path) -> float:
    """`newsmon crawl` of a source with nothing to fetch (a sitemap with no URLs)."""
    empty = Site(0)
    try:
        config = work / "empty.yaml"
        source = {"name": "empty", "sitemaps": [f"{empty.base}/sitemap.xml"], "every": "1h"}
        config.write_text(
            yaml.safe_dump(
                {"database": str(work / "empty.db"), "sources": [source], "crawl": {"delay": 0}}
            )
        )
        return timed([str(BIN / "newsmon"), "--config", str(config), "crawl"])
    finally:
        empty.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="N = 300 only")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--sizes", type=int, nargs="*", help="override the N values")
    args = parser.parse_args()
    sizes = args.sizes or ([300] if args.quick else [300, 1000, 3000])
    loads = [os.getloadavg()[0]]
    rows = []
    with tempfile.TemporaryDirectory(prefix="newsmon-bench-crawl-") as tmp:
        work = Path(tmp)
        startup = startup_seconds(work)
        for count in sizes:
            site = Site(count)
            try:
                run = work / str(count)
                run.mkdir()
                alone, ours = extraction_alone(site, repeat=3 if count <= 1000 else 1)
                peer = scrapy_peer(site, run)
                cli = trafilatura_cli(site, run)
                ours_crawl = newsmon_crawl(site, run)
            finally:
                site.stop()
            loads.append(os.getloadavg()[0])
            rows.append((count, alone, ours, cli, peer, ours_crawl))
            print(f"N={count} done", file=sys.stderr)
    lines = [
        "## Crawl throughput (bench/crawl.py)",
        "",
        f"{machine()}; load average during the run {min(loads):.1f}–{max(loads):.1f}.",
        "Generated site on 127.0.0.1, 30–80 KB pages behind a sitemap; delay 0, "
        "concurrency 8; pages/s; × = newsmon crawl's rate over the column's.",
        "",
        "| N | trafilatura alone, 1 core | newsmon extract, 1 core | trafilatura CLI "
        "--parallel 8 | Scrapy + trafilatura peer | **newsmon crawl** (crawl stage) | "
        "× trafilatura alone | × CLI | × peer |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for count, alone, ours, cli, peer, crawl in rows:
        rate = crawl["rate"]
        lines.append(
            f"| {count:,} | {alone:.0f} | {ours:.0f} | {cli:.1f} | {peer:.0f} | "
            f"**{rate:.0f}** ({crawl['crawl_rate']:.0f}) | {rate / alone:.2f} | "
            f"{rate / cli:.1f} | {rate / peer:.2f} |"
        )
    lines += [
        "",
        f"Unchanged re-crawl (`newsmon crawl` start-up alone: {startup:.2f} s):",
        "",
        "| N | articles fetched, first / again | first crawl, s | again, s | crawl stage "
        "again / first |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for count, *_, crawl in rows:
        lines.append(
            f"| {count:,} | {crawl['fetched']:.0f} / {crawl['refetched']:.0f} | "
            f"{crawl['first']:.2f} | {crawl['again']:.2f} | "
            f"{crawl['again_crawl']:.2f} / {crawl['first_crawl']:.2f} s "
            f"({100 * crawl['again_crawl'] / crawl['first_crawl']:.1f} %) |"
        )
    markdown = "\n".join(lines)
    print(markdown)
    if args.write:
        write_section("crawl", markdown)


if __name__ == "__main__":
    main()
