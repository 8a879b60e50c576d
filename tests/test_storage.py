"""The SQLite store: idempotent writes, search in every script, retry bookkeeping."""

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.errors import StorageError
from monitor.models import Article, CrawlStats, article_id
from monitor.store import MAX_FETCH_ATTEMPTS, RETRY_FOR, Storage
from monitor.store.articles import NoText


def make_article(url: str, title: str, text: str, language: str = "en") -> Article:
    return Article(
        id=article_id(url),
        source="s",
        url=url,
        canonical_url=url,
        title=title,
        text=text,
        language=language,
        published=datetime(2023, 3, 21, tzinfo=UTC),
        author=None,
        content_hash=f"hash-of-{text}",
    )


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    with Storage(tmp_path / "n.db") as store:
        yield store


def test_saving_an_article_twice_stores_it_once(storage: Storage) -> None:
    article = make_article("http://a/1", "Title", "Body")
    assert storage.save_article(article) is True
    assert storage.save_article(article) is False
    assert len(storage.articles()) == 1
    assert storage.known_ids([article.id, "other"]) == {article.id}


def test_same_text_under_another_url_is_a_duplicate(storage: Storage) -> None:
    storage.save_article(make_article("http://a/1", "Wire story", "same words"))
    assert storage.save_article(make_article("http://b/9", "Wire story", "same words")) is False
    rows = storage.articles()
    assert rows[1].duplicate_of == rows[0].id
    assert storage.counts()["duplicates"] == 1
    assert len(storage.search("Wire")) == 1


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("习近平", True),  # Chinese: no spaces, trigram
        ("普京", True),  # two characters: below trigram length
        ("Путин", True),  # finds the inflected Путина
        ("konferensi video", True),
        ("Biden", False),
        ('NOT "unbalanced', False),  # FTS syntax in user input is quoted, not parsed
        ("AND OR NEAR(", False),
    ],
)
def test_search_in_every_script(storage: Storage, query: str, found: bool) -> None:
    storage.save_article(
        make_article("http://a/zh", "习近平同普京举行视频会晤", "双方举行会谈", "zh")
    )
    storage.save_article(make_article("http://a/ru", "Переговоры", "Си Цзиньпин и Путина", "ru"))
    storage.save_article(
        make_article("http://a/id", "Xi bertemu", "melalui konferensi video", "id")
    )
    assert bool(storage.search(query)) is found


def test_a_two_character_chinese_term_is_found_through_the_indexes(storage: Storage) -> None:
    # Wherever the term stands: inside a text, ending a title, ending a text, a whole title.
    places = {
        "http://a/inside": ("外交新闻", "俄罗斯总统普京表示，会谈富有成果。"),
        "http://a/title-end": ("习近平会见普京", "双方举行会谈。"),
        "http://a/text-end": ("会谈", "双方会谈后会见了普京"),
        "http://a/whole": ("普京", ""),
    }
    for url, (title, text) in places.items():
        storage.save_article(make_article(url, title, text, "zh"))
    for number in range(300):
        storage.save_article(make_article(f"http://a/{number}", "新闻", f"其他新闻{number}", "zh"))
    assert {hit.url for hit in storage.search("普京")} == set(places)
    assert {hit.url for hit in storage.search("普京 会谈")} == set(places) - {"http://a/whole"}
    # none of it read from every article's text (LIKE alone, "SCAN a")
    for terms in (["普京"], ["普京", "会谈"], ["普京", "Putin"]):
        sql, values = storage._substring_query(terms, 20)
        plan = [row[3] for row in storage.db.execute(f"EXPLAIN QUERY PLAN {sql}", values)]
        assert not [step for step in plan if step.split()[:2] == ["SCAN", "a"]], plan


def test_status_counts_are_kept_in_step_without_counting_rows(storage: Storage) -> None:
    def counted() -> dict[str, int]:
        rows = "SELECT count(*) FROM articles WHERE"
        return {
            "articles": storage.db.execute(
                f"{rows} extract_error IS NULL AND duplicate_of IS NULL"
            ).fetchone()[0],
            "unextractable": storage.db.execute(f"{rows} extract_error IS NOT NULL").fetchone()[0],
            "duplicates": storage.db.execute(f"{rows} duplicate_of IS NOT NULL").fetchone()[0],
            "fetch_failures": 0,
        }

    storage.save_article(make_article("http://a/1", "One", "one"))
    storage.save_article(make_article("http://a/1", "One", "one"))  # a repeat: no change
    storage.save_article(make_article("http://a/2", "Two", "two"))
    storage.save_article(make_article("http://b/2", "Two", "two"))  # a duplicate
    storage.save_unextractable(article_id("http://a/3"), "s", "http://a/3", "http://a/3", "x")
    assert (
        storage.counts()
        == counted()
        == {
            "articles": 2,
            "unextractable": 1,
            "duplicates": 1,
            "fetch_failures": 0,
        }
    )
    assert storage.source_state("s").articles == 2
    with storage.write():  # what `rematch` and a re-extraction may do to stored rows
        storage.db.execute("UPDATE articles SET duplicate_of = NULL WHERE url = 'http://b/2'")
        storage.db.execute("DELETE FROM articles WHERE url = 'http://a/1'")
    assert storage.counts() == counted()
    assert storage.source_state("s").articles == 2
    plan = " ".join(
        row[3]
        for row in storage.db.execute(
            "EXPLAIN QUERY PLAN SELECT * FROM crawl_runs WHERE source = 's' "
            "ORDER BY id DESC LIMIT 1"
        )
    )
    assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan


