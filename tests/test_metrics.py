"""`newsmon run --metrics-port N`: a running daemon's /metrics, scraped as Prometheus would,
moving as the daemon crawls the replicas."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from monitor.demo.mailbox import free_port
from monitor.demo.replicas import ReplicaSites
from monitor.demo.walkthrough import LATER_SITE, publish_later
from tests.conftest import ROOT, Receiver
from tests.test_daemon import STOP_BOUND, daemon_config, stop, wait_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Samples:
    """Every sample of /metrics, by name and labels; empty while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return {}
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def sent(samples: Samples, channel: str) -> float:
    """Messages sent to the channel: it is labelled by its masked URL, with its options."""
    return sum(
        count
        for (name, labels), count in samples.items()
        if name == "newsmon_alerts"
        and ("state", "sent") in labels
        and dict(labels)["channel"].startswith(channel + "?")
    )


def test_a_running_daemons_metrics_move_with_each_cycle(tmp_path: Path, receiver: Receiver) -> None:
    log = tmp_path / "daemon.log"
    port = free_port()
    with ReplicaSites() as sites:
        path = daemon_config(sites, tmp_path, receiver, every="1h")
        config = yaml.safe_load(path.read_text())
        for source in config["sources"]:
            if source["name"] == LATER_SITE:
                source["every"] = "2s"  # the one source that runs again
        path.write_text(yaml.safe_dump(config))
        command = [sys.executable, "-m", "monitor", "--config", str(path)]
        with log.open("ab") as out:
            process = subprocess.Popen(
                [*command, "run", "--metrics-port", str(port)],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:

            def first_cycle_done() -> bool:
                samples = scrape(port)
                crawled = all(
                    value(samples, "newsmon_crawl_runs_total", source=name, outcome="ok")
                    for name in sites.names
                )
                judged = value(samples, "newsmon_articles_checked_total") == 33
                return crawled and judged and sent(samples, receiver.url) == 4

            wait_for(first_cycle_done, "the first cycle of every source, and its alerts")
            first = scrape(port)
            for name in sites.names:
                assert value(first, "newsmon_crawl_runs_total", source=name, outcome="ok") >= 1
                assert value(first, "newsmon_pages_total", source=name) > 0
                assert value(first, "newsmon_crawl_duration_seconds_count", source=name) >= 1
                assert value(first, "newsmon_last_success_timestamp_seconds", source=name) > 0
            new = sum(value(first, "newsmon_new_articles_total", source=n) for n in sites.names)
            assert new == 33
            assert value(first, "newsmon_articles_checked_total") == 33
            assert value(first, "newsmon_articles_matched_total") == 20
            assert value(first, "newsmon_events_total") == 4

            publish_later(sites.site(LATER_SITE))
            runs = value(first, "newsmon_crawl_runs_total", source=LATER_SITE, outcome="ok")

            def counted_and_judged() -> bool:
                # a crawl is counted when it ends, its articles' matching a moment later
                now = scrape(port)
                return (
                    value(now, "newsmon_new_articles_total", source=LATER_SITE)
                    == value(first, "newsmon_new_articles_total", source=LATER_SITE) + 1
                    and value(now, "newsmon_articles_checked_total") == 34
                )

            wait_for(counted_and_judged, "the new article counted and judged")
            later = scrape(port)
            assert value(later, "newsmon_crawl_runs_total", source=LATER_SITE, outcome="ok") > runs
            assert value(later, "newsmon_articles_matched_total") == 21
            assert value(later, "newsmon_events_total") == 4  # it joined an event
            others = [name for name in sites.names if name != LATER_SITE]
            assert all(
                value(later, "newsmon_crawl_runs_total", source=name, outcome="ok") == 1
                for name in others
            )
            assert stop(process) < STOP_BOUND
            assert process.returncode == 0, log.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert scrape(port) == {}  # the metrics stopped with the daemon


def test_a_metrics_port_in_use_stops_the_start(tmp_path: Path, receiver: Receiver) -> None:
    with ReplicaSites(["andalpost"]) as sites:
        path = daemon_config(sites, tmp_path, receiver, every="1h")
        taken = receiver.server.server_address[1]
        command = [sys.executable, "-m", "monitor", "--config", str(path), "run"]
        done = subprocess.run(
            [*command, "--metrics-port", str(taken)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert f"metrics: cannot listen on 127.0.0.1:{taken}" in done.stderr
