"""Rendering: escape by default in every format (built-in templates and overrides alike),
the format each channel is written in as Apprise declares it, and Apprise truncating a
body to the channel's size. Real receivers on 127.0.0.1 (a JSON webhook standing in for
ntfy, Mattermost and webhooks)."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apprise.conversion.format import markdown_to_html

from monitor.alerts import deliver_due, load_channels, send
from monitor.models import Event
from monitor.render import render_alert
from monitor.store import Storage
from tests.conftest import Receiver, one_article_event
from tests.test_alerts import stored_event

HOSTILE = (
    "<script>alert(1)</script> *bold* _it_ [x](javascript:alert(1)) (a)\n"
    "# Injected\x07 heading \u202eesrever\u2066 & co"
)


def event(title: str = HOSTILE, url: str = "https://example.org/a_(b)") -> Event:
    return one_article_event(title, url, source="<b>wire</b>", evidence=("Xi", "*Putin*"))


def no_reordering(body: str) -> None:
    assert not re.search(r"[\u202a-\u202e\u2066-\u2069]", body)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", body)  # only line breaks


# -- escape by default -------------------------------------------------------------------


def test_html_alert_escapes_every_page_string() -> None:
    _, body = render_alert(event(), "html")
    assert "<script" not in body and "<b>wire" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "&lt;b&gt;wire" in body
    assert 'href="https://example.org/a_%28b%29"' in body
    no_reordering(body)
    assert "(a) # Injected  heading esrever & co" in body.replace("&amp;", "&")


def test_markdown_alert_escapes_every_page_string() -> None:
    _, body = render_alert(event(), "markdown")
    assert "\\<script\\>" in body and "\\*bold\\* \\_it\\_ \\[x\\]\\(javascript" in body
    assert "(https://example.org/a_%28b%29)" in body  # the link itself is not escaped
    assert "\\*Putin\\*" in body and "\\<b\\>wire" in body
    assert not re.search(r"^#", body, re.M)
    no_reordering(body)
    shown = markdown_to_html(body)  # what a chat channel or mail would show
    assert "<script" not in shown and "<b>wire" not in shown
    assert "<em>it</em>" not in shown and "<em>bold</em>" not in shown
    assert "*bold* _it_ [x](javascript:alert(1)) (a) # Injected" in shown
    assert re.findall(r'href="([^"]*)"', shown) == ["https://example.org/a_%28b%29"]


def test_text_alert_keeps_page_strings_on_their_line() -> None:
    _, body = render_alert(event(), "text")
    no_reordering(body)
    assert "[x](javascript:alert(1)) (a) # Injected  heading esrever & co" in body
    assert body.splitlines()[2].startswith("<script>alert(1)</script>")  # text is text


def test_a_link_that_is_not_http_is_shown_not_linked() -> None:
    for fmt in ("html", "markdown"):
        _, body = render_alert(event("Click me", "javascript:alert(2)"), fmt)
        assert "href=" not in body and "](" not in body
        assert "javascript:alert(2)" in body or "javascript:alert\\(2\\)" in body


OVERRIDES = {
    # A user's templates that forget |e (and one written for the old environment, which
    # escaped with |md by hand): each is escaped once, as the built-in ones are.
    "alert.html.j2": "<p>{{ first.title }} {{ first.source }}</p>",
    "alert.md.j2": "{{ first.title }} | {{ first.source | md }} | "
    '{{ event.participants | map("md") | join(", ") }} | {{ first.evidence | join("/") }}',
    "alert.txt.j2": "{{ first.title }}",
}


def test_an_override_that_forgets_escaping_is_escaped(tmp_path: Path) -> None:
    for name, text in OVERRIDES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    _, html = render_alert(event(), "html", tmp_path)
    assert html.startswith("<p>&lt;script&gt;alert(1)&lt;/script&gt; ")
    assert html.endswith(" &lt;b&gt;wire&lt;/b&gt;</p>")
    _, markdown = render_alert(event(), "markdown", tmp_path)
    assert markdown.startswith("\\<script\\>alert\\(1\\)\\</script\\> \\*bold\\*")
    assert markdown.endswith(" | \\<b\\>wire\\</b\\> | Xi Jinping, Vladimir Putin | Xi/\\*Putin\\*")
    no_reordering(markdown)
    _, text = render_alert(event(), "text", tmp_path)
    assert "\n" not in text and "\u202e" not in text and "# Injected" in text


# -- the format each channel is written in -----------------------------------------------

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.mark.parametrize(
    ("url", "written", "old_list"),
    [
        (f"tgram://{TOKEN}/987654321", "markdown", "markdown"),  # Apprise: html, markdown
        ("mailto://user:pw@example.org?to=team@example.org", "html", "html"),
        ("json://127.0.0.1:9/hook", "text", "text"),  # Apprise: text, html, markdown
        ("ntfy://127.0.0.1:9/alerts", "text", "markdown"),  # Apprise: text only
        ("mmost://127.0.0.1:9/tok3n", "text", "markdown"),  # Apprise: text only
        ("discord://1234/abcd", "text", "markdown"),  # Apprise: text, markdown
        ("slack://T1/B1/C1", "markdown", "markdown"),  # Apprise: markdown, text
        # the URL's own ?format= wins
        ("ntfy://127.0.0.1:9/alerts?format=markdown", "markdown", "markdown"),
        ("discord://1234/abcd?format=markdown", "markdown", "markdown"),
        (f"tgram://{TOKEN}/987654321?format=html", "html", "markdown"),
        ("json://127.0.0.1:9/hook?format=html", "html", "text"),
    ],
)
def test_each_channel_is_written_in_the_format_apprise_declares(
    url: str, written: str, old_list: str
) -> None:
    (channel,) = load_channels([url], "notify.alerts")
    assert channel.format == written, f"the old scheme list said {old_list}"


@pytest.mark.parametrize("path", ["alerts", "alerts?format=markdown"])
def test_ntfy_gets_text_unless_its_url_asks_for_markdown(receiver: Receiver, path: str) -> None:
    url = receiver.url.replace("json://", "ntfy://").replace("/hook", f"/{path}")
    (channel,) = load_channels([url], "notify.alerts")
    assert send(channel, *render_alert(event(title="Talks in *Moscow*"), channel.format)) is None
    (post,) = receiver.posts
    if channel.format == "text":
        assert "**" not in post["message"] and "\\" not in post["message"]
        assert "Talks in *Moscow*\nhttps://example.org/a_(b)" in post["message"]
        assert "X-Markdown" not in receiver.headers[0]
    else:
        assert "[Talks in \\*Moscow\\*](https://example.org/a_%28b%29)" in post["message"]
        assert receiver.headers[0]["X-Markdown"] == "yes"


def test_mattermost_gets_text(receiver: Receiver) -> None:
    url = receiver.url.replace("json://", "mmost://").replace("/hook", "/tok3n")
    (channel,) = load_channels([url], "notify.alerts")
    assert send(channel, *render_alert(event(title="Talks-in-Moscow"), channel.format)) is None
    assert receiver.paths == ["/hooks/tok3n"]
    text = receiver.posts[0]["text"]
    assert "Talks-in-Moscow\nhttps://example.org/a_(b)" in text and "\\" not in text


# -- size: Apprise truncates -----------------------------------------------------------------


@pytest.fixture
def small_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    from apprise.plugins.custom_json import NotifyJSON

    monkeypatch.setattr(NotifyJSON, "body_maxlen", 300)


def test_a_long_alert_is_truncated_by_apprise_to_the_channel_size(
    tmp_path: Path, receiver: Receiver, small_webhook: None
) -> None:
    channels = load_channels([receiver.url], "notify.alerts")
    with Storage(tmp_path / "n.db") as storage:
        stored_event(storage, [channels[0].key], title="Talks " + "very long title " * 60)
        assert deliver_due(storage, channels).sent == 1
    (post,) = receiver.posts
    assert post["title"] == "Xi Jinping – Vladimir Putin: in-person meeting, 21 Mar 2023"
    assert len(post["message"]) <= 300
    assert post["message"].startswith("Xi Jinping – Vladimir Putin, in-person meeting")
    assert "Talks very long title very long title" in post["message"]


def test_a_url_that_names_its_own_overflow_keeps_it(
    receiver: Receiver, small_webhook: None
) -> None:
    (channel,) = load_channels([receiver.url + "?overflow=upstream"], "notify.alerts")
    body = "x" * 1000
    assert send(channel, "title", body) is None
    assert receiver.posts[0]["message"] == body


# -- a broken override -------------------------------------------------------------------


def test_a_broken_alert_template_is_a_failed_try_until_it_is_fixed(
    tmp_path: Path, receiver: Receiver
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    template = templates / "alert.txt.j2"
    template.write_text("{{ first.titel }}", encoding="utf-8")
    channels = load_channels([receiver.url], "notify.alerts")
    with Storage(tmp_path / "n.db") as storage:
        stored_event(storage, [channels[0].key])
        report = deliver_due(storage, channels, templates=templates)
        assert (report.sent, report.failed) == (0, 1)
        assert "alert template" in report.errors[0] and "titel" in report.errors[0]
        template.write_text("{{ first.title }}", encoding="utf-8")
        later = datetime.now(UTC).timestamp() + 10  # the loader sees the file changed
        os.utime(template, (later, later))
        report = deliver_due(storage, channels, templates=templates, ignore_backoff=True)
    assert report.sent == 1
    assert [post["message"] for post in receiver.posts] == ["Xi and Putin hold talks"]
