"""Decides whether an article is about a watched event, and which one (pure: text in,
``Match`` out).

The decision rests on evidence, not on a bag of words. A sentence is evidence when a
meeting word (talks, visit, video conference, phone call…) has every party near it —
named, referred to by role ("the Chinese leader", "глава КНР"), by a phrase naming
both ("the two leaders", "两国元首"), as the other's counterpart ("Xi and his Russian
counterpart"), or, for a visit, by the other party's country or capital ("Putin arrived
in Beijing", when the story is about that country's leader). A party may be an office: a
holder's name counts as the party on the days they held it, so the article's day decides
who the parties were (Hu Jintao – Dmitry Medvedev in 2010), and Putin as prime minister
is someone else. A welcoming word needs the one welcomed right after it ("Xi welcomed
Putin", not "welcomed the idea").

It is not evidence when another principal is nearer to the meeting word (Lavrov – Wang
Yi, Putin – Modi), or the summit it is held at is ("Putin joined the summit by video"; a
summit is otherwise only a venue), or when the sentence denies or doubts the meeting, is
about a written message, is an archive photo's caption, or recalls a past one: by its
words, by a date well before the article's, or as the event the news is dated against
("came days after Xi and Putin spoke by phone"). A sentence that names one party while
the title or the sentence before names the other is weaker evidence. The title and lead
weigh more than the body, and so does a body sentence that says the meeting outright (both
named beside the meeting word, no one else: one item of a roundup); the weights combine
as independent evidence.

The meeting's kind comes from the kind words of the evidence about the meeting matched
(a report's, not the visit it announces); an announcement naming no format, place or
summit is "unknown". Its date comes from the date written nearest the meeting word,
resolved against the article's date or a dateline's (``monitor.dates``), else from the
one day the lead names, else the article's own date; the day of saying ("said on
Thursday that they will talk") yields to the day of talks. Talks reported as held
("held talks", "переговоры состоялись") took place: a weaker announcement in the same
article is the programme's next item ("on 17 May he will travel to Harbin"), which
neither makes the article an announcement nor dates the meeting.

Sentences end at . ! ? and CJK stops, not after abbreviations ("Sept. 15", "12 дек.").

``why_not_matched`` says, for a person, which of these rules turned down an article that
names a party ("other principal nearer (Biden)", "written message, not a meeting").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from monitor.dates import (
    DateMention,
    find_dateline,
    find_dates,
    find_months,
    new_article,
    that_day,
    written_days,
)
from monitor.models import Match
from monitor.normalize import fold
from monitor.text import CJK
from monitor.topic import TRIGGERS, CompiledTopic, Hit

# How much one piece of evidence counts, by where it is (noisy-or: 1 - Π(1 - w)).
WEIGHT_TITLE = 0.9
WEIGHT_LEAD = 0.7
WEIGHT_BODY = 0.3
WEAK_FACTOR = 0.5  # one party only named in the title or the sentence before
LEAD_SENTENCES = 4
THRESHOLD = 0.5
# A title about a message or about another principal's meeting makes the body's
# evidence less likely to be the article's subject.
OFF_TOPIC_TITLE_FACTOR = 0.75
DENIAL_TITLE_FACTOR = 0.5
QUESTION_FACTOR = 0.5
# A denial or doubt this close to a meeting word, in the same clause, cancels it.
NEGATION_REACH, NEGATION_REACH_CJK = 45, 15
# A date written this long before the article is a recollection, not the news.
RECALL_DAYS = 10
# Parties must be this close to the meeting word (characters; scripts without spaces
# pack more into fewer characters).
WINDOW = 220
WINDOW_CJK = 90
# A country or capital stands for its leader only as the visit's destination: just after
# the visit word ("visit to China", "прибыл в Пекин", "tiba di Beijing"), or just before
# it ("Putin's Beijing visit", "对俄罗斯进行国事访问").
PLACE_AFTER, PLACE_AFTER_CJK = 40, 15
PLACE_BEFORE, PLACE_BEFORE_CJK = 14, 8
# Two parties this close, with no one else between them, are the meeting's two sides
# ("Xi and Putin held talks", "习近平同普京会谈") whoever else the sentence names.
PAIR, PAIR_CJK = 30, 12
# A future marker ("will", "akan", "将") this far before a meeting word puts it ahead; a
# past marker as far before it ("held talks"), or after it in the same clause ("talks
# between Putin and Xi took place", "переговоры … состоялись"), puts it behind.
TENSE_REACH, TENSE_REACH_CJK = 60, 20
# In an announcement, a date this far from the meeting word may belong to something else.
DATE_REACH, DATE_REACH_CJK = 90, 35
# A meeting word this close to a party is that party's meeting ("met Xi", "会见了普京").
ADJACENT, ADJACENT_CJK = 12, 4
# A body's first line this short, with a date, is a dateline.
DATELINE_CHARS = 60
# A welcoming word is a meeting with the one welcomed this close after it.
GREETED, GREETED_CJK = 16, 4
# An invitation governs the words after it ("invited Xi to visit Moscow in spring"): the
# meeting words that follow it, each within this many characters of the last.
INVITATION_SCOPE = 30

_KIND_OF_TRIGGER = {
    "phone": "phone",
    "video": "video",
    "in_person": "in-person",
    "greeting": "in-person",
}
# Someone else than the parties: a principal (Biden, Modi), or a minister or other
# official below the heads of state (Lavrov, Wang Yi), whose meeting is not a summit.
_OTHERS = ("other", "minister")
_NAMED = ("both", "the_two", "leaders")
_CLAUSE_BREAK = re.compile(r"[,;:.!?，、；：。！？()（）]")
_RELATIVE = re.compile(
    r"\s*(?:where|when|which|who|during which|где|когда|котор\w+|во время которого|"
    r"di mana|yang|saat|ketika)\b",
    re.IGNORECASE,
)
# A photo caption's line: its label, or the photo's credit.
# A photo caption's line (lower-cased): its label, or the photo's credit; "archive" when
# the photo is an old one. A line is read only if the text has one of the marks.
_CAPTION_MARKS = ("photo", "foto", "фото", "reuters", "afp/", "getty", "file", "caption", "dok.")
_CAPTION = re.compile(
    r"^\s*\[?(?:photo caption|caption|подпись к фото|keterangan foto|file photo|photo|foto|фото"
    r"|file)\b\]?\s*[:\]/-]|via reuters|reuters/|\(ap photo|afp/|getty images|фото:|foto:|\bdok\."
)
_ARCHIVE = re.compile(
    r"^\s*file\b|file photo|archive|архив|foto arsip|foto dok|\bdok\.|资料图|資料照"
)
_LOCATION = re.compile(r"\b(?:in|at|в|во|di)\s+[A-ZА-ЯЁ]")
_PARENTHESIS = re.compile(r"\([^()]*\)|（[^（）]*）")
_NAME_WORD = re.compile(r"\b[A-ZА-ЯЁ]")
# A year, 1950–2049, not inside a longer number. It starts with a character class (the
# look-behind for a digit before it comes last) so the engine skips to the next 1 or 2:
# three times faster than a leading look-behind tried at every character.
_YEAR = re.compile(r"[12](?:(?<=1)9[5-9]|(?<=2)0[0-4])\d(?!\d)(?<!\d\d\d\d\d)")
# Sentence ends: . ! ? followed by space and a capital, quote or digit; CJK stops; lines.
# Each match starts at its stop (or its first line break), which the sentence keeps: a
# pattern that starts with a character class lets the engine skip to the next one, five
# times faster than testing a look-behind at every character.
_SENTENCE_END = re.compile(
    r"[.!?。！？\n](?:(?<=[.!?])[\"'»”’)]*\s+(?=[\"'«“‘(\[]?[A-ZА-ЯЁ0-9\u3400-\u9fff])"
    r"|(?<=[。！？])[”’」』]*|(?<=\n)\n*)"
)
# A full stop after one of these, an initial ("V. Putin", "В. В. Путин") or a dotted
# abbreviation ("U.S.", "т.е.") ends no sentence: "on Sept. 15", "12 дек. в Пекине",
# "в 2001 г. Путин". (pysbd knows more of them, but took 9 ms an article, twenty times
# the whole matcher's time, and split "12 дек. в Пекине" all the same.)
_ABBREVIATIONS = frozenset(
    (
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "mr", "mrs", "ms", "dr", "prof", "st", "gen", "lt", "col", "sen", "rep", "gov", "pres",
        "no", "vol", "approx", "jr", "sr",
        "янв", "фев", "февр", "мар", "апр", "авг", "сен", "сент", "окт", "ноя", "нояб", "дек",
        "г", "гг", "им", "ул", "тыс", "млн", "млрд", "руб", "долл", "проф", "ген", "см", "стр",
        "вв", "ст",
        "agu", "agt", "okt", "des", "jl", "bpk", "sdr", "ir",
    )
)  # fmt: skip


@dataclass
class Sentence:
    index: int  # 0 is the title
    start: int
    text: str
    hits: list[Hit] = field(default_factory=list)
    caption: str = ""  # on a photo caption's line: "photo", or "archive" for an old photo
    _groups: set[str] | None = field(default=None, repr=False)

    def has(self, *groups: str) -> bool:
        if self._groups is None:
            self._groups = {hit.group for hit in self.hits}
        return not self._groups.isdisjoint(groups)

    def replace_hits(self, hits: list[Hit]) -> None:
        self.hits = hits
        self._groups = None


@dataclass(frozen=True)
class Miss:
    """Why an article that names a party is not about a watched event, for a person to
    read: the rule that turned down its most telling sentence (the title first)."""

    rule: str  # one of MISS_RULES
    reason: str  # "other principal nearer (Biden)", "written message, not a meeting"
    sentence: int  # 0 is the title

    @property
    def near(self) -> bool:
        """A rule turned down what looked like the meeting (Xi meets Biden, Lavrov meets
        Wang Yi, an exchange of messages), not a party merely absent or mentioned."""
        return self.rule in NEAR_MISS_RULES


# The rules a near miss can fail: those that turn down a meeting word with a party near
# it (or a message between the parties), then those that find the parties too far apart.
NEAR_MISS_RULES = (
    "someone else", "ministers", "message", "recall", "denial", "doubt", "invitation", "question",
)  # fmt: skip
MISS_RULES = (*NEAR_MISS_RULES, "place", "absent", "passing", "unnamed", "no meeting")


@dataclass(frozen=True)
class Evidence:
    sentence: int
    weight: float
    trigger: Hit
    phrases: tuple[Hit, ...]
    kinds: tuple[str, ...]
    announcement: bool
    date: DateMention | None
    talks: bool  # the sentence has a talks, video or phone word, not only a visit
    date_near: bool  # the date is written close to the meeting word
    # the meeting word nearest the date is one of talks, not of travel: "arrived on Monday
    # evening before holding talks" dates the arrival
    talks_dated: bool
    held: bool  # talks reported in the past tense ("held talks"): the meeting took place


def split_sentences(title: str, text: str) -> list[Sentence]:
    """The title as sentence 0, then the body's sentences, with offsets into ``title\\ntext``."""
    sentences = [Sentence(0, 0, title)]
    offset = len(title) + 1
    position = 0
    captions = _captions(text)
    for match in _SENTENCE_END.finditer(text + "\n"):
        stop = match.group()[0] != "\n"  # the sentence keeps its stop, not a line break
        end = match.start() + stop
        if not match.group().startswith("\n", stop) and _abbreviated(text, end):
            continue
        chunk = text[position:end]
        if chunk.strip():
            caption = next((kind for a, b, kind in captions if a <= position < b), "")
            sentences.append(Sentence(len(sentences), offset + position, chunk, caption=caption))
        position = match.end()
    return sentences


