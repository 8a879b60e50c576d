"""Small facts about text that several stages need, each said once (pure)."""

from __future__ import annotations

import re

# Han ideographs (with extension A and the compatibility block) and Japanese kana: text
# written without spaces between words, read by characters rather than words.
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")

_SPACES = "\t\n\r\f\v\u00a0\u2009\u202f\u3000"


def lower_keeping_offsets(text: str) -> str:
    """Lower-case with every whitespace character a space, keeping every offset, so that
    what is found in the result is found at the same place in the text."""
    folded = text.lower()
    if len(folded) != len(text):  # a few letters (İ) lower-case to two characters
        folded = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    # Ten times faster than str.translate, which looks every character up in a table.
    for space in _SPACES:
        folded = folded.replace(space, " ")
    return folded


# Codes that pages still send for languages renamed since (Indonesian was "in").
_LEGACY_CODES = {"in": "id", "iw": "he", "ji": "yi", "nb": "no"}


def language_code(tag: str | None) -> str | None:
    """The primary subtag as ISO 639-1 ("id-ID" → "id", "zh_CN" → "zh"), else None."""
    if not tag:
        return None
    primary = re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]
    primary = _LEGACY_CODES.get(primary, primary)
    return primary if re.fullmatch(r"[a-z]{2}", primary) else None
