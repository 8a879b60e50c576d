"""Topics as data: the YAML that says what a watched event looks like, compiled once.

A topic names its parties (with aliases in every language and script, and the places
that stand for them), the words that make a meeting of each kind, the words that
announce one or report it held, and what disqualifies a sentence (denials, written
messages, recollections, other principals and ministers), and the summits where leaders
meet, which are neither a party nor another principal. Built-in topics live in
``monitor/topics/*.yaml``; a config may name them or define its own inline. All phrases
of a topic compile into one Aho-Corasick automaton, so matching an article is one pass
however many languages and aliases it has. Phrases go through the same fold as articles
(``monitor.normalize``): a topic written in traditional Chinese matches simplified text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import ahocorasick
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.config import SafeLoader
from monitor.errors import ConfigError
from monitor.normalize import fold
from monitor.text import CJK, lower_keeping_offsets

BUILTIN_DIR = Path(__file__).parent / "topics"
COMMON_DIR = BUILTIN_DIR / "common"
OFFICES_FILE = Path(__file__).parent / "offices.yaml"

Phrases = dict[str, list[str]]  # language code → phrases


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Term(_Strict):
    """One term in office: from ``since`` to the day before ``until`` (open if none)."""

    since: date
    until: date | None = None


class Holder(_Strict):
    """Someone who held an office, by every name a text may use."""

    name: str
    terms: list[Term] = Field(min_length=1)
    aliases: Phrases

    def held_on(self, day: date) -> bool:
        return any(t.since <= day and (t.until is None or day < t.until) for t in self.terms)

    @property
    def holds(self) -> bool:
        """Whether the office is still theirs (a term with no end)."""
        return any(t.until is None for t in self.terms)


class Office(_Strict):
    """An office a party may be ("President of the People's Republic of China"): the words
    for the office whoever holds it, for its country, and its holders by name."""

    title: str
    aliases: Phrases = Field(default_factory=dict)
    counterparts: Phrases = Field(default_factory=dict)
    places: Phrases = Field(default_factory=dict)
    holders: list[Holder] = Field(min_length=1)


def offices() -> dict[str, Office]:
    """The offices a topic's party may name (``monitor/offices.yaml``), read on first use
    and again once the file has changed."""
    return _offices(_stamp(OFFICES_FILE))


@lru_cache(maxsize=1)  # a changed file's old offices are not kept
def _offices(stamp: tuple[int, int]) -> dict[str, Office]:
    data = _yaml(OFFICES_FILE)
    return {key: Office.model_validate(value) for key, value in data.items()}


def _stamp(path: Path) -> tuple[int, int]:
    """What changes when a file does: its modification time and size."""
    info = path.stat()
    return info.st_mtime_ns, info.st_size


def _yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)


class Party(_Strict):
    """One side of the meeting: a person, by every name a text may use, or an office, whose
    holders' names count on the days they held it and whose own aliases, counterparts and
    places are the party's too (a topic's add to them)."""

    name: str
    aliases: Phrases = Field(default_factory=dict)
    office: str | None = None
    places: Phrases = Field(default_factory=dict)
    # "his Russian counterpart": the party only as the counterpart of the other party named
    # before it ("Xi and his Russian counterpart"; not "Wang Yi met his Russian counterpart")
    counterparts: Phrases = Field(default_factory=dict)

    @field_validator("office")
    @classmethod
    def _known_office(cls, office: str | None) -> str | None:
        if office is not None and office not in offices():
            raise ValueError(f"no office {office!r} (known: {', '.join(sorted(offices()))})")
        return office

    @property
    def holders(self) -> list[Holder]:
        return offices()[self.office].holders if self.office else []

    def phrases(self, kind: str) -> Phrases:
        """The party's ``aliases``, ``counterparts`` or ``places``: its office's and its own."""
        own: Phrases = getattr(self, kind)
        if self.office is None:
            return own
        office: Phrases = getattr(offices()[self.office], kind)
        merged = {lang: list(words) for lang, words in office.items()}
        for lang, words in own.items():
            merged.setdefault(lang, []).extend(words)
        return merged


class MeetingTerms(_Strict):
    """Words that make a meeting, by kind; `talks` says it happened, not how."""

    phone: Phrases = Field(default_factory=dict)
    video: Phrases = Field(default_factory=dict)
    in_person: Phrases = Field(default_factory=dict, alias="in-person")
    # in person, with the one welcomed right after the word ("Xi welcomed Putin"; not
    # "welcomed the idea")
    greeting: Phrases = Field(default_factory=dict)
    talks: Phrases = Field(default_factory=dict)


class NotEvidence(_Strict):
    negation: Phrases = Field(default_factory=dict)
    hedge: Phrases = Field(default_factory=dict)
    invitation: Phrases = Field(default_factory=dict)
    message: Phrases = Field(default_factory=dict)
    recall: Phrases = Field(default_factory=dict)
    anchor: Phrases = Field(default_factory=dict)


class Topic(_Strict):
    """A watched kind of event."""

    name: str = Field(pattern=r"^[a-z0-9-]+$")
    description: str = ""
    parties: list[Party] = Field(min_length=2, max_length=8)
    both: Phrases = Field(default_factory=dict)
    the_two: Phrases = Field(default_factory=dict)
    leaders: Phrases = Field(default_factory=dict)
    meeting: MeetingTerms
    announcement: Phrases = Field(default_factory=dict)
    report: Phrases = Field(default_factory=dict)
    not_evidence: NotEvidence = Field(default_factory=NotEvidence)
    others: Phrases = Field(default_factory=dict)
    venues: Phrases = Field(default_factory=dict)
    ministers: Phrases = Field(default_factory=dict)

    @field_validator("parties")
    @classmethod
    def _named_parties(cls, parties: list[Party]) -> list[Party]:
        for party in parties:
            if not any(party.aliases.values()) and party.office is None:
                raise ValueError(f"party {party.name!r} has no aliases")
        return parties


# Groups in the order they win a tie (same start, same length): the more specific first.
GROUPS = (
    "both", "the_two", "leaders", "party*", "counterpart*", "negation", "hedge", "invitation",
    "recall", "anchor", "message", "other", "minister", "venue", "phone", "video", "in_person",
    "greeting", "talks", "place*", "announce", "report",
)  # fmt: skip
TRIGGERS = ("phone", "video", "in_person", "greeting", "talks")

# Inner words marked `*` ("Председател* КНР") inflect before the next word, which a
# literal automaton cannot follow: they are spelled out with these endings (Russian
# declension, enough for names and titles). A last word's `*` is followed at scan time.
_ENDINGS = (
    "", "а", "я", "у", "ю", "е", "и", "ы", "ь", "ом", "ем", "ой", "ей", "ам", "ям", "ах", "ях",
    "ами", "ями", "ов", "ев", "ий", "ый", "ая", "яя", "ое", "ее", "ые", "ие", "ого", "его",
    "ому", "ему", "ым", "им", "ых", "их", "ую", "юю", "ыми", "ими",
)  # fmt: skip


class Hit(NamedTuple):
    """One phrase found in a text: its group (party0, talks, negation…) and where.

    A named tuple, not a frozen dataclass: an article makes thousands, and the matcher
    compares and hashes them; a tuple is made, hashed and compared three times faster."""

    group: str
    start: int
    end: int
    text: str
    holder: int = -1  # for a party that is an office: whose name this is (-1: the office's)


@dataclass(frozen=True)
class _Entry:
    group: str
    rank: int  # position of the group in GROUPS: lower wins a tie
    cjk: bool
    stem: bool
    holder: int = -1


def _spellings(phrase: str) -> list[tuple[str, bool]]:
    """The literal forms of a phrase, lower-cased, and whether its last word inflects."""
    words = phrase.lower().split()
    forms = [""]
    for word in words[:-1]:
        stems = [word[:-1] + ending for ending in _ENDINGS] if word.endswith("*") else [word]
        forms = [f"{form}{stem} " for form in forms for stem in stems]
    last = words[-1]
    return [(form + last.rstrip("*"), last.endswith("*")) for form in forms]


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@dataclass(frozen=True)
class CompiledTopic:
    """A topic ready to scan text: an Aho-Corasick automaton over all its phrases."""

    topic: Topic
    automaton: ahocorasick.Automaton

    @property
    def name(self) -> str:
        return self.topic.name

    def participants(self, day: date | None) -> tuple[str, ...]:
        """Who the parties were on a day: an office's holder then (its present holder when
        the day is not known), else the party's name."""
        return tuple(_holder_on(party, day) for party in self.topic.parties)

    def in_office(self, hit: Hit, day: date | None) -> bool:
        """Whether a party's name found in a text held the party's office on the day (its
        present holder when the day is not known); the office's own aliases always do."""
        if hit.holder < 0:
            return True
        holder = self.topic.parties[int(hit.group[5:])].holders[hit.holder]
        return holder.held_on(day) if day else holder.holds

    @cached_property
    def announcement_forms(self) -> frozenset[str]:
        """Announcement phrases as written (lower case), to recognise a meeting word that
        is itself in the future tense ("посетит" is both a visit and an announcement)."""
        return frozenset(fold(p).lower() for p in _flatten(self.topic.announcement) if "*" not in p)

    @cached_property
    def report_forms(self) -> frozenset[str]:
        """Past-tense phrases as written (lower case), to recognise a meeting word that is
        itself in the past tense ("met", "встретились")."""
        return frozenset(fold(p).lower() for p in _flatten(self.topic.report) if "*" not in p)

    def scan(self, text: str) -> list[Hit]:
        """Every phrase in the text, leftmost-longest, without overlaps.

        Latin and Cyrillic phrases must stand as whole words ("Xi" is not in "Xinhua" nor
        in "Xi'an"); a last word marked `*` takes any ending; Chinese matches anywhere.
        The text is read as ``monitor.normalize.fold`` leaves it, like the phrases.
        """
        low = lower_keeping_offsets(text)
        size = len(low)
        candidates: list[tuple[int, int, int, str, int]] = []
        for last, entries in self.automaton.iter(low):
            for length, entry in entries:
                start, end = last - length + 1, last + 1
                if not entry.cjk:
                    if start > 0 and _is_word(low[start - 1]):
                        continue
                    if entry.stem:
                        while end < size and _is_word(low[end]):
                            end += 1
                    elif end < size and _is_word(low[end]):
                        continue
                    if low.startswith(("'an", "’an"), end) and not (
                        end + 3 < size and _is_word(low[end + 3])
                    ):
                        continue
                candidates.append((start, -(end - start), entry.rank, entry.group, entry.holder))
        candidates.sort()
        hits: list[Hit] = []
        reached = 0
        for start, negative_length, _, group, holder in candidates:
            if start >= reached:
                end = start - negative_length
                hits.append(Hit(group, start, end, text[start:end], holder))
                reached = end
        return hits