def _captions(text: str) -> list[tuple[int, int, str]]:
    """The photo captions' lines: (start, end, "photo" or "archive") — a caption that
    credits a photo ("… via REUTERS", "Фото: пресс-служба Кремля"), "archive" when the
    photo is an old one ("FILE PHOTO", "(архив)", "foto arsip")."""
    low = text.lower()
    if not any(mark in low for mark in _CAPTION_MARKS):
        return []
    found = []
    start = 0
    for line in low.split("\n"):
        if _CAPTION.search(line):
            kind = "archive" if _ARCHIVE.search(line) else "photo"
            found.append((start, start + len(line), kind))
        start += len(line) + 1
    return found


def _abbreviated(text: str, end: int) -> bool:
    """Whether the full stop just before ``end`` closes an abbreviation, not a sentence."""
    head = text[max(0, end - 24) : end].rstrip("\"'»”’)")
    if not head.endswith("."):
        return False
    stem = head[:-1].rsplit(None, 1)[-1].lstrip("\"'«“‘([") if head[:-1].strip() else ""
    if "." in stem:  # "U.S.", "т.е."
        return True
    return (len(stem) == 1 and stem.isalpha()) or stem.lower() in _ABBREVIATIONS


def _distance(a: Hit, b: Hit) -> int:
    if a.end <= b.start:
        return b.start - a.end
    if b.end <= a.start:
        return a.start - b.end
    return 0


