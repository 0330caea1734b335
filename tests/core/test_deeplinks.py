"""Deep-link payloads: every topic name round-trips within Telegram's 64 characters of A-Za-z0-9_-."""

from __future__ import annotations

import re

import pytest

from bot.core.deeplinks import DeepLink, article_payload, deep_link, parse_payload, topic_payload

PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")


@pytest.mark.parametrize("name", ["politics", "climate_change", "covid-19", "économie", "体育", "Ekonomi"])
def test_topic_names_round_trip(name: str) -> None:
    payload = topic_payload(name)
    assert payload is not None
    assert PAYLOAD.match(payload)
    assert parse_payload(payload) == DeepLink("topic", topic=name)


def test_a_name_too_long_to_encode_gets_no_link() -> None:
    assert topic_payload("é" * 32) is None
    assert deep_link("newsbot", None) is None


def test_articles_and_links() -> None:
    assert parse_payload(article_payload(123)) == DeepLink("article", article_id=123)
    assert deep_link("newsbot", "topic-x") == "https://t.me/newsbot?start=topic-x"


@pytest.mark.parametrize(
    "payload",
    ["", "topic-", "a-", "a-12x", "a-" + "9" * 30, "hello", "topicu-!!", "topicu-_w", "x" * 65, "a b"],
)
def test_garbage_payloads_decode_to_nothing(payload: str) -> None:
    assert parse_payload(payload) is None
