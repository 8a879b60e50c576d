"""Articles: storing what the crawl fetched, full-text search, and which articles each
topic has judged. Two FTS5 indexes stay in step with the table by triggers: unicode61 for
words, trigram for Chinese and inflected forms. A two-character Chinese term such as 普京,
below trigram length, is found through the trigram index too (``_substring_query``); only
other short terms ("Xi", 1 character) still need a scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from monitor.models import Article, StoredArticle
from monitor.store.schema import Connection, iso, now, parse
from monitor.text import CJK

# An article URL whose fetch failed (HTTP errors, timeouts, a refusing site) is tried
# again at each of the next crawls up to MAX_FETCH_ATTEMPTS, then every RETRY_EVERY until
# RETRY_FOR has passed since it first failed: five quick cycles of one outage (an hour
# of a 403 storm at a 15-minute interval) must not lose a day's articles for good.
MAX_FETCH_ATTEMPTS = 5
RETRY_EVERY = timedelta(hours=1)
RETRY_FOR = timedelta(days=3)
# of a fetch failure with MAX_FETCH_ATTEMPTS behind it: due for its hourly try now
_DUE = "(first_failed_at > ? AND last_attempt_at <= ?)"
# bm25's cost grows with the matches it ranks: a common word in a 100k archive matches
# tens of thousands of articles (130 ms to rank them all). Among so many, the newest are
# what a monitor's user wants; search ranks the newest this many of each index.
RANKED_AMONG = 2000

_QUERY_TOKEN = re.compile(r'"[^"]*"?|[^\s"]+')
_IN_TRIGRAM = "a.rowid IN (SELECT rowid FROM articles_trigram WHERE articles_trigram MATCH ?)"


def fts_expression(query: str) -> tuple[str, list[str], bool]:
    """A user's search as a safe FTS5 expression: (expression, its words, whether it is
    plain words only). Operators OR / NOT (upper case), "phrases" and prefix* are kept;
    everything else is a quoted word, so stray syntax never reaches FTS5."""
    parts: list[str] = []
    terms: list[str] = []
    plain = True
    for token in _QUERY_TOKEN.findall(query):
        if token in ("OR", "NOT", "AND"):
            # an operator needs a word on each side
            if parts and parts[-1] not in ("OR", "NOT", "AND"):
                parts.append(token)
            plain = False
            continue
        prefix = token.endswith("*") and not token.startswith('"')
        word = (token.strip('"').rstrip("*") if prefix else token.strip('"')).strip()
        if not word:
            continue
        plain = plain and not prefix and not token.startswith('"')
        terms.append(word)
        parts.append(_quoted(word) + ("*" if prefix else ""))
    while parts and parts[-1] in ("OR", "NOT", "AND"):
        parts.pop()
    return " ".join(parts), terms, plain


def _quoted(word: str) -> str:
    """A word as an FTS5 string: nothing in it is syntax."""
    return '"' + word.replace('"', '""') + '"'


@dataclass(frozen=True)
class NoText:
    """A fetched page without article text, as ``save_unextractable`` records it."""

    article_id: str
    source: str
    url: str
    canonical_url: str
    reason: str


def _stored(row: dict[str, Any]) -> StoredArticle:
    return StoredArticle(
        id=row["id"],
        source=row["source"],
        url=row["url"],
        title=row.get("title") or "",
        language=row.get("language"),
        published=parse(row.get("published")),
        first_seen=parse(row["first_seen"]),  # type: ignore[arg-type]
        text=row.get("text") or "",
        snippet=row.get("snippet") or "",
        duplicate_of=row.get("duplicate_of"),
        extract_error=row.get("extract_error"),
    )


class ArticleStore(Connection):
    def known_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of these article ids need no fetching: stored, or given up on."""
        wanted = list(set(ids))
        known: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            known.update(
                row[0]
                for row in self.db.execute(
                    f"SELECT id FROM articles WHERE id IN ({marks}) UNION "
                    f"SELECT id FROM fetch_failures WHERE id IN ({marks}) AND attempts >= ? "
                    f"AND NOT {_DUE}",
                    [*chunk, *chunk, MAX_FETCH_ATTEMPTS, *self._due()],
                )
            )
        return known

    def retry_urls(self, source: str) -> list[str]:
        """Article URLs of this source whose fetch failed and that are still worth retrying."""
        rows = self.db.execute(
            f"SELECT url FROM fetch_failures WHERE source = ? AND (attempts < ? OR {_DUE}) "
            "AND id NOT IN (SELECT id FROM articles) ORDER BY last_attempt_at",
            [source, MAX_FETCH_ATTEMPTS, *self._due()],
        )
        return [row[0] for row in rows]

    @staticmethod
    def _due() -> tuple[str | None, str | None]:
        """The bounds of ``_DUE`` now: first failed within RETRY_FOR, last tried before
        RETRY_EVERY."""
        moment = now()
        return iso(moment - RETRY_FOR), iso(moment - RETRY_EVERY)

    def save_article(self, article: Article) -> bool:
        """Store an article; True when it is new. A repeat of a stored URL changes nothing.

        The same text under another URL (a print view, a syndicated copy) is kept, so
        its URL is not fetched again, but marked as a duplicate of the first.
        """
        with self.write():
            original = self.db.execute(
                "SELECT id FROM articles WHERE content_hash = ? AND id != ? "
                "AND duplicate_of IS NULL ORDER BY rowid LIMIT 1",
                [article.content_hash, article.id],
            ).fetchone()
            cursor = self.db.execute(
                """INSERT INTO articles (id, source, url, canonical_url, title, text, language,
                       published, author, content_hash, first_seen, duplicate_of)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(id) DO NOTHING""",
                [
                    article.id,
                    article.source,
                    article.url,
                    article.canonical_url,
                    article.title,
                    article.text,
                    article.language,
                    iso(article.published),
                    article.author,
                    article.content_hash,
                    iso(now()),
                    original[0] if original else None,
                ],
            )
            self.db.execute("DELETE FROM fetch_failures WHERE id = ?", [article.id])
        return cursor.rowcount == 1 and original is None

    def save_pages(self, pages: Sequence[Article | NoText]) -> list[bool]:
        """Store a batch of fetched pages in one transaction (one commit instead of one per
        page); for each, True when it is a new article (``save_article``). A failure stores
        none of them."""
        with self.write():
            return [
                self.save_article(page) if isinstance(page, Article) else self._no_text(page)
                for page in pages
            ]

    def _no_text(self, page: NoText) -> bool:
        self.save_unextractable(
            page.article_id, page.source, page.url, page.canonical_url, page.reason
        )
        return False

    def save_unextractable(
        self, article_id: str, source: str, url: str, canonical_url: str, reason: str
    ) -> None:
        """Record a fetched page that had no article text, so it is neither lost nor refetched."""
        row = {
            "id": article_id,
            "source": source,
            "url": url,
            "canonical_url": canonical_url,
            "first_seen": iso(now()),
            "extract_error": reason,
        }
        with self.write():
            self.db.table("articles").insert(row, ignore=True)
            self.db.table("fetch_failures").delete_where("id = ?", [article_id])

    def record_fetch_failure(self, article_id: str, source: str, url: str, error: str) -> None:
        """Count a failed article fetch; it is retried on later crawls (see RETRY_FOR)."""
        with self.write():
            self.db.execute(
                """INSERT INTO fetch_failures (id, source, url, attempts, last_error,
                       last_attempt_at, first_failed_at) VALUES (?, ?, ?, 1, ?, ?, ?)
                   ON CONFLICT(id) DO UPDATE SET attempts = attempts + 1,
                       last_error = excluded.last_error,
                       last_attempt_at = excluded.last_attempt_at""",
                [article_id, source, url, error, iso(now()), iso(now())],
            )

    def article(self, article_id: str) -> StoredArticle | None:
        rows = list(self.db.query("SELECT * FROM articles WHERE id = ?", [article_id]))
        return _stored(rows[0]) if rows else None

    def articles(self, source: str | None = None) -> list[StoredArticle]:
        """Every stored article (with text), oldest first."""
        where, values = ("WHERE source = ?", [source]) if source is not None else ("", [])
        query = f"SELECT * FROM articles {where} ORDER BY first_seen, rowid"
        return [_stored(row) for row in self.db.query(query, values)]

    def search(self, query: str, limit: int = 20) -> list[StoredArticle]:
        """Full-text search. The query may use ``OR``, ``NOT``, ``"a phrase"`` and
        ``prefix*``; every word is quoted (``fts_expression``), so no input is an FTS5
        syntax error. All words must match otherwise. The best by bm25 among each
        index's ``RANKED_AMONG`` most recently stored matches."""
        expression, terms, plain = fts_expression(query)
        if not terms:
            return []
        ranked: dict[str, StoredArticle] = {}
        plans = [("articles_fts", expression)]
        # trigram needs every term to be at least three characters long
        if all(len(term) >= 3 for term in terms):
            plans.append(("articles_trigram", expression))
        for table, match in plans:
            if len(ranked) >= limit:  # what a second index finds would come after these
                break
            # Ranked first, without snippets (SQLite would make one for every match);
            # then the snippet of each of the few kept, looked up by rowid.
            best = self.db.execute(
                f"""SELECT hit.rowid FROM (
                        SELECT rowid, bm25({table}) AS score FROM {table} WHERE {table} MATCH ?
                        ORDER BY rowid DESC LIMIT {RANKED_AMONG}) hit
                    JOIN articles a ON a.rowid = hit.rowid
                    WHERE a.duplicate_of IS NULL ORDER BY hit.score LIMIT ?""",
                [match, limit],
            ).fetchall()
            for (rowid,) in best:
                for row in self.db.query(
                    f"""SELECT a.id, a.source, a.url, a.title, a.language, a.published,
                               a.first_seen, snippet({table}, 1, '[', ']', '…', 12) AS snippet
                        FROM {table} JOIN articles a ON a.rowid = {table}.rowid
                        WHERE {table} MATCH ? AND {table}.rowid = ?""",
                    [match, rowid],
                ):
                    ranked.setdefault(row["id"], _stored(row))
        # Short terms escape both indexes: every word as a substring, newest first. When
        # all are three characters or more, the trigram index has found all there is.
        if len(ranked) < limit and plain and any(len(term) < 3 for term in terms):
            for row in self.db.query(*self._substring_query(terms, limit)):
                ranked.setdefault(row["id"], _stored(row))
        return list(ranked.values())[:limit]

    def _substring_query(self, terms: list[str], limit: int) -> tuple[str, list[Any]]:
        """The articles containing every term (``LIKE``), on the rows an index allows.

        A term of three characters or more is in the trigram index. A two-character
        Chinese one is in every trigram it begins (read from the index's vocabulary),
        unless it ends the title or the text (the indexes on a field's last two
        characters). Only other short terms leave the scan to ``LIKE`` alone.
        """
        where = ["a.extract_error IS NULL", "a.duplicate_of IS NULL"]
        values: list[Any] = []
        for term in terms:
            if len(term) >= 3:
                where.append(_IN_TRIGRAM)
                values.append(_quoted(term))
            elif len(term) == 2 and len(CJK.findall(term)) == 2:
                trigrams = [
                    row[0]
                    for row in self.db.execute(
                        "SELECT term FROM articles_trigram_vocab WHERE term >= ? AND term < ?",
                        [term, term[0] + chr(ord(term[1]) + 1)],
                    )
                ]
                ends = "substr(a.title, -2) = ? OR substr(a.text, -2) = ?"
                if trigrams:
                    where.append(f"({_IN_TRIGRAM} OR {ends})")
                    values.append(" OR ".join(map(_quoted, trigrams)))
                else:
                    where.append(f"({ends})")
                values += [term, term]
            where.append("(a.title || ' ' || a.text) LIKE ?")
            values.append(f"%{term}%")
        sql = f"""SELECT a.id, a.source, a.url, a.title, a.language, a.published,
                         a.first_seen, substr(a.text, 1, 120) AS snippet
                  FROM articles a WHERE {" AND ".join(where)}
                  ORDER BY a.first_seen DESC LIMIT ?"""
        return sql, [*values, limit]

    # -- conditional GET ---------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Totals for `newsmon status`, from the counts the triggers keep (m007)."""
        articles, unextractable, duplicates = self.db.execute(
            "SELECT coalesce(sum(readable), 0), coalesce(sum(unextractable), 0), "
            "coalesce(sum(duplicates), 0) FROM article_counts"
        ).fetchone()
        failures = self.db.execute(
            "SELECT count(*) FROM fetch_failures WHERE id NOT IN (SELECT id FROM articles)"
        ).fetchone()[0]
        return {
            "articles": articles,
            "unextractable": unextractable,
            "duplicates": duplicates,
            "fetch_failures": failures,
        }

    def fetch_failures(self) -> dict[str, tuple[int, int]]:
        """Per source, its articles whose fetch failed and are not stored: (still to be
        tried again, given up on after RETRY_FOR)."""
        rows = self.db.execute(
            "SELECT source, count(*) - sum(given_up), sum(given_up) FROM ("
            "  SELECT source, attempts >= ? AND first_failed_at <= ? AS given_up"
            "  FROM fetch_failures WHERE id NOT IN (SELECT id FROM articles)"
            ") GROUP BY source",
            [MAX_FETCH_ATTEMPTS, self._due()[0]],
        )
        return {source: (waiting, given_up) for source, waiting, given_up in rows}

    def unchecked_articles(self, topic: str) -> list[StoredArticle]:
        """Articles with text not yet judged for a topic, in the order they were found."""
        rows = self.db.query(
            """SELECT a.* FROM articles a
               LEFT JOIN article_checks c ON c.article_id = a.id AND c.topic = ?
               WHERE c.article_id IS NULL AND a.extract_error IS NULL
               ORDER BY a.first_seen, a.rowid""",
            [topic],
        )
        return [_stored(row) for row in rows]

    def is_checked(self, article_id: str, topic: str) -> bool:
        return (
            self.db.execute(
                "SELECT 1 FROM article_checks WHERE article_id = ? AND topic = ?",
                [article_id, topic],
            ).fetchone()
            is not None
        )

    def mark_checked(self, article_id: str, topic: str) -> None:
        with self.write():
            self.db.execute(
                "INSERT OR IGNORE INTO article_checks (article_id, topic) VALUES (?, ?)",
                [article_id, topic],
            )
