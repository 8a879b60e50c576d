"""Date mentions in one sentence of news text, resolved to calendar days.

This module owns reading the dates a sentence mentions in English, Russian, simplified
Chinese and Indonesian, and resolving them against the article's publication date:

* explicit dates, with or without a year, and ranges: "30/12/2022", "2022-12-30",
  "December 30, 2022", "20–22 March", "30 March – 2 April", "с 20 по 22 марта",
  "30 декабря прошлого года", "2022年12月30日", "5月16日至17日", "30日", "下月5日", "今(20)日",
  "Jumat (30/12/2022)", "Kamis (16/5)", "16-17 Mei";
* weekdays, bare or with this/last/next: "on Friday", "в прошлую пятницу", "Jumat depan",
  "下周五";
* relative days: "tomorrow", "вчера", "lusa", "明天", "tonight", "вечером", with the day
  they stand for written beside them or not ("今天（9月2日）");
* vague periods, as a best-guess day: "next week", "на этой неделе", "bulan depan", "下个月";
* two Chinese forms that need more than the sentence: the dateline a wire story opens with
  ("新华社莫斯科7月16日电", ``find_dateline``) and "that day" (当天) for the day the
  sentence before names (``that_day``).

It is pure and cheap enough for every sentence of every article: two precompiled
regexes (explicit dates, only tried when the sentence has a digit; everything written in
words), a dictionary look-up per hit, no dateparser and no clock. Without a reference
date only explicit dates with a written year are returned. Which mention is the day of
an event is for the caller to decide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal, NamedTuple

__all__ = ["DateMention", "find_dateline", "find_dates", "that_day"]

Kind = Literal["explicit", "weekday", "relative", "vague"]


@dataclass(frozen=True)
class DateMention:
    """One date written in a sentence: the day it means and where it is written."""

    day: date  # for a range, its first day
    start: int  # character offsets in the sentence
    end: int
    kind: Kind  # explicit (day and month), weekday, relative (tomorrow…), vague (next week…)
    has_year: bool  # the year was written, as digits or as "last year"/"去年"
    end_day: date | None = None  # last day of a range ("20–22 March")


def find_dates(text: str, reference: date | None) -> list[DateMention]:
    """The date mentions of ``text`` in reading order, resolved against ``reference``.

    ``reference`` is the article's publication day; without it, only explicit dates
    with a written year can be resolved and everything else is left out.
    """
    if isinstance(reference, datetime):
        reference = reference.date()
    return list(_find_dates(text, reference))


# The matcher asks about the same sentence several times while it weighs an article
# (its latest date, each meeting word's date, a neighbour's announced day, the months it
# names), against different references: the regex matches do not depend on the
# reference and the mentions are frozen values, so caches answer the repeats. The matcher
# empties them at each new article (``new_article``), so they never grow, and a benchmark
# that repeats the same texts measures the work of new ones.
def new_article() -> None:
    _find_dates.cache_clear()
    _matches.cache_clear()
    _find_months.cache_clear()


def written_days(text: str) -> list[date]:
    """The days of the full dates, year written, in ``text``: those of
    ``find_dates(text, None)``, found without reading the words. Without a reference no
    date in words resolves, and one that joins a full date ("Friday, 30 December 2022")
    only widens its span."""
    if not _HAS_YEAR(text):  # a full date writes its year in digits ("2022", "2022年")
        return []
    found = [_EXPLICIT[1][m.lastgroup or ""](m, None, text) for m in _matches(text, False)]
    return [hit.mention.day for hit in found if hit is not None and hit.mention.has_year]


@lru_cache(maxsize=1024)
def _find_dates(text: str, reference: date | None) -> tuple[DateMention, ...]:
    hits = _scan(_EXPLICIT, text, reference)
    taken = [(hit.mention.start, hit.mention.end) for hit in hits]
    for hit in _scan(_WORDS, text, reference):
        # "本月" in "本月20日" or "Jumat" in "Jumat (30/12)" is already part of an explicit date.
        if not any(hit.mention.start < end and start < hit.mention.end for start, end in taken):
            hits.append(hit)
    hits.sort(key=lambda hit: hit.mention.start)
    merged: list[_Hit] = []
    for hit in hits:
        if merged and _joins(merged[-1], hit, text):
            merged[-1] = _merge(merged[-1], hit, text)
        else:
            merged.append(hit)
    return tuple(hit.mention for hit in merged if hit.resolved)


# A Chinese wire story opens with its agency, its place and the day it was filed, then 电
# ("cabled"): "新华社莫斯科7月16日电", "（中央社台北4日电）", "本报北京2022年12月30日电".
_ZH_DATELINE = re.compile(
    r"[(（【〔\[]?\s*[\u4e00-\u9fff·\s]{2,24}?(?:(?:19|20)\d\d\s*年\s*)?(?:\d{1,2}\s*月\s*)?"
    # not "16日电话交谈" (a phone call on the 16th), 电视, 电报…
    r"\d{1,2}\s*日\s*[电電](?![话話视視报報影力子脑腦网網台讯訊动動池邮郵梯源器线線商])"
)


def find_dateline(text: str, reference: date | None) -> date | None:
    """The day a Chinese wire story was filed, from the dateline it opens with, resolved
    against ``reference`` (its publication day): a story filed "7月16日电" and printed the
    next morning tells of "今天" as the 16th."""
    dateline = _ZH_DATELINE.match(text)
    if dateline is None:
        return None
    mentions = [m for m in find_dates(dateline.group(), reference) if m.kind == "explicit"]
    return mentions[-1].day if mentions else None


# "That day" in Chinese: the day the sentence before names ("5月16日，普京抵达北京。当天…").
_ZH_THAT_DAY = re.compile(r"当天|當天|当日(?!报|報)|當日|同日|同一天|当晚|當晚")


def that_day(text: str, before: str, reference: date | None) -> list[DateMention]:
    """The day a sentence means by "that day" (当天, 同日): the last day the sentence
    ``before`` it names; none when it writes no such word or the sentence before no day."""
    written = _ZH_THAT_DAY.search(text)
    if written is None:
        return []
    days = [m for m in find_dates(before, reference) if m.kind == "explicit"]
    if not days:
        return []
    return [replace(days[-1], start=written.start(), end=written.end(), end_day=None)]


class _Hit(NamedTuple):
    mention: DateMention
    time_of_day: bool  # a lone "вечером": it belongs to the date next to it, if any
    # False for a weekday or "вечером" read without a reference: kept only to join an
    # explicit date ("Kamis, 16 Mei 2024"), then dropped.
    resolved: bool = True


# Stands in for a missing reference while a weekday waits to join an explicit date.
_NO_REFERENCE = date(2000, 1, 3)


# A handler reads one match in the lower-cased sentence; ``text`` is the sentence as written.
_Handler = Callable[[re.Match[str], date | None, str], _Hit | None]


def _scan(
    family: tuple[re.Pattern[str], dict[str, _Handler]], text: str, ref: date | None
) -> list[_Hit]:
    handlers = family[1]
    hits = []
    for m in _matches(text, family is _WORDS):
        # Each alternative is wrapped in one named group, which closes last.
        hit = handlers[m.lastgroup or ""](m, ref, text)
        if hit is not None:
            hits.append(hit)
    return hits


@lru_cache(maxsize=1024)
def _matches(text: str, words: bool) -> tuple[re.Match[str], ...]:
    """The matches of the dates in words (or the explicit dates, tried only where there is
    a digit) in the lower-cased sentence."""
    if not words and not _HAS_DIGIT(text):
        return ()
    # Matching lower-cased text without IGNORECASE is about twice as fast.
    low = text.lower()
    if len(low) != len(text):  # "İ" lowers to two characters: keep the offsets
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return tuple((_WORDS if words else _EXPLICIT)[0].finditer(low))


# A gap that may separate a weekday from its date: "Friday, December 30", "Jumat (30/12)",
# "12月30日（星期五）".
_GAP = re.compile(r"[\s,，、(（]{0,3}")


def _joins(left: _Hit, right: _Hit, text: str) -> bool:
    if not _GAP.fullmatch(text, left.mention.end, right.mention.start):
        return False
    if left.time_of_day != right.time_of_day:
        return True
    kinds = {left.mention.kind, right.mention.kind}
    if kinds == {"relative", "explicit"}:
        # "今天（9月2日）", "昨日（28日）": the day written in brackets is the one meant
        gap = text[left.mention.end : right.mention.start]
        return left.mention.kind == "relative" and ("(" in gap or "（" in gap)
    return kinds == {"explicit", "weekday"}


def _merge(left: _Hit, right: _Hit, text: str) -> _Hit:
    if left.time_of_day or (right.mention.kind == "explicit" and not right.time_of_day):
        keep = right
    else:
        keep = left
    start, end = left.mention.start, right.mention.end
    span = text[start:end]
    # Take the closing bracket of "Jumat (30/12/2022)" into the mention too.
    if (
        end < len(text)
        and text[end] in ")）"
        and span.count("(") + span.count("（") > (span.count(")") + span.count("）"))
    ):
        end += 1
    return keep._replace(mention=replace(keep.mention, start=start, end=end))


# --- resolving ---------------------------------------------------------------------------


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest(month: int, day: int, ref: date) -> date | None:
    """The day/month in the year that puts it closest to ``ref`` (news reaches both ways)."""
    days = [_day(year, month, day) for year in (ref.year - 1, ref.year, ref.year + 1)]
    found = [d for d in days if d is not None]
    return min(found, key=lambda d: abs((d - ref).days)) if found else None


def _first_of_month(ref: date, months: int) -> date:
    index = ref.year * 12 + ref.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _explicit_hit(
    m: re.Match[str],
    ref: date | None,
    year: int | None,
    year_written: bool,
    month: int | None,
    day: int,
    month2: int | None = None,
    day2: int | None = None,
    start: int | None = None,
) -> _Hit | None:
    if month is None:
        return None
    if year is not None:
        first = _day(year, month, day)
    elif year_written or ref is None:
        return None  # "last year" without a reference, or no year and nothing to guess from
    else:
        first = _nearest(month, day, ref)
    if first is None:
        return None
    last = None
    if day2 is not None:
        last = _day(first.year, month2 or month, day2)
        if last is not None and last < first:  # "30 December – 2 January"
            last = _day(first.year + 1, month2 or month, day2)
        # Days more than two months apart are two unrelated numbers, not one event's range.
        if last is not None and not first < last <= first + timedelta(days=62):
            last = None
    mention = DateMention(
        first, m.start() if start is None else start, m.end(), "explicit", year_written, last
    )
    return _Hit(mention, False)


def _weekday_day(ref: date, weekday: int, mod: str) -> date:
    ahead = (weekday - ref.weekday()) % 7
    if mod == "last":
        return ref - timedelta(days=(7 - ahead) % 7 or 7)
    if mod == "next":
        return ref + timedelta(days=ahead or 7)
    if mod == "this":  # the coming one, or today
        return ref + timedelta(days=ahead)
    if mod in _CALENDAR_WEEK:  # Chinese 上周五/本周五/下周五 name a day of a Monday-based week
        return ref + timedelta(days=weekday - ref.weekday() + _CALENDAR_WEEK[mod])
    # A bare weekday in news is within a few days of the article, before or after it.
    return ref + timedelta(days=ahead if ahead <= 3 else ahead - 7)


_CALENDAR_WEEK = {"prev_week": -7, "week": 0, "next_week": 7}


def _vague_day(ref: date, unit: str, mod: str) -> date:
    offset = {"last": -1, "this": 0, "next": 1}[mod]
    if unit == "week":
        return ref + timedelta(days=7 * offset)
    return ref if offset == 0 else _first_of_month(ref, offset)


# --- vocabulary --------------------------------------------------------------------------

_EN_MONTH_NAMES = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
_EN_MONTH_ABBREVIATIONS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_NAMES = _EN_MONTH_NAMES | {
    "januari": 1, "februari": 2, "maret": 3, "mei": 5, "juni": 6, "juli": 7, "agustus": 8,
    "oktober": 10, "desember": 12,
    # Russian: a day is followed by the genitive
    "января": 1, "февраля": 2, "марта": 3, "апреля": 4, "мая": 5, "июня": 6, "июля": 7,
    "августа": 8, "сентября": 9, "октября": 10, "ноября": 11, "декабря": 12,
}  # fmt: skip
# Only an abbreviation takes a full stop: in "on 3 January." the stop ends the sentence.
_MONTH_ABBREVIATIONS = _EN_MONTH_ABBREVIATIONS | {
    "agu": 8, "agt": 8, "ags": 8, "agus": 8, "okt": 10, "des": 12,
    "янв": 1, "фев": 2, "февр": 2, "мар": 3, "апр": 4, "июн": 6, "июл": 7, "авг": 8,
    "сен": 9, "сент": 9, "окт": 10, "ноя": 11, "нояб": 11, "дек": 12,
}  # fmt: skip
_MONTHS = _MONTH_NAMES | _MONTH_ABBREVIATIONS
_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
    "senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "sabtu": 5, "minggu": 6,
    # Russian, by the first four letters of any case form
    "поне": 0, "втор": 1, "сред": 2, "четв": 3, "пятн": 4, "субб": 5, "воск": 6,
    "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
}  # fmt: skip
_MODS = {
    "this": "this", "this coming": "next", "coming": "next", "the coming": "next",
    "next": "next", "last": "last", "past": "last", "this past": "last",
    "later this": "this",
    "ini": "this", "lalu": "last", "kemarin": "last", "depan": "next", "mendatang": "next",
    # Russian, by the first letters
    "эт": "this", "те": "this", "пр": "last", "ми": "last", "сл": "next", "бу": "next",
    "пре": "next", "бл": "next",
    "上": "last", "下": "next", "本": "this", "这": "this", "這": "this", "今": "this",
}  # fmt: skip
_RELATIVE = {
    "today": 0, "tonight": 0, "this morning": 0, "this afternoon": 0, "this evening": 0,
    "tomorrow": 1, "yesterday": -1, "last night": -1, "the day after tomorrow": 2,
    "the previous day": -1, "a day earlier": -1, "the day before": -1, "накануне": -1,
    "sehari sebelumnya": -1, "前一天": -1,
    "the day before yesterday": -2,
    "сегодня": 0, "завтра": 1, "вчера": -1, "послезавтра": 2, "позавчера": -2,
    "утром": 0, "вечером": 0,
    "hari ini": 0, "pagi ini": 0, "siang ini": 0, "sore ini": 0, "malam ini": 0,
    "nanti malam": 0, "tadi pagi": 0, "besok": 1, "esok": 1, "esok hari": 1, "kemarin": -1,
    "lusa": 2, "kemarin lusa": -2,
    "今天": 0, "今日": 0, "今晚": 0, "今晨": 0, "今早": 0, "明天": 1, "明日": 1, "明晚": 1,
    "明早": 1, "昨天": -1, "昨日": -1, "昨晚": -1, "后天": 2, "後天": 2, "前天": -2,
}  # fmt: skip
_YEAR_OFFSETS = {
    "прошлого": -1, "минувшего": -1, "этого": 0, "текущего": 0, "сего": 0,
    "следующего": 1, "будущего": 1, "lalu": -1, "ini": 0, "depan": 1, "last": -1,
    "this": 0, "next": 1, "前年": -2, "去年": -1, "今年": 0, "明年": 1,
}  # fmt: skip


def _key(token: str) -> str:
    return " ".join(token.lower().split())


def _mod(token: str | None) -> str:
    if not token:
        return ""
    key = _key(token)
    if key in _MODS:
        return _MODS[key]
    # Russian modifiers decline ("прошлую", "прошлой"…) and Chinese ones take 个.
    return _MODS.get(key[:3]) or _MODS.get(key[:2]) or _MODS[key[:1]]


def _month(m: re.Match[str], text: str, group: str) -> int | None:
    word = text[m.start(group) : m.end(group)].rstrip(".")
    # In lower case, "may" and "march" are verbs, not months.
    if word.isascii() and not word[0].isupper():
        return None
    return _MONTHS[word.lower()]


def _year(m: re.Match[str], prefix: str, ref: date | None) -> tuple[int | None, bool]:
    """The year written after (or, in Chinese, before) a date, and whether there was one."""
    if written := m.group(prefix + "_y"):
        return int(written), True
    if relative := m.group(prefix + "_ry"):
        if ref is None:
            return None, True
        offset = next(_YEAR_OFFSETS[w] for w in _key(relative).split() if w in _YEAR_OFFSETS)
        return ref.year + offset, True
    return None, False


def _alternation(words: Iterable[str]) -> str:
    """Longest first: a regex alternation takes the first alternative that fits."""
    return "|".join(sorted(map(re.escape, words), key=len, reverse=True))


# --- explicit dates ----------------------------------------------------------------------

_MON = (
    rf"(?:{_alternation(_MONTH_NAMES)})(?!\w)"
    rf"|(?:{_alternation(_MONTH_ABBREVIATIONS)})(?:\.|(?!\w))"
)
_EN_MON = (
    rf"(?:{_alternation(_EN_MONTH_NAMES)})(?!\w)"
    rf"|(?:{_alternation(_EN_MONTH_ABBREVIATIONS)})(?:\.|(?!\w))"
)


def _number(name: str) -> str:
    r"""A day of the month, captured without its ordinal ending; (?!\w) keeps "2023" out."""
    return rf"(?P<{name}>\d{{1,2}})(?:st|nd|rd|th)?(?!\w)"


_TO = r"\s*(?:[-–—]|to|through|until|till|and|&|по|до|и|hingga|sampai|s/d|s\.d\.|dan)\s*"
_YEAR = r"(?:19|20)\d\d(?!\d)"
_REL_YEAR = (
    r"(?:прошлого|минувшего|этого|текущего|сего|следующего|будущего)\s+года"
    r"|tahun\s+(?:lalu|ini|depan)|(?:last|this|next)\s+year"
)
_EN_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_ID_WEEKDAYS = "senin|selasa|rabu|kamis|jum['’]?at|sabtu|minggu"


def _year_tail(p: str) -> str:
    year = rf"(?P<{p}_y>{_YEAR})(?:\s*(?:года|году|г\.|г(?!\w)))?"
    return rf"(?:,?\s+(?:{year}|(?P<{p}_ry>{_REL_YEAR})))?"


_EXPLICIT_ALTERNATIVES = {
    "iso": r"(?<![\d./a-zа-яё])(?P<iso_y>(?:19|20)\d\d)(?P<iso_s>[-/.])(?P<iso_m>\d{1,2})(?P=iso_s)"
    r"(?P<iso_d>\d{1,2})(?![\d.]?\d)",
    "dmy": r"(?<![\d./a-zа-яё])(?P<dmy_d>\d{1,2})(?P<dmy_s>[-/.])(?P<dmy_m>\d{1,2})(?P=dmy_s)"
    rf"(?P<dmy_y>{_YEAR})(?![.]?\d)",
    # "Jumat (30/12)": Indonesian dailies leave the year out; the weekday makes it a date.
    "wdp": rf"(?<!\w)(?:{_EN_WEEKDAYS}|{_ID_WEEKDAYS})\s*\(\s*(?P<wdp_d>\d{{1,2}})"
    r"/(?P<wdp_m>\d{1,2})\s*\)",
    "xdm": rf"(?<![\w.])(?:с\s+)?{_number('xdm_d1')}\s+(?:of\s+)?(?P<xdm_m1>{_MON}){_TO}"
    rf"{_number('xdm_d2')}\s+(?:of\s+)?(?P<xdm_m2>{_MON}){_year_tail('xdm')}",
    "xmd": rf"(?<!\w)(?P<xmd_m1>{_EN_MON})\s*{_number('xmd_d1')}{_TO}(?P<xmd_m2>{_EN_MON})\s*"
    rf"{_number('xmd_d2')}{_year_tail('xmd')}",
    "dm": rf"(?<![\w.])(?:с\s+)?{_number('dm_d1')}(?:{_TO}{_number('dm_d2')})?\s+(?:of\s+)?"
    rf"(?P<dm_m>{_MON}){_year_tail('dm')}",
    "md": rf"(?<!\w)(?P<md_m>{_EN_MON})\s*{_number('md_d1')}(?:{_TO}{_number('md_d2')})?"
    rf"{_year_tail('md')}",
    # Chinese: digits sit right against other characters, so only digits bound a number.
    # A day needs 日 (号 only after a month: "3号线" is a metro line); "30日元" is money and
    # "30日内" a span of days.
    "zh": r"(?<!\d)(?:(?P<zh_y>(?:19|20)\d\d)\s*年\s*|(?P<zh_ry>前年|去年|今年|明年))?"
    r"(?:(?P<zh_m>\d{1,2})\s*月\s*|(?P<zh_rm>本月|下个?月|上个?月))?"
    r"(?P<zh_d>\d{1,2})(?!\d)\s*(?P<zh_s>日(?![元内內])|号|號)?"
    r"(?:\s*(?:至|到|[-–—~～]|和|及|、)\s*(?:(?P<zh_m2>\d{1,2})\s*月\s*)?"
    r"(?P<zh_d2>\d{1,2})\s*(?:日|号|號))?",
    # Taiwan's wire style: "今(20)日" is today, the 20th; "昨(19)日", "明(21)日".
    "zhp": r"[今明昨]\s*[(（]\s*(?P<zhp_d>\d{1,2})\s*[)）]\s*日",
}


def _iso(m: re.Match[str], ref: date | None, text: str) -> _Hit | None:
    y, mo, d = int(m["iso_y"]), int(m["iso_m"]), int(m["iso_d"])
    return _explicit_hit(m, ref, y, True, mo, d)


def _dmy(m: re.Match[str], ref: date | None, text: str) -> _Hit | None:
    d, mo = int(m["dmy_d"]), int(m["dmy_m"])
    if mo > 12 >= d:  # an American month/day/year
        d, mo = mo, d
    return _explicit_hit(m, ref, int(m["dmy_y"]), True, mo, d)


def _wdp(m: re.Match[str], ref: date | None, text: str) -> _Hit | None:
    return _explicit_hit(m, ref, None, False, int(m["wdp_m"]), int(m["wdp_d"]))


def _cross(prefix: str) -> _Handler:
    def handle(m: re.Match[str], ref: date | None, text: str) -> _Hit | None:
        year, written = _year(m, prefix, ref)
        d1, d2 = int(m[prefix + "_d1"]), int(m[prefix + "_d2"])
        m1, m2 = _month(m, text, prefix + "_m1"), _month(m, text, prefix + "_m2")
        if m2 is None:
            return None
        return _explicit_hit(m, ref, year, written, m1, d1, m2, d2)

    return handle


def _dm(m: re.Match[str], ref: date | None, text: str) -> _Hit | None:
    year, written = _year(m, "dm", ref)
    month = _month(m, text, "dm_m")
    d1, d2 = int(m["dm_d1"]), int(m["dm_d2"]) if m["dm_d2"] else None
    if d2 and d2 <= d1:  # "8 and 5 May" is not a range: keep the day next to the month
        return _explicit_hit(m, ref, year, written, month, d2, start=m.start("dm_d2"))
    return _explicit_hit(m, ref, year, written, month, d1, None, d2)


def _md(m: re.Match[str], ref: date | None, text: str) -> _Hit | None:
    year, written = _year(m, "md", ref)
    month = _month(m, text, "md_m")
    d1, d2 = int(m["md_d1"]), int(m["md_d2"]) if m["md_d2"] else None
    if d2 and d2 <= d1:  # "May 16 and 5 others": only "May 16" is a date
        hit = _explicit_hit(m, ref, None, False, month, d1)
        end = m.end("md_d1")
        return hit and hit._replace(mention=replace(hit.mention, end=end))
    return _explicit_hit(m, ref, year, written, month, d1, None, d2)


# "16号" without a month is a day only where a day's words follow ("普丁16号造访中国",
# "8号下午"): "3号线", "2号人物", "1号文件" are numbers.
_DAY_NUMBER_THEN = re.compile(r"[上下中晚凌早当當起抵举舉访訪造赴前与與同]")


def _zh(m: re.Match[str], ref: date | None, text: str) -> _Hit | None:
    if not m["zh_s"] and not m["zh_d2"]:
        return None  # "12月30" or a bare number
    a_day = m["zh_s"] == "日" or bool(m["zh_s"] and _DAY_NUMBER_THEN.match(text, m.end()))
    if not (a_day or m["zh_m"] or m["zh_rm"]):
        return None
    year, written = _year(m, "zh", ref)
    day = int(m["zh_d"])
    day2 = int(m["zh_d2"]) if m["zh_d2"] else None
    month2 = int(m["zh_m2"]) if m["zh_m2"] else None
    if m["zh_m"]:
        return _explicit_hit(m, ref, year, written, int(m["zh_m"]), day, month2, day2)
    if ref is None:
        return None
    if m["zh_rm"]:
        month = _first_of_month(ref, {"本": 0, "下": 1, "上": -1}[m["zh_rm"][0]])
        return _explicit_hit(m, ref, month.year, False, month.month, day, month2, day2)
    first = _day_alone(day, ref)
    if first is None:
        return None
    return _explicit_hit(m, ref, first.year, False, first.month, day, month2, day2)


def _zh_paren(m: re.Match[str], ref: date | None, text: str) -> _Hit | None:
    first = _day_alone(int(m["zhp_d"]), ref) if ref else None
    if first is None:
        return None
    return _explicit_hit(m, ref, first.year, False, first.month, first.day)


def _day_alone(day: int, ref: date) -> date | None:
    """A day of the month written alone ("30日"): in the reference's month or a
    neighbour, whichever is nearest."""
    months = [_first_of_month(ref, k) for k in (-1, 0, 1)]
    days = [d for d in (_day(mo.year, mo.month, day) for mo in months) if d is not None]
    return min(days, key=lambda d: abs((d - ref).days)) if days else None


_EXPLICIT_HANDLERS: dict[str, _Handler] = {
    "iso": _iso,
    "dmy": _dmy,
    "wdp": _wdp,
    "xdm": _cross("xdm"),
    "xmd": _cross("xmd"),
    "dm": _dm,
    "md": _md,
    "zh": _zh,
    "zhp": _zh_paren,
}

# --- dates in words ----------------------------------------------------------------------

_RU_MODS = r"эт(?:у|от|о|ой)|прошл\w+|минувш\w+|следующ\w+|будущ\w+|ближайш\w+|предстоящ\w+"
_RU_WEEKDAYS = (
    r"понедельник(?:ом|а|у)?|вторник(?:ом|а|у)?|сред(?:ой|у|а|ы|е)|четверг(?:ом|а|у)?"
    r"|пятниц(?:ей|у|а|ы|е)|суббот(?:ой|у|а|ы|е)|воскресень(?:ем|е|я|ю)"
)
_RU_TIME = r"утром|днём|днем|вечером|ночью"
_ZH_MODS = r"上个?|下个?|本|这个?|這個?"

# Word-bounded alternatives sit behind one (?<!\w), so most positions fail at once.
_WORD_ALTERNATIVES = {
    "en_skip": r"earlier\s+this\s+(?:week|month)(?!\w)",
    "en_vague": r"(?P<en_vm>next|this|last|later\s+this|(?:the\s+)?coming)\s+"
    r"(?P<en_vu>week|month)(?!\w)",
    "en_wd": r"(?:(?P<en_wm>this\s+coming|this\s+past|this|last|next|coming|past)\s+)?"
    rf"(?P<en_day>{_EN_WEEKDAYS})(?:\s+(?:morning|afternoon|evening|night))?(?!\w)",
    "en_rel": r"(?P<en_k>the\s+day\s+(?:after\s+tomorrow|before\s+yesterday)|today|tonight"
    r"|tomorrow|yesterday|last\s+night|this\s+(?:morning|afternoon|evening)"
    r"|the\s+previous\s+day|a\s+day\s+earlier|the\s+day\s+before)(?!\w)",
    "ru_vague": rf"(?:(?:на|в)\s+)?(?P<ru_vm>эт(?:ой|у|ом)|текущ\w+|{_RU_MODS})\s+"
    r"(?P<ru_vu>недел[еиюя]|месяц[еа]?)(?!\w)",
    # Russian weekdays need a preposition or a modifier: "среда" alone is "environment".
    "ru_wd": rf"(?:(?:во?|на|до|со?|ко?)\s+(?:(?P<ru_wm>{_RU_MODS})\s+)?"
    rf"|(?P<ru_wm2>{_RU_MODS})\s+)(?P<ru_day>{_RU_WEEKDAYS})(?:\s+(?:{_RU_TIME}))?(?!\w)",
    "ru_rel": r"(?P<ru_k>послезавтра|позавчера|сегодня|завтра|вчера"
    # "накануне визита" is "on the eve of the visit", not "the day before"
    r"|накануне(?!\s+(?:визит|переговор|встреч|саммит|поездк|праздник|дня|нового|выбор)))"
    r"(?:шн\w*)?"
    rf"(?:\s+(?:{_RU_TIME}))?(?!\w)",
    "ru_time": r"(?P<ru_t>утром|вечером)(?!\w)",
    # "minggu" is also "week": "minggu depan" is next week, "hari Minggu" a Sunday.
    "id_vague": r"(?<!hari\s)(?<!pada\s)(?P<id_vu>pekan|minggu|bulan)\s+"
    r"(?P<id_vm>ini|lalu|depan|mendatang)(?!\w)",
    "id_wd": rf"(?P<id_day>{_ID_WEEKDAYS})(?:\s+(?:pagi|siang|sore|malam))?"
    r"(?:\s+(?P<id_wm>lalu|kemarin|depan|mendatang|ini))?(?!\w)",
    "id_rel": r"(?P<id_k>hari\s+ini|kemarin\s+lusa|esok\s+hari|besok|esok|kemarin|lusa"
    r"|(?:pagi|siang|sore|malam)\s+ini|nanti\s+malam|tadi\s+pagi|sehari\s+sebelumnya)(?!\w)",
}
_ZH_ALTERNATIVES = {
    # "每周一" is every Monday and "两周" two weeks; "这周天气" is the week's weather.
    "zh_wd": rf"(?<![每一二两三四五六七八九十几数])(?P<zh_wm>{_ZH_MODS})?"
    r"(?:(?:星期|礼拜|禮拜)(?P<zh_wd_a>[一二三四五六日天])|[周週](?P<zh_wd_b>[一二三四五六日]))",
    # "以上月份", "上周期" (last cycle), "登上月球" (on the moon) and "周边" are not dates.
    "zh_vague": rf"(?<![以马馬线線登])(?P<zh_vm>{_ZH_MODS})(?P<zh_vu>星期|礼拜|禮拜|[周週]|月)"
    r"(?![边邊围圍年期刊报報球亮光份])",
    # 今日俄罗斯 is RT, 今日头条 an app, 前天津市委书记 a former Tianjin official.
    "zh_rel": r"(?P<zh_k>今天|今日(?!俄罗斯|俄羅斯|头条|頭條|美国|美國)|今晚|今晨|今早|明天|明日"
    r"|明晚|明早|昨天|昨日|昨晚|后天|後天|前天(?!津)|前一天)",
}


def _weekday(prefix: str, mod_group: str) -> _Handler:
    def handle(m: re.Match[str], ref: date | None, text: str) -> _Hit | None:
        token = m[prefix + "_day"]
        mod = _mod(m[mod_group])
        if prefix == "ru":
            mod = mod or _mod(m["ru_wm2"])
            token = token[:4]
        elif prefix == "id":
            token = token.replace("'", "").replace("’", "")
            before = m.string[max(0, m.start() - 5) : m.start()]
            if text[m.start()] == "m" and before not in ("hari ", "pada "):
                return None  # lower-case "minggu" is a week
        day = _weekday_day(ref or _NO_REFERENCE, _WEEKDAYS[token], mod)
        return _Hit(DateMention(day, m.start(), m.end(), "weekday", False), False, ref is not None)

    return handle


def _zh_weekday(m: re.Match[str], ref: date | None, text: str) -> _Hit | None:
    mod = {"": "", "last": "prev_week", "this": "week", "next": "next_week"}[_mod(m["zh_wm"])]
    day = _weekday_day(ref or _NO_REFERENCE, _WEEKDAYS[m["zh_wd_a"] or m["zh_wd_b"]], mod)
    return _Hit(DateMention(day, m.start(), m.end(), "weekday", False), False, ref is not None)


def _relative(group: str) -> _Handler:
    def handle(m: re.Match[str], ref: date | None, text: str) -> _Hit | None:
        time_of_day = group == "ru_t"
        if ref is None and not time_of_day:
            return None
        day = (ref or _NO_REFERENCE) + timedelta(days=_RELATIVE[_key(m[group])])
        mention = DateMention(day, m.start(), m.end(), "relative", False)
        return _Hit(mention, time_of_day, ref is not None)

    return handle


# Russian units by their first four letters; Chinese 周/星期/礼拜 are weeks.
_UNITS = {
    "week": "week", "month": "month", "неде": "week", "меся": "month", "pekan": "week",
    "minggu": "week", "bulan": "month", "月": "month",
}  # fmt: skip


def _vague(prefix: str) -> _Handler:
    def handle(m: re.Match[str], ref: date | None, text: str) -> _Hit | None:
        if ref is None:
            return None
        unit = m[prefix + "_vu"].lower()
        unit = _UNITS.get(unit) or _UNITS.get(unit[:4], "week")
        day = _vague_day(ref, unit, _mod(m[prefix + "_vm"]))
        return _Hit(DateMention(day, m.start(), m.end(), "vague", False), False)

    return handle


def _skip(m: re.Match[str], ref: date | None, text: str) -> _Hit | None:
    return None  # "earlier this month": too loose to be a day, and not "this month"


_WORD_HANDLERS: dict[str, _Handler] = {
    "en_skip": _skip,
    "en_vague": _vague("en"),
    "en_wd": _weekday("en", "en_wm"),
    "en_rel": _relative("en_k"),
    "ru_vague": _vague("ru"),
    "ru_wd": _weekday("ru", "ru_wm"),
    "ru_rel": _relative("ru_k"),
    "ru_time": _relative("ru_t"),
    "id_vague": _vague("id"),
    "id_wd": _weekday("id", "id_wm"),
    "id_rel": _relative("id_k"),
    "zh_wd": _zh_weekday,
    "zh_vague": _vague("zh"),
    "zh_rel": _relative("zh_k"),
}


def _compile(
    bounded: dict[str, str], bounded_start: str, free: dict[str, str], free_start: str
) -> re.Pattern[str]:
    r"""One alternation over lower-cased text, each alternative in a group of its own name.

    Alternatives that start a word sit behind one shared (?<!\w); the others (Chinese, and
    numbers that may touch Chinese characters) behind a look-ahead for their first
    characters. Most positions then fail after a single test.
    """
    word = "|".join(f"(?P<{name}>{body})" for name, body in bounded.items())
    rest = "|".join(f"(?P<{name}>{body})" for name, body in free.items())
    return re.compile(rf"(?<!\w)(?={bounded_start})(?:{word})|(?={free_start})(?:{rest})")


def _pick(alternatives: dict[str, str], *names: str) -> dict[str, str]:
    return {name: alternatives[name] for name in names}


_HAS_DIGIT = re.compile(r"\d").search
_HAS_YEAR = re.compile(r"(?:19|20)\d\d").search
_EXPLICIT = (
    _compile(
        _pick(_EXPLICIT_ALTERNATIVES, "wdp", "xdm", "xmd", "dm", "md"),
        r"[\da-zа-яё]",
        _pick(_EXPLICIT_ALTERNATIVES, "iso", "dmy", "zh", "zhp"),
        r"[\d去今明昨前本下上]",
    ),
    _EXPLICIT_HANDLERS,
)
_WORDS = (
    _compile(
        _WORD_ALTERNATIVES, r"[a-zа-яё]", _ZH_ALTERNATIVES, r"[上下本这這今明昨后後前星礼禮周週]"
    ),
    _WORD_HANDLERS,
)


# Months named without a day ("in March", "в марте", "pada Maret", "3月"), for telling a
# meeting recalled from an earlier month. Russian uses the prepositional case here.
_MONTH_ONLY_WORDS = _MONTH_NAMES | {
    "январе": 1, "феврале": 2, "марте": 3, "апреле": 4, "мае": 5, "июне": 6, "июле": 7,
    "августе": 8, "сентябре": 9, "октябре": 10, "ноябре": 11, "декабре": 12,
    "april": 4, "september": 9, "november": 11,
}  # fmt: skip
_MONTH_ONLY = re.compile(
    rf"(?<!\w)({_alternation(_MONTH_ONLY_WORDS)})(?!\w)|(?<![\d月])(1[0-2]|[1-9])月(?![\d日号])",
    re.IGNORECASE,
)


def find_months(text: str) -> list[tuple[int, int]]:
    """(month, offset) of months named on their own, outside any full date."""
    return list(_find_months(text))


# Asked again for each meeting word of a sentence; emptied with the mentions at each article.
@lru_cache(maxsize=1024)
def _find_months(text: str) -> tuple[tuple[int, int], ...]:
    taken = [(m.start, m.end) for m in find_dates(text, _NO_REFERENCE)]
    months = []
    for m in _MONTH_ONLY.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        if m.group(1):
            word = m.group(1)
            if word.isascii() and not word[0].isupper():
                continue  # "may", "march": verbs
            months.append((_MONTH_ONLY_WORDS[word.lower()], m.start()))
        else:
            months.append((int(m.group(2)), m.start()))
    return tuple(months)
