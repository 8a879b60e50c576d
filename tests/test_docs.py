"""Meta-tests that keep the docs and the architecture honest."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_and_is_in_the_readme(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert cli.commands[name].help
    assert f"newsmon {name}" in README


def test_readme_opens_with_the_two_commands() -> None:
    head = "\n".join(README.splitlines()[:8])
    assert "make demo" in head and "make test" in head


def test_importing_the_cli_does_not_import_scrapy_or_trafilatura() -> None:
    code = (
        "import sys, monitor.cli; "
        "heavy = [m for m in ('scrapy', 'trafilatura', 'twisted') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


# What a command must not import: what only other commands need (each costs tens of
# milliseconds; numpy comes with sqlite-utils, asyncio with APScheduler).
NOT_FOR_HELP = ["pydantic", "yaml", "sqlite3", "monitor.config", "monitor.store", "monitor.topic"]
NOT_FOR_STATUS = [
    *("scrapy", "trafilatura", "twisted", "apscheduler", "asyncio", "jinja2", "apprise"),
    *("sqlite_utils", "numpy", "ahocorasick", "opencc", "monitor.topic", "monitor.alerts"),
]


@pytest.mark.parametrize(
    ("command", "unwanted"),
    [(["--help"], NOT_FOR_HELP), (["status"], NOT_FOR_STATUS)],
    ids=["--help", "status"],
)
def test_a_command_imports_only_what_it_needs(
    tmp_path: Path, command: list[str], unwanted: list[str]
) -> None:
    from monitor.store import Storage

    Storage(tmp_path / "n.db").close()  # migrated: a new database needs sqlite-utils once
    config = tmp_path / "config.yaml"
    # a channel too: its secrets are Apprise's to find, but only once something logs
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config.write_text(
        text.replace("data/newsmon.db", str(tmp_path / "n.db")).replace(
            "alerts: []", "alerts: ['json://127.0.0.1:9/hook']"
        ),
        encoding="utf-8",
    )
    code = (
        "import sys\n"
        "from monitor.cli import main\n"
        f"sys.argv = ['newsmon', '--config', {str(config)!r}, *{command!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"print([m for m in {unwanted!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]", done.stdout


# Every module's layer: a module imports only from its own layer or those below, so data
# flows one way (extract → match → events → store → alerts / digest). The pure layers
# (0-3) touch no database, network or crawler. A new module must be given a layer here.
LAYERS = {
    # values
    "monitor.models": 0,
    "monitor.errors": 0,
    "monitor.text": 0,
    # pure: text and data in, decisions out
    "monitor.normalize": 1,
    "monitor.redact": 1,
    "monitor.config": 1,
    "monitor.dates": 1,
    "monitor.sites": 1,
    "monitor.sites.kremlin": 1,
    "monitor.sites.andalpost": 1,
    "monitor.extract": 1,
    "monitor.events": 1,
    "monitor.health": 1,
    "monitor.render": 1,
    "monitor.progress": 1,
    "monitor.topic": 2,
    "monitor.digest": 2,
    "monitor.matcher": 3,
    # adapters: the database, the channels, the web
    "monitor.store.schema": 4,
    "monitor.store.articles": 5,
    "monitor.store.runs": 5,
    "monitor.store.outbox": 5,
    "monitor.store.events": 6,
    "monitor.store": 7,
    "monitor.alerts": 8,
    "crawler.urls": 4,
    "monitor.locks": 4,
    "crawler.discover": 4,
    "crawler.middlewares": 5,
    "crawler.resolver": 5,
    "crawler.failures": 6,
    "crawler.extraction": 4,
    "crawler.warm": 4,
    "crawler.writer": 5,
    "crawler.pipelines": 5,
    "crawler.runner": 5,
    "crawler.settings": 5,
    "crawler.spider": 8,
    "crawler.backfill": 8,
    "crawler": 8,
    # the jobs, the daemon, the entry points
    "monitor.runner": 9,
    "monitor.inputs": 9,
    "monitor.scheduler": 10,
    "monitor.web": 10,
    "monitor.metrics": 10,
    "monitor.demo.mailbox": 10,
    "monitor.demo.replicas": 10,
    "monitor.demo.walkthrough": 11,
    "monitor.demo": 11,
    "monitor.cli": 12,
    "monitor": 12,
    "monitor.__main__": 13,
}
PURE = {name for name, layer in LAYERS.items() if layer <= 3}
IO = {"sqlite3", "sqlite_utils", "scrapy", "twisted", "apprise", "urllib.request", "socket"}
MODULES = sorted((ROOT / "monitor").rglob("*.py")) + sorted((ROOT / "crawler").rglob("*.py"))


def imports_of(path: Path) -> set[str]:
    """Every module an import line of the file names, at any depth of its code."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_has_a_layer() -> None:
    assert {module_name(path) for path in MODULES} == set(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_flow_one_way(path: Path) -> None:
    name = module_name(path)
    for imported in sorted(imports_of(path)):
        if imported in LAYERS:
            assert LAYERS[imported] <= LAYERS[name], (
                f"{name} (layer {LAYERS[name]}) imports {imported} (layer {LAYERS[imported]})"
            )
        if name in PURE:
            assert imported not in IO and imported.split(".")[0] not in IO, (
                f"{name} is pure but imports {imported}"
            )
        if name.startswith("monitor.") and name not in {"monitor.runner", "monitor.cli"}:
            # the crawler's URL rules serve the pages a user names too (monitor.inputs)
            allowed = name == "monitor.inputs" and imported == "crawler.urls"
            assert imported.split(".")[0] != "crawler" or allowed, (
                f"{name} must not import the crawler; only monitor.runner drives it"
            )


def test_every_test_docs_robustness_names_exists() -> None:
    """docs/robustness.md says which test proves each case: each must still be there."""
    text = (ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(tests/test_\w+\.py)::(test_\w+)`", text))
    assert len(named) > 30
    for path, name in sorted(named):
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", source, re.M), f"{path}::{name}"
