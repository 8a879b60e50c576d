"""Telling people: alert messages for each channel, delivered through Apprise one channel
at a time, with retries that survive restarts.

Owns channel identities (the outbox stores a hash of each Apprise URL, never the URL),
the rendering of alerts (Jinja2 templates; Markdown for chat, HTML for email, plain text
elsewhere; every string from a page escaped), sending with one Apprise object per channel
so a dead channel never sinks another, retry backoff, and the redaction of secrets from
errors and logs. The queue itself lives in ``storage``.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

from monitor.digest import KIND_WORDS, day_span, markdown_escape, web_url
from monitor.errors import ConfigError
from monitor.storage import Storage

logger = logging.getLogger(__name__)

# Chat services render Markdown; email renders HTML; anything else gets plain text.
CHAT_SCHEMES = frozenset(
    [
        "tgram",
        "discord",
        "slack",
        "matrix",
        "matrixs",
        "mmost",
        "mmosts",
        "rocket",
        "rockets",
        "msteams",
        "zulip",
        "guilded",
        "revolt",
        "signal",
        "signals",
        "whatsapp",
        "ntfy",
        "ntfys",
        "gchat",
        "lark",
        "feishu",
        "dingtalk",
        "wxteams",
    ]
)
EMAIL_SCHEMES = frozenset({"mailto", "mailtos", "email", "emails"})
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_LAST = timedelta(hours=6)


@dataclass(frozen=True)
class Channel:
    """One configured Apprise URL."""

    key: str  # what the outbox stores: a hash of the URL
    url: str
    display: str  # the URL with its secrets masked, for logs and output
    format: str  # "markdown", "html" or "text"
    max_body: int


def channel_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def load_channels(urls: Sequence[str], where: str) -> list[Channel]:
    """Turn configured Apprise URLs into channels; a URL Apprise cannot use is a ConfigError."""
    import apprise

    channels = []
    for index, url in enumerate(urls):
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            masked = Redactor([url]).redact(url)
            raise ConfigError(f"{where}[{index}]: not a usable Apprise URL: {masked}")
        scheme = url.split("://", 1)[0].lower()
        fmt = (
            "html" if scheme in EMAIL_SCHEMES else "markdown" if scheme in CHAT_SCHEMES else "text"
        )
        channels.append(
            Channel(channel_key(url), url, plugin.url(privacy=True), fmt, plugin.body_maxlen)
        )
    return channels


class Redactor(logging.Filter):
    """Masks every secret-looking part of the configured URLs in text and log records.

    Apprise and urllib3 print bot tokens and passwords at DEBUG; whatever the level,
    nothing that came from a channel URL (tokens, passwords, user names, keys) gets out.
    """

    def __init__(self, urls: Iterable[str]) -> None:
        super().__init__()
        secrets: set[str] = set()
        for url in urls:
            rest = url.split("://", 1)[-1]
            secrets.add(rest)
            for part in re.split(r"[/:@?&=#,]", rest):
                part = unquote(part)
                if len(part) >= 5:
                    secrets.add(part)
        self._pattern = (
            re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))
            if secrets
            else None
        )

    def redact(self, text: str) -> str:
        return self._pattern.sub("***", text) if self._pattern else text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._pattern is not None:
            message = record.getMessage()
            redacted = self.redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


# -- rendering ---------------------------------------------------------------------------


def template_environment(templates: Path | None) -> Environment:
    loaders: list[Any] = [PackageLoader("monitor", "templates")]
    if templates is not None:
        loaders.insert(0, FileSystemLoader(str(templates)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html.j2"], default=False),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = markdown_escape
    env.filters["web_url"] = web_url
    return env


_SUFFIX = {"markdown": "md", "html": "html", "text": "txt"}


def render_alert(
    event: dict[str, Any], fmt: str, templates: Path | None = None, purpose: str = "alert"
) -> tuple[str, str]:
    """Title and body of the message about one event, for one channel format."""
    articles = event["articles"]
    first = articles[0]
    evidence: list[str] = []
    for article in articles:
        for phrase in article["evidence"]:
            if phrase.lower() not in (e.lower() for e in evidence):
                evidence.append(phrase)
    days = day_span(date.fromisoformat(event["first_day"]), date.fromisoformat(event["last_day"]))
    kind_words = KIND_WORDS.get(event["kind"], "meeting")
    announced = bool(first["announcement"]) and all(a["announcement"] for a in articles)
    title = f"{' – '.join(event['participants'])}: {kind_words}, {days}"
    if purpose == "update":
        title = f"Held: {title}"
    elif announced:
        title = f"Announced: {title}"
    body = (
        template_environment(templates)
        .get_template(f"alert.{_SUFFIX[fmt]}.j2")
        .render(
            event=event,
            first=first,
            evidence=evidence[:8],
            count=len(articles),
            sources=sorted({a["source"] for a in articles}),
            kind_words=kind_words,
            day_text=days,
            announced=announced,
            purpose=purpose,
        )
    )
    return title, body.strip()


def _fit(title: str, body: str, limit: int) -> str:
    """Keep a message within the channel's size (Telegram takes 4096 characters)."""
    room = limit - len(title) - 8
    return body if len(body) <= room else body[: max(0, room - 1)].rstrip() + "…"


