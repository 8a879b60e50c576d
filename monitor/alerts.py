"""Telling people: alert messages for each channel, delivered through Apprise one channel
at a time, with retries that survive restarts.

Owns channel identities (the outbox stores a hash of each Apprise URL, never the URL),
the format each channel is written in (as its Apprise plugin declares it), sending with
one Apprise object per channel so a dead channel never sinks another, retry backoff, and
the redaction of secrets from errors and logs. The queue itself lives in ``storage``; the
messages are written by ``render``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jinja2 import TemplateError

from monitor.errors import ConfigError
from monitor.redact import Redactor
from monitor.render import render_alert
from monitor.store import Storage

logger = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_LAST = timedelta(hours=6)


@dataclass(frozen=True)
class Channel:
    """One configured Apprise URL."""

    key: str  # what the outbox stores: a hash of the URL
    url: str
    display: str  # the URL with its secrets masked, for logs and output
    format: str  # what we write for it: "markdown", "html" or "text" (``channel_format``)
    secrets: frozenset[str] = frozenset()  # what Apprise masks in this URL


def channel_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def load_channels(urls: Sequence[str], where: str) -> list[Channel]:
    """Turn configured Apprise URLs into channels; a URL Apprise cannot use is a ConfigError."""
    if not urls:
        return []  # without importing Apprise (~50 ms)
    import apprise

    channels = []
    for index, url in enumerate(urls):
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            scheme = url.split("://", 1)[0] if "://" in url else "(no scheme)"
            raise ConfigError(f"{where}[{index}]: not a usable Apprise URL ({scheme}://…)")
        channels.append(
            Channel(
                channel_key(url),
                url,
                plugin.url(privacy=True),
                channel_format(plugin),
                frozenset(channel_secrets(url)),
            )
        )
    return channels


def channel_format(plugin: Any) -> str:
    """The format we write for a channel: the one its Apprise plugin declares.

    That is the URL's ``?format=`` if it names one, else the plugin's own default (its
    ``notify_format``, the first where it lists several) — with one preference of ours:
    where that default is HTML but the plugin takes Markdown too (Telegram), Markdown.
    Apprise truncates a body to the service's size as it is, markup included, and then
    reduces the HTML to the service's few tags: of the 27 kB email digest, 361 characters
    of Telegram's 4096 were left, against the whole Markdown digest.

    What Apprise 2.3 declares (default first), what we write, and what the scheme list
    this replaced said (tests/test_render.py checks Telegram, email, webhooks, ntfy,
    Mattermost, Discord and Slack):

    - ``tgram://``: html, markdown → markdown (old: markdown)
    - ``mailto://``, ``mailtos://``: html, text → html (old: html)
    - ``json://``, ``form://``, ``xml://``: text, html, markdown → text (old: text)
    - ``ntfy://``: text → text (old: markdown)
    - ``mmost://``: text → text (old: markdown)
    - ``discord://``, ``matrix://``, ``guilded://``, ``lark://``, ``dingtalk://``: text
      first, markdown too → text (old: markdown)
    - ``slack://``: markdown, text; ``rocket://``, ``gchat://``, ``wxteams://``: markdown
      → markdown (old: markdown)
    - ``zulip://``, ``revolt://``, ``signal://``, ``whatsapp://``: text → text (old:
      markdown); the old list's ``msteams``, ``email`` and ``emails`` are no Apprise scheme.

    Apprise has no Markdown-to-text conversion, so the text-only services were sent our
    Markdown's ``**`` and backslashes as they were (ntfy showed them). A URL's
    ``?format=markdown`` chooses Markdown where a service renders it (ntfy then gets
    Apprise's ``X-Markdown`` header; Discord, Matrix and Mattermost render Markdown).
    """
    import apprise

    native = plugin.resolve_format()
    if native == apprise.NotifyFormat.HTML:
        native = plugin.resolve_format(apprise.NotifyFormat.MARKDOWN)
    return str(native.value)


def channel_secrets(url: str) -> set[str]:
    """The parts of an Apprise URL that Apprise itself masks (tokens, passwords, keys).

    Apprise knows, per plugin, which parts are private: it passes each through
    ``URLBase.pprint`` when asked for ``url(privacy=True)``. Recording those calls gives
    exactly the secrets, without a scheme list of our own.
    """
    import apprise
    from apprise.url import URLBase

    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        return {url.split("://", 1)[-1]}
    found: set[str] = set()
    original = URLBase.pprint

    def recording(content: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(content, str) and content:
            found.add(content)
        return original(content, *args, **kwargs)

    URLBase.pprint = staticmethod(recording)  # type: ignore[method-assign,assignment]
    try:
        plugin.url(privacy=True)
    finally:
        URLBase.pprint = staticmethod(original)  # type: ignore[method-assign,assignment]
    return found


# -- sending -----------------------------------------------------------------------------


def send(
    channel: Channel,
    title: str,
    body: str,
    *,
    timeout: float = 30.0,
    message_id: str | None = None,
) -> str | None:
    """Send one message to one channel; None when it was accepted, else the reason.

    ``timeout`` replaces Apprise's 4 s read timeout: a receiver that accepts late must not
    count as failed (it would be sent again every cycle). A body longer than the service
    takes is truncated by Apprise (``overflow=truncate``, unless the URL names its own
    ``overflow``): one message per alert, so a retry never repeats half of a split one.
    Where the plugin sends headers (webhooks, email), ``message_id`` goes along as
    ``X-Newsmon-Message-Id`` (and ``Idempotency-Key``) so the receiver can recognise a
    repeat.
    """
    import apprise

    plugin = apprise.Apprise.instantiate(channel.url)
    if plugin is None:  # load_channels checked it; the URL cannot have changed
        return "not a usable Apprise URL"
    plugin.socket_read_timeout = plugin.socket_connect_timeout = timeout
    if "overflow" not in parse_qs(urlsplit(channel.url).query):
        plugin.overflow_mode = apprise.OverflowMode.TRUNCATE
    headers = getattr(plugin, "headers", None)
    if message_id and isinstance(headers, dict):
        headers["X-Newsmon-Message-Id"] = message_id
        if channel.format != "html":  # an HTTP convention; mail has no use for it
            headers["Idempotency-Key"] = message_id
    notifier = apprise.Apprise()
    notifier.add(plugin)
    result = notifier.notify(
        title=title, body=body, body_format=apprise.NotifyFormat(channel.format)
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
    return Redactor(channel.secrets | {channel.url}).redact(reason)


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
    timeout: float = 30.0,
    ignore_backoff: bool = False,
    subject_prefix: str = "",
    now: datetime | None = None,
) -> DeliveryReport:
    """Try every message that is due (only those whose subject starts with
    ``subject_prefix``, when given), one at a time, and record each outcome.

    ``channels`` must be every channel of the configuration: a message for a channel not
    among them is given up as no longer configured. Each message is claimed in the
    database before it is sent, so a second process delivering from the same database
    never sends it too. A message is marked sent only after its channel accepted it: a
    crash in between means it is sent again (at least once), never that it is lost.
    """
    now = now or datetime.now(UTC)
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    by_key = {channel.key: channel for channel in channels}
    sent = failed = dead = 0
    errors: list[str] = []
    last_id = 0
    while message := storage.claim_next(
        owner, now, last_id, ignore_backoff=ignore_backoff, subject_prefix=subject_prefix
    ):
        last_id = message.id
        channel = by_key.get(message.channel)
        if channel is None:
            storage.give_up(message.id, "the channel is no longer configured")
            dead += 1
            continue
        error: str | None = None
        if message.event_id is not None:
            event = storage.event(message.event_id)
            if event is None or not event.articles:
                storage.give_up(message.id, "the event no longer exists")
                dead += 1
                continue
            purpose = "update" if message.subject.endswith(":held") else "alert"
            try:
                title, body = render_alert(event, channel.format, templates, purpose)
            except TemplateError as problem:
                # A mistake in an overriding template: a failed try like any other, so the
                # alert still goes out once the template is fixed.
                title, error = message.subject, f"alert template: {problem}"
        else:
            title, body = message.title or "", message.body or ""
        if error is None:
            message_id = f"newsmon-{channel.key}-{message.subject}"
            error = send(channel, title, body, timeout=timeout, message_id=message_id)
        if error is None:
            storage.mark_sent(message.id)
            sent += 1
            logger.info("sent %r to %s", title, channel.display)
            continue
        attempts = message.attempts + 1
        retry_at = now + backoff(attempts) if attempts < max_attempts else None
        storage.mark_failed(message.id, error, retry_at)
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


def probe_channels(
    channels: Sequence[Channel], timeout: float = 30.0
) -> list[tuple[Channel, str | None]]:
    """Send a test message to every channel; each channel's result, None meaning success."""
    title = "newsmon test message"
    body = "If you can read this, newsmon can reach you on this channel."
    return [(channel, send(channel, title, body, timeout=timeout)) for channel in channels]
