"""The feedparser-rs fast path gives exactly what feedparser gives, on feedparser's own test corpus.

tests/data/feedparser-corpus/corpus.tar.xz is feedparser 6.0.14's test suite (its *.xml files, about
2,200 feeds of every shape: encodings, entities, namespaces, ill-formed XML, hostile HTML; BSD licence
alongside). Each document, and each of our own goldens, is parsed twice through `parse_feed`: once as
the bot does (fast path where it fits) and once with the fast path turned off (feedparser only). The
two ParsedFeeds must be equal, every RawEntry field included.
"""

from __future__ import annotations

import itertools
import re
import tarfile
from collections.abc import Iterator

import pytest

import bot.core.feedparse as feedparse
import bot.core.feedparse_fast as feedparse_fast
from bench.farm import farm_feed, make_feed
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
    for index in range(20):  # one of each shape of the benchmark's mix (bench/farm.py), several of some
        feed = farm_feed(index)
        yield f"mix{index}:{feed.shape}", feed.body, feed.content_type
    yield from dc_date_cases()
    yield from atom_cases()


# RSS 2.0 with dc:date beside pubDate, in the date forms feedparser and feedparser-rs were seen to read
# differently (offsets without a colon, unparseable pubDates, dc:date first), and Atom 1.0 text
# constructs of every type with and without summaries and content, links, ids and dates.
_DC_DATES = [
    "2024-01-02T03:04:05Z",
    "2024-01-02T03:04:05+01:00",
    "2024-01-02T03:04:05-0500",
    "2024-01-02",
    "2024-01-02T03:04Z",
    "2024-01-02T03:04:05.123Z",
    "2024-01-02 03:04:05",
    "2024-01-02T03:04:05",
    "Tue, 02 Jan 2024 03:04:05 GMT",
    "garbage",
    "",
    "2024-13-45T99:00:00Z",
    "2024-01-02T03:04:05 EST",
    "1999-12-31T23:59:60Z",
    "2024-W01-2",
    "20240102T030405Z",
]
_PUB = [
    "Mon, 01 Jan 2024 00:00:00 GMT",
    "Mon, 01 Jan 2024 00:00:00 +0100",
    "01 Jan 2024 00:00 EST",
    "garbage",
    "2024-01-01T00:00:00Z",
]


def dc_date_cases() -> Iterator[tuple[str, bytes, str | None]]:
    for i, d in enumerate(_DC_DATES):
        for j, p in enumerate(_PUB):
            for order in (0, 1):
                a, b = f"<pubDate>{p}</pubDate>", f"<dc:date>{d}</dc:date>"
                dates = a + b if order else b + a
                item = f"<item><title>a</title><link>https://e.x/a{i}</link>{dates}<description>x</description></item>"
                body = (
                    '<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
                    "<title>t</title><link>https://e.x/</link><dc:date>2024-01-01T00:00:00Z</dc:date>"
                    "<dc:language>en</dc:language><dc:rights>r</dc:rights>"
                    f"{item}{item.replace('/a', '/b')}</channel></rss>"
                ).encode()
                yield f"dc/{i}/{j}/{order}", body, "application/rss+xml"