# -- sending -----------------------------------------------------------------------------


def send(channel: Channel, title: str, body: str, redactor: Redactor | None = None) -> str | None:
    """Send one message to one channel; None when it was accepted, else the reason."""
    import apprise

    notifier = apprise.Apprise()
    notifier.add(channel.url)
    formats = {
        "markdown": apprise.NotifyFormat.MARKDOWN,
        "html": apprise.NotifyFormat.HTML,
        "text": apprise.NotifyFormat.TEXT,
    }
    result = notifier.notify(
        title=title, body=_fit(title, body, channel.max_body), body_format=formats[channel.format]
    )
    if result:
        return None
    reasons = [
        entry.message
        for service in getattr(result, "results", [])
        for entry in service.logs()
        if entry.level in ("WARNING", "ERROR")
    ]
    reason = "; ".join(dict.fromkeys(reasons)) or "the service did not accept the message"
    return (redactor or Redactor([channel.url])).redact(reason)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after each failure, at most 6 hours."""
    return min(BACKOFF_FIRST * 2 ** max(0, attempts - 1), BACKOFF_LAST)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    failed: int
    dead: int
    errors: tuple[str, ...] = ()


def deliver_due(
    storage: Storage,
    channels: Sequence[Channel],
    *,
    templates: Path | None = None,
    max_attempts: int = 10,
    ignore_backoff: bool = False,
    now: datetime | None = None,
) -> DeliveryReport:
    """Try every message that is due, channel by channel, and record each outcome.

    A message is marked sent only after its channel accepted it: a crash in between
    means it is sent again (at least once), never that it is lost.
    """
    now = now or datetime.now(UTC)
    by_key = {channel.key: channel for channel in channels}
    redactor = Redactor(channel.url for channel in channels)
    sent = failed = dead = 0
    errors: list[str] = []
    for message in storage.due_messages(now, ignore_backoff=ignore_backoff):
        channel = by_key.get(message["channel"])
        if channel is None:
            storage.mark_failed(message["id"], "the channel is no longer configured", None)
            dead += 1
            continue
        if message["event_id"] is not None:
            event = storage.event(message["event_id"])
            if event is None or not event["articles"]:
                storage.mark_failed(message["id"], "the event no longer exists", None)
                dead += 1
                continue
            purpose = "update" if message["subject"].endswith(":held") else "alert"
            title, body = render_alert(event, channel.format, templates, purpose)
        else:
            title, body = message["title"], message["body"]
        error = send(channel, title, body, redactor)
        if error is None:
            storage.mark_sent(message["id"])
            sent += 1
            logger.info("sent %r to %s", title, channel.display)
            continue
        attempts = message["attempts"] + 1
        retry_at = now + backoff(attempts) if attempts < max_attempts else None
        storage.mark_failed(message["id"], error, retry_at)
        errors.append(f"{channel.display}: {error}")
        if retry_at is None:
            dead += 1
            logger.error(
                "giving up on %r to %s after %d tries: %s", title, channel.display, attempts, error
            )
        else:
            failed += 1
            logger.warning(
                "could not send %r to %s (try %d): %s", title, channel.display, attempts, error
            )
    return DeliveryReport(sent, failed, dead, tuple(errors))


def probe_channels(channels: Sequence[Channel]) -> list[tuple[Channel, str | None]]:
    """Send a test message to every channel; each channel's result, None meaning success."""
    redactor = Redactor(channel.url for channel in channels)
    title = "newsmon test message"
    body = "If you can read this, newsmon can reach you on this channel."
    return [(channel, send(channel, title, body, redactor)) for channel in channels]
