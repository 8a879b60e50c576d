"""Prometheus metrics of the daemon, on an opt-in port (`newsmon run --metrics-port N`).

Owns the metric names and what moves them. What the daemon does is counted as it happens
(crawl runs, pages, new articles and errors per source, each crawl's duration, articles
judged and matched, events created); what the database knows is read at each scrape (the
last success of each source, and each channel's messages by delivery state), so those
are right across restarts and count what a `newsmon crawl` beside the daemon did too.
Channels are labelled by their masked URL, never the URL. The server binds 127.0.0.1
unless told otherwise: metrics name sources and channels.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from monitor.errors import StartError
from monitor.models import CrawlStats
from monitor.runner import MatchReport
from monitor.store import Storage

# A crawl of one source takes from under a second (an unchanged feed) to many minutes.
CRAWL_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)


class _Stored(Collector):
    """The gauges read from the database at each scrape."""

    def __init__(self, database: Path, channels: Mapping[str, str]) -> None:
        self.database = database
        self.channels = channels  # outbox key → masked URL

    def collect(self) -> Iterator[GaugeMetricFamily]:
        success = GaugeMetricFamily(
            "newsmon_last_success_timestamp_seconds",
            "When each source last crawled successfully (Unix time).",
            labels=["source"],
        )
        alerts = GaugeMetricFamily(
            "newsmon_alerts",
            "Messages per channel (masked) and delivery state: pending, retrying, sent, dead.",
            labels=["channel", "state"],
        )
        with Storage(self.database) as storage:  # this scrape's thread, its own connection
            for source, moment in sorted(storage.last_successes().items()):
                success.add_metric([source], moment.timestamp())
            for (key, state), count in sorted(storage.outbox_by_channel().items()):
                channel = self.channels.get(key, "no longer configured")
                alerts.add_metric([channel, state], count)
        yield success
        yield alerts


class Metrics:
    """The daemon's metrics, in a registry of their own."""

    def __init__(self, database: Path, channels: Mapping[str, str]) -> None:
        self.registry = CollectorRegistry()
        by_source: dict[str, Any] = {"labelnames": ["source"], "registry": self.registry}
        self.runs = Counter(
            "newsmon_crawl_runs",
            "Crawl runs per source and outcome (ok, failed, interrupted).",
            labelnames=["source", "outcome"],
            registry=self.registry,
        )
        self.pages = Counter("newsmon_pages", "Pages fetched per source.", **by_source)
        self.new_articles = Counter(
            "newsmon_new_articles", "New articles stored per source.", **by_source
        )
        self.errors = Counter("newsmon_crawl_errors", "Crawl errors per source.", **by_source)
        self.duration = Histogram(
            "newsmon_crawl_duration_seconds",
            "How long each crawl of a source took.",
            buckets=CRAWL_BUCKETS,
            **by_source,
        )
        self.checked = Counter(
            "newsmon_articles_checked", "Articles judged by the matcher.", registry=self.registry
        )
        self.matched = Counter(
            "newsmon_articles_matched",
            "Articles about a watched event.",
            registry=self.registry,
        )
        self.events = Counter("newsmon_events", "Events created.", registry=self.registry)
        self.registry.register(_Stored(database, channels))

    def crawled(self, stats: CrawlStats) -> None:
        source = stats.source
        self.runs.labels(source, stats.outcome).inc()
        self.pages.labels(source).inc(stats.pages)
        self.new_articles.labels(source).inc(stats.new_articles)
        self.errors.labels(source).inc(stats.errors)
        self.duration.labels(source).observe(stats.seconds)

    def judged(self, report: MatchReport) -> None:
        self.checked.inc(report.checked)
        self.matched.inc(report.matched)
        self.events.inc(len(report.new_events))

    def serve(self, host: str, port: int) -> Any:
        """Serve /metrics on a thread of its own; the server (``shutdown()`` stops it)."""
        try:
            server, _ = start_http_server(port, addr=host, registry=self.registry)
        except OSError as exc:
            raise StartError(f"metrics: cannot listen on {host}:{port}: {exc}") from exc
        return server
