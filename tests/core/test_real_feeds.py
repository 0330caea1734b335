"""Deks, headlines and feed-or-page decisions on the shapes real feeds have, through `digest_body`.

tests/data/realfeeds/ holds one document per shape, next to its expected JSON (regenerate with
NEWSBOT_REGEN_GOLDEN=1, then read every diff): the Guardian's RSS (standfirst, body paragraphs, "Related:",
link-only related lists, "Continue reading..."), reddit's RSS of 2015 (one escape), of January 2016 (its
self-text escaped twice) and its Atom (link posts that are only "submitted by … [link] [comments]"),
descriptions that mention markup as text, and an Atom feed wrapped in an XHTML page.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.digest import FeedDigest, digest_body
from bot.core.feedparse import parse_feed
from bot.core.normalise import normalise_entry
from bot.core.text import make_dek
from bot.core.wrapped_feed import wrapped_feed

DATA = Path(__file__).parent.parent / "data" / "realfeeds"
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
RSS = "application/rss+xml; charset=UTF-8"
ATOM = "application/atom+xml; charset=UTF-8"
FEEDS = {
    "guardian_rss.xml": ("https://www.theguardian.com/uk/rss", RSS),
    "reddit_rss_2015.xml": ("https://www.reddit.com/.rss", RSS),
    "reddit_rss_2016.xml": ("https://www.reddit.com/r/linux/.rss", RSS),
    "reddit_atom_worldnews.xml": ("https://www.reddit.com/r/worldnews/.rss", ATOM),
    "reddit_atom_multi.xml": ("https://www.reddit.com/user/example/m/tech/.rss", ATOM),
    "markup_mentions_rss.xml": ("https://blog.example.net/feed/", RSS),
    "xhtml_wrapped_atom.xhtml": ("https://journal.example.org/feed.xhtml", "text/html; charset=UTF-8"),
}
BOILERPLATE = ("Continue reading", "Related:", "submitted by", "[link]", "[comments]", "appeared first on")


def digest(name: str, content_type: str | None = None) -> FeedDigest:
    url, default_type = FEEDS.get(name, ("https://journal.example.org/", "text/html"))
    body = (DATA / name).read_bytes()
    return digest_body(body, url=url, content_type=content_type or default_type, now=NOW)


def articles(name: str) -> dict[str, tuple[str, bool]]:
    """headline -> (dek, needs_dek)"""
    return {a.headline: (a.dek, a.needs_dek) for a in digest(name).articles}


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_golden(name: str) -> None:
    """Regenerate with NEWSBOT_REGEN_GOLDEN=1, then read every diff before committing it."""
    found = digest(name)
    assert found.kind == "feed"
    actual = [
        {"headline": a.headline, "dek": a.dek, "needs_dek": a.needs_dek, "url": a.url} for a in found.articles
    ]
    expected_path = DATA / (name.rsplit(".", 1)[0] + ".expected.json")
    if os.environ.get("NEWSBOT_REGEN_GOLDEN") == "1":
        expected_path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert actual == json.loads(expected_path.read_text(encoding="utf-8"))
    for article in found.articles:
        assert not any(phrase in article.dek for phrase in BOILERPLATE), article.dek
        assert article.needs_dek == (article.dek == "")


# -- the Guardian: the dek is the standfirst -------------------------------------------------------------


def test_guardian_dek_is_the_standfirst_not_a_run_on_with_the_first_paragraph() -> None:
    deks = articles("guardian_rss.xml")
    dek, _ = deks["Trump State of the Union address promised unity but emphasized discord"]
    assert dek == (
        "The president’s ‘new American moment’ speech stirred Republican applause while Democrats showed "
        "thinly disguised contempt"
    )
    assert "Donald Trump has promised" not in dek
    # a <br> closing the standfirst's paragraph changes nothing
    dek, _ = deks["Theresa May rebuffs fresh calls to resign"]
    assert dek == "Prime minister has no plans to step down before getting Brexit deal passed, says No 10"


def test_entry_without_a_title_takes_its_headline_from_the_first_paragraph_only() -> None:
    url, content_type = FEEDS["guardian_rss.xml"]
    body = (DATA / "guardian_rss.xml").read_bytes()
    title = "<title>Trump State of the Union address promised unity but emphasized discord</title>"
    parsed = parse_feed(body.replace(title.encode(), b""), url=url, content_type=content_type)
    article = normalise_entry(parsed.entries[0], feed_url=url, site_url=parsed.link, source="x", now=NOW)
    assert article is not None
    assert article.headline == (
        "The president’s ‘new American moment’ speech stirred Republican applause while Democrats showed "
        "thinly disguised contempt"
    )
    assert article.dek.startswith("Donald Trump has promised a “new American moment” in a State of the Union")


def test_short_blocks_are_joined_at_a_sentence_boundary() -> None:
    deks = articles("guardian_rss.xml")
    dek, _ = deks["War Horse review – still one of British theatre’s most phenomenal creations"]
    # the venue line, then the standfirst
    assert dek.startswith("The Lowry, Salford. The original magic that made the play")
    assert dek.endswith("perhaps now more relevant than ever")
    dek, _ = deks["Late George Ford kick sinks Harlequins in Sale’s opening weekend win"]
    assert dek == (
        "Sale 12-11 Harlequins. 31-year old kicked all of Sale’s points on a rainy afternoon at the Salford "
        "Community Stadium"
    )


def test_continue_reading_alone_leaves_no_dek() -> None:
    dek, needs_dek = articles("guardian_rss.xml")["Ella Baron on the Labour party conference – cartoon"]
    assert (dek, needs_dek) == ("", True)


def test_related_links_never_enter_a_dek() -> None:
    html = (
        "<p>Short standfirst</p>"
        '<ul><li><a href="https://www.theguardian.com/a">Aftermath – a visual guide</a></li></ul>'
        "<p>Related: <a href='https://www.theguardian.com/b'>Key moments – video</a></p>"
        "<p>The first paragraph of the story, long enough to read as one.</p>"
        ' <a href="https://www.theguardian.com/c">Continue reading...</a>'
    )
    assert make_dek(html, "A headline") == (
        "Short standfirst. The first paragraph of the story, long enough to read as one."
    )


def test_dek_budget_and_cut_rules_still_apply() -> None:
    long_standfirst = "<p>" + "A standfirst that goes on, clause after clause, " * 12 + "</p><p>Body.</p>"
    dek = make_dek(long_standfirst, "Headline", 120)
    assert len(dek) <= 120
    assert dek.endswith("…")


@pytest.mark.parametrize("max_chars", [80, 300])
def test_long_html_gives_what_converting_everything_gives(max_chars: int) -> None:
    """make_dek reads long HTML from a prefix first; the answer must not depend on it."""
    figure = '<figure><img src="https://example.com/a.jpg" srcset="a 300w, b 768w" alt=""></figure>'
    footer = "<p>The post X appeared first on Y.</p>"
    many_short = "".join(f"<p>Line {i}</p>{figure}" for i in range(300)) + footer
    one_long = "<p>" + "word " * 1200 + "</p>" + figure * 40
    late_text = "<div>" + "<span></span>" * 1000 + "</div><p>Only text at the end.</p>"
    for html in (many_short, one_long, late_text):
        assert len(html) > max(2048, max_chars * 8)  # the prefix is tried first
        full = make_dek(html, "Unrelated", 100_000)  # a prefix longer than the document: none is tried
        assert make_dek(html, "Unrelated", max_chars) == make_dek(full, "Unrelated", max_chars)


# -- reddit -------------------------------------------------------------------------------------------------


def test_reddit_link_posts_have_no_dek_of_their_own() -> None:
    for name in ("reddit_rss_2015.xml", "reddit_atom_worldnews.xml"):
        for headline, (dek, needs_dek) in articles(name).items():
            assert (dek, needs_dek) == ("", True), headline
    multi = articles("reddit_atom_multi.xml")
    assert multi["Phoenix 1.8.0 released!"] == ("", True)  # translated label: "[commentaires]"
    assert multi["Qwen3-32B-IQ4_XS GGUFs - MMLU-PRO benchmark comparison"] == (
        "Since IQ4_XS is my favorite quant for 32B models, I decided to run some benchmarks to compare "
        "IQ4_XS GGUFs from different sources.",
        False,
    )


def test_double_escaped_description_is_read_as_html() -> None:
    (article,) = digest("reddit_rss_2016.xml").articles
    assert article.dek == "I try to donate $50-$100 a month to open source software as I use it so much."
    # the same entry through parse_feed + normalise_entry, the path ingest and preview share
    url, content_type = FEEDS["reddit_rss_2016.xml"]
    parsed = parse_feed((DATA / "reddit_rss_2016.xml").read_bytes(), url=url, content_type=content_type)
    (entry,) = parsed.entries
    assert "&lt;div class=&quot;md&quot;&gt;" in (entry.summary or "")  # escaped once more than HTML
    normalised = normalise_entry(entry, feed_url=url, site_url=parsed.link, source="linux", now=NOW)
    assert normalised is not None
    assert normalised.dek == article.dek


def test_text_that_mentions_markup_stays_as_it_is() -> None:
    deks = {dek for dek, _ in articles("markup_mentions_rss.xml").values()}
    assert "Three years of the newsletter, and we still <3 feeds more than anything else we publish." in deks
    assert any("prints a < b > c reads" in dek for dek in deks)
    assert any(dek.startswith("Use the <br> tag for line breaks") for dek in deks)
    assert any(dek.startswith("Typing <script>alert(1)</script> into the comment box") for dek in deks)
    assert any(dek.startswith("Each paragraph is wrapped in <p> and </p>,") for dek in deks)
    assert "The council approved the library budget on Tuesday after a two-hour debate." in deks


# -- a feed wrapped in an XHTML page; pages stay pages ------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/html; charset=UTF-8", "application/xhtml+xml", None])
def test_atom_feed_wrapped_in_xhtml_is_read_as_a_feed(content_type: str | None) -> None:
    found = digest("xhtml_wrapped_atom.xhtml", content_type or "")
    assert (found.kind, found.format, found.title) == ("feed", "atom10", "Example Journal")
    assert found.site_url == "https://journal.example.org/"
    assert len(found.articles) == 10
    first = found.articles[0]
    assert (first.headline, first.url) == (
        "Notes from the spring meetup",
        "https://journal.example.org/2024/spring-meetup/",
    )
    assert first.dek == "Forty people came to the library for the spring meetup, the largest crowd so far."


def test_html_page_with_alternate_link_is_still_a_page() -> None:
    found = digest("page_with_alternate.html", "text/html; charset=UTF-8")
    assert found.kind == "html"
    assert found.feed_links == ("https://journal.example.org/feed/",)
    assert found.page is not None
    assert found.page.description == "Notes from a small publishing collective."


def test_page_quoting_a_feed_stays_a_page() -> None:
    page = (
        b'<!DOCTYPE html><html><head><title>Feeds 101</title><link rel="alternate" '
        b'type="application/atom+xml" href="/atom.xml"></head><body><script type="text/template">'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Sample</title><entry><title>Sample entry</title>'
        b'<link href="https://journal.example.org/s"/></entry></feed></script>'
        b"<p>That is what a feed looks like.</p></body></html>"
    )
    found = digest_body(page, url="https://journal.example.org/", content_type="text/html", now=NOW)
    assert (found.kind, found.feed_links) == ("html", ("https://journal.example.org/atom.xml",))
    no_entries = (
        b'<html><body><feed xmlns="http://www.w3.org/2005/Atom"><title>None</title></feed></body></html>'
    )
    assert wrapped_feed(no_entries) is None


def test_wrapped_feed_keeps_xml_bomb_safety() -> None:
    names = ["lol", *(f"lol{i}" for i in range(1, 10))]  # each entity ten of the one before: 10^9 "lol"s
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY {name} "{f"&{before};" * 10}">' for before, name in itertools.pairwise(names)
    )
    document = (
        f'<?xml version="1.0"?><!DOCTYPE html [ {entities} ]>'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head><body>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Feed</title><entry><title>Boom &lol9;</title>'
        '<link href="https://journal.example.org/1"/><id>1</id><updated>2024-01-01T00:00:00Z</updated>'
        "</entry></feed></body></html>"
    ).encode()
    started = time.perf_counter()
    url = "https://journal.example.org/f"
    found = digest_body(document, url=url, content_type="application/xhtml+xml", now=NOW)
    assert time.perf_counter() - started < 1
    (article,) = found.articles
    assert article.headline == "Boom &lol9;"  # the declaration was cut out; nothing was expanded


def test_looking_for_a_wrapped_feed_is_cheap_on_a_large_page() -> None:
    page = b"<!DOCTYPE html><html><head><title>Big</title></head><body>"
    page += b"<p>Some <b>text</b>.</p>" * 40_000 + b"</body></html>"
    started = time.perf_counter()
    for _ in range(10):
        assert wrapped_feed(page) is None
    assert (time.perf_counter() - started) / 10 < 0.01  # three bytes.find over ~1 MB: far under 1 ms
