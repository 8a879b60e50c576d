"""How the sources are doing (pure: crawl facts in, verdicts and notice texts out).

A crawl is ok, failed (the source could not be read, or its pages not stored) or
interrupted (stopped mid-crawl: neither, so a shutdown never reads as a failing source).
A source is told as failing once, when its first failed crawl follows a success, and as
recovered once; one that answers but has long stopped yielding articles is told as
possibly broken (its pages may have changed shape). ``next_run`` is when a source is due,
for the daemon's schedule and for `newsmon status` alike.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.models import CrawlStats, SourceState

# "Much longer than usual" is never less than this, however often a source yields.
QUIET_MIN = timedelta(days=1)
# The crawls that say what is usual for a source.
QUIET_HISTORY = timedelta(days=60)


@dataclass(frozen=True)
class Notice:
    """A message about a source, queued once per subject."""

    subject: str
    title: str
    body: str


def quiet_since(
    productive: list[datetime], answering: int, now: datetime, every: timedelta
) -> datetime | None:
    """When a source that still answers last yielded a new article, if that is much
    longer ago than usual for it (a layout change that hides the articles); else None.

    ``productive``: when its crawls found new articles over ``QUIET_HISTORY``, oldest first;
    ``answering``: how many crawls got pages since the last of them. "Usual" is four times
    the median gap between productive crawls, and never less than three intervals
    (``every``) nor ``QUIET_MIN``; it needs three productive crawls.
    """
    if len(productive) < 3:
        return None
    gaps = sorted(b - a for a, b in itertools.pairwise(productive))
    usual = max(gaps[len(gaps) // 2] * 4, 3 * every, QUIET_MIN)
    return productive[-1] if now - productive[-1] > usual and answering else None


def notices(
    source: str,
    every: timedelta,
    stats: CrawlStats,
    failures_before: int,
    quiet: datetime | None,
) -> list[Notice]:
    """What to tell of one crawl: failing (after a success), recovered, possibly broken.
    An interrupted crawl tells nothing."""
    if stats.outcome == "interrupted":
        return []
    failed = stats.outcome == "failed"
    when = stats.started_at.strftime("%Y-%m-%d %H:%M UTC")
    told = []
    if failed and failures_before == 0:
        reason = stats.error_messages[0] if stats.error_messages else "no response"
        told.append(
            Notice(
                f"health:{source}:failing:{stats.started_at.isoformat()}",
                f"newsmon: source {source} failing since {when}",
                f"Source {source} could not be read at {when}: {reason}\n"
                f"newsmon keeps trying every {span(every)}; you will hear when it recovers.",
            )
        )
    elif not failed and failures_before > 0:
        told.append(
            Notice(
                f"health:{source}:recovered:{stats.started_at.isoformat()}",
                f"newsmon: source {source} recovered",
                f"Source {source} answered again at {when} after {failures_before} failed crawls.",
            )
        )
    if quiet is not None and not failed:
        told.append(
            Notice(
                f"health:{source}:quiet:{quiet.isoformat()}",
                f"newsmon: source {source} may be broken",
                f"Source {source} answers but has yielded no new article since "
                f"{quiet.strftime('%Y-%m-%d %H:%M UTC')}, much longer than usual: its pages "
                "may have changed shape.",
            )
        )
    return told


def span(delta: timedelta) -> str:
    """A duration as people write it in a status line: 15m, 2h, 90s, 3d."""
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if (seconds >= size and seconds % size == 0) or seconds >= 10 * size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def next_run(state: SourceState, every: timedelta, now: datetime) -> tuple[datetime, bool]:
    """When a source is due (now, if overdue or never crawled; never before the time the
    site asked for), and whether that is a retry: a failing source is tried again an
    interval after its last try."""
    asked = state.not_before or now
    if state.consecutive_failures and state.last_run_at:
        return max(now, asked, state.last_run_at + every), True
    if state.last_success_at:
        return max(now, asked, state.last_success_at + every), False
    return max(now, asked), False