def _nearest(trigger: Hit, hits: list[Hit]) -> int | None:
    return min((_distance(trigger, hit) for hit in hits), default=None)


class _Judge:
    """Evidence-finding for one article and one topic."""

    def __init__(
        self,
        topic: CompiledTopic,
        sentences: list[Sentence],
        published: date | None,
        explain: bool = False,
    ):
        self.topic = topic
        self.sentences = sentences
        self.published = published
        self.parties = range(len(topic.topic.parties))
        self.now = _latest_date(sentences, published)
        # Without its own date an article's "on Tuesday" is read against the latest
        # full date it writes; a dateline's day is the day its "today" means.
        self.reference = _dateline(sentences, published) or published or self.now
        # With no full date anywhere, the latest year it names still dates the article:
        # "launched in December 2019" is a recollection in a text that also names 2024.
        if self.now:
            self.latest_year: int | None = self.now.year
        else:
            years = [int(y) for s in sentences for y in _YEAR.findall(s.text)]
            self.latest_year = max(years, default=None)
        self.future_forms = topic.announcement_forms
        self.past_forms = topic.report_forms
        # Why sentences with a meeting word and a party were turned down, only when asked:
        # (sentence index; 0 a rule refused it, 1 a party was missing; reason).
        self.explain = explain
        self.misses: list[tuple[int, int, Miss]] = []
        self._subjects: dict[int, bool] = {}

    def turn_down(
        self, sentence: Sentence, rule: str, reason: str, rank: int = 0, needs_trigger: bool = True
    ) -> None:
        """Keep why a sentence with a meeting word is not evidence, if it names a party or
        is the title (whose meeting word is the article's subject: "Xi meets Biden")."""
        if not self.explain or (needs_trigger and not sentence.has(*TRIGGERS)):
            return
        if sentence.index == 0 or self.named(sentence, all_parties=False):
            self.misses.append((sentence.index, rank, Miss(rule, reason, sentence.index)))

    def telling(self, up_to: int | None = None) -> Miss | None:
        """The miss of the earliest sentence (up to a sentence index), a rule's first."""
        kept = [m for m in self.misses if up_to is None or m[0] <= up_to]
        return min(kept, key=lambda m: m[:2])[2] if kept else None

    def named(self, sentence: Sentence, all_parties: bool) -> bool:
        found = [
            any(h.group in (f"party{p}", *_NAMED) for h in sentence.hits) for p in self.parties
        ]
        return all(found) if all_parties else any(found)

    def party_hits(self, sentence: Sentence, party: int) -> list[Hit]:
        groups = {f"party{party}", "both"}
        # "the two leaders" is ambiguous where another principal is about (Putin – Modi).
        context = [self.sentences[0], sentence]
        if sentence.index > 1:
            context.append(self.sentences[sentence.index - 1])
        if not any(s.has(*_OTHERS) for s in context):
            groups.add("the_two")
            # "the leaders" at a summit are all of them; "the two leaders" still two
            if not any(s.has("venue") for s in context):
                groups.add("leaders")
        return [h for h in sentence.hits if h.group in groups]

    def _future_tense(self, sentence: Sentence, trigger: Hit) -> bool:
        """A future marker governing the meeting word: "will hold talks", "将举行会谈",
        or a meeting word that is itself a future form ("посетит", "встретятся"). A past
        marker in between governs instead ("Putin, who will fly on to Harbin, held talks")."""
        if trigger.text.lower() in self.future_forms:
            return True
        reach = TENSE_REACH_CJK if CJK.search(sentence.text) else TENSE_REACH
        return any(
            h.group == "announce"
            and 0 <= trigger.start - h.end <= reach
            and not _between(sentence, "report", h.end, trigger.start)
            for h in sentence.hits
        )

    def _past_tense(self, sentence: Sentence, trigger: Hit) -> bool:
        """A past marker governing the meeting word, with no future marker in between:
        "held talks", "talks were held", "переговоры состоялись", "举行了会谈", or a
        meeting word that is itself a past form ("met", "встретились")."""
        if trigger.text.lower() in self.past_forms:
            return True
        reach = TENSE_REACH_CJK if CJK.search(sentence.text) else TENSE_REACH
        for hit in sentence.hits:
            if hit.group != "report":
                continue
            if 0 <= trigger.start - hit.end <= reach:
                start, end = hit.end, trigger.start
            elif 0 <= hit.start - trigger.end <= reach:
                start, end = trigger.end, hit.start
                between = sentence.text[start - sentence.start : end - sentence.start]
                if _CLAUSE_BREAK.search(between):
                    continue
            else:
                continue
            if not _between(sentence, "announce", start, end):
                return True
        return False

    def place_hits(self, sentence: Sentence, party: int, trigger: Hit, cjk: bool) -> list[Hit]:
        """The party's country or capital as the visit's destination: just after the visit
        word ("arrived in Beijing"), or just before it with no name between ("Putin's
        Beijing visit", "в Китай с визитом"; not "China Li Zhanshu on the sidelines"), and
        never as a possessive ("receives China's top diplomat"). Only for a party the story
        is about: named in the title or lead, not a country a visitor happens to be in."""
        if not self.subject(party):
            return []
        after = PLACE_AFTER_CJK if cjk else PLACE_AFTER
        before = PLACE_BEFORE_CJK if cjk else PLACE_BEFORE
        found = []
        for h in sentence.hits:
            if h.group != f"place{party}":
                continue
            tail = sentence.text[h.end - sentence.start : h.end - sentence.start + 2]
            if tail in ("'s", "’s"):
                continue
            if 0 <= h.start - trigger.end <= after:
                found.append(h)
            elif 0 <= trigger.start - h.end <= before:
                between = sentence.text[h.end - sentence.start : trigger.start - sentence.start]
                if cjk or not _NAME_WORD.search(between):
                    found.append(h)
        return found

    def subject(self, party: int) -> bool:
        """Whether the party is named in the title or lead (by name, role or country pair)."""
        if party not in self._subjects:
            groups = (f"party{party}", "both")
            self._subjects[party] = any(
                s.has(*groups) for s in self.sentences[: LEAD_SENTENCES + 1]
            )
        return self._subjects[party]

    def _missing(
        self, sentence: Sentence, party: int, trigger: Hit, others: list[Hit]
    ) -> tuple[str, str, int]:
        """Why a meeting word lacks a party: someone else's meeting ("Xi met Biden"), or
        the party is just not there; the first is the stronger reason."""
        cjk = bool(CJK.search(sentence.text))
        near = [h for h in others if _distance(trigger, h) <= (WINDOW_CJK if cjk else WINDOW)]
        if near:
            return (*_someone(trigger, near, cjk), 0)
        name = self.topic.topic.parties[party].name
        return "absent", f"{name} not named near “{trigger.text}”", 1

    def mentions(self, sentence: Sentence, party: int) -> bool:
        return bool(self.party_hits(sentence, party))

    def evidence(self, sentence: Sentence) -> Evidence | None:
        if not self.explain and not sentence.has(*TRIGGERS):
            # Evidence needs a meeting word: most sentences have none. (Explaining, a
            # written message between the parties is a miss to report even without one.)
            return None
        for hit in sentence.hits:
            if hit.group == "negation":
                self.turn_down(sentence, "denial", f"denied or in doubt ({hit.text})")
                return None
            if hit.group == "recall":
                self.turn_down(sentence, "recall", f"recalls a past meeting ({hit.text})")
                return None
        if sentence.caption == "archive":
            self.turn_down(sentence, "recall", "an archive photo's caption")
            return None
        question = sentence.text.rstrip(" \"'»”’)").endswith(("?", "？"))
        if question and sentence.index > 0:
            self.turn_down(sentence, "question", "a question, not a report")
            return None  # a question in a press conference reports nothing
        if question and sentence.has("hedge"):
            # "If Putin and Xi meet in Bali, what will they discuss?": all of it in doubt
            hedge = next(h for h in sentence.hits if h.group == "hedge")
            self.turn_down(sentence, "doubt", f"in doubt ({hedge.text})")
            return None
        if sentence.has("message") and not sentence.has("phone", "video"):
            # "Exchange of messages between Putin and Xi" needs no meeting word to be a miss
            between = self.explain and self.named(sentence, all_parties=True)
            self.turn_down(
                sentence, "message", "written message, not a meeting", needs_trigger=not between
            )
            return None  # a written message, unless it was said on a call
        cjk = bool(CJK.search(sentence.text))
        window = WINDOW_CJK if cjk else WINDOW
        # A summit is a rival only to the meeting word nearest it ("joined the summit by
        # video"), never a counterpart who makes "the two leaders" ambiguous.
        others = [h for h in sentence.hits if h.group in (*_OTHERS, "venue")]
        invitations = [h for h in sentence.hits if h.group == "invitation"]
        before = self.sentences[max(1, sentence.index - 1) : sentence.index]
        previous = [self.sentences[0], *before]
        best: Evidence | None = None
        invited = _invited(sentence.hits, invitations)
        hedges = [h for h in sentence.hits if h.group == "hedge"]
        anchors = [h for h in sentence.hits if h.group == "anchor"]
        live = [
            h
            for h in sentence.hits
            if h.group in TRIGGERS
            and h not in invited
            and not any(_governs(n, h, sentence, cjk) for n in hedges)
            and not (anchors and any(_anchors(a, h, sentence) for a in anchors))
            and (h.group != "greeting" or _greets(h, sentence, cjk))
        ]
        # and who is named there is that event's: "the visit came days after Xi and Putin
        # spoke by phone" is not their visit
        aside = (
            [h for h in sentence.hits if any(_anchors(a, h, sentence) for a in anchors)]
            if anchors
            else []
        )
        if self.explain and not live:
            if invitations:
                what = f"an invitation, not a meeting ({invitations[0].text})"
                self.turn_down(sentence, "invitation", what)
            elif hedges:
                self.turn_down(sentence, "doubt", f"in doubt ({hedges[0].text})")
            elif anchors:
                self.turn_down(sentence, "recall", f"recalls a past meeting ({anchors[0].text})")
        for trigger in live:
            distances: list[int] = []
            phrases: list[Hit] = []
            weak = False
            by_place = 0
            for party in self.parties:
                hits = self.party_hits(sentence, party)
                if aside:
                    hits = [h for h in hits if h not in aside]
                if not hits and trigger.group == "in_person":
                    # a visit to the party's country is a meeting with its leader
                    hits = self.place_hits(sentence, party, trigger, cjk)
                    by_place += bool(hits)
                near = [h for h in hits if _distance(trigger, h) <= window]
                if near:
                    closest = min(near, key=lambda h: _distance(trigger, h))
                    distances.append(_distance(trigger, closest))
                    phrases.append(closest)
                elif not weak and any(
                    self.mentions(s, party) for s in previous if s is not sentence
                ):
                    weak = True  # "He held talks with Xi" after a sentence naming Putin
                else:
                    if self.explain:
                        self.turn_down(sentence, *self._missing(sentence, party, trigger, others))
                    break
            else:
                if not distances or by_place >= len(phrases) or (weak and by_place):
                    self.turn_down(sentence, "place", "only a place named, not its leader", 1)
                    continue  # a place stands in for one party, never for all of them
                if by_place and any(h.group in _OTHERS for h in others):
                    # "Lukashenko, an ally of Putin, is in China on a state visit": the
                    # visitor may be anyone the sentence names
                    if self.explain:
                        self.turn_down(sentence, *_someone(trigger, others, cjk))
                    continue
                if _someone_elses(trigger, distances, phrases, others, cjk, sentence):
                    if self.explain:
                        self.turn_down(sentence, *_someone(trigger, others, cjk))
                    continue
                found = self._make(sentence, trigger, phrases, weak, live)
                if found and (best is None or found.weight > best.weight):
                    best = found
        return best

    def _make(
        self, sentence: Sentence, trigger: Hit, phrases: list[Hit], weak: bool, live: list[Hit]
    ) -> Evidence | None:
        local_trigger = Hit(
            trigger.group, trigger.start - sentence.start, trigger.end - sentence.start, ""
        )
        if self.reference is None and self.latest_year is not None:
            # No date anywhere but a year: "on 22 November" is of that year; a weekday or
            # "yesterday" still cannot be told
            middle = date(self.latest_year, 7, 2)
            mentions = [m for m in find_dates(sentence.text, middle) if m.kind == "explicit"]
        else:
            mentions = find_dates(sentence.text, self.reference)
        if not mentions and sentence.index > 1:
            before = self.sentences[sentence.index - 1].text
            mentions = that_day(sentence.text, before, self.reference)
        when = min(
            mentions,
            key=lambda m: _distance(local_trigger, Hit("", m.start, m.end, "")),
            default=None,
        )
        reach = DATE_REACH_CJK if CJK.search(sentence.text) else DATE_REACH
        date_near = when is not None and (
            _distance(local_trigger, Hit("", when.start, when.end, "")) <= reach
        )
        if _recalls(sentence, local_trigger, mentions, self.now, self.latest_year):
            self.turn_down(sentence, "recall", "recalls a past meeting (by its date)")
            return None
        if sentence.index == 0:
            weight = WEIGHT_TITLE
        elif sentence.index <= LEAD_SENTENCES:
            weight = WEIGHT_LEAD
        elif not self.sentences[0].has(*_OTHERS, "message", "negation") and _clear(
            sentence, trigger, phrases, weak
        ):
            # one item of a roundup ("XI-PUTIN CALL: Xi spoke with Putin"), not an aside in
            # a story about someone else
            weight = WEIGHT_LEAD
        else:
            weight = WEIGHT_BODY
        if weak:
            weight *= WEAK_FACTOR
        if sentence.text.rstrip(" \"'»”’)").endswith(("?", "？")):
            weight *= QUESTION_FACTOR  # "What did Xi and Putin agree?": needs support
        kind_words = [h for h in live if h.group in _KIND_OF_TRIGGER]
        kinds = tuple(_KIND_OF_TRIGGER[h.group] for h in kind_words)
        future_date = when is not None and self.published is not None and when.day > self.published
        announcement = future_date or self._future_tense(sentence, trigger)
        talks = [h for h in live if h.group not in ("in_person", "greeting")]
        nearest = None
        if when is not None and live:
            at = Hit("", when.start + sentence.start, when.end + sentence.start, "")
            nearest = min(live, key=lambda h: _distance(h, at))
        return Evidence(
            sentence=sentence.index,
            weight=weight,
            trigger=trigger,
            phrases=(*phrases, trigger, *kind_words),
            kinds=kinds,
            announcement=announcement,
            talks=bool(talks),
            date_near=date_near,
            talks_dated=nearest is not None and nearest.group not in ("in_person", "greeting"),
            date=when,
            held=not announcement and any(self._past_tense(sentence, h) for h in talks),
        )