def _holder_on(party: Party, day: date | None) -> str:
    for holder in party.holders:
        if holder.held_on(day) if day else holder.holds:
            return holder.name
    return party.name


def _flatten(phrases: Phrases) -> list[str]:
    return [phrase for group in phrases.values() for phrase in group]


def _rank(group: str) -> int:
    pattern = group.rstrip("0123456789") + "*" if group[-1].isdigit() else group
    return GROUPS.index(pattern)


def compile_topic(topic: Topic) -> CompiledTopic:
    """Build the automaton that finds every phrase of the topic in one pass."""
    # A holder's name first: where an office's alias spells it too ("习近平"), it is theirs.
    holders = [
        (f"party{i}", holder.aliases, j)
        for i, party in enumerate(topic.parties)
        for j, holder in enumerate(party.holders)
    ]
    groups: list[tuple[str, Phrases]] = [
        ("both", topic.both),
        ("the_two", topic.the_two),
        ("leaders", topic.leaders),
    ]
    groups += [(f"party{i}", p.phrases("aliases")) for i, p in enumerate(topic.parties)]
    groups += [(f"counterpart{i}", p.phrases("counterparts")) for i, p in enumerate(topic.parties)]
    groups += [
        ("negation", topic.not_evidence.negation),
        ("hedge", topic.not_evidence.hedge),
        ("invitation", topic.not_evidence.invitation),
        ("recall", topic.not_evidence.recall),
        ("anchor", topic.not_evidence.anchor),
        ("message", topic.not_evidence.message),
        ("other", topic.others),
        ("minister", topic.ministers),
        ("venue", topic.venues),
        ("phone", topic.meeting.phone),
        ("video", topic.meeting.video),
        ("in_person", topic.meeting.in_person),
        ("greeting", topic.meeting.greeting),
        ("talks", topic.meeting.talks),
    ]
    groups += [(f"place{i}", p.phrases("places")) for i, p in enumerate(topic.parties)]
    groups.append(("announce", topic.announcement))
    groups.append(("report", topic.report))
    table: dict[str, dict[tuple[str, bool], _Entry]] = {}
    for group, phrases, holder in [*holders, *((g, p, -1) for g, p in groups)]:
        for phrase in map(fold, _flatten(phrases)):
            if not phrase.strip():
                continue
            cjk = bool(CJK.search(phrase))
            for literal, stem in _spellings(phrase):
                entry = _Entry(group, _rank(group), cjk, stem, holder)
                kept = table.setdefault(literal, {})
                # one literal in two groups: the earlier group wins, as in a tie
                key = (literal, stem)
                if key not in kept or kept[key].rank > entry.rank:
                    kept[key] = entry
    automaton = ahocorasick.Automaton()
    for literal, entries in table.items():
        automaton.add_word(literal, [(len(literal), entry) for entry in entries.values()])
    automaton.make_automaton()
    return CompiledTopic(topic, automaton)


