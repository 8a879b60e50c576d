"""Reads config.yaml once, at the edge, into typed objects (the keys are documented in the README).

Unknown keys and bad values fail here with the key's path; ``${VAR}`` is taken from
the environment (an unset variable is an error naming it); relative paths are
relative to the config file. Nothing else in newsmon reads the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import regex
import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Secrets shorter than this are not masked: they would mask ordinary words everywhere.
MIN_SECRET = 4
# A YAML alias stands for a whole subtree, so a short file can stand for a huge one
# ("billion laughs": 519 bytes hung loading for over a minute). PyYAML shares aliased
# values, so parsing is quick, but substitution and validation walk the expanded tree:
# its size is counted on the parsed nodes first. The shipped config has 71 values.
_MAX_VALUES = 100_000


def parse_duration(value: Any) -> timedelta:
    """'15m' → 15 minutes. A unit is required (a bare 15 was silently 15 seconds), except
    for 0, which means "none" wherever a duration can be switched off."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value == 0:
            return timedelta(0)
        raise ValueError(f"{value!r} needs a unit: {value}s, {value}m, {value}h or {value}d")
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 30s, 15m, 6h or 14d")
    return timedelta(seconds=float(match[1]) * _UNITS[match[2]])


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Politeness(_Strict):
    """How hard newsmon may hit one host; every key but ``extract_workers`` (the process's,
    shared by its sources) can be overridden per source."""

    delay: float = Field(1.0, ge=0, description="seconds between requests to one host")
    concurrency_per_host: int = Field(2, ge=1, le=32, description="parallel requests per host")
    obey_robots: bool = Field(True, description="honour robots.txt")
    user_agent: str = Field(
        "newsmon/0.1 (+https://github.com/newsmon/newsmon)",
        min_length=1,
        description="sent with every request; identify yourself",
    )
    timeout: float = Field(30.0, gt=0, le=600, description="seconds before a request fails")
    max_page_size: int = Field(
        16 * 1024 * 1024, gt=0, description="bytes; bigger pages (also decompressed) are dropped"
    )
    lookback: Duration = Field(
        timedelta(0),
        description="articles a feed or sitemap dates older than this are not fetched; 0 = all",
    )
    max_new_per_cycle: int = Field(
        300,
        ge=1,
        description="new article pages fetched per source and cycle; the rest, next cycle",
    )
    min_every: Duration = Field(
        timedelta(minutes=1),
        description="shortest `every` allowed for a site (loopback hosts are exempt)",
    )
    extract_workers: int = Field(
        0, ge=0, le=64, description="processes extracting pages, for all sources; 0 = one per core"
    )


class SourcePoliteness(_Strict):
    """Per-source overrides of the crawl defaults (unset keys inherit)."""

    delay: float | None = Field(None, ge=0)
    concurrency_per_host: int | None = Field(None, ge=1, le=32)
    obey_robots: bool | None = None
    user_agent: str | None = Field(None, min_length=1)
    timeout: float | None = Field(None, gt=0, le=600)
    max_page_size: int | None = Field(None, gt=0)
    lookback: Duration | None = None
    max_new_per_cycle: int | None = Field(None, ge=1)
    min_every: Duration | None = None