def _clear(sentence: Sentence, trigger: Hit, phrases: list[Hit], weak: bool) -> bool:
    """A sentence that says the meeting outright, wherever it stands: both parties named
    (not by a place or "the two leaders"), side by side or beside the meeting word, and no
    one else in it. The title and lead may be about something else (a wire roundup)."""
    if weak or any(h.group in _OTHERS for h in sentence.hits):
        return False
    if not all(h.group.startswith("party") or h.group == "both" for h in phrases):
        return False
    cjk = bool(CJK.search(sentence.text))
    if _tight_pair(phrases, [], cjk):
        return True
    reach = 2 * (ADJACENT_CJK if cjk else ADJACENT)
    for hit in phrases:
        if hit is trigger:
            continue
        start, end = sorted((trigger.start, trigger.end, hit.start, hit.end))[1:3]
        between = sentence.text[start - sentence.start : end - sentence.start]
        if end - start > reach or _CLAUSE_BREAK.search(between):
            return False
    return True


def _between(sentence: Sentence, group: str, start: int, end: int) -> bool:
    """Whether a phrase of ``group`` lies between two offsets of the article."""
    return any(h.group == group and start <= h.start and h.end <= end for h in sentence.hits)


def _invited(hits: list[Hit], invitations: list[Hit]) -> set[Hit]:
    """The meeting words an invitation governs: "invited Xi to visit Moscow on a state
    visit" (both), but not "invites Xi to Moscow as the two hold a video call"."""
    invited: set[Hit] = set()
    for invitation in invitations:
        reach = invitation.end
        for hit in hits:
            if hit.start < invitation.end:
                continue
            if hit.start - reach > INVITATION_SCOPE:
                break
            if hit.group in TRIGGERS:
                invited.add(hit)
            reach = hit.end
    return invited