def builtin_topics() -> list[str]:
    return sorted(path.stem for path in BUILTIN_DIR.glob("*.yaml"))


def _validate(data: Any, where: str) -> Topic:
    try:
        return Topic.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: "
            f"{'unknown key' if e['type'] == 'extra_forbidden' else e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from None


def load_topic(name_or_definition: str | dict[str, Any]) -> Topic:
    """A built-in topic by name, or an inline definition from the config.

    A definition with `extends: <name>` adds its phrases to that one's: a built-in topic, or
    a vocabulary in ``monitor/topics/common/`` (the words of meetings between heads of
    state, in every language: a new pair then needs only its parties).
    """
    if isinstance(name_or_definition, str):
        path = BUILTIN_DIR / f"{name_or_definition}.yaml"
        if not path.is_file():
            known = ", ".join(builtin_topics())
            raise ConfigError(f"topics: no built-in topic {name_or_definition!r} (known: {known})")
        return _validate(_definition(path), f"topic {path.name}")
    definition = _extended(dict(name_or_definition))
    return _validate(definition, f"topics: {definition.get('name', '(unnamed)')}")


def _definition(path: Path) -> dict[str, Any]:
    data = _yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"topic {path.name}: not a mapping")
    return _extended(data)


def _extended(definition: dict[str, Any]) -> dict[str, Any]:
    base_name = definition.pop("extends", None)
    if base_name is None:
        return definition
    for folder in (BUILTIN_DIR, COMMON_DIR):
        path = folder / f"{base_name}.yaml"
        if path.is_file():
            return dict(_merge(_definition(path), definition))
    known = ", ".join(builtin_topics() + sorted(p.stem for p in COMMON_DIR.glob("*.yaml")))
    raise ConfigError(f"topics: cannot extend {base_name!r} (known: {known})")


