"""The SQLite database: the only package that speaks SQL, and it only stores facts.

One file per concern — the schema and its transactions (``schema``), articles and search
(``articles``), crawl runs and source state (``runs``), the outbox (``outbox``), events
and their matches (``events``) — joined in ``Storage``, one connection to one file.
Decisions are made before storing (``monitor.events``, ``monitor.health``).
"""

from __future__ import annotations

from monitor.store.articles import MAX_FETCH_ATTEMPTS, RETRY_FOR, ArticleStore, fts_expression
from monitor.store.events import EventStore
from monitor.store.outbox import CLAIM_LEASE
from monitor.store.runs import RunStore

__all__ = ["CLAIM_LEASE", "MAX_FETCH_ATTEMPTS", "RETRY_FOR", "Storage", "fts_expression"]


class Storage(ArticleStore, RunStore, EventStore):
    """One SQLite file. Create one per thread; only one should write at a time."""
