"""The configuration contract: what loads, and the messages for what does not."""

import re
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.errors import ConfigError
from tests.conftest import invoke, newsmon

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads_with_real_sources() -> None:
    config = load_config(ROOT / "config.yaml", env={})
    names = {source.name for source in config.sources}
    assert {"kremlin-en", "kremlin-ru", "andalpost"} <= names
    andalpost = config.source("andalpost")
    assert andalpost.feeds and andalpost.sitemaps
    assert config.database == ROOT / "data" / "newsmon.db"
    assert config.topics == ["china-russia-summit"]


def test_relative_database_path_is_relative_to_the_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "c.yaml"
    path.write_text("database: db/news.db\n")
    assert load_config(path, env={}).database == (tmp_path / "sub" / "db" / "news.db")


def test_environment_variables_are_substituted(tmp_path: Path) -> None:
    path = write(tmp_path, 'notify:\n  alerts: ["tgram://${BOT}/${CHAT}"]\n')
    config = load_config(path, env={"BOT": "123:abc", "CHAT": "42"})
    assert config.notify.alerts == ["tgram://123:abc/42"]


def test_unset_variable_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, 'notify:\n  alerts: ["tgram://${BOT_TOKEN}/1"]\n')
    with pytest.raises(ConfigError, match=r"notify\.alerts\[0\].*BOT_TOKEN is not set"):
        load_config(path, env={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "sources:\n  - name: a\n    feeds: [http://x/f]\n    colour: red\n",
            r"sources\.0\.colour: unknown key",
        ),
        ("crawl:\n  delay: -1\n", r"crawl\.delay"),
        (
            "sources:\n  - name: a\n    feeds: [http://x/f]\n    every: soon\n",
            r"sources\.0\.every.*not a duration",
        ),
        ("sources:\n  - name: Bad_Name\n    feeds: [http://x/f]\n", r"sources\.0\.name"),
        ("sources:\n  - name: a\n", r"needs at least one of feeds"),
        ("sources:\n  - name: a\n    feeds: [ftp://x/f]\n", r"not an http\(s\) URL"),
        (
            "sources:\n  - name: a\n    feeds: [http://x/f]\n  - name: a\n    feeds: [http://y/f]\n",
            r"used twice",
        ),
        (
            "sources:\n  - name: a\n    listings: [http://x/]\n    follow: '('\n",
            r"sources\.0\.follow.*regular expression",
        ),
        ("schedule:\n  timezone: Mars/Olympus\n", r"unknown time zone"),
        ("schedule:\n  digest: every monday\n", r"cron"),
        ("schedule:\n  digest: '0 8 * * funday'\n", r"schedule\.digest.*not a valid cron"),
        ("schedule:\n  digest: '99 8 * * mon'\n", r"schedule\.digest.*not a valid cron"),
        (
            "sources:\n  - name: a\n    feeds: [http://x/f]\n    every: 15\n",
            r"sources\.0\.every.*needs a unit: 15s, 15m",
        ),
        (
            "sources:\n  - name: a\n    feeds: [http://x.org/f]\n    every: 1s\n",
            r"sources\.0\.every.*more often than crawl\.min_every",
        ),
        ("notify:\n  max_age: 14\n", r"notify\.max_age.*needs a unit"),
        ("crawl:\n  extract_workers: -1\n", r"crawl\.extract_workers: expected int >= 0, got -1"),
        (
            "sources:\n  - name: a\n    feeds: [http://x/f]\n    crawl: {extract_workers: 2}\n",
            r"sources\.0\.crawl\.extract_workers: unknown key",
        ),
        ("[1, 2]\n", r"top level must be a mapping"),
        ("sources: [\n", r"not valid YAML"),
    ],
)
def test_bad_config_is_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), env={})


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_source_overrides_politeness(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "crawl:\n  delay: 2\n  user_agent: ua/1\n"
        "sources:\n  - name: a\n    feeds: [http://x:8080/f]\n    every: 2h\n    delay: 0.5\n"
        "    crawl: {obey_robots: false}\n",
    )
    config = load_config(path, env={})
    source = config.source("a")
    effective = source.politeness(config.crawl)
    assert (effective.delay, effective.obey_robots, effective.user_agent) == (0.5, False, "ua/1")
    assert source.every == timedelta(hours=2)
    assert source.hosts == frozenset({"x:8080"})
    with pytest.raises(ConfigError, match="no source named 'b'"):
        config.source("b")