class Source(_Strict):
    """One news site (or section) to watch."""

    name: str = Field(pattern=r"^[a-z0-9-]+$")
    feeds: list[str] = Field(default_factory=list, description="RSS 2.0 / Atom feed URLs")
    sitemaps: list[str] = Field(default_factory=list, description="sitemaps or sitemap indexes")
    listings: list[str] = Field(default_factory=list, description="HTML pages linking to articles")
    follow: str | None = Field(None, description="regex an article URL must match")
    every: Duration = Field(timedelta(minutes=15), description="poll interval")
    language: str | None = Field(None, description="language hint (ISO 639-1)")
    crawl: SourcePoliteness = Field(default_factory=SourcePoliteness)
    # A source may override the politeness keys directly as well (see the README).
    delay: float | None = Field(None, ge=0)
    concurrency_per_host: int | None = Field(None, ge=1, le=32)
    obey_robots: bool | None = None
    user_agent: str | None = Field(None, min_length=1)
    lookback: Duration | None = None

    @field_validator("feeds", "sitemaps", "listings")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http(s) URL")
        return urls

    @field_validator("follow")
    @classmethod
    def _regex(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                # The crawler matches it with `regex` (it takes a timeout): same syntax here.
                regex.compile(pattern)
            except regex.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return pattern

    @field_validator("every")
    @classmethod
    def _positive(cls, every: timedelta) -> timedelta:
        if every.total_seconds() < 1:
            raise ValueError("must be at least 1s")
        return every

    @model_validator(mode="after")
    def _has_entry_points(self) -> Source:
        if not (self.feeds or self.sitemaps or self.listings):
            raise ValueError("a source needs at least one of feeds, sitemaps, listings")
        return self

    @property
    def start_urls(self) -> list[str]:
        return [*self.feeds, *self.sitemaps, *self.listings]

    @property
    def hosts(self) -> frozenset[str]:
        """host[:port] of every configured URL (without any user:password@): the only
        hosts articles are followed on."""
        return frozenset(urlsplit(url).netloc.lower().rsplit("@", 1)[-1] for url in self.start_urls)

    @property
    def on_loopback(self) -> bool:
        return all(
            (urlsplit(url).hostname or "") in ("localhost", "127.0.0.1", "::1")
            for url in self.start_urls
        )

    def politeness(self, defaults: Politeness) -> Politeness:
        """The crawl settings for this source: its overrides over the global defaults."""
        overrides = self.crawl.model_dump(exclude_none=True)
        for key in ("delay", "concurrency_per_host", "obey_robots", "user_agent", "lookback"):
            if getattr(self, key) is not None:
                overrides[key] = getattr(self, key)
        return defaults.model_copy(update=overrides)


class Notify(_Strict):
    """Where alerts and digests go (Apprise URLs) and which events are too old to alert."""

    alerts: list[str] = Field(default_factory=list, description="Apprise URLs for alerts")
    digest: list[str] = Field(default_factory=list, description="Apprise URLs for the digest")
    max_age: Duration = Field(
        timedelta(days=14), description="older events are stored but not alerted; 0 = no limit"
    )
    updates: bool = Field(
        False, description="also tell when an announced event is first reported as held"
    )
    templates: Path | None = Field(None, description="directory of templates overriding ours")
    max_attempts: int = Field(10, ge=1, le=100, description="tries before a message is dead")
    timeout: float = Field(
        30.0,
        gt=0,
        le=600,
        description="seconds a channel may take to accept a message (Apprise's own is 4)",
    )


class Schedule(_Strict):
    """When the daemon sends the weekly digest."""

    digest: str = Field("0 8 * * mon", description="cron expression, in `timezone`")
    timezone: str = "UTC"
    deliver_every: Duration = Field(
        timedelta(minutes=1), description="how often the daemon retries undelivered messages"
    )

    @field_validator("digest")
    @classmethod
    def _cron(cls, expr: str) -> str:
        if len(expr.split()) != 5:
            raise ValueError(f"{expr!r} is not a 5-field cron expression")
        if expr == cls.model_fields["digest"].default:
            return expr  # known good, and APScheduler takes 15 ms to import (asyncio with it)
        # The daemon builds its trigger the same way: what passes here starts there.
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(expr, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"{expr!r} is not a valid cron expression: {exc}") from None
        return expr

    @field_validator("timezone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name


class Config(_Strict):
    """The whole configuration."""

    database: Path = Path("data/newsmon.db")
    sources: list[Source] = Field(default_factory=list)
    topics: list[str | dict[str, Any]] = Field(
        default_factory=lambda: list[str | dict[str, Any]](["china-russia-summit"])
    )
    crawl: Politeness = Field(default_factory=Politeness)
    notify: Notify = Field(default_factory=Notify)
    schedule: Schedule = Field(default_factory=Schedule)
    _secrets: frozenset[str] = PrivateAttr(default_factory=frozenset)

    @property
    def secrets(self) -> frozenset[str]:
        """Every value that came from ``${VAR}`` and every user:password of a URL: what
        no log line, stored error or output may show."""
        return self._secrets

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[Source]) -> list[Source]:
        seen: set[str] = set()
        for source in sources:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} is used twice")
            seen.add(source.name)
        return sources

    @model_validator(mode="after")
    def _not_too_often(self) -> Config:
        for index, source in enumerate(self.sources):
            least = source.politeness(self.crawl).min_every
            if source.every < least and not source.on_loopback:
                raise ValueError(
                    f"sources.{index}.every: {source.every} is more often than "
                    f"crawl.min_every ({least}); set min_every for this source to allow it"
                )
        return self

    @property
    def warnings(self) -> list[str]:
        """What makes a valid config useless: it watches nothing or tells nobody."""
        found = []
        if not self.sources:
            found.append("no sources configured: nothing is watched")
        if not self.topics:
            found.append("no topics configured: nothing can match")
        if not self.notify.alerts:
            found.append("no alert channels (notify.alerts): events are stored but nobody is told")
        return found

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} (configured: {known})")


