"""Reads config.yaml once, at the edge, into typed objects (the keys are documented in the README).

Unknown keys and bad values fail here with the key's path; ``${VAR}`` is taken from
the environment (an unset variable is an error naming it); relative paths are
relative to the config file. Nothing else in newsmon reads the environment.
"""

import os
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
import regex
import yaml

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


# The config's own value types: msgspec hands their raw YAML values to `_decode`, which
# checks and converts them, and reports a failure at the key's path.
class Duration(timedelta):
    """A duration written '30s', '15m', '6h' or '14d' (0 = none)."""


class HttpUrl(str):
    """An absolute http(s) URL."""


class Pattern(str):
    """A regular expression in the syntax of `regex` (the crawler matches with it)."""


class CronExpr(str):
    """A 5-field cron expression, as APScheduler's CronTrigger.from_crontab reads it."""


class TimeZoneName(str):
    """An IANA time zone name."""


def parse_duration(value: Any) -> Duration:
    """'15m' → 15 minutes. A unit is required (a bare 15 was silently 15 seconds), except
    for 0, which means "none" wherever a duration can be switched off."""
    if isinstance(value, timedelta):
        return Duration(seconds=value.total_seconds())
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value == 0:
            return Duration(0)
        raise ValueError(f"{value!r} needs a unit: {value}s, {value}m, {value}h or {value}d")
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 30s, 15m, 6h or 14d")
    return Duration(seconds=float(match[1]) * _UNITS[match[2]])


def _http_url(value: Any) -> HttpUrl:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return HttpUrl(value)


def _pattern(value: Any) -> Pattern:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a regular expression")
    try:
        # The crawler matches it with `regex` (it takes a timeout): same syntax here.
        regex.compile(value)
    except regex.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    return Pattern(value)


def _cron(value: Any) -> CronExpr:
    if not isinstance(value, str) or len(value.split()) != 5:
        raise ValueError(f"{value!r} is not a 5-field cron expression")
    if value != DEFAULT_DIGEST:  # known good, and APScheduler takes 15 ms to import
        # The daemon builds its trigger the same way: what passes here starts there.
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid cron expression: {exc}") from None
    return CronExpr(value)


def _zone(value: Any) -> TimeZoneName:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return TimeZoneName(value)


def _path(value: Any) -> Path:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{value!r} is not a path")
    return Path(value)


_DECODERS: dict[Any, Callable[[Any], Any]] = {
    Duration: parse_duration,
    HttpUrl: _http_url,
    Pattern: _pattern,
    CronExpr: _cron,
    TimeZoneName: _zone,
    Path: _path,
}


def _decode(kind: type, value: Any) -> Any:
    try:
        return _DECODERS[kind](value)
    except KeyError:
        raise NotImplementedError(kind) from None