def _counterparts(hits: list[Hit]) -> list[Hit]:
    """ "His Russian counterpart" is the party when it is the counterpart of another party,
    the principal named nearest before it ("Xi met his Russian counterpart"), or after it
    when none is before ("Speaking to his Russian counterpart, Xi said"); else it is someone
    else's ("Wang Yi met his Russian counterpart": Lavrov)."""

    def principal(hit: Hit) -> bool:
        return hit.group.startswith("party") or hit.group in _OTHERS

    resolved = list(hits)
    for i, hit in enumerate(hits):
        if not hit.group.startswith("counterpart"):
            continue
        party = f"party{hit.group[len('counterpart') :]}"
        whose = next((h for h in reversed(resolved[:i]) if principal(h)), None) or next(
            (h for h in hits[i + 1 :] if principal(h)), None
        )
        ours = whose is not None and whose.group.startswith("party") and whose.group != party
        resolved[i] = Hit(party if ours else "other", hit.start, hit.end, hit.text)
    return resolved


def _dateline(sentences: list[Sentence], published: date | None) -> date | None:
    """The day of a dateline opening the body ("MOSCOW, June 19 (Reuters) -", "本报莫斯科
    7月16日电"), a day or two before the article's date (a print edition's next morning)."""
    if published is None or len(sentences) < 2:
        return None
    line = sentences[1]
    if len(line.text) > DATELINE_CHARS or line.has(*TRIGGERS):
        return None
    days = [m.day for m in find_dates(line.text, published) if m.kind == "explicit"]
    if len(days) == 1 and timedelta(0) <= published - days[0] <= timedelta(days=3):
        return days[0]
    return None


