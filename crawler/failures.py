"""What a failed request means, in words a user can act on, and whether it is the site
saying "not now": the spider records these lines, `status` and the digest show them.

Scrapy's and Twisted's own texts are for developers (a reset connection reads as the
repr of a list of Twisted failures; a compression bomb as "Ignored response <200 …>
… DOWNLOAD_MAXSIZE"): each kind a crawl meets is said here once.
"""

from __future__ import annotations

import re
import zlib
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from gzip import BadGzipFile

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import error
from twisted.python.failure import Failure

from crawler.resolver import refusals
from monitor.models import aware
from monitor.sites import refusal


def retry_after(response: Response, now: datetime) -> datetime | None:
    """When a 429 or 503 asks to be asked again (Retry-After: seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if response.status not in (429, 503) or not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return now + timedelta(seconds=int(text))
    try:
        return aware(parsedate_to_datetime(text))
    except (TypeError, ValueError):
        return None


def refused(failure: Failure) -> str | None:
    """What an HTTP error that means "not now" is to be reported as: the site's own word
    (Kremlin's 403), a 429, or a 503 that says when to come back."""
    if not isinstance(failure.value, HttpError):
        return None
    response = failure.value.response
    own = refusal(response.url, response.status)
    if own:
        return own
    if response.status == 429 or response.headers.get("Retry-After"):
        return f"HTTP {response.status}: the site asks to be asked later"
    return None


# What a network failure means, in words (Scrapy's own text of a reset connection is the
# repr of a list of Twisted failures): Scrapy's type and Twisted's of each, the refusal
# before the ConnectError it is a kind of.
_NOT_FOUND = (CannotResolveHostError, error.DNSLookupError)
_NETWORK: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    (
        (DownloadConnectionRefusedError, error.ConnectionRefusedError),
        "connection refused: nothing answers at that address",
    ),
    (_NOT_FOUND, "host name not found (DNS)"),
    (
        (DownloadFailedError, error.ConnectError, error.ConnectionLost),
        "the connection was reset or closed before the server answered",
    ),
    ((ResponseDataLossError,), "the answer was cut off before its end"),
)


_TOO_LARGE = re.compile(r"(\d+) bytes which is larger than download max size \((\d+)\)")
_INFLATED = re.compile(r"\((\d+) B compressed, .*exceeded DOWNLOAD_MAXSIZE \((\d+) B\)")


def describe(failure: Failure) -> str:
    value = failure.value
    if isinstance(value, HttpError):
        return refused(failure) or f"HTTP {value.response.status}"
    request = getattr(failure, "request", None)
    if request is not None and isinstance(value, _NOT_FOUND):
        guarded = refusals.get(urlparse_cached(request).hostname or "")
        if guarded:
            return guarded
    for kinds, words in _NETWORK:
        if isinstance(value, kinds):
            return words
    message = failure.getErrorMessage()
    if isinstance(value, DownloadTimeoutError):
        return f"timed out: {message}"
    too_large = _TOO_LARGE.search(message)
    if isinstance(value, DownloadCancelledError) and too_large:
        size, limit = int(too_large[1]), int(too_large[2])
        return f"larger than crawl.max_page_size: {size:,} bytes, the limit {limit:,}"
    if isinstance(value, (BadGzipFile, zlib.error)) or type(value).__module__ == "brotli":
        # raised by Scrapy's decompression of a Content-Encoding the body does not have
        return f"the answer is not compressed as its Content-Encoding says ({value})"
    inflated = _INFLATED.search(message)
    if isinstance(value, IgnoreRequest) and inflated:
        compressed, limit = int(inflated[1]), int(inflated[2])
        return (
            f"larger than crawl.max_page_size once decompressed: past {limit:,} bytes "
            f"from {compressed:,} compressed (a compression bomb?); not read further"
        )
    if message == "max redirections reached":
        return "too many redirects (a redirect loop, or a chain longer than the limit)"
    if isinstance(value, IgnoreRequest):
        return message
    return f"{failure.type.__name__ if failure.type else 'error'}: {message}"


def forbidden_by_robots(failure: Failure) -> bool:
    """Every other ignored article is an error the user must see: the host fence meets an
    article only when it redirects off the source's hosts (links off them are never
    requested), and Scrapy ignores a response that decompresses past the size limit."""
    return (
        bool(failure.check(IgnoreRequest))
        and not failure.check(HttpError)
        and ("robots.txt" in failure.getErrorMessage())
    )