class _Strict(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


DEFAULT_DIGEST = "0 8 * * mon"


class Politeness(_Strict, frozen=True):
    """How hard newsmon may hit one host; every key but ``extract_workers`` (the process's,
    shared by its sources) can be overridden per source."""

    delay: Annotated[
        float, msgspec.Meta(ge=0, description="seconds between requests to one host")
    ] = 1.0
    concurrency_per_host: Annotated[
        int, msgspec.Meta(ge=1, le=32, description="parallel requests per host")
    ] = 2
    obey_robots: Annotated[bool, msgspec.Meta(description="honour robots.txt")] = True
    user_agent: Annotated[
        str, msgspec.Meta(min_length=1, description="sent with every request; identify yourself")
    ] = "newsmon/0.1 (+https://github.com/newsmon/newsmon)"
    timeout: Annotated[
        float, msgspec.Meta(gt=0, le=600, description="seconds before a request fails")
    ] = 30.0
    max_page_size: Annotated[
        int, msgspec.Meta(gt=0, description="bytes; bigger pages (also decompressed) are dropped")
    ] = 16 * 1024 * 1024
    # articles a feed or sitemap dates older than this are not fetched; 0 = all
    lookback: Duration = Duration(0)
    max_new_per_cycle: Annotated[
        int,
        msgspec.Meta(
            ge=1, description="new article pages fetched per source and cycle; the rest, next cycle"
        ),
    ] = 300
    # shortest `every` allowed for a site (loopback hosts are exempt)
    min_every: Duration = Duration(minutes=1)
    extract_workers: Annotated[
        int,
        msgspec.Meta(
            ge=0, le=64, description="processes extracting pages, for all sources; 0 = one per core"
        ),
    ] = 0


_Delay = Annotated[float, msgspec.Meta(ge=0)]
_Concurrency = Annotated[int, msgspec.Meta(ge=1, le=32)]
_UserAgent = Annotated[str, msgspec.Meta(min_length=1)]


class SourcePoliteness(_Strict, frozen=True):
    """Per-source overrides of the crawl defaults (unset keys inherit)."""

    delay: _Delay | None = None
    concurrency_per_host: _Concurrency | None = None
    obey_robots: bool | None = None
    user_agent: _UserAgent | None = None
    timeout: Annotated[float, msgspec.Meta(gt=0, le=600)] | None = None
    max_page_size: Annotated[int, msgspec.Meta(gt=0)] | None = None
    lookback: Duration | None = None
    max_new_per_cycle: Annotated[int, msgspec.Meta(ge=1)] | None = None
    min_every: Duration | None = None


class Source(_Strict, frozen=True):
    """One news site (or section) to watch."""

    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9-]+$")]
    feeds: list[HttpUrl] = msgspec.field(default_factory=list)  # RSS 2.0 / Atom feed URLs
    sitemaps: list[HttpUrl] = msgspec.field(default_factory=list)  # sitemaps or their indexes
    listings: list[HttpUrl] = msgspec.field(default_factory=list)  # pages linking to articles
    follow: Pattern | None = None  # a regex an article URL must match
    # hosts its articles live on besides those of its feeds, sitemaps and listings
    article_hosts: list[Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9.-]+(:\d+)?$")]] = (
        msgspec.field(default_factory=list)
    )
    every: Duration = Duration(minutes=15)  # poll interval
    language: str | None = None  # language hint (ISO 639-1)
    crawl: SourcePoliteness = msgspec.field(default_factory=SourcePoliteness)
    # A source may override the politeness keys directly as well (see the README).
    delay: _Delay | None = None
    concurrency_per_host: _Concurrency | None = None
    obey_robots: bool | None = None
    user_agent: _UserAgent | None = None
    lookback: Duration | None = None

    def __post_init__(self) -> None:
        if not (self.feeds or self.sitemaps or self.listings):
            raise ValueError("a source needs at least one of feeds, sitemaps, listings")
        if self.every.total_seconds() < 1:
            raise ValueError(f"every: must be at least 1s, not {self.every}")

    @property
    def start_urls(self) -> list[str]:
        return [*self.feeds, *self.sitemaps, *self.listings]

    @property
    def hosts(self) -> frozenset[str]:
        """host[:port] of every configured URL (without any user:password@): the only
        hosts articles are followed on."""
        configured = (urlsplit(url).netloc.lower().rsplit("@", 1)[-1] for url in self.start_urls)
        return frozenset((*configured, *self.article_hosts))

    @property
    def on_loopback(self) -> bool:
        return all(
            (urlsplit(url).hostname or "") in ("localhost", "127.0.0.1", "::1")
            for url in self.start_urls
        )

    def politeness(self, defaults: Politeness) -> Politeness:
        """The crawl settings for this source: its overrides over the global defaults."""
        overrides = {
            key: value
            for key, value in msgspec.structs.asdict(self.crawl).items()
            if value is not None
        }
        for key in ("delay", "concurrency_per_host", "obey_robots", "user_agent", "lookback"):
            if getattr(self, key) is not None:
                overrides[key] = getattr(self, key)
        return msgspec.structs.replace(defaults, **overrides)


class Notify(_Strict, frozen=True):
    """Where alerts and digests go (Apprise URLs) and which events are too old to alert."""

    alerts: list[str] = msgspec.field(default_factory=list)  # Apprise URLs for alerts
    digest: list[str] = msgspec.field(default_factory=list)  # Apprise URLs for the digest
    # older events are stored but not alerted; 0 = no limit
    max_age: Duration = Duration(days=14)
    # also tell when an announced event is first reported as held
    updates: bool = False
    templates: Path | None = None  # directory of templates overriding ours
    max_attempts: Annotated[
        int, msgspec.Meta(ge=1, le=100, description="tries before a message is dead")
    ] = 10
    timeout: Annotated[
        float,
        msgspec.Meta(
            gt=0,
            le=600,
            description="seconds a channel may take to accept a message (Apprise's own is 4)",
        ),
    ] = 30.0


class Schedule(_Strict, frozen=True):
    """When the daemon sends the weekly digest."""

    digest: CronExpr = CronExpr(DEFAULT_DIGEST)  # cron expression, in `timezone`
    timezone: TimeZoneName = TimeZoneName("UTC")
    # how often the daemon retries undelivered messages
    deliver_every: Duration = Duration(minutes=1)


