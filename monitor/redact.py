"""Masking secrets in text and log records.

Owns the one rule of what a secret is once it is known: an exact string (a token, a
password, a ``${VAR}`` value), replaced by ``***`` wherever it appears. Which strings are
secret is decided where they come from: the config (``Config.secrets``) and Apprise's own
view of a channel URL (``alerts.channel_secrets``). Nothing else is masked, so ordinary
words (a source's name, a feed's path) stay readable.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote


class Redactor(logging.Filter):
    """Replaces each known secret (and its URL-quoted form) by ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        forms = {form for secret in secrets if secret for form in (secret, quote(secret, safe=""))}
        self._pattern = (
            re.compile("|".join(re.escape(s) for s in sorted(forms, key=len, reverse=True)))
            if forms
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
            if record.exc_info and not record.exc_text:
                # a traceback may quote a URL too: format it now, masked
                record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            elif record.exc_text:
                record.exc_text = self.redact(record.exc_text)
        return True