def _latest_date(sentences: list[Sentence], published: date | None) -> date | None:
    """The latest day the article can be from: its date, or a later full date it writes.

    Without a dateline an analysis piece still tells its time by the dates it quotes,
    and what it recalls lies well before them.
    """
    days = [published] if published else []
    for sentence in sentences:
        if sentence.has("announce") or sentence.caption:
            continue  # an announced date lies ahead of the article; a photo's, behind it
        days += written_days(sentence.text)
    return max(days, default=None)


def _recalls(
    sentence: Sentence,
    trigger: Hit,
    mentions: list[DateMention],
    now: date | None,
    latest_year: int | None,
) -> bool:
    """Whether the sentence dates its meeting well before the article: a full date, a
    year ("in 2019", "since 2013") or a month ("in March", "в октябре") in the past.

    Dates of another event do not count: one after "months after" in the same clause
    (the event the news is dated against), or one farther from the meeting word than a
    date of these days ("held talks on Monday …, extending the 2001 treaty")."""
    text = sentence.text
    skip = []  # (start, end) offsets in the sentence of what dates something else
    for hit in sentence.hits:
        if hit.group == "anchor":
            skip.append((hit.end - sentence.start, _anchored_end(hit, sentence) - sentence.start))
    recent = [
        _distance(trigger, Hit("", m.start, m.end, ""))
        for m in mentions
        if now is None or m.day >= now - timedelta(days=RECALL_DAYS)
    ]
    reach = min(recent, default=len(text))

    def dates_it(position: int) -> bool:
        if _distance(trigger, Hit("", position, position + 1, "")) > reach:
            return False
        return not any(a <= position < b for a, b in skip)

    mentions = [m for m in mentions if dates_it(m.start)]
    if now is not None and any(m.day < now - timedelta(days=RECALL_DAYS) for m in mentions):
        return True
    spans = [(m.start, m.end) for m in mentions]
    for year in _YEAR.finditer(text):
        inside = any(a <= year.start() < b for a, b in spans)
        if inside or not dates_it(year.start()):
            continue
        if latest_year is not None and int(year.group()) < latest_year:
            return True
    if now is None or sentence.has("announce"):
        return False  # "will visit in May": a month ahead
    for month, start in find_months(text):
        if not dates_it(start):
            continue
        written = _YEAR.search(text, start, start + 20)
        if written and int(written.group()) != now.year:
            return int(written.group()) < now.year
        if 2 <= (now.month - month) % 12 <= 8:
            return True
    return False


def _someone_elses(
    trigger: Hit,
    distances: list[int],
    phrases: list[Hit],
    others: list[Hit],
    cjk: bool,
    sentence: Sentence,
) -> bool:
    """Whether the meeting word belongs to another principal's meeting.

    It does when someone else is as near to it as the nearest party ("Putin met Modi",
    "talks with Wang Yi"). Otherwise a meeting word right beside a party ("会见了普京",
    "met Xi") or parties named together ("Xi and Putin held talks") keep it; a meeting
    word loosely between them must be nearer to both parties than to anyone else.
    """
    nearest_other = _nearest(trigger, others)
    if nearest_other is None:
        return False
    if nearest_other <= min(distances):
        return True
    if trigger.group == "video" and any(h.group == "venue" for h in others):
        # A summit held by video: the video word is the summit's ("Putin joined by video
        # link"), unless the two are named together beside it.
        return not _tight_pair(phrases, others, cjk)
    if _beside(trigger, phrases, sentence, cjk) or _tight_pair(phrases, others, cjk):
        return False
    return nearest_other < max(distances)


def _someone(trigger: Hit, others: list[Hit], cjk: bool) -> tuple[str, str]:
    """Who the meeting word belongs to, for a person: the nearest other principal, by name
    where a title leads to one ("Prime Minister of India Narendra Modi" → Modi)."""
    nearest = min(others, key=lambda h: _distance(trigger, h))
    run = [nearest]
    for hit in sorted(others, key=lambda h: h.start):
        if hit.start >= run[-1].end and hit.start - run[-1].end <= (PAIR_CJK if cjk else PAIR):
            run.append(hit)
    if all(h.group == "minister" for h in run):
        return "ministers", f"ministers, not heads of state ({run[-1].text})"
    if all(h.group == "venue" for h in run):
        return "someone else", f"the summit's own session ({run[-1].text})"
    return "someone else", f"other principal nearer ({run[-1].text})"


def _governs(negation: Hit, trigger: Hit, sentence: Sentence, cjk: bool) -> bool:
    """A doubt bears on a meeting word in its own clause, close by ("if they meet",
    "могут встретиться", "如果…会晤"), not on one across a comma ("Xi and Putin meet, say
    friendship will not change"). A parenthesis in between is an aside ("will not (the
    Kremlin said on Tuesday) travel to Beijing")."""
    start, end = sorted((negation.start, negation.end, trigger.start, trigger.end))[1:3]
    between = _PARENTHESIS.sub("", sentence.text[start - sentence.start : end - sentence.start])
    if len(between) > (NEGATION_REACH_CJK if cjk else NEGATION_REACH):
        return False
    return not _CLAUSE_BREAK.search(between)


def _greets(trigger: Hit, sentence: Sentence, cjk: bool) -> bool:
    """Whether a welcoming word has the one welcomed right after it, in its clause: "Xi
    welcomed Putin", "was greeted by the Chinese leader", "принял Си Цзиньпина" (not
    "welcomed the idea", "принял участие", "welcomed Putin's proposal")."""
    reach = GREETED_CJK if cjk else GREETED
    for hit in sentence.hits:
        named = hit.group.startswith("party") or hit.group in _NAMED
        if hit.start < trigger.end or not named:
            continue
        if hit.start - trigger.end > reach:
            return False
        between = sentence.text[trigger.end - sentence.start : hit.start - sentence.start]
        tail = sentence.text[hit.end - sentence.start : hit.end - sentence.start + 2]
        return not _CLAUSE_BREAK.search(between) and tail not in ("'s", "’s")
    return False


def _anchors(anchor: Hit, trigger: Hit, sentence: Sentence) -> bool:
    """Whether a meeting word is the event the news is dated against: it follows "days
    after", "months before" in the same clause, or in a relative clause of it ("came days
    after Xi and Putin spoke by phone", "a month after a visit to China, where he and Xi
    signed…"; not "Xi and Putin met, months after his visit")."""
    return anchor.end <= trigger.start < _anchored_end(anchor, sentence)


