"""The pages and files a user names on the command line (`extract`, `check`): read with
limits (size, time, redirects that stay on the named host), decoded and extracted."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

from monitor.errors import ExtractError, FetchError
from monitor.models import Document

# Pages named on the command line (extract, check) are read with these limits.
_INPUT_MAX_BYTES = 16 * 1024 * 1024
_INPUT_TIMEOUT = 30
_INPUT_MAX_REDIRECTS = 5  # as the crawl's REDIRECT_MAX_TIMES


class _OnHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only on the named URL's own host (host:port), the crawl's rule
    (crawler.middlewares.HostFence) for the pages a user names: the host typed is
    trusted, but a Location header must not lead newsmon to another host or port, such
    as an internal service on the same machine, and have it print what that says.

    urllib rather than Scrapy: Scrapy's reactor starts once per process, and these
    commands read one input at a time, between extractions.
    """

    max_redirections = _INPUT_MAX_REDIRECTS

    def __init__(self, url: str) -> None:
        from crawler.urls import host_of

        self.url = url
        self.hosts = frozenset({host_of(url)})

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        from crawler.urls import on_hosts

        if not on_hosts(newurl, self.hosts):
            fp.close()
            raise FetchError(
                f"cannot fetch {self.url}: it redirects off its host, to {newurl} "
                "(newsmon follows a redirect only on the host named)"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def read_input(path_or_url: str) -> tuple[bytes, str | None, str | None]:
    """The bytes of a file or of a URL named on the command line, the URL that answered
    (None for a file) and its Content-Type header."""
    if path_or_url.startswith(("http://", "https://")):
        request = urllib.request.Request(path_or_url, headers={"User-Agent": "newsmon/0.1"})
        opener = urllib.request.build_opener(_OnHostRedirects(path_or_url))
        try:
            with opener.open(request, timeout=_INPUT_TIMEOUT) as response:
                body = response.read(_INPUT_MAX_BYTES + 1)
                final_url = response.geturl()
                content_type = response.headers.get("Content-Type")
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise FetchError(f"cannot fetch {path_or_url}: {exc}") from None
        if len(body) > _INPUT_MAX_BYTES:
            raise FetchError(f"{path_or_url} is larger than {_INPUT_MAX_BYTES} bytes")
        return body, final_url, content_type
    try:
        with open(path_or_url, "rb") as stream:
            body = stream.read(_INPUT_MAX_BYTES + 1)
    except OSError as exc:
        raise FetchError(f"cannot read {path_or_url}: {exc.strerror or exc}") from None
    if len(body) > _INPUT_MAX_BYTES:
        raise FetchError(f"{path_or_url} is larger than {_INPUT_MAX_BYTES} bytes")
    return body, None, None


def read_document(path_or_url: str) -> Document:
    """Extract one page or plain-text article named on the command line."""
    from monitor.extract import extract_document, extract_text

    body, url, content_type = read_input(path_or_url)
    if b"\x00" in body[:8192]:
        raise ExtractError("binary", f"{path_or_url} is not an HTML page or a text file")
    if url is None and not _looks_like_html(body):
        return extract_text(body.decode("utf-8", errors="replace"))
    return extract_document(body, url=url, content_type=content_type, fetched_at=datetime.now(UTC))


def _looks_like_html(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    return head.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body", b"<meta")) or (
        b"<p" in head or b"<div" in head
    )
