"""The ingest benchmark's farm serves the mix its docstring promises, and both sides can read all of it.

A shape that newsbot could not read whole, or that sent it to the article pages for deks (reader never
goes), would make the side-by-side numbers mean something else; so would a mix whose shares drift.
"""

from __future__ import annotations

import io
from collections import Counter

import pytest

from bench.farm import NOW, SHAPES, farm_feed, mix_summary, shape_of
from bot.core.digest import digest_body
from bot.core.feedparse import parse_feed

ONE_OF_EACH = [next(i for i in range(20) if shape_of(i) == shape) for shape in SHAPES]


def test_the_shares_are_the_docstrings_and_the_feeds_deterministic() -> None:
    shares = Counter(shape_of(i) for i in range(1000))
    assert shares == {
        "wp_full": 350,
        "wp_excerpt": 150,
        "rss_news": 100,
        "rss_dcdate": 100,
        "rss_fulltext": 50,
        "atom_full": 100,
        "atom_summary": 50,
        "atom_both": 50,
        "json": 50,
    }
    assert [shape_of(i) for i in range(5)] == ["wp_full", "atom_full", "rss_news", "json", "wp_excerpt"]
    assert farm_feed(7).body == farm_feed(7).body
    mix = mix_summary([farm_feed(i) for i in range(40)])
    assert {f.items for f in (farm_feed(i) for i in range(40))} == {10, 20, 30, 50, 100}
    assert mix["entries"] == sum(farm_feed(i).items for i in range(40))


@pytest.mark.parametrize("index", ONE_OF_EACH, ids=SHAPES)
def test_newsbot_reads_every_entry_with_a_dek_source(index: int) -> None:
    feed = farm_feed(index)
    url = f"http://127.0.0.2:8000/feed/{index}.xml"
    parsed = parse_feed(feed.body, url=url, content_type=feed.content_type)
    assert len(parsed.entries) == feed.items
    assert len({e.guid for e in parsed.entries}) == feed.items
    assert all(e.title and e.link and e.published for e in parsed.entries)
    digest = digest_body(feed.body, url=url, content_type=feed.content_type, now=NOW)
    assert len(digest.articles) == feed.items
    assert not any(a.needs_dek for a in digest.articles)  # nothing sends newsbot to the article pages


@pytest.mark.parametrize("index", ONE_OF_EACH, ids=SHAPES)
def test_reader_reads_every_entry(index: int) -> None:
    from reader._parser.feedparser import FeedparserParser  # noqa: PLC0415 - only this test needs it
    from reader._parser.jsonfeed import JSONFeedParser  # noqa: PLC0415

    feed = farm_feed(index)
    parser = JSONFeedParser() if feed.shape == "json" else FeedparserParser()
    _, entries = parser(
        f"http://127.0.0.2/{index}", io.BytesIO(feed.body), {"content-type": feed.content_type}
    )
    assert len(list(entries)) == feed.items