def _anchored_end(anchor: Hit, sentence: Sentence) -> int:
    """Where the event after an anchor stops being told: the end of its clause and of the
    relative clauses that hang on it."""
    text, position = sentence.text, anchor.end - sentence.start
    while True:
        found = _CLAUSE_BREAK.search(text, position)
        if found is None:
            return sentence.start + len(text)
        if not _RELATIVE.match(text, found.end()):
            return sentence.start + found.start()
        position = found.end()


def _beside(trigger: Hit, phrases: list[Hit], sentence: Sentence, cjk: bool) -> bool:
    """A party right next to the meeting word, in the same clause ("met Xi", "会见了普京";
    not "… virtual summit, Putin joined")."""
    reach = ADJACENT_CJK if cjk else ADJACENT
    if any(h.group in _OTHERS and _distance(trigger, h) <= 2 * reach for h in sentence.hits):
        return False  # "Putin receives China's Wang Yi": the counterpart is someone else
    for hit in phrases:
        if hit is trigger or not hit.group.startswith("party"):
            continue
        if _distance(trigger, hit) <= reach:
            start, end = sorted((trigger.end, hit.end, trigger.start, hit.start))[1:3]
            between = sentence.text[start - sentence.start : end - sentence.start]
            if not _CLAUSE_BREAK.search(between):
                return True
    return False


def _tight_pair(phrases: list[Hit], others: list[Hit], cjk: bool) -> bool:
    """Both sides named together: "Xi and Putin", "两国元首", with no one else between."""
    if any(hit.group in _NAMED for hit in phrases):
        return True
    parties = [hit for hit in phrases if hit.group.startswith("party")]
    if len(parties) < 2:
        return False
    first, last = min(parties, key=lambda h: h.start), max(parties, key=lambda h: h.start)
    if last.start - first.end > (PAIR_CJK if cjk else PAIR):
        return False
    return not any(first.end <= o.start < last.start for o in others)


def _title_factor(title: Sentence, evidence: list[Evidence], parties: int) -> float:
    """How much the body's evidence counts given the title: a title that denies or doubts
    a meeting, or is about a message or about someone else, makes the body's mentions
    asides, unless the title itself is evidence."""
    if any(e.sentence == 0 for e in evidence):
        return 1.0
    cjk = bool(CJK.search(title.text))
    hedges = [h for h in title.hits if h.group == "hedge"]
    triggers = [h for h in title.hits if h.group in TRIGGERS]
    if (title.has("negation") and triggers) or any(
        _governs(n, t, title, cjk) for n in hedges for t in triggers
    ):
        return DENIAL_TITLE_FACTOR  # "no meeting planned", "Will Xi meet Putin?"
    named = {h.group for h in title.hits if h.group.startswith("party")}
    if (
        title.has("negation")
        or title.has("message")
        or (title.has(*_OTHERS) and len(named) < parties)
    ):
        return OFF_TOPIC_TITLE_FACTOR
    return 1.0


def _about_the_meeting_held(ranked: list[Evidence]) -> list[Evidence]:
    """The evidence that tells the meeting's tense and day, strongest first.

    Talks reported as held ("held talks in Beijing") took place: an announcement no
    stronger in the same article is the next item of the programme ("on 17 May he will
    travel to Harbin", "tomorrow the two leaders will watch the parade"), which neither
    makes the article an announcement nor dates the meeting.
    """
    held = [e.weight for e in ranked if e.held]
    if not held:
        return ranked
    return [e for e in ranked if not (e.announcement and e.weight <= max(held))]


def _meeting_day(
    ranked: list[Evidence], sentences: list[Sentence], published: date | None
) -> DateMention | None:
    """The day of the meeting, from the dates written next to the evidence.

    A day written out ("October 22", "завтра") beats "next week". A visit spans days and
    is dated by its first day: for an announcement the first announced day ("7–10 May"),
    for a report the first day of talks, so a talks/video/phone sentence's date wins over
    arrival or departure days.
    """
    exact = [e for e in ranked if e.date is not None and e.date.kind != "vague"]
    if published is not None and exact:
        # "said on Thursday that the two will talk", beside "will talk on Friday" (or
        # "today"): the day of saying, not of talks
        latest = max(e.date.day for e in exact if e.date)
        exact = [
            e
            for e in exact
            if not (e.announcement and e.date and e.date.day < latest and e.date.day <= published)
        ]
    if exact:
        first = exact[0].date
        assert first is not None
        strong = [
            e
            for e in exact
            if e.date is not None
            and e.weight > WEIGHT_LEAD * WEAK_FACTOR
            and abs((e.date.day - first.day).days) <= 7
        ]
        ahead = published is not None and all(e.date and e.date.day > published for e in strong)
        if ahead:
            # an announcement: the talks' own day if given beside them, else the visit's
            # first day ("7–10 May"; not the parade's day further along the sentence)
            candidates = [e for e in strong if e.talks and e.date_near] or strong
        else:
            talks = [e for e in strong if e.talks]
            candidates = [e for e in talks if e.talks_dated] or talks
        days = [e.date for e in candidates if e.date is not None]
        return min(days, key=lambda m: m.day) if days else first
    vague = [e.date for e in ranked if e.date is not None]
    # An announcement may give its date in a sentence next to its evidence ("… next week.
    # The summit is set for Sept. 15-16."), within the period it names, if it names one.
    if published is not None and ranked and ranked[0].announcement:
        for item in ranked:
            if not item.announcement:
                continue
            index = item.sentence
            for neighbour in sentences[max(1, index - 1) : index + 2]:
                for mention in find_dates(neighbour.text, published):
                    if (
                        mention.kind == "explicit"
                        and mention.day > published
                        and (not vague or abs((mention.day - vague[0].day).days) <= 7)
                    ):
                        return mention
    if vague:
        return vague[0]
    # A report that dates none of its evidence is of the day its lead names, if it names
    # one day of the week before it: "the main developments on Monday: … XI-PUTIN CALL".
    if published is not None and ranked and not ranked[0].announcement:
        for sentence in sentences[1 : LEAD_SENTENCES + 1]:
            days = [
                m
                for m in find_dates(sentence.text, published)
                if m.kind != "vague" and timedelta(0) <= published - m.day <= timedelta(7)
            ]
            if days:
                return days[0] if len(days) == 1 else None
    return None


