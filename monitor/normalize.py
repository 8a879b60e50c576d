"""The fold a text goes through before it is matched: the same for an article and for a
topic's phrases, so that both meet in one form (pure: text in, text out).

Chinese is written in simplified and in traditional characters, and Taiwan and Hong Kong
name things their own way (視訊 for 视频 "video", 通電話 for 通电话). Rather than list
every topic phrase in each script and each region's usage, a text written in traditional
characters is converted to simplified Chinese with OpenCC: Taiwan's phrases first
(``tw2sp``: 視訊會晤 → 视频会晤), then what is left of Hong Kong's variant characters
(``hk2s``: 衞 → 卫). Simplified text is left as it is: the Taiwan phrase table read
backwards would turn ordinary mainland words into others (文件 → 文档, 塔吉克斯坦 →
塔吉克斯坦斯坦). Text without CJK characters costs one regular-expression search.

The conversion may change a text's length (網際網路 → 互联网): offsets found in a folded
text belong to the folded text, and so do the phrases a match quotes as evidence.
"""

from __future__ import annotations

from functools import cache

import opencc

from monitor.text import CJK


@cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def fold(text: str) -> str:
    """The text with its traditional Chinese, if any, in simplified characters and
    mainland usage; any other text unchanged."""
    if not CJK.search(text):
        return text
    if "\x00" in text:  # OpenCC reads a C string: the text would end at the NUL
        return "\x00".join(map(fold, text.split("\x00")))
    characters = _converter("hk2s")
    try:
        simplified = characters.convert(text)
    except UnicodeEncodeError:  # a lone surrogate, from a page decoded badly: read it as "?"
        text = text.encode("utf-8", "replace").decode("utf-8")
        simplified = characters.convert(text)
    if simplified == text:
        return text  # simplified already, or kana and characters common to both scripts
    return characters.convert(_converter("tw2sp").convert(text))