def test_a_batch_keeps_the_rules_of_single_saves(storage: Storage) -> None:
    first = make_article("http://a/1", "Wire story", "same words")
    copy = make_article("http://b/9", "Wire story", "same words")
    no_text = NoText(article_id("http://a/2"), "wire", "http://a/2", "http://a/2", "no-text")
    assert storage.save_pages([first, copy, first, no_text]) == [True, False, False, False]
    rows = storage.articles()
    assert [row.duplicate_of for row in rows] == [None, first.id, None]
    assert rows[2].extract_error == "no-text"


def test_a_batch_that_fails_stores_nothing(storage: Storage) -> None:
    storage.db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN new.url = 'http://a/2' "
        "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    batch = [make_article("http://a/1", "One", "one"), make_article("http://a/2", "Two", "two")]
    with pytest.raises(StorageError):
        storage.save_pages(batch)
    assert storage.articles() == []


def test_failed_fetch_is_retried_then_given_up(storage: Storage) -> None:
    key = article_id("http://a/5")
    storage.record_fetch_failure(key, "s", "http://a/5", "HTTP 503")
    assert storage.retry_urls("s") == ["http://a/5"]
    assert key not in storage.known_ids([key])
    for _ in range(MAX_FETCH_ATTEMPTS - 1):
        storage.record_fetch_failure(key, "s", "http://a/5", "HTTP 503")
    assert storage.retry_urls("s") == []  # five crawls in a row failed: not the next one
    assert key in storage.known_ids([key])

    def failed(first: timedelta, last: timedelta) -> None:
        moment = datetime.now(UTC)
        with storage.write():
            storage.db.execute(
                "UPDATE fetch_failures SET first_failed_at = ?, last_attempt_at = ?",
                [(moment - first).isoformat(), (moment - last).isoformat()],
            )

    # an outage of hours (an hour of 403s at a 15-minute interval): tried again hourly
    failed(first=timedelta(hours=5), last=timedelta(minutes=61))
    assert storage.retry_urls("s") == ["http://a/5"]
    assert storage.fetch_failures() == {"s": (1, 0)}  # status: "1 to fetch again"
    assert key not in storage.known_ids([key])
    failed(first=timedelta(hours=5), last=timedelta(minutes=20))
    assert storage.retry_urls("s") == [] and key in storage.known_ids([key])
    # failing for longer than RETRY_FOR: given up
    failed(first=RETRY_FOR + timedelta(minutes=1), last=timedelta(hours=2))
    assert storage.retry_urls("s") == [] and key in storage.known_ids([key])
    assert storage.fetch_failures() == {"s": (0, 1)}  # status: "1 GIVEN UP"


def test_unextractable_page_is_recorded_with_its_reason(storage: Storage) -> None:
    key = article_id("http://a/empty")
    storage.save_unextractable(key, "s", "http://a/empty", "http://a/empty", "no-text")
    assert storage.article(key).extract_error == "no-text"  # type: ignore[union-attr]
    assert key in storage.known_ids([key])
    assert storage.counts() == {
        "articles": 0,
        "unextractable": 1,
        "duplicates": 0,
        "fetch_failures": 0,
    }


def test_crawl_runs_track_consecutive_failures(storage: Storage) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    run = CrawlStats(
        "s", start, start + timedelta(seconds=2), 0, 0, 0, 1, ("feed: HTTP 503",), "failed"
    )
    storage.record_crawl(run)
    storage.record_crawl(run)
    state = storage.source_state("s")
    assert (state.consecutive_failures, state.last_error, state.last_success_at) == (
        2,
        "feed: HTTP 503",
        None,
    )
    storage.record_crawl(CrawlStats("s", start, start, 3, 1, 1, 0))
    state = storage.source_state("s")
    assert state.consecutive_failures == 0 and state.last_success_at is not None
    assert state.last_run is not None and state.last_run.new_articles == 1


def test_an_interrupted_run_is_neither_a_success_nor_a_failure(storage: Storage) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    storage.record_crawl(CrawlStats("s", start, start, 3, 1, 1, 0))
    success = storage.source_state("s").last_success_at
    later = start + timedelta(hours=1)
    storage.record_crawl(CrawlStats("s", later, later, 40, 39, 39, 0, (), "interrupted"))
    state = storage.source_state("s")
    assert state.last_success_at == success  # so the source is due again at the next start
    assert state.consecutive_failures == 0
    assert state.last_run is not None and state.last_run.outcome == "interrupted"


def test_concurrent_writers_wait_instead_of_failing(tmp_path: Path) -> None:
    Storage(tmp_path / "n.db").close()
    errors: list[Exception] = []

    def writer(n: int) -> None:
        try:
            with Storage(tmp_path / "n.db") as store:
                for i in range(50):
                    store.save_article(make_article(f"http://a/{n}/{i}", "t", f"{n}-{i}"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Storage(tmp_path / "n.db") as store:
        assert len(store.articles()) == 200


def test_unwritable_database_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="cannot open database"):
        Storage(blocker / "sub" / "n.db")
