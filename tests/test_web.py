"""`newsmon serve`: the real command serving a crawled archive, read by HTTP and in a real
browser (Playwright driving Debian's chromium, no browser download).

The archive is one crawl of the replicas with an alert channel whose URL holds a password
and a feed URL that holds a key, beside a source that cannot be reached.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.demo.mailbox import free_port
from monitor.demo.replicas import ReplicaSites
from monitor.store import Storage
from tests.conftest import ROOT, Receiver, invoke

CHROMIUM = os.environ.get("NEWSMON_CHROMIUM", "/usr/bin/chromium")
# No first-run work, no update checks, no network of its own: the tests are offline.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "hunter2-channel-pw"
FEED_KEY = "feedkey-7c1d93"
DEADLINE = 60.0


@dataclass
class Served:
    base: str
    config: Path
    database: Path
    process: subprocess.Popen[bytes]
    receiver: Receiver

    def get(self, path: str, **params: str) -> tuple[int, str]:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        try:
            with urllib.request.urlopen(self.base + path + query, timeout=10) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def rows(self, query: str, **params: str) -> list[dict[str, Any]]:
        status, body = self.get(f"/newsmon/{query}.json", _shape="array", **params)
        assert status == 200, body
        return json.loads(body)  # type: ignore[no-any-return]


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, _replicas: ReplicaSites, crawl: Callable[..., Any]
) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("serve")
    for site in _replicas:
        site.reset()
    receiver = Receiver()
    config = yaml.safe_load(_replicas.config_yaml(str(directory / "newsmon.db")))
    config["sources"][0]["feeds"] = [f"{config['sources'][0]['feeds'][0]}?key=${{FEED_KEY}}"]
    config["sources"].append(
        {"name": "gone-site", "feeds": [f"http://127.0.0.1:{free_port()}/feed"], "every": "1h"}
    )
    channel = receiver.url.replace("json://", f"json://watcher:{PASSWORD}@")
    config["notify"] = {"alerts": [channel], "max_age": 0}
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    os.environ["FEED_KEY"] = FEED_KEY
    try:
        report = crawl(path)
    finally:
        del os.environ["FEED_KEY"]
    assert report.delivery.sent >= 4, report
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(path), "serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "FEED_KEY": FEED_KEY},
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: _answers(base + "/") or process.poll() is not None, "newsmon serve")
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        yield Served(base, path, directory / "newsmon.db", process, receiver)
    finally:
        process.terminate()
        process.wait(timeout=10)
        receiver.stop()


# -- what the pages show -------------------------------------------------------------


def test_events_are_listed_newest_first_with_their_languages_and_first_alert(
    served: Served,
) -> None:
    with Storage(served.database) as storage:
        stored = storage.events()
    rows = served.rows("events")
    assert [row["event"] for row in rows] == [event.id for event in stored]
    for row, event in zip(rows, stored, strict=True):
        assert row["participants"] == " – ".join(event.participants)
        assert row["articles"] == len(event.articles)
        languages = sorted({a.language or "?" for a in event.articles})
        assert row["languages"] == ", ".join(languages)
        assert row["first_alert"]  # every event was alerted (max_age 0)


@pytest.mark.parametrize("query", ["普京", "Путин", "Putin OR Xi", "konferensi video"])
def test_search_is_the_command_lines_search(served: Served, query: str) -> None:
    with Storage(served.database) as storage:
        expected = [hit.id for hit in storage.search(query, limit=100)]
        urls = [storage.article(article_id).url for article_id in expected]  # type: ignore[union-attr]
    assert expected, f"the archive has no {query}"
    assert [row["url"] for row in served.rows("search", q=query)] == urls


def test_a_failing_source_shows_since_when(served: Served) -> None:
    rows = {row["source"]: row for row in served.rows("sources")}
    gone = rows["gone-site"]
    assert gone["health"] == "FAILING"
    assert gone["failing_since"] and gone["last_success_at"] is None
    assert rows["kremlin-en"]["health"] == "ok" and rows["kremlin-en"]["articles"] > 0
    assert next(iter(rows)) == "gone-site"  # failing sources first


def test_alerts_show_delivery_state_and_the_channel_masked(served: Served) -> None:
    rows = served.rows("alerts")
    assert rows and {row["state"] for row in rows} == {"sent"}
    port = served.receiver.server.server_address[1]
    assert all(f"127.0.0.1:{port}/hook" in row["channel"] for row in rows)
    assert all(PASSWORD not in row["channel"] for row in rows)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/newsmon",
        "/newsmon/events",
        "/newsmon/alerts",
        "/newsmon/sources",
        "/newsmon/crawl_runs.json",
        "/newsmon/source_state",
        "/newsmon/articles.json",
        "/-/event/1",
    ],
)
def test_no_page_shows_a_secret(served: Served, path: str) -> None:
    status, body = served.get(path)
    assert status == 200, body
    assert PASSWORD not in body and FEED_KEY not in body


@pytest.mark.parametrize(
    "path",
    [
        "/newsmon/outbox",
        "/newsmon/validators.json",
        "/newsmon.db",
        "/newsmon.json?sql=select+url+from+validators",
        "/newsmon?sql=select+channel+from+outbox",
    ],
)
def test_raw_tables_arbitrary_sql_and_the_file_are_refused(served: Served, path: str) -> None:
    with Storage(served.database) as storage:
        feeds = [row[0] for row in storage.db.execute("SELECT url FROM validators")]
    assert any(FEED_KEY in url for url in feeds)  # there is a secret to leak
    status, body = served.get(path)
    assert status == 403
    assert FEED_KEY not in body


def test_an_unknown_event_is_not_found(served: Served) -> None:
    assert served.get("/-/event/99999")[0] == 404


def test_serve_without_a_database_says_so(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {tmp_path / 'none.db'}\n", encoding="utf-8")
    run = invoke("serve", config=config)
    assert run.returncode == 2
    assert "no database at" in run.stderr and not (tmp_path / "none.db").exists()


def test_it_writes_nothing_and_sees_what_others_write(served: Served) -> None:
    """Read-only, not immutable: a crawl writing beside the server is seen at once."""
    before = served.database.read_bytes()
    for query in ("events", "sources", "alerts"):
        served.rows(query)
    served.rows("search", q="普京")
    assert served.database.read_bytes() == before
    with Storage(served.database) as storage, storage.write():
        storage.db.execute(
            "INSERT INTO articles (id, source, url, canonical_url, title, text, first_seen) "
            "VALUES ('late', 'kremlin-en', 'http://127.0.0.1:1/late', 'http://127.0.0.1:1/late', "
            "'Xylophonist summit', 'a late article', '2030-01-01T00:00:00+00:00')"
        )
    assert [row["title"] for row in served.rows("search", q="Xylophonist")] == [
        "Xylophonist summit"
    ]


# -- in a real browser -----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Not a skip: a web view nobody checks is how it breaks unseen. CI installs chromium
    # with `make browser`; elsewhere point NEWSMON_CHROMIUM at one.
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"no chromium at {CHROMIUM}: `make browser` installs Debian's "
            "(apt-get install chromium), or set NEWSMON_CHROMIUM to a chromium binary"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    opened = browser.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    opened.close()


def test_browser_the_events_page_lists_the_events_and_leads_to_each(
    served: Served, page: Any
) -> None:
    with Storage(served.database) as storage:
        stored = storage.events()
    page.goto(served.base + "/")
    page.get_by_role("link", name="Events").first.click()
    page.wait_for_url("**/newsmon/events")
    rows = page.locator("table.rows-and-columns tbody tr")
    assert rows.count() == len(stored)
    for row, event in zip(rows.all(), stored, strict=True):
        assert " – ".join(event.participants) in row.inner_text()
    page.get_by_role("link", name=f"#{stored[-1].id}", exact=True).click()
    page.wait_for_url(f"**/-/event/{stored[-1].id}")
    assert page.locator("h1").inner_text().startswith(f"#{stored[-1].id} ")


def test_browser_an_event_page_lists_its_articles_by_language_with_a_chart(
    served: Served, page: Any
) -> None:
    with Storage(served.database) as storage:
        event = max(storage.events(), key=lambda e: len({a.language for a in e.articles}))
    page.goto(f"{served.base}/-/event/{event.id}")
    for article in event.articles:
        assert page.get_by_role("link", name=article.title, exact=True).count() >= 1
    headings = page.locator(".newsmon-event h2").all_inner_texts()
    assert len(headings) == len({a.language for a in event.articles})
    bars = page.locator(".newsmon-chart .bar .count").all_inner_texts()
    assert sum(int(count) for count in bars if count) == len(event.articles)


@pytest.mark.parametrize("query", ["普京", "Путин"])
def test_browser_the_search_box_finds_articles(served: Served, page: Any, query: str) -> None:
    with Storage(served.database) as storage:
        titles = [hit.title for hit in storage.search(query, limit=100)]
    page.goto(served.base + "/newsmon/search")
    page.fill("input[name=q]", query)
    page.get_by_role("button", name="Run SQL").click()
    page.wait_for_url("**q=*")
    shown = page.locator("table.rows-and-columns tbody td.col-title").all_inner_texts()
    assert shown == titles and shown


def test_browser_a_failing_source_shows_on_the_sources_page(served: Served, page: Any) -> None:
    page.goto(served.base + "/newsmon/sources")
    row = page.locator("table.rows-and-columns tbody tr", has_text="gone-site")
    assert "FAILING" in row.inner_text()
    assert row.locator("td.col-failing_since").inner_text().strip() != ""
