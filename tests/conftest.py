"""Shared fixtures: the bundled replica sites on 127.0.0.1 and a way to run `newsmon`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.demo.replicas import ReplicaSites

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def newsmon(*args: str, config: Path | None = None, timeout: float = 120) -> Run:
    """Run the real command line in a fresh process (Scrapy's reactor starts once per process)."""
    command = [sys.executable, "-m", "monitor"]
    if config is not None:
        command += ["--config", str(config)]
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def sites() -> Iterator[ReplicaSites]:
    with ReplicaSites() as running:
        yield running


def write_config(sites: ReplicaSites, directory: Path, **extra: object) -> Path:
    path = directory / "config.yaml"
    path.write_text(sites.config_yaml(str(directory / "newsmon.db"), extra=extra or None))
    return path