def _merge(base: Any, extra: Any) -> Any:
    """Extend lists, merge mappings, replace scalars; parties are matched by name."""
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(extra, list):
        if all(isinstance(item, dict) and "name" in item for item in base + extra):
            by_name = {item["name"]: item for item in base}
            for item in extra:
                by_name[item["name"]] = _merge(by_name.get(item["name"], {}), item)
            return list(by_name.values())
        return base + [item for item in extra if item not in base]
    return extra


def load_topics(entries: list[str | dict[str, Any]]) -> list[CompiledTopic]:
    """Every topic of a config, compiled; duplicate names are refused.

    A topic that ``extends`` another replaces it: listing both would make every meeting
    two events and every alert two messages (the extension already matches all the base
    does). Distinct topics are distinct watches, and each names itself in its alerts.

    Compiled once per process (0.2 s for the built-in topic), and again when a topic file
    or the offices have changed: the daemon's next cycle matches with the new words.
    """
    files = [*sorted(BUILTIN_DIR.rglob("*.yaml")), OFFICES_FILE]
    stamps = tuple((str(path), *_stamp(path)) for path in files)
    return list(_compiled(json.dumps(entries, sort_keys=True, default=str), stamps))


@lru_cache(maxsize=16)  # bounded: old automatons of changed files are let go
def _compiled(key: str, stamps: tuple[tuple[str, int, int], ...]) -> tuple[CompiledTopic, ...]:
    return tuple(_load_topics(json.loads(key)))


def _load_topics(entries: list[str | dict[str, Any]]) -> list[CompiledTopic]:
    extended = {str(e["extends"]) for e in entries if isinstance(e, dict) and e.get("extends")}
    entries = [entry for entry in entries if _entry_name(entry) not in extended]
    topics = [compile_topic(load_topic(entry)) for entry in entries]
    names = [t.name for t in topics]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"topics: {', '.join(duplicates)} defined twice")
    return topics


def _entry_name(entry: str | dict[str, Any]) -> str | None:
    return entry if isinstance(entry, str) else entry.get("name")
