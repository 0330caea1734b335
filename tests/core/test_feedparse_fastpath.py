"""The feedparser-rs fast path gives exactly what feedparser gives, on feedparser's own test corpus.

tests/data/feedparser-corpus/corpus.tar.xz is feedparser 6.0.14's test suite (its *.xml files, about
2,200 feeds of every shape: encodings, entities, namespaces, ill-formed XML, hostile HTML; BSD licence
alongside). Each document, and each of our own goldens, is parsed twice through `parse_feed`: once as
the bot does (fast path where it fits) and once with the fast path turned off (feedparser only). The
two ParsedFeeds must be equal, every RawEntry field included.
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Iterator

import pytest

import bot.core.feedparse as feedparse
import bot.core.feedparse_fast as feedparse_fast
from bench.farm import make_feed
from bot.core.errors import FeedParseError
from bot.core.models import ParsedFeed
from tests.kits import DATA

CORPUS = DATA / "feedparser-corpus" / "corpus.tar.xz"
HEADER = re.compile(rb"^Header:\s*Content-type:\s*(.+?)\s*$", re.M | re.I)


def documents() -> Iterator[tuple[str, bytes, str | None]]:
    with tarfile.open(CORPUS) as tar:
        for member in tar:
            file = tar.extractfile(member) if member.isfile() else None
            if file is not None:
                body = file.read()
                header = HEADER.search(body[:2000])
                yield member.name, body, header.group(1).decode() if header else None
    for path in sorted(DATA.glob("**/*.xml")):
        yield str(path.relative_to(DATA)), path.read_bytes(), None
    for index in range(3):
        yield f"farm{index}", make_feed(index), "application/rss+xml; charset=UTF-8"


def parse(body: bytes, content_type: str | None) -> ParsedFeed | str:
    try:
        return feedparse.parse_feed(body, url="http://example.org/feed/", content_type=content_type)
    except FeedParseError as e:
        return f"FeedParseError: {e}"


def test_fast_path_agrees_with_feedparser_on_its_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_parse = feedparse.fast_parse
    taken: list[str] = []
    fits = feedparse.fits_fast_path
    disagreements: list[str] = []
    count = 0
    for name, body, content_type in documents():
        count += 1
        monkeypatch.setattr(feedparse, "fits_fast_path", lambda body, root: False)
        expected = parse(body, content_type)
        monkeypatch.setattr(feedparse, "fits_fast_path", fits)
        used: list[bool] = []

        def counting(body: bytes, url: str, used: list[bool] = used) -> dict[str, object] | None:
            result = fast_parse(body, url)
            used.append(result is not None)
            return result

        monkeypatch.setattr(feedparse, "fast_parse", counting)
        got = parse(body, content_type)
        if any(used):
            taken.append(name)
        if got != expected:
            disagreements.append(f"{name}: {str(got)[:300]} != {str(expected)[:300]}")
    assert count > 2200
    assert disagreements == []
    # The comparison means something only if the fast path is taken: today 238 corpus documents,
    # our WordPress goldens and the benchmark farm's feeds.
    assert len(taken) > 200
    assert {"feeds/wordpress_rss20.xml", "ingest/wordpress.xml", "farm0", "farm2"} <= set(taken)


@pytest.mark.parametrize(
    "body",
    [
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>A &lt;b&gt; B</title></entry></feed>',
        b'<rss version="0.91"><channel><item><title>x</title></item></channel></rss>',
        b'<rss version="2.0" xml:base="http://a/"><channel><item><title>x</title></item></channel></rss>',
        b'<rss version="2.0"><channel><item><title>Raw <b>markup</b></title></item></channel></rss>',
        b'<rss version="2.0"><channel><item><title><![CDATA[a]]><i>b</i></title></item></channel></rss>',
        b'<rss version="2.0"><channel><item><description>x <p>y</p></description></item></channel></rss>',
        b'<rss version="2.0"><channel><item><title>x \xc2\x93quoted\xc2\x94</title></item></channel></rss>',
        b'<rss version="2.0"><channel><item><title>&#147;x&#148;</title></item></channel></rss>',
        b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><item>'
        b"<dc:date>2024-01-01T00:00:00Z</dc:date></item></channel></rss>",
        b'<rss version="2.0"><channel><item><link>http://127.0.0.1:8080/x</link></item></channel></rss>',
        b'<rss version="2.0"><channel><item><title><![CDATA[x</title></item></channel></rss>',
        b'<!DOCTYPE rss SYSTEM "http://my.netscape.com/publish/formats/rss-0.91.dtd">'
        b'<rss version="2.0"><channel><item><title>x</title></item></channel></rss>',
    ],
    ids=[
        "atom",
        "rss091",
        "xml-base",
        "markup",
        "cdata+markup",
        "markup-desc",
        "c1",
        "c1-ref",
        "dc-date",
        "address",
        "unclosed-cdata",
        "dtd",
    ],
)
def test_shapes_the_fast_path_leaves_to_feedparser(body: bytes) -> None:
    root = b"feed" if body.startswith(b"<feed") else b"rss"
    assert not feedparse.fits_fast_path(body, root)


def test_plain_rss2_takes_the_fast_path_and_cdata_is_not_markup() -> None:
    body = (
        b'<rss version="2.0"><channel><title>S</title><item><title><![CDATA[A <b>B</b>]]></title>'
        b"<description><![CDATA[<p>Para</p>]]></description><category><![CDATA[News]]></category>"
        b"<guid>https://s.example/1</guid><pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>"
        b"</item></channel></rss>"
    )
    assert feedparse.fits_fast_path(body, b"rss")
    assert feedparse.fast_parse(body, "https://s.example/feed/") is not None


def test_fast_result_refused_when_an_item_is_missing_or_a_guid_is_relative() -> None:
    two_items_one_read = (  # an <item> the parser does not see as an item: counts disagree
        b'<rss version="2.0"><channel><title>S</title><item><title>a</title><guid>https://s/1</guid>'
        b"</item><image><item>odd</item></image></channel></rss>"
    )
    assert feedparse.fast_parse(two_items_one_read, "https://s.example/feed/") is None
    relative_guid = (
        b'<rss version="2.0"><channel><title>S</title><item><title>a</title><guid>/news/1</guid>'
        b"</item></channel></rss>"
    )
    assert feedparse.fast_parse(relative_guid, "https://s.example/feed/") is None


def test_without_feedparser_rs_feedparser_reads_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform without a feedparser-rs wheel (musl) still parses every feed, the same way."""
    body = make_feed(1)
    with_fast_path = parse(body, "application/rss+xml")
    assert feedparse.fits_fast_path(body, b"rss")
    monkeypatch.setattr(feedparse_fast, "feedparser_rs", None)
    assert not feedparse.fits_fast_path(body, b"rss")
    assert parse(body, "application/rss+xml") == with_fast_path