class Config(_Strict, frozen=True):
    """The whole configuration."""

    database: Path = Path("data/newsmon.db")
    sources: list[Source] = msgspec.field(default_factory=list)
    topics: list[str | dict[str, Any]] = msgspec.field(
        default_factory=lambda: list[str | dict[str, Any]](["china-russia-summit"])
    )
    crawl: Politeness = msgspec.field(default_factory=Politeness)
    notify: Notify = msgspec.field(default_factory=Notify)
    schedule: Schedule = msgspec.field(default_factory=Schedule)
    # Every value that came from ``${VAR}`` and every user:password of a URL: what no log
    # line, stored error or output may show. Set by load_config, never read from the file.
    secrets: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"sources: source name {source.name!r} is used twice")
            seen.add(source.name)
        for index, source in enumerate(self.sources):
            least = source.politeness(self.crawl).min_every
            if source.every < least and not source.on_loopback:
                raise ValueError(
                    f"sources.{index}.every: {source.every} is more often than "
                    f"crawl.min_every ({least}); set min_every for this source to allow it"
                )

    def __repr__(self) -> str:  # without the secrets
        shown = (f"{key}={getattr(self, key)!r}" for key in self.__struct_fields__)
        return f"Config({', '.join(s for s in shown if not s.startswith('secrets='))})"

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
    """PyYAML's safe loader that refuses a document whose aliases expand too far, and a
    key written twice in one mapping (PyYAML keeps the last silently: a second `delay:`
    or `notify:` would drop the first without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<:` may be overridden
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                continue  # unhashable: the base class reports it
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is written twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

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


# msgspec's messages end "- at `$.sources[0].every`"; ours name the key as the README
# writes it: "sources.0.every: ...".
_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>[^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<key>[^`]+)`$")
_KEYED = re.compile(r"^(?P<key>[a-z_]+(?:\.\w+)*): ")


_TYPED = re.compile(r"^(?P<expected>expected \w+), got \w+$")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _value_at(raw: Any, where: str) -> Any:
    for key in filter(None, where.split(".")):
        raw = raw[int(key)] if isinstance(raw, list) else raw[key]
    return raw


def _describe(error: msgspec.ValidationError, raw: dict[str, Any]) -> str:
    """One line: the key's path, then the problem (and the value, where msgspec's words
    leave it out)."""
    found = _AT.match(str(error))
    assert found is not None  # the pattern matches any text
    message = found["message"]
    where = re.sub(r"\[(\d+)\]", r".\1", found["path"] or "").lstrip(".")
    if unknown := _UNKNOWN.match(message):
        where, message = ".".join(filter(None, [where, unknown["key"]])), "unknown key"
    elif missing := _MISSING.match(message):
        where, message = ".".join(filter(None, [where, missing["key"]])), "required"
    elif where and _KEYED.match(message):  # a check of the whole object naming its key
        return f"{where}.{message}"
    else:
        message = message.replace("`", "")
        message = message[:1].lower() + message[1:]
        if typed := _TYPED.match(message):  # msgspec names the type; the value says more
            message = f"{typed['expected']}, got {_shown(_value_at(raw, where))}"
        elif message.startswith("expected ") and ", got " not in message:
            message += f", got {_shown(_value_at(raw, where))}"
    return f"{where}: {message}" if where else message


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's message on one line, the place first: "line 4, column 9: did not find
    expected ',' or ']' (while parsing a flow sequence at line 3, column 12)". Its own
    spans four lines, the context before the problem, each place with an "in <file>"."""

    def where(mark: yaml.Mark | None) -> str:
        return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"

    message = f"{where(exc.problem_mark)}: {exc.problem or exc.context}"
    if exc.problem and exc.context:
        same_line = exc.context_mark is None or (
            exc.problem_mark is not None and exc.context_mark.line == exc.problem_mark.line
        )
        at = "" if same_line else f" at {where(exc.context_mark)}"
        message += f" ({exc.context}{at})"
    return message


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
        raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(exc)}") from None
    except yaml.YAMLError as exc:
        # a ReaderError (a control character, bytes that are not UTF-8): two lines
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        # Composing (pure-Python PyYAML) and substituting recurse per level of nesting:
        # thousands of `[` exhaust the stack.
        raise ConfigError(f"{path}: values nested too deeply") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    if "secrets" in raw:  # filled from ${VAR}s below, never read from the file
        raise ConfigError(f"{path}: secrets: unknown key")
    try:
        config = msgspec.convert(raw, Config, dec_hook=_decode)
    except msgspec.ValidationError as exc:
        # the value shown may have come from a ${VAR}: a token in the wrong place
        from monitor.redact import Redactor

        shown = Redactor(v for v in used if len(v) >= MIN_SECRET).redact(_describe(exc, raw))
        raise ConfigError(f"{path}: {shown}") from None
    here = path.parent.resolve()
    templates = config.notify.templates
    if templates is not None and not templates.is_absolute():
        config = msgspec.structs.replace(
            config, notify=msgspec.structs.replace(config.notify, templates=here / templates)
        )
    return msgspec.structs.replace(
        config,
        database=config.database if config.database.is_absolute() else here / config.database,
        secrets=frozenset(v for v in used | _userinfo(config) if len(v) >= MIN_SECRET),
    )
