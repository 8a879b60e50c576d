"""The exceptions newsmon raises, in one tree.

    NewsmonError              base of everything below
    ├── ConfigError           the configuration cannot be used (names the key or variable)
    ├── StorageError          the database cannot be opened or written
    ├── FetchError            a page could not be fetched (HTTP status, timeout, refused)
    ├── ExtractError          a fetched page has no article text; ``reason`` says why
    ├── DeliveryError         a notification channel refused a message
    ├── StartError            the daemon cannot start (another one runs, a job cannot be set)
    └── Interrupted           SIGINT/SIGTERM stopped a command; what it did is recorded

Expected outcomes (an article that does not match, a feed with nothing new) are
return values, not exceptions. The CLI turns these into one line and an exit code.
"""


class NewsmonError(Exception):
    """Base class of newsmon's own errors."""


class ConfigError(NewsmonError):
    """The configuration file is missing, malformed, or has a bad key or value."""


class StorageError(NewsmonError):
    """The database cannot be opened, migrated or written."""


class FetchError(NewsmonError):
    """A page could not be fetched."""


class ExtractError(NewsmonError):
    """A page was fetched but yielded no usable article; ``reason`` is a short code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class DeliveryError(NewsmonError):
    """A notification channel did not accept a message."""


class StartError(NewsmonError):
    """The daemon cannot start: another daemon holds the database, or scheduling failed."""


class SourceBusy(NewsmonError):
    """Another process is crawling the source (a backfill, or the daemon's cycle)."""


class Interrupted(NewsmonError):
    """A command was stopped by SIGINT or SIGTERM after recording what it had done."""