TITLES = [
    "<title>Plain &amp; simple</title>",
    '<title type="text">A &lt;b&gt; B</title>',
    '<title type="html">A &lt;b&gt;bold&lt;/b&gt; &amp;amp; C</title>',
    "<title type='html'><![CDATA[A <b>x</b> &amp; y]]></title>",
    '<title type = "html">Spaced &amp;#8217;</title>',
    '<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">X <em>y</em> &amp; z</div></title>',
    "",
    "<title></title>",
    '<title type="text"><![CDATA[Raw <i>cdata</i>]]></title>',
    "<title>Caf&#233; &#8220;q&#8221;</title>",
    '<title type="HTML">Upper</title>',
    '<title type="text/html">Mime &lt;b&gt;</title>',
]
SUMMARIES = [
    "",
    "<summary>Plain summary with a &lt;tag&gt; and &amp; more text that runs on for a while.</summary>",
    '<summary type="html">&lt;p&gt;Para one.&lt;/p&gt;&lt;p&gt;Two&lt;/p&gt;</summary>',
    '<summary type="html"><![CDATA[<p>CDATA para</p>]]></summary>',
    '<summary type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>X para</p></div></summary>',
    '<summary type="text">   </summary>',
]
CONTENTS = [
    "",
    '<content type="html">&lt;p&gt;Body &lt;a href="/rel"&gt;link&lt;/a&gt;&lt;/p&gt;</content>',
    '<content type="text">Text body &amp; more</content>',
    "<content>Untyped body</content>",
    '<content type="html" xml:base="https://base.example/dir/">&lt;p&gt;Based&lt;/p&gt;</content>',
    '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>XHTML <b>b</b></p></div></content>',
    '<content type="html">&lt;p&gt;Para one.&lt;/p&gt;&lt;p&gt;Two&lt;/p&gt;</content>',
    '<content src="https://e.x/body.html" type="text/html"/>',
]
LINKS = [
    '<link href="https://e.x/{i}"/>',
    '<link rel="alternate" type="text/html" href="/rel/{i}"/><link rel="self" href="https://e.x/self/{i}"/>',
    '<link rel="enclosure" type="image/jpeg" href="https://e.x/img/{i}.jpg"/>'
    '<link rel="alternate" href="https://e.x/a/{i}"/>',
    "",
    '<link rel="related" href="https://e.x/r/{i}"/>',
]
DATES = [
    "<published>2024-01-02T03:04:05Z</published><updated>2024-01-03T00:00:00+02:00</updated>",
    "<updated>2024-01-03T00:00:00-05:00</updated>",
    "",
    "<published>Tue, 02 Jan 2024 03:04:05 GMT</published>",
    "<published>2024-01-02</published>",
    "<published>garbage</published>",
    "<updated>2024-01-02T03:04:05.5+0530</updated>",
]
EXTRAS = [
    "",
    '<category term="news" label="News &amp; Views"/><category term="x"/>',
    '<media:thumbnail url="https://e.x/t.jpg" width="72"/>',
    '<media:content url="https://e.x/m.png" medium="image"/>',
    "<author><name>A</name><uri>https://e.x/a</uri></author>",
]
IDS = [
    "<id>tag:e.x,2024:{i}</id>",
    "<id>https://e.x/id/{i}</id>",
    "<id>/relative/{i}</id>",
    "",
    "<id>urn:uuid:{i}</id>",
]


def atom_cases() -> Iterator[tuple[str, bytes, str | None]]:
    combos = itertools.product(range(len(TITLES)), range(len(SUMMARIES)), range(len(CONTENTS)))
    for n, (t, su, c) in enumerate(combos, start=1):
        link, dates, extra, id_ = (LINKS[n % 5], DATES[n % 7], EXTRAS[n % 5], IDS[n % 5])
        entry = f"<entry>{id_}{TITLES[t]}{link}{dates}{SUMMARIES[su]}{CONTENTS[c]}{extra}</entry>"
        body = (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            f'xmlns:media="http://search.yahoo.com/mrss/">{TITLES[(n * 7) % len(TITLES)]}'
            '<link href="https://e.x/" rel="alternate"/><logo>https://e.x/logo.png</logo><id>tag:e.x,2024:feed</id>'
            + entry.format(i=1)
            + entry.format(i=2).replace("<entry>", '<entry xml:lang="fr">')
            + "</feed>"
        ).encode()
        yield f"atomhand/{t}/{su}/{c}", body, "application/atom+xml"


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
    # The comparison means something only if the fast path is taken: today 797 corpus documents and
    # goldens (Atom 1.0 ones among them), the benchmark farm's feeds of every XML shape, most hand cases.
    assert len(taken) > 1000
    assert {"feeds/wordpress_rss20.xml", "ingest/wordpress.xml", "farm0", "farm2"} <= set(taken)
    assert {
        "mix0:wp_full",
        "mix1:atom_full",
        "mix5:rss_dcdate",
        "mix7:atom_summary",
        "mix11:atom_both",
    } <= set(taken)


@pytest.mark.parametrize(
    "body",
    [
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><source><title>S</title></source><title>A</title></entry></feed>',
        b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://a/"><entry><title>A</title></entry></feed>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>A <b>B</b></title></entry></feed>',
        b'<feed xmlns="http://purl.org/atom/ns#"><entry><title>A</title></entry></feed>',
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
        "atom-source",
        "atom-xml-base",
        "atom-markup",
        "atom03",
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
