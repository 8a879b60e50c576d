"""monitor.normalize: traditional Chinese, Taiwan's and Hong Kong's usage, read as simplified;
every other text left as it is."""

from __future__ import annotations

from datetime import date

import pytest

from monitor.matcher import match_article
from monitor.normalize import fold
from monitor.topic import CompiledTopic, load_topics

CASES = {
    "traditional_characters": ("習近平與普京會談", "习近平与普京会谈"),
    "taiwan_video_call": ("習近平與普丁視訊會晤", "习近平与普丁视频会晤"),
    "taiwan_phone_call": ("兩國元首通電話", "两国元首通电话"),
    "hong_kong_variant": ("衞生部長到訪", "卫生部长到访"),
    "hong_kong_video": ("視像會議", "视像会议"),
    # The Taiwan table read backwards would make 文档 of 文件 and 塔吉克斯坦斯坦 of 塔吉克斯坦.
    "simplified_unchanged": ("签署合作文件，塔吉克斯坦总统", "签署合作文件，塔吉克斯坦总统"),
    "latin_unchanged": ("Xi and Putin met in Kazan", "Xi and Putin met in Kazan"),
    "cyrillic_unchanged": ("Путин и Си Цзиньпин", "Путин и Си Цзиньпин"),
    "empty": ("", ""),
    "nul_keeps_the_rest": ("習近平\x00與普丁", "习近平\x00与普丁"),
    "lone_surrogate": ("習近平\udc80與普丁", "习近平?与普丁"),
}


@pytest.mark.parametrize(("text", "folded"), CASES.values(), ids=CASES.keys())
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.fixture(scope="module")
def topic() -> CompiledTopic:
    return load_topics(["china-russia-summit"])[0]


def test_the_topic_writes_its_chinese_as_the_fold_reads_it(topic: CompiledTopic) -> None:
    """Phrases in the built-in topic are written simplified, as a folded article reads."""
    data = topic.topic.model_dump(by_alias=True)

    def chinese(node: object) -> list[str]:
        if isinstance(node, dict):
            return [p for key, value in node.items() for p in chinese(value) if key != "name"]
        if isinstance(node, list):
            return [p for item in node for p in chinese(item)]
        return [node] if isinstance(node, str) else []

    phrases = chinese(data)
    assert len(phrases) > 100
    assert [p for p in phrases if fold(p) != p] == []


def test_a_taiwanese_report_matches_like_a_mainland_one(topic: CompiledTopic) -> None:
    day = date(2026, 2, 4)
    mainland = match_article("习近平同普京举行视频会晤", "两国元首通过视频会晤。", day, topic)
    taiwan = match_article("習近平與普丁視訊會晤", "兩國元首透過視訊會晤。", day, topic)
    assert mainland and taiwan
    assert (taiwan.kind, taiwan.date, taiwan.participants) == (
        mainland.kind,
        mainland.date,
        mainland.participants,
    )


def test_a_phrase_a_config_writes_in_traditional_matches_simplified_text() -> None:
    extended = {"extends": "china-russia-summit", "name": "extra", "others": {"zh": ["盧卡申柯"]}}
    topic = load_topics([extended])[0]
    hits = topic.scan(fold("习近平会见卢卡申柯"))
    assert [(h.group, h.text) for h in hits][-1] == ("other", "卢卡申柯")