def test_fast_polling_needs_loopback_or_an_explicit_override(tmp_path: Path) -> None:
    local = "sources:\n  - name: a\n    feeds: [http://127.0.0.1:8080/f]\n    every: 1s\n"
    assert load_config(write(tmp_path, local), env={}).sources[0].every == timedelta(seconds=1)
    allowed = (
        "sources:\n  - name: a\n    feeds: [http://x.org/f]\n    every: 30s\n"
        "    crawl: {min_every: 10s}\n"
    )
    assert load_config(write(tmp_path, allowed), env={}).sources[0].every.total_seconds() == 30
    assert load_config(write(tmp_path, "notify: {max_age: 0}\n"), env={}).notify.max_age == (
        timedelta(0)
    )


def test_secrets_are_every_substituted_value_and_url_password(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sources:\n  - name: a\n    feeds: ['http://reader:open-sesame@x.org/f?key=${KEY}']\n"
        "notify:\n  alerts: ['json://127.0.0.1:9/${HOOK}']\n",
    )
    config = load_config(path, env={"KEY": "k-123456", "HOOK": "hook-path-9", "UNUSED": "zzzz"})
    assert {"k-123456", "hook-path-9", "open-sesame"} <= config.secrets
    assert "zzzz" not in config.secrets
    assert config.sources[0].hosts == frozenset({"x.org"})


def test_an_address_in_a_url_query_is_not_a_password(tmp_path: Path) -> None:
    mail = "mailto://127.0.0.1:2525?from=newsmon@example.org&to=you@example.org"
    path = write(tmp_path, f"notify:\n  alerts: ['{mail}', 'mailtos://me:pw-9876@mx.org']\n")
    secrets = load_config(path, env={}).secrets
    assert "pw-9876" in secrets
    assert not any("127.0.0.1" in secret for secret in secrets)


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("sources: []\n", "no sources configured"),
        ("topics: []\n", "no topics configured"),
        ("notify: {alerts: []}\n", "no alert channels"),
    ],
)
def test_a_config_that_watches_nothing_or_tells_nobody_warns(
    tmp_path: Path, text: str, warning: str
) -> None:
    assert any(warning in line for line in load_config(write(tmp_path, text), env={}).warnings)


def test_compiled_topics_are_kept_until_a_topic_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import shutil

    from monitor import topic

    builtin = tmp_path / "topics"
    shutil.copytree(topic.BUILTIN_DIR, builtin)
    monkeypatch.setattr(topic, "BUILTIN_DIR", builtin)
    monkeypatch.setattr(topic, "COMMON_DIR", builtin / "common")
    first = topic.load_topics(["china-russia-summit"])
    assert topic.load_topics(["china-russia-summit"])[0] is first[0]
    path = builtin / "china-russia-summit.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\ndescription: changed\n", encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    changed = topic.load_topics(["china-russia-summit"])
    assert changed[0] is not first[0] and changed[0].topic.description == "changed"


def test_a_bad_topic_stops_the_commands_that_match_not_those_that_read(tmp_path: Path) -> None:
    from tests.conftest import invoke

    config = write(tmp_path, f"database: {tmp_path / 'n.db'}\ntopics: [no-such-topic]\n")
    rematch = invoke("rematch", config=config)
    assert rematch.returncode == 2
    assert "no built-in topic 'no-such-topic'" in rematch.stderr
    assert invoke("status", config=config).returncode == 0
    assert invoke("search", "Putin", config=config).returncode == 0