def _kind(evidence: list[Evidence], announced: bool, sentences: list[Sentence]) -> str:
    """The meeting's kind by the kind words of the evidence about it (a report's, not the
    next item it announces; an announcement's, not the call it recalls), by weight.

    Talks reported held with no kind word were in person. An announcement that names no
    format is "unknown", unless it puts the meeting somewhere: at a summit, in a party's
    country, or with a word of meeting in person anywhere in the article."""
    about = [e for e in evidence if e.announcement == announced] or evidence
    votes: dict[str, float] = {}
    for item in about:
        for kind in item.kinds:
            votes[kind] = votes.get(kind, 0.0) + item.weight
    if votes:
        return max(votes, key=lambda kind: (votes[kind], kind == "phone", kind == "video"))
    if any("call" in e.trigger.text.lower() for e in about):
        return "phone"  # "held a call", no word of video: a call is by phone
    if not announced:
        return "in-person"
    where = {e.sentence for e in about}
    for sentence in sentences:
        if sentence.has("in_person", "greeting", "venue"):
            return "in-person"
        if sentence.index in where and (
            any(h.group.startswith("place") for h in sentence.hits) or _located(sentence.text)
        ):
            return "in-person"
    return "unknown"


def _located(text: str) -> bool:
    """Whether a sentence puts something in a named place: "in Samarkand", "в Казани",
    "di Beijing" (a capital after the preposition that is no month: not "in May")."""
    months = {start for _, start in find_months(text)}
    return any(m.end() - 1 not in months for m in _LOCATION.finditer(text))


def match_article(
    title: str, text: str, published: date | None, topic: CompiledTopic
) -> Match | None:
    """The watched event this article is about, or None."""
    found, _ = _decide(title, text, published, topic, explain=False)
    return found


def why_not_matched(
    title: str, text: str, published: date | None, topic: CompiledTopic
) -> Miss | None:
    """Why an article that names a party of the topic is not about a watched event; None
    when it is about one, or names none of the parties. Slower than ``match_article``:
    for showing a near miss to a person, not for judging every article."""
    _, miss = _decide(title, text, published, topic, explain=True)
    return miss


def _decide(
    title: str, text: str, published: date | None, topic: CompiledTopic, explain: bool
) -> tuple[Match | None, Miss | None]:
    # Traditional Chinese is read in simplified characters, as the topic's phrases are.
    title, text = fold(title), fold(text)
    # A wire story's dateline ("新华社莫斯科7月16日电") dates it, whenever it was published.
    full = title + "\n" + text
    hits = topic.scan(full)
    groups = {hit.group for hit in hits}
    missing = [
        party.name
        for i, party in enumerate(topic.topic.parties)
        if not groups & {f"party{i}", f"counterpart{i}", f"place{i}", *_NAMED}
    ]
    if missing or not groups & set(TRIGGERS):
        # the fast path: most articles end here
        if not explain or len(missing) == len(topic.topic.parties):
            return None, None
        if missing:
            return None, Miss("unnamed", f"{', '.join(missing)} not named", 0)
        if "message" in groups:
            return None, Miss("message", "written message, not a meeting", 0)
        return None, Miss("no meeting", "no meeting word", 0)
    # Only articles naming both parties and a meeting word get this far: sentences and
    # datelines cost more than the scan.
    new_article()
    published = find_dateline(text, published) or published
    sentences = split_sentences(title, text)
    bounds = [s.start for s in sentences[1:]] + [len(full) + 1]
    index = 0
    for hit in hits:
        while hit.start >= bounds[index]:
            index += 1
        sentences[index].hits.append(hit)
    judge = _Judge(topic, sentences, published, explain)
    # A head of state's name counts as the party only on the days they held the office:
    # Putin as prime minister (2008–2012) is someone else.
    in_office = judge.reference or (date(judge.latest_year, 7, 1) if judge.latest_year else None)
    # With no date at all, a former holder still counts where the text names no present
    # holder of that office ("Medvedev and Hu met", undated), but not beside one ("Xi
    # received Medvedev, who brought a message from Putin").
    present = (
        set()
        if in_office
        else {
            h.group for s in sentences for h in s.hits if h.holder >= 0 and topic.in_office(h, None)
        }
    )

    def counts(hit: Hit) -> bool:
        if hit.holder < 0 or topic.in_office(hit, in_office):
            return True
        return in_office is None and hit.group not in present

    for sentence in sentences:
        hits = [h if counts(h) else Hit("other", h.start, h.end, h.text) for h in sentence.hits]
        if any(h.group.startswith("counterpart") for h in hits):
            hits = _counterparts(hits)
        sentence.replace_hits(hits)
    evidence = [e for e in (judge.evidence(s) for s in sentences) if e is not None]
    if not evidence:
        if not explain:
            return None, None
        return None, judge.telling() or Miss(
            "absent", "no meeting word with both parties near it", 0
        )
    factor = _title_factor(sentences[0], evidence, len(topic.topic.parties))
    unlikely = 1.0
    for item in evidence:
        unlikely *= 1.0 - item.weight * factor
    score = round(1.0 - unlikely, 3)
    if score < THRESHOLD:
        if not explain:
            return None, None
        # What the title or lead is about says more than the passing mentions that counted.
        return None, judge.telling(LEAD_SENTENCES) or Miss(
            "passing", f"only passing mentions (score {score} < {THRESHOLD})", 0
        )
    ranked = _about_the_meeting_held(sorted(evidence, key=lambda e: (-e.weight, e.sentence)))
    when = _meeting_day(ranked, sentences, published)
    day = when.day if when else published
    exact = when is not None and when.kind != "vague"
    # An article dated before the meeting it names announces it, whatever its tense.
    # With the meeting's day written out, the tense is in the calendar: ahead of the
    # article's date it is announced, otherwise reported.
    if exact and published is not None and day is not None:
        announced = day > published
    else:
        announced = ranked[0].announcement
    phrases: list[str] = []
    for item in sorted(evidence, key=lambda e: e.sentence):
        for hit in sorted(item.phrases, key=lambda h: h.start):
            if hit.text.lower() not in (p.lower() for p in phrases):
                phrases.append(hit.text)
    found = Match(
        topic=topic.name,
        score=score,
        participants=topic.participants(in_office),
        kind=_kind(ranked, announced, sentences),
        date=day,
        date_from_text=exact,
        announcement=announced,
        evidence=tuple(phrases[:12]),
    )
    return found, None
