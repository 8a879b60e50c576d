"""Meta-tests that keep the docs and the architecture honest."""

import ast
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


# Which packages/modules each module may import from (DESIGN.md layers). `crawler` sits
# beside the I/O adapters; only `monitor.runner` drives it.
PURE_CORE = {
    "monitor.models",
    "monitor.errors",
    "monitor.config",
    "monitor.extract",
    "monitor.digest",
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "monitor").rglob("*.py")) + sorted((ROOT / "crawler").rglob("*.py")),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_imports_flow_one_way(path: Path) -> None:
    name = module_name(path)
    imported = imports_of(path)
    if name.startswith("monitor.") and name not in {"monitor.runner", "monitor.cli"}:
        assert not any(m == "crawler" or m.startswith("crawler.") for m in imported), (
            f"{name} must not import the crawler; only monitor.runner drives it"
        )
    if name in PURE_CORE:
        io_modules = {"monitor.store", "monitor.runner", "monitor.cli", "scrapy", "sqlite3"}
        assert not imported & io_modules, (
            f"{name} is pure and must not import {imported & io_modules}"
        )
    if name.startswith("crawler."):
        assert not any(m in {"monitor.runner", "monitor.cli"} for m in imported)