def test_an_extending_topic_replaces_its_base() -> None:
    from monitor.topic import load_topics

    topics = load_topics(
        [
            "china-russia-summit",
            {
                "name": "china-russia-summit-plus",
                "extends": "china-russia-summit",
                "parties": [
                    {"name": "Xi Jinping", "aliases": {"en": ["the Chinese head of state"]}}
                ],
            },
        ]
    )
    assert [topic.name for topic in topics] == ["china-russia-summit-plus"]


def billion_laughs(levels: int) -> str:
    """Nine aliases per level: a few hundred bytes that stand for 9**levels strings."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "\n".join([*lines, f"topics: *l{levels - 1}", ""])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # as found by fault injection: loading it ran for over a minute
        (billion_laughs(9), r"aliases expand to more than 100,000 values"),
        (billion_laughs(6), r"aliases expand to more than 100,000 values"),
        ("sources: &loop [*loop]\n", r"alias refers to a value that contains it \(line 1\)"),
        ("sources: " + "[" * 5000 + "]" * 5000 + "\n", r"nested too deeply"),
    ],
    ids=["billion-laughs", "million-laughs", "alias-loop", "deep-nesting"],
)
def test_yaml_that_expands_without_bound_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    assert len(text.encode()) < 20_000
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), env={})


def test_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "crawl: &polite {delay: 3, obey_robots: false}\nsources:\n"
        + "".join(
            f"  - name: s{n}\n    feeds: [http://x/{n}]\n    crawl: {{<<: *polite, timeout: 5}}\n"
            for n in range(40)
        ),
    )
    config = load_config(path, env={})
    assert len(config.sources) == 40
    effective = config.source("s39").politeness(config.crawl)
    assert (effective.delay, effective.obey_robots, effective.timeout) == (3, False, 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "sources:\n  - name: a\n    feeds: [http://x/f\n  - name: b\n",
            "line 4, column 9: did not find expected ',' or ']' "
            "(while parsing a flow sequence at line 3, column 12)",
        ),
        (
            "crawl:\n  delay: 1\n   timeout: 3\n",
            "line 3, column 11: mapping values are not allowed",
        ),
        (
            'notify:\n  alerts: ["json://x\n',
            "line 3, column 1: found unexpected end of stream "
            "(while scanning a quoted scalar at line 2, column 12)",
        ),
        ("crawl:\n\tdelay: 1\n", "line 2, column 1: found character that cannot start any token"),
        ("crawl: {delay: 1}\x07\n", "unacceptable character #x0007"),
    ],
    ids=["unclosed-list", "bad-indent", "unclosed-quote", "tab", "control-character"],
)
def test_yaml_syntax_error_is_one_line_naming_the_line_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    run = invoke("status", config=path)
    assert run.returncode == 2
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"newsmon: error: {path}: not valid YAML: "), line
    assert message in line
    assert "Traceback" not in run.stderr


# -- issue 9: every bad shape is one line through the real command line ---------------------

BAD_SHAPES = {
    # (YAML syntax errors: test_yaml_syntax_error_is_one_line_naming_the_line_and_the_problem)
    # PyYAML keeps the last of two equal keys without a word
    "duplicate-top": (
        "crawl: {delay: 1}\ncrawl: {delay: 2}\n",
        r"line 2.*'crawl' is written twice",
    ),
    "duplicate-nested": ("crawl:\n  delay: 1\n  delay: 2\n", r"line 3.*'delay' is written twice"),
    "duplicate-in-source": (
        "sources:\n  - name: a\n    name: b\n    feeds: [http://x/f]\n",
        r"line 3.*'name' is written twice",
    ),
    # a wrong type at every level
    "top-scalar": ("just words\n", r"top level must be a mapping"),
    "sources-int": ("sources: 5\n", r"sources: expected array, got 5"),
    "source-str": ("sources: [a]\n", r"sources\.0: expected object, got 'a'"),
    "feeds-str": ("sources:\n  - name: a\n    feeds: 7\n", r"sources\.0\.feeds: expected array"),
    "feed-int": ("sources:\n  - name: a\n    feeds: [7]\n", r"sources\.0\.feeds\.0: 7 is not"),
    "crawl-list": ("crawl: [1]\n", r"crawl: expected object"),
    "timeout-str": ("crawl: {timeout: abc}\n", r"crawl\.timeout: expected float, got 'abc'"),
    "robots-str": ("crawl: {obey_robots: maybe}\n", r"crawl\.obey_robots: expected bool"),
    "alerts-str": ("notify: {alerts: tgram://x}\n", r"notify\.alerts: expected array"),
    "alert-int": ("notify: {alerts: [1]}\n", r"notify\.alerts\.0: expected str, got 1"),
    "schedule-list": ("schedule: []\n", r"schedule: expected object"),
    "database-list": ("database: [1]\n", r"database: \[1\] is not a path"),
    "unset-var": (
        "notify: {alerts: ['tgram://${NO_SUCH_TOKEN}/1']}\n",
        r"notify\.alerts\[0\].*NO_SUCH_TOKEN is not set",
    ),
}


@pytest.mark.parametrize(("text", "message"), BAD_SHAPES.values(), ids=BAD_SHAPES.keys())
def test_every_bad_shape_is_one_line_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    run = invoke("status", config=write(tmp_path, text))
    assert run.returncode == 2
    assert run.stdout == "" and "Traceback" not in run.stderr
    line = run.stderr.rstrip("\n")
    assert "\n" not in line, line
    assert line.startswith("newsmon: error: ") and re.search(message, line), line


def test_a_duplicate_key_is_refused_but_a_merge_may_be_overridden(tmp_path: Path) -> None:
    path = write(tmp_path, "base: &b {delay: 1}\ncrawl: {<<: *b, delay: 2}\n")
    with pytest.raises(ConfigError, match=r"base: unknown key"):  # past the duplicate check
        load_config(path, env={})
    path = write(tmp_path, "crawl: &b {delay: 1, timeout: 5}\nnotify: {}\n")
    assert load_config(path, env={}).crawl.delay == 1


@pytest.mark.parametrize("command", ["status", "crawl"])
def test_an_unwritable_database_path_is_one_line(tmp_path: Path, command: str) -> None:
    # A file where a directory must be: unwritable even for root (the tests may run as root).
    (tmp_path / "taken").write_text("x")
    run = newsmon(command, config=write(tmp_path, "database: taken/newsmon.db\n"))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1
    assert re.match(r"newsmon: error: cannot open database .*taken/newsmon\.db: ", run.stderr)


@pytest.mark.parametrize(
    "url", ["nosuchservice://bob:Hunter2Secret@host/", "tgram://Hunter2Secret", "mailto://"]
)
def test_a_bad_apprise_url_stops_the_crawl_at_start_masked(tmp_path: Path, url: str) -> None:
    config = write(tmp_path, f"database: db.sqlite\nnotify:\n  alerts: ['{url}']\n")
    run = newsmon("crawl", config=config)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "newsmon: error: notify.alerts[0]: not a usable Apprise URL" in run.stderr
    assert "Hunter2Secret" not in run.stdout + run.stderr
    assert not (tmp_path / "db.sqlite").exists()  # refused before anything was opened


def test_a_secret_in_the_wrong_place_is_not_shown_in_the_error(tmp_path: Path) -> None:
    path = write(tmp_path, "crawl:\n  timeout: ${BOT_TOKEN}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={"BOT_TOKEN": "123456:AAHsecretTOKEN"})
    assert "crawl.timeout: expected float, got '***'" in str(caught.value)
    assert "AAHsecretTOKEN" not in str(caught.value)
