"""normalise_entry: links, headline fallbacks, deks from summary or content, dates, categories, images."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.models import Article, RawEntry
from bot.core.normalise import FUTURE_SLACK, MAX_CATEGORIES, normalise_entry

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
FEED = "https://example.com/feed/"
ENTRY = RawEntry(
    guid="https://example.com/?p=1",
    link="https://example.com/2024/06/story/?utm_source=rss",
    title="Council &amp; mayor agree",
    title_is_html=True,
    summary="<p>The council and the mayor agreed on a budget. Details follow.</p>",
    content="<p>Full body that is not used while there is a summary.</p>",
    published=datetime(2024, 6, 1, 9, 0, tzinfo=UTC),
    updated=datetime(2024, 6, 1, 10, 0, tzinfo=UTC),
    categories=("Local", "Politics"),
    image="/img/story.jpg",
)


def norm(entry: RawEntry, dek_max_chars: int = 300) -> Article | None:
    return normalise_entry(
        entry,
        feed_url=FEED,
        site_url="https://example.com",
        source="Example",
        now=NOW,
        dek_max_chars=dek_max_chars,
    )


def art(entry: RawEntry, dek_max_chars: int = 300) -> Article:
    article = norm(entry, dek_max_chars)
    assert article is not None
    return article


def test_full_entry() -> None:
    article = art(ENTRY)
    assert article.guid == "https://example.com/?p=1"
    assert article.url == "https://example.com/2024/06/story/"
    assert article.headline == "Council & mayor agree"
    assert article.dek == "The council and the mayor agreed on a budget. Details follow."
    assert article.published == datetime(2024, 6, 1, 9, 0, tzinfo=UTC)
    assert article.categories == ("Local", "Politics")
    assert article.image == "https://example.com/img/story.jpg"
    assert article.source == "Example"
    assert article.needs_dek is False


def test_no_usable_link_gives_none() -> None:
    assert norm(replace(ENTRY, link=None, guid="tag:example.com,2024:1")) is None
    assert norm(replace(ENTRY, link="javascript:alert(1)", guid=None)) is None
    assert norm(replace(ENTRY, link="   ", guid=None)) is None


def test_guid_url_is_the_fallback_link() -> None:
    article = art(replace(ENTRY, link=None, guid="https://example.com/guid-link"))
    assert article.url == "https://example.com/guid-link"


def test_relative_link_resolves_against_feed_url() -> None:
    article = art(replace(ENTRY, link="story.html", image="../i.png"))
    assert article.url == "https://example.com/feed/story.html"
    assert article.image == "https://example.com/i.png"


def test_guid_defaults_to_url() -> None:
    article = art(replace(ENTRY, guid=None))
    assert article.guid == "https://example.com/2024/06/story/"


def test_headline_falls_back_to_first_sentence() -> None:
    article = art(replace(ENTRY, title=None))
    assert article.headline == "The council and the mayor agreed on a budget."
    assert article.dek == "Details follow."


def test_no_headline_and_no_text_gives_none() -> None:
    assert norm(replace(ENTRY, title="  ", summary=None, content=None)) is None
    assert norm(replace(ENTRY, title="<b></b>", summary="<p> </p>", content=None)) is None


def test_very_long_title_is_cut() -> None:
    article = art(replace(ENTRY, title="word " * 200, title_is_html=False))
    assert len(article.headline) <= 300
    assert article.headline.endswith("…")


def test_dek_from_content_when_no_summary() -> None:
    article = art(replace(ENTRY, summary=None))
    assert article.dek == "Full body that is not used while there is a summary."
    assert article.needs_dek is False


def test_dek_from_content_when_summary_repeats_headline() -> None:
    article = art(replace(ENTRY, summary="Council &amp; mayor agree"))
    assert article.dek.startswith("Full body")


def test_needs_dek_when_nothing_usable() -> None:
    for summary, content in (
        (None, None),
        ("Council & mayor agree", None),
        ("<p>[…]</p>", "<script>x</script>"),
    ):
        article = art(replace(ENTRY, summary=summary, content=content))
        assert article.dek == ""
        assert article.needs_dek is True


def test_dek_max_chars() -> None:
    article = art(replace(ENTRY, summary="word " * 200), dek_max_chars=50)
    assert len(article.dek) <= 50
    assert article.dek.endswith("…")


def test_dates() -> None:
    assert art(replace(ENTRY, published=None)).published == ENTRY.updated
    assert art(replace(ENTRY, published=None, updated=None)).published is None
    future = NOW + timedelta(days=3)
    assert art(replace(ENTRY, published=future)).published == NOW
    soon = NOW + FUTURE_SLACK - timedelta(seconds=1)
    assert art(replace(ENTRY, published=soon)).published == soon


def test_categories_cleaned() -> None:
    raw = (
        "Arts &amp; Culture",
        " local ",
        "LOCAL",
        "",
        "<b>Bold</b>",
        "x" * 200,
        *[f"c{i}" for i in range(40)],
    )
    categories = art(replace(ENTRY, categories=raw)).categories
    assert categories[:4] == ("Arts & Culture", "local", "Bold", "x" * 64)
    assert len(categories) == MAX_CATEGORIES


def test_bad_image_is_dropped() -> None:
    assert art(replace(ENTRY, image="javascript:alert(1)")).image is None
    assert art(replace(ENTRY, image=None)).image is None


@pytest.mark.parametrize("title", ["<script>alert(1)</script>Hi", "Hi<style>x{}</style>"])
def test_hostile_html_title(title: str) -> None:
    assert art(replace(ENTRY, title=title, title_is_html=True)).headline == "Hi"


def test_plain_title_keeps_literal_characters() -> None:
    article = art(replace(ENTRY, title="AT&T <b> tags & Q&A", title_is_html=False))
    assert article.headline == "AT&T <b> tags & Q&A"


def test_fast_enough_for_40000_entries_a_cycle() -> None:
    entry = replace(
        ENTRY,
        summary=(
            "<p>The council approved a $4.2&nbsp;million budget on Friday after a six-hour session. "
            "Residents "
            'packed the chamber to speak about parks funding &#8230;</p><p>The post <a href="https://x/">'
            'Budget</a> appeared first on <a href="https://x">Daily</a>.</p>'
        ),
    )
    started = time.perf_counter()
    for _ in range(1000):
        norm(entry)
    assert (time.perf_counter() - started) / 1000 < 0.001  # about 0.1 ms on a developer machine
