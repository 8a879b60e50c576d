"""Write docs/serve.png: `newsmon serve` showing an event of the demo, in headless chromium.

Runs the demo into a temporary directory, serves its database with `newsmon serve`, and
photographs the event covered in the most languages (its articles by language and source,
and the per-day chart). Uses Debian's chromium (`make browser`); Chinese headlines need a
CJK font (Debian: fonts-wqy-zenhei). Run from the repository root:

    .venv/bin/python docs/make_serve_screenshot.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from monitor.demo.mailbox import free_port
from monitor.demo.walkthrough import run_demo
from monitor.store import Storage
from tests.test_web import CHROMIUM, CHROMIUM_ARGS

OUT = Path(__file__).resolve().parent / "serve.png"
ROOT = OUT.parent.parent


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="newsmon-shot-") as directory:
        workdir = Path(directory)
        run_demo(workdir, lambda line: None)
        with Storage(workdir / "newsmon.db") as storage:
            event = max(storage.events(), key=lambda e: len({a.language for a in e.articles}))
        port = free_port()
        config = str(workdir / "config.yaml")
        server = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", config, "serve", "--port", str(port)],
            cwd=ROOT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/", timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1000, "height": 760})
                page.goto(f"{base}/-/event/{event.id}")
                page.screenshot(path=str(OUT), full_page=False)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
