"""`newsmon backfill`: a source's older pages walked back to a date, on the bundled Kremlin
replica (an older listing page added with ``put``), through the real command line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crawler.backfill import next_page
from monitor.demo.replicas import ReplicaSite, ReplicaSites
from monitor.locks import source_lock
from monitor.models import article_id
from monitor.store import Storage
from tests.conftest import Receiver, newsmon, write_config

NEWS = "/events/president/news"
PAGE_1_ARTICLES = {"75391", "75380", "75230", "74040", "70670", "70658", "70412", "70255", "70171"}
# The older page 2: two articles on or after 2022-01-01, one before it (not to be fetched).
PAGE_2 = [("69001", "2022-09-15"), ("68500", "2022-02-04"), ("67800", "2021-12-15")]


def _older_page(site: ReplicaSite) -> None:
    """Page 2 of the listing, in page 1's markup, and its articles, made from one of page
    1's (its own id, title and date)."""
    template = (site.root / "events/president/news/70171").read_text(encoding="utf-8")
    items = []
    for number, day in PAGE_2:
        title = f"Working meeting number {number}"
        page = (
            template.replace("70171", number)
            .replace("2022-12-21", day)
            .replace("December 21, 2022", day)
            .replace("Ceremony to launch the Kovykta gas condensate field", title)
        )
        site.put(f"{NEWS}/{number}", page)
        items.append(
            f"""<h2 class="events__title"><time datetime="{day}">{day}</time></h2>
          <div class="hentry h-entry hentry_event" data-id="{number}">
            <h3 class="hentry__title hentry__title_special">
              <a href="{NEWS}/{number}" rel="bookmark">
                <span class="entry-title p-name">{title}</span></a>
              <time class="published dt-published" datetime="{day}T12:00:00+03:00">12:00</time>
            </h3>
          </div>"""
        )
    site.put(
        f"{NEWS}/page/2",
        f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>News</title></head>
<body><main class="main"><div class="events"><div class="events__list">
{"".join(items)}
</div><div class="pagination masha-ignore">
<a class="button button_prev" href="{NEWS}/page/1">Later</a>
<a class="button button_next" href="{NEWS}/page/3" rel="next">Earlier</a>
</div></div></main></body></html>""",
    )


def _fetched(site: ReplicaSite) -> list[str]:
    return [path.split("?")[0] for path in site.requests]


def _stored(database: Path, numbers: set[str], site: ReplicaSite) -> set[str]:
    ids = {article_id(site.url(f"{NEWS}/{number}")): number for number in numbers}
    with Storage(database) as storage:
        return {ids[key] for key in storage.known_ids(ids)}


def _stored_now(database: Path) -> list[str]:
    """The articles stored so far, read while another process writes (none before the
    database exists)."""
    if not database.exists():
        return []
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles'").fetchone():
            return []
        return [row[0] for row in db.execute("SELECT id FROM articles")]


def test_next_page_follows_each_sites_shape() -> None:
    assert next_page("https://x.org/events/president/news/page/2", "listing") == (
        "https://x.org/events/president/news/page/3"
    )
    assert next_page("https://x.org/feed/", "feed") == "https://x.org/feed/?paged=2"
    assert next_page("https://x.org/feed/?paged=4", "feed") == "https://x.org/feed/?paged=5"
    assert next_page("https://x.org/events/president/news/feed", "feed") == (
        "https://x.org/events/president/news/feed/page/2"
    )
    assert next_page("https://x.org/world/", "listing") is None


def test_an_atom_feed_names_its_older_page() -> None:
    from crawler.discover import feed_next

    atom = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>News</title>
<link rel="self" href="https://x.org/events/president/news/feed"/>
<link rel="next" href="/events/president/news/feed/page/2"/>
<entry><title>A</title><id>https://x.org/events/president/news/1</id>
<updated>2024-10-22T18:50:00+03:00</updated></entry></feed>"""
    assert feed_next(atom, "https://x.org/events/president/news/feed") == (
        "https://x.org/events/president/news/feed/page/2"
    )
    assert feed_next(atom.replace(b'rel="next"', b'rel="prev"'), "https://x.org/") is None


def test_listing_links_are_dated_by_their_own_time_only() -> None:
    from crawler.discover import listing_dates

    page = """<div class="events__list">
<h2 class="events__title"><time datetime="2024-10-22">October 22</time></h2>
<div class="hentry"><h3 class="hentry__title"><a href="/news/1">One</a>
<time class="published" datetime="2024-10-22T18:50:00+03:00">18:50</time></h3></div>
<div class="hentry"><h3><a href="/news/2">Two</a></h3></div>
</div><nav><a href="/about">About</a><a href="/news">News</a></nav>"""
    dates = listing_dates(page, "https://x.org/")
    assert {url: moment.isoformat() for url, moment in dates.items()} == {
        "https://x.org/news/1": "2024-10-22T18:50:00+03:00"
    }


def test_backfill_stops_at_the_date_and_alerts_no_old_event(
    sites: ReplicaSites, tmp_path: Path, receiver: Receiver
) -> None:
    site = sites.site("kremlin-en")
    _older_page(site)
    config = write_config(sites, tmp_path, notify={"alerts": [receiver.url]})
    done = newsmon("backfill", "--source", "kremlin-en", "--since", "2024-07-22", config=config)
    assert done.returncode == 0, done.stderr
    fetched = _fetched(site)
    # The quarter: page 1 reaches past the date, so page 2 is never asked for, nor any
    # article listed before the date.
    assert f"{NEWS}/page/2" not in fetched
    assert f"{NEWS}/70171" not in fetched and f"{NEWS}/74040" not in fetched
    assert _stored(tmp_path / "newsmon.db", PAGE_1_ARTICLES, site) == {"75391", "75380", "75230"}
    # Kazan, 2024-10-22: an event, stored, but older than notify.max_age: no alert.
    with sqlite3.connect(tmp_path / "newsmon.db") as db:
        events = db.execute("SELECT first_day FROM events").fetchall()
        queued = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    assert ("2024-10-22",) in events
    assert queued == 0 and receiver.posts == []
    assert "alerts: 0 sent" in done.stdout


def test_the_same_backfill_alerts_when_max_age_allows(
    sites: ReplicaSites, tmp_path: Path, receiver: Receiver
) -> None:
    """What held the alerts back above is notify.max_age, not the backfill."""
    config = write_config(sites, tmp_path, notify={"alerts": [receiver.url], "max_age": 0})
    done = newsmon("backfill", "--source", "kremlin-en", "--since", "2024-07-22", config=config)
    assert done.returncode == 0, done.stderr
    assert receiver.posts, done.stdout


def test_backfill_walks_older_pages_and_resumes_where_it_stopped(
    sites: ReplicaSites, tmp_path: Path
) -> None:
    site = sites.site("kremlin-en")
    _older_page(site)
    config = write_config(sites, tmp_path)
    database = tmp_path / "newsmon.db"
    site.fail(f"{NEWS}/page/2", 503)  # the walk stops there this time
    first = newsmon("backfill", "--source", "kremlin-en", "--since", "2022-01-01", config=config)
    assert first.returncode == 0, first.stderr
    assert _stored(database, {n for n, _ in PAGE_2}, site) == set()
    before = _fetched(site)
    site.fail(f"{NEWS}/page/2", None)
    site.clear_requests()
    again = newsmon("backfill", "--source", "kremlin-en", "--since", "2022-01-01", config=config)
    assert again.returncode == 0, again.stderr
    after = _fetched(site)
    # It went on at page 2: page 1 not read again, no stored article fetched again.
    assert f"{NEWS}/page/1" not in after and f"{NEWS}/page/2" in after
    assert not {path for path in after if path.rsplit("/", 1)[-1] in PAGE_1_ARTICLES} & set(before)
    assert _stored(database, {n for n, _ in PAGE_2}, site) == {"69001", "68500"}
    assert f"{NEWS}/67800" not in after and f"{NEWS}/page/3" not in after
    # Walked to the date: a third run reads no listing page.
    site.clear_requests()
    third = newsmon("backfill", "--source", "kremlin-en", "--since", "2022-01-01", config=config)
    assert third.returncode == 0, third.stderr
    assert not [path for path in _fetched(site) if "/page/" in path]


def test_backfill_refuses_a_source_being_crawled(sites: ReplicaSites, tmp_path: Path) -> None:
    config = write_config(sites, tmp_path)
    with source_lock(tmp_path / "newsmon.db", "kremlin-en", "daemon"):
        done = newsmon("backfill", "--source", "kremlin-en", "--since", "2024-07-22", config=config)
        status = newsmon("status", config=config)
    assert done.returncode == 2
    assert "kremlin-en is being crawled by daemon" in done.stderr
    assert not [path for path in sites.site("kremlin-en").requests if "/news/" in path]
    assert "BUSY: being crawled by daemon" in status.stdout


def test_wordpress_feed_pages_and_sitemap_index_back_to_the_date(
    sites: ReplicaSites, tmp_path: Path
) -> None:
    site = sites.site("andalpost")
    index = (site.root / "sitemap_index.xml").read_text(encoding="utf-8")
    # an older Yoast child sitemap: all its posts before the date
    old_child = (
        "<sitemap><loc>{{BASE}}/post-sitemap2.xml</loc>"
        "<lastmod>2021-06-01T08:00:00+00:00</lastmod></sitemap>"
    )
    site.put("/sitemap_index.xml", index.replace("</sitemapindex>", old_child + "</sitemapindex>"))
    config = write_config(sites, tmp_path)
    done = newsmon("backfill", "--source", "andalpost", "--since", "2023-01-01", config=config)
    assert done.returncode == 0, done.stderr
    asked = site.requests
    assert "/post-sitemap.xml" in asked and "/post-sitemap2.xml" not in asked
    # Every post of page 1 is on or after the date: page 2 is asked for. This replica,
    # like a site ignoring ?paged=, answers page 1 again: nothing new, the walk ends.
    assert "/feed/?paged=2" in asked and "/feed/?paged=3" not in asked
    assert "/xi-jinping-dan-putin-gelar-konferensi-video-jelang-tahun-baru/" not in asked
    assert "/xi-jinping-akan-kunjungi-rusia-pekan-depan-bertemu-putin/" in asked


def test_a_killed_backfill_goes_on_without_fetching_stored_articles(
    sites: ReplicaSites, tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys
    import time

    import yaml

    from tests.conftest import ROOT

    site = sites.site("kremlin-en")
    _older_page(site)
    data = yaml.safe_load(sites.config_yaml(str(tmp_path / "newsmon.db")))
    for source in data["sources"]:
        source.update(delay=0.4, concurrency_per_host=1)  # slow enough to stop midway
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data))
    command = [sys.executable, "-m", "monitor", "--config", str(config)]
    walk = [*command, "backfill", "--source", "kremlin-en", "--since", "2022-01-01"]
    process = subprocess.Popen(walk, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    database = tmp_path / "newsmon.db"
    deadline = time.monotonic() + 60
    while len(_stored_now(database)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    # Killed, as by a power cut or the OOM killer: only what the database holds survives.
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert f"{NEWS}/page/2" not in site.requests  # stopped before the older page
    stored = _stored(database, PAGE_1_ARTICLES, site)
    assert stored and stored != PAGE_1_ARTICLES
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM backfills WHERE done = 0").fetchone()[0] >= 1
    site.clear_requests()
    again = newsmon("backfill", "--source", "kremlin-en", "--since", "2022-01-01", config=config)
    assert again.returncode == 0, again.stderr
    assert not {f"{NEWS}/{number}" for number in stored} & set(site.requests)
    assert _stored(database, PAGE_1_ARTICLES | {"69001", "68500"}, site) == (
        PAGE_1_ARTICLES | {"69001", "68500"}
    )