class _AliasBomb(yaml.YAMLError):
    """The document's aliases expand to more values than any config needs, or loop."""


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values ``node`` stands for with every alias expanded, counted without
    expanding: an aliased node is counted once and its size reused (0 = being counted)."""
    known = sizes.get(id(node))
    if known == 0:
        raise _AliasBomb(
            f"an alias refers to a value that contains it (line {node.start_mark.line + 1})"
        )
    if known is not None:
        return known
    sizes[id(node)] = 0
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = node.value
    elif isinstance(node, yaml.MappingNode):
        children = [item for pair in node.value for item in pair]
    total = 1
    for child in children:
        total += _expanded_size(child, sizes)
        if total > _MAX_VALUES:
            raise _AliasBomb(
                f"its aliases expand to more than {_MAX_VALUES:,} values (an alias bomb?)"
            )
    sizes[id(node)] = total
    return total


# libyaml's parser where PyYAML was built with it: the pure-Python one takes ~30 ms for
# config.yaml and ~150 ms for a topic with its shared words (monitor/topic.py uses it too).
try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]


class _ConfigLoader(SafeLoader):
    """PyYAML's safe loader that refuses a document whose aliases expand too far."""

    # get_single_node, not compose_document: libyaml's loader composes in C and calls
    # no Python method but this one.
    def get_single_node(self) -> yaml.Node | None:
        node = super().get_single_node()
        if node is not None:
            _expanded_size(node, {})
        return node


def _substitute(value: Any, env: Mapping[str, str], path: str, used: set[str]) -> Any:
    """Replace ${VAR} in every string of the parsed YAML; collect the values in ``used``."""
    if isinstance(value, dict):
        return {
            k: _substitute(v, env, f"{path}.{k}" if path else str(k), used)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_substitute(v, env, f"{path}[{i}]", used) for i, v in enumerate(value)]
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            name = match[1]
            if name not in env:
                raise ConfigError(f"{path}: environment variable {name} is not set")
            used.add(env[name])
            return env[name]

        return _VAR.sub(lookup, value)
    return value


def _userinfo(config: Config) -> set[str]:
    """user:password parts of every URL in the config, whole and each half."""
    found: set[str] = set()
    urls = [*config.notify.alerts, *config.notify.digest]
    for source in config.sources:
        urls += source.start_urls
    for url in urls:
        # the authority ends at the path, the query or the fragment: an address in the
        # query (mailto://host?from=a@example.org) is no user:password
        netloc = re.split(r"[/?#]", url.split("://", 1)[-1], maxsplit=1)[0]
        if "@" in netloc:
            userinfo = netloc.rsplit("@", 1)[0]
            found.add(userinfo)
            found.update(unquote(part) for part in userinfo.split(":", 1))
    return found


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key")
        else:
            lines.append(f"{where}: {item['msg']}")
    return "; ".join(lines)


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, substitute and validate a config file; raise ConfigError naming what is wrong."""
    path = Path(path)
    used: set[str] = set()
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_ConfigLoader)
        # as recursive as the parse (libyaml's 1,000 levels exhaust it): the same guard
        raw = _substitute(raw, os.environ if env is None else env, "", used)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None
    except _AliasBomb as exc:
        raise ConfigError(f"{path}: refused, {exc}") from None
    except yaml.MarkedYAMLError as exc:
        if exc.problem == "exceeded maximum nesting depth":  # libyaml's limit, 1,000 levels
            raise ConfigError(f"{path}: values nested too deeply") from None
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    except RecursionError:
        # Composing (pure-Python PyYAML) and substituting recurse per level of nesting:
        # thousands of `[` exhaust the stack.
        raise ConfigError(f"{path}: values nested too deeply") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc)}") from None
    if not config.database.is_absolute():
        config = config.model_copy(update={"database": path.parent.resolve() / config.database})
    templates = config.notify.templates
    if templates is not None and not templates.is_absolute():
        notify = config.notify.model_copy(update={"templates": path.parent.resolve() / templates})
        config = config.model_copy(update={"notify": notify})
    config._secrets = frozenset(v for v in used | _userinfo(config) if len(v) >= MIN_SECRET)
    return config
