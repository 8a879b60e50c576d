"""Serves the bundled news-site replicas on 127.0.0.1, for tests and ``newsmon demo``.

This module owns the replica HTTP server: the URL-to-file mapping, the ``{{BASE}}``
placeholders, conditional GET, runtime overlays (``put``), injected HTTP errors
(``fail``) and the request log, plus the newsmon config that points at the running
replicas. The sites themselves are plain files in ``sites/<name>/`` beside this module;
each holds a ``robots.txt`` and a ``source.yaml`` fragment. It knows nothing about
crawling, extraction or matching, and must not import from ``tests``.

URL mapping: ``/a/b`` is the file ``a/b`` (Kremlin article and feed paths have no
extension), else ``a/b/index.html``, else ``a/b/index.xml``; ``/`` is ``index.html``.
A path ending in ``/`` maps only to the index files, as on a real server.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlsplit

import yaml

SITES_DIR = Path(__file__).parent / "sites"
SOURCE_FILE = "source.yaml"

# Politeness for replicas: no delay (tests must not wait), robots obeyed (xinhua-zh
# has a disallowed article that a correct crawler never fetches).
CRAWL_SETTINGS: dict[str, Any] = {
    "delay": 0,
    "concurrency_per_host": 4,
    "obey_robots": True,
    "user_agent": "newsmon-test/1.0",
}

_PLACEHOLDER = re.compile(rb"\{\{BASE(?::([a-z0-9-]+))?\}\}")
_XML_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
# The first start tag: `<?xml …?>`, `<?xml-stylesheet …?>` and `<!DOCTYPE>` don't match.
_START_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_XML_TYPES = {b"rss": "application/rss+xml", b"feed": "application/atom+xml"}


def available_sites(root: Path | str = SITES_DIR) -> list[str]:
    """Names of the site directories under ``root`` (those with a ``source.yaml``)."""
    return sorted(p.name for p in Path(root).iterdir() if (p / SOURCE_FILE).is_file())


def content_type(path: str, body: bytes) -> str:
    """The Content-Type a real server would send for ``body`` served at ``path``."""
    if body.lstrip().startswith(b"<?xml"):
        match = _START_TAG.search(_XML_COMMENT.sub(b"", body))
        root = match[1].lower() if match else b""
        return _XML_TYPES.get(root, "application/xml")
    if path.endswith(".txt"):
        return "text/plain; charset=utf-8"
    if path.endswith(".json"):
        return "application/json"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        # A legacy-encoded page (windows-1251): like many old servers, say nothing about
        # the charset, so the client has to sniff the <meta charset> itself.
        return "text/html"
    return "text/html; charset=utf-8"


def _url_path(raw: str) -> str:
    """The decoded path of a request target or a caller-given path, always with a leading /."""
    path = unquote(urlsplit(raw).path)
    return path if path.startswith("/") else "/" + path


def _http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


@dataclass(frozen=True)
class _Resource:
    body: bytes
    modified: datetime


@dataclass(frozen=True)
class Response:
    """What the replica answers to one request (also usable without a socket)."""

    status: int
    headers: dict[str, str]
    body: bytes


class _Server(ThreadingHTTPServer):
    # Clients such as Scrapy keep connections open; closing must not wait for them.
    block_on_close = False
    daemon_threads = True


class ReplicaSite:
    """One site directory served over HTTP on 127.0.0.1 at a random free port."""

    def __init__(
        self,
        root: Path | str,
        *,
        name: str | None = None,
        resolve: Callable[[str], str | None] | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"no replica site at {self.root}")
        self.name = name or self.root.name
        # Maps another site's name to its base URL, for {{BASE:other-site}}.
        self._resolve = resolve or (lambda _name: None)
        self._lock = threading.Lock()
        self._requests: list[str] = []
        self._overlay: dict[str, _Resource | None] = {}
        self._failures: dict[str, int] = {}
        self._fail_all: int | None = None
        # HTTP dates have one-second resolution: every put() moves the clock on by at
        # least a second, so If-Modified-Since can never hide a change.
        self._clock = datetime.now(UTC).replace(microsecond=0)
        self._files_modified = self._clock
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def bundled(cls, name: str, **kwargs: Any) -> ReplicaSite:
        """The bundled site ``name`` (a directory under ``monitor/demo/sites``)."""
        return cls(SITES_DIR / name, name=name, **kwargs)

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"replica-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash); the site must be running."""
        if self._server is None:
            raise RuntimeError(f"replica {self.name!r} is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str = "/") -> str:
        """The absolute URL of ``path`` (a path, optionally with a query) on this site."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # -- controls for tests ----------------------------------------------------------

    @property
    def requests(self) -> list[str]:
        """Request targets received so far (path and query), oldest first; a snapshot."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def put(self, path: str, content: str | bytes) -> None:
        """Add or replace the resource at ``path`` (placeholders are filled when served)."""
        body = content.encode("utf-8") if isinstance(content, str) else content
        with self._lock:
            self._overlay[_url_path(path)] = _Resource(body, self._tick())

    def delete(self, path: str) -> None:
        """Make ``path`` answer 404 from now on, even if a file exists for it."""
        with self._lock:
            self._overlay[_url_path(path)] = None

    def fail(self, path: str, status: int | None) -> None:
        """Answer ``path`` with HTTP ``status`` until called again with ``None``."""
        with self._lock:
            if status is None:
                self._failures.pop(_url_path(path), None)
            else:
                self._failures[_url_path(path)] = status

    def fail_all(self, status: int | None) -> None:
        """Answer every path (robots.txt too) with ``status``; ``None`` restores the site."""
        with self._lock:
            self._fail_all = status

    def reset(self) -> None:
        """Forget overlays, failures and the request log: the site as shipped."""
        with self._lock:
            self._overlay.clear()
            self._failures.clear()
            self._fail_all = None
            self._requests.clear()

    # -- content ---------------------------------------------------------------------

    def fill(self, text: str) -> str:
        """``text`` with ``{{BASE}}`` and ``{{BASE:other-site}}`` replaced."""
        return self._fill(text.encode("utf-8")).decode("utf-8")

    def sources(self) -> list[dict[str, Any]]:
        """The site's ``source.yaml`` entries with their URLs pointing at this server."""
        loaded = yaml.safe_load(self.fill((self.root / SOURCE_FILE).read_text("utf-8")))
        return loaded if isinstance(loaded, list) else [loaded]

    def respond(self, target: str, headers: Mapping[str, str] | Message) -> Response:
        """Answer one GET for ``target`` (path and query) given the request headers."""
        path = _url_path(target)
        with self._lock:
            self._requests.append(target)
            status = self._fail_all or self._failures.get(path)
            resource = self._overlay[path] if path in self._overlay else self._file(path)
        if status is not None:
            return _error(status)
        if resource is None:
            return _error(404)
        body = self._fill(resource.body)
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        validators = {"ETag": etag, "Last-Modified": _http_date(resource.modified)}
        if _not_modified(headers, etag, resource.modified):
            return Response(304, validators, b"")
        return Response(
            200,
            {"Content-Type": content_type(path, body), **validators},
            body,
        )

    def _tick(self) -> datetime:
        now = datetime.now(UTC).replace(microsecond=0)
        self._clock = max(now, self._clock + timedelta(seconds=1))
        return self._clock

    def _file(self, path: str) -> _Resource | None:
        relative = posixpath.normpath(path.lstrip("/") or ".")
        if relative == ".." or relative.startswith("../") or relative == SOURCE_FILE:
            return None
        candidates = [] if path.endswith("/") else [relative]
        candidates += [posixpath.join(relative, index) for index in ("index.html", "index.xml")]
        for candidate in candidates:
            file = self.root / candidate
            if file.is_file() and not file.name.startswith((".", "_")):
                return _Resource(file.read_bytes(), self._files_modified)
        return None

    def _fill(self, body: bytes) -> bytes:
        # Works on bytes so that a windows-1251 page keeps its encoding: the
        # placeholders are ASCII, which every encoding served here shares.
        def replace(match: re.Match[bytes]) -> bytes:
            if match[1] is None:
                return self.base_url.encode("ascii")
            other = match[1].decode("ascii")
            # A site that is not running becomes a link that can never resolve
            # (RFC 2606), as an off-host link on the real web would be to a test.
            return (self._resolve(other) or f"http://{other}.invalid").encode("ascii")

        return _PLACEHOLDER.sub(replace, body)


def _not_modified(headers: Mapping[str, str] | Message, etag: str, modified: datetime) -> bool:
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        # RFC 9110: If-None-Match wins over If-Modified-Since, and compares weakly.
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if not if_modified_since:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return modified <= since


def _error(status: int) -> Response:
    body = f"<!doctype html><title>{status}</title><h1>HTTP {status}</h1>\n".encode()
    return Response(status, {"Content-Type": "text/html; charset=utf-8"}, body)


def _handler_for(site: ReplicaSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ReplicaSite/1.0"

        def do_GET(self) -> None:
            self._answer(with_body=True)

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def _answer(self, *, with_body: bool) -> None:
            response = site.respond(self.path, self.headers)
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            if response.status != 304:
                self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if with_body and response.body:
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            # Quiet: tests read ``site.requests`` instead of stderr.
            pass

    return Handler


class ReplicaSites:
    """Several replicas at once (all bundled sites by default), linked by placeholders."""

    def __init__(self, names: Iterable[str] | None = None, *, root: Path | str = SITES_DIR) -> None:
        root = Path(root)
        chosen = list(names) if names is not None else available_sites(root)
        unknown = sorted(set(chosen) - set(available_sites(root)))
        if unknown:
            raise KeyError(f"no replica site named {', '.join(unknown)} under {root}")
        self._sites = {
            name: ReplicaSite(root / name, name=name, resolve=self._base_url_of) for name in chosen
        }

    def start(self) -> Self:
        for site in self._sites.values():
            site.start()
        return self

    def stop(self) -> None:
        for site in self._sites.values():
            site.stop()

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __iter__(self) -> Iterator[ReplicaSite]:
        return iter(self._sites.values())

    @property
    def names(self) -> list[str]:
        return list(self._sites)

    def site(self, name: str) -> ReplicaSite:
        try:
            return self._sites[name]
        except KeyError:
            have = ", ".join(self._sites)
            raise KeyError(f"no running replica {name!r} (have: {have})") from None

    def config_yaml(self, database: str, *, extra: Mapping[str, Any] | None = None) -> str:
        """A newsmon config whose sources are the running replicas.

        ``extra`` adds or replaces top-level keys (e.g. ``notify``: replica articles
        are years old, so a demo that wants alerts sets ``max_age: 0``).
        """
        config: dict[str, Any] = {
            "database": database,
            "sources": [source for site in self for source in site.sources()],
            "crawl": dict(CRAWL_SETTINGS),
            **(extra or {}),
        }
        return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)

    def _base_url_of(self, name: str) -> str | None:
        site = self._sites.get(name)
        return site.base_url if site is not None and site.running else None
