"""parse_feed on golden feeds of every format, on hostile XML (entity bombs, XXE) and on non-feeds."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from bot.core.errors import FeedParseError
from bot.core.feedparse import parse_feed
from bot.core.models import ParsedFeed
from bot.core.normalise import normalise_entry
from tests.kits import DATA

FEEDS = DATA / "feeds"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
CASES = sorted(p for p in FEEDS.iterdir() if p.suffix in (".xml", ".json") and ".expected" not in p.name)
CONTENT_TYPES = {".json": "application/feed+json", ".xml": None}


def feed_url(path: Path) -> str:
    return f"https://feeds.example.net/{path.stem}/feed{path.suffix}"


def golden(path: Path) -> list[dict[str, object]]:
    parsed = parse_feed(path.read_bytes(), url=feed_url(path), content_type=CONTENT_TYPES[path.suffix])
    out: list[dict[str, object]] = []
    for entry in parsed.entries:
        article = normalise_entry(
            entry, feed_url=feed_url(path), site_url=parsed.link, source=path.stem, now=NOW
        )
        if article is None:
            continue
        out.append(
            {
                "headline": article.headline,
                "dek": article.dek,
                "url": article.url,
                "published": article.published.isoformat() if article.published else None,
                "categories": list(article.categories),
                "image": article.image,
                "guid": article.guid,
                "needs_dek": article.needs_dek,
            }
        )
    return out


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_golden(path: Path) -> None:
    """Regenerate with NEWSBOT_REGEN_GOLDEN=1, then read every diff before committing it."""
    expected_path = path.with_name(path.stem + ".expected.json")
    actual = golden(path)
    if os.environ.get("NEWSBOT_REGEN_GOLDEN") == "1":
        expected_path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert actual == json.loads(expected_path.read_text(encoding="utf-8"))


def wordpress_feed(items: int = 40, paragraphs: int = 6) -> bytes:
    """A WordPress-shaped RSS 2.0 feed (about 150 KB at the defaults) with content:encoded."""
    para = (
        '<p>Officials said on Tuesday that the plan, first floated in 2019, would go ahead. <a href="'
        'https://example.com/tag/plan/?utm_source=rss">Background</a> &#8220;We are ready,&#8221; one said.'
        " Critics were not convinced and promised to keep up the pressure in the months ahead.</p>\n"
    )
    figure = (
        '<figure class="wp-block-image"><img loading="lazy" width="800" height="450" src="https://example.com/'
        'wp-content/uploads/2024/05/img-{i}.jpg" alt="x" srcset="https://example.com/wp-content/uploads/2024/'
        "05/img-{i}-300x169.jpg 300w, https://example.com/wp-content/uploads/2024/05/img-{i}-768x432.jpg"
        ' 768w" sizes="(max-width: 800px) 100vw, 800px" /><figcaption>A caption for image {i}</figcaption>'
        "</figure>\n"
    )
    footer = (
        '<p>The post <a href="https://example.com/2024/05/post-{i}/">Post {i}</a> appeared first on '
        '<a href="https://example.com">Example News</a>.</p>'
    )
    entries = []
    for i in range(items):
        body = "".join(para + (figure.format(i=i) if j % 3 == 0 else "") for j in range(paragraphs))
        entries.append(
            f"""<item><title>Post {i}: it&#8217;s a &#8220;headline&#8221; &amp; more</title>
<link>https://example.com/2024/05/post-{i}/</link>
<dc:creator><![CDATA[Author {i % 5}]]></dc:creator>
<pubDate>Mon, {10 + i % 18:02d} May 2024 {i % 24:02d}:15:00 +0000</pubDate>
<category><![CDATA[News]]></category><category><![CDATA[Topic {i % 7}]]></category>
<guid isPermaLink="false">https://example.com/?p={1000 + i}</guid>
<description><![CDATA[<p>Officials said the plan would go ahead, in item {i}.
Critics were not convinced &#8230;</p>
{footer.format(i=i)}]]></description>
<content:encoded><![CDATA[{body}{footer.format(i=i)}]]></content:encoded>
<media:content url="https://example.com/wp-content/uploads/2024/05/img{i}.jpg" medium="image"/>
</item>
"""
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Example News</title>'
        "<link>https://example.com</link><description>News</description>\n"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


def test_wordpress_generator_is_realistic() -> None:
    body = wordpress_feed()
    assert 130_000 < len(body) < 170_000
    parsed = parse_feed(
        body, url="https://example.com/feed/", content_type="application/rss+xml; charset=UTF-8"
    )
    assert len(parsed.entries) == 40
    assert parsed.entries[0].summary
    assert "appeared first on" in parsed.entries[0].summary


def _with_feedparser_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    real = feedparser.parse

    def parse(*args: object, **kwargs: object) -> object:
        kwargs.update(sanitize_html=True, resolve_relative_uris=True)
        return real(*args, **kwargs)

    monkeypatch.setattr(feedparser, "parse", parse)


# Where feedparser's sanitiser and bot.core.text disagree, and why ours is the one a reader should see.
SANITISER_DIFFERENCES = {
    # <iframe>fallback text</iframe>: the sanitiser drops the tag and keeps the text; browsers never show it.
    ("hostile_titles.xml", 0, "dek"): "Stocks rose sharply. fallback text",
}


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_skipping_sanitiser_changes_no_field_we_use(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """parse_feed runs feedparser without its sanitiser and URI resolver: the articles must not change."""
    fast = golden(path)
    _with_feedparser_defaults(monkeypatch)
    slow = golden(path)
    for (case, index, field), sanitised in SANITISER_DIFFERENCES.items():
        if case == path.name:
            assert slow[index][field] == sanitised
            slow[index][field] = fast[index][field]
    assert slow == fast


def test_skipping_sanitiser_on_wordpress_feed(monkeypatch: pytest.MonkeyPatch) -> None:
    body = wordpress_feed(items=5)

    def articles() -> list[object]:
        parsed = parse_feed(body, url="https://example.com/feed/")
        return [
            normalise_entry(e, feed_url="https://example.com/feed/", site_url=None, source="s", now=NOW)
            for e in parsed.entries
        ]

    fast = articles()
    _with_feedparser_defaults(monkeypatch)
    assert articles() == fast


# --- hostile XML -------------------------------------------------------------------------------------


def rss_with(prolog: str, title: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n{prolog}\n<rss version="2.0"><channel><title>Bombed</title>'
        f"<item><title>{title}</title><link>https://example.com/a</link></item></channel></rss>"
    ).encode()


BILLION_LAUGHS = (
    '<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10)
    )
    + "]>"
)
QUADRATIC = (
    '<!DOCTYPE rss [\n<!ENTITY a "' + "A" * 100_000 + '">\n]>'
)  # one entity per line, as feedparser re-declares


def parse_measured(body: bytes) -> tuple[list[str], float, int]:
    """Titles of the entries (or the error), seconds taken and peak bytes allocated while parsing."""
    started = time.perf_counter()
    try:
        titles = [e.title or "" for e in parse_feed(body, url="https://example.com/feed").entries]
    except FeedParseError as e:
        titles = [f"error: {e.reason}"]
    seconds = time.perf_counter() - started
    tracemalloc.start()
    with contextlib.suppress(FeedParseError):
        parse_feed(body, url="https://example.com/feed")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return titles, seconds, peak


@pytest.mark.parametrize(
    ("prolog", "title"),
    [
        (BILLION_LAUGHS, "&lol9;"),
        (QUADRATIC, "&a;" * 20_000),
        ("<!DOCTYPE rss [<!ENTITY % pe \"<!ENTITY x 'xxxxxxxxxx'>\"> %pe;]>", "&x;" * 1000),
        ("<!DOCTYPE rss [<!ENTITY a \"]>\"><!ENTITY b '&a;&a;&a;&a;'>]>", "&b;"),  # "]>" inside a value
        (
            '<!-- c --><?pi x?>\n<!DOCTYPE rss PUBLIC "-//x//y" "z" [\n<!-- ] --><!ENTITY c "CCCC">\n]  >',
            "&c;",
        ),
    ],
    ids=["billion-laughs", "quadratic-blowup", "parameter-entity", "bracket-in-value", "comments-and-pi"],
)
def test_entity_bombs_are_not_expanded(prolog: str, title: str) -> None:
    titles, seconds, peak = parse_measured(rss_with(prolog, title))
    assert len(titles) == 1
    assert not titles[0].startswith("error")
    assert len(titles[0]) <= len(title)  # references stay as text (or vanish), nothing is expanded
    assert "lollol" not in titles[0]
    assert "AAAA" not in titles[0]
    assert "CCCC" not in titles[0]
    assert "xxxxxxxxxx" not in titles[0]
    assert seconds < 1.5
    assert peak < 20_000_000


def test_external_entities_read_no_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY fromdtd "FROMDTD"><!ENTITY xfile SYSTEM "{secret.as_uri()}">')
    bodies = [
        rss_with(f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>', "a&xxe;b"),
        rss_with(f'<!DOCTYPE rss SYSTEM "{dtd.as_uri()}">', "a&fromdtd;&xfile;b"),
        rss_with(f'<!DOCTYPE rss [<!ENTITY % ext SYSTEM "{dtd.as_uri()}"> %ext;]>', "a&fromdtd;b"),
        rss_with(f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret}">]>', "a&xxe;b"),  # a bare path
    ]
    for body in bodies:
        parsed = parse_feed(body, url="https://example.com/feed")
        dump = repr(parsed)
        assert "TOPSECRET" not in dump
        assert "FROMDTD" not in dump
        assert parsed.entries[0].link == "https://example.com/a"


def test_external_dtd_and_entities_open_no_connection() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    port = listener.getsockname()[1]
    try:
        for prolog in (
            f'<!DOCTYPE rss SYSTEM "http://127.0.0.1:{port}/evil.dtd">',
            f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "http://127.0.0.1:{port}/x">]>',
            f'<!DOCTYPE rss [<!ENTITY % pe SYSTEM "http://127.0.0.1:{port}/p.dtd"> %pe;]>',
        ):
            parse_feed(rss_with(prolog, "a&xxe;b"), url="https://example.com/feed")
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    finally:
        listener.close()


def test_entity_declarations_outside_a_doctype_are_rejected() -> None:
    # feedparser would gather these from the prolog and declare them again itself.
    for prolog in (
        '<!DOCTYPE rss>\n<!ENTITY a "' + "A" * 100_000 + '">',
        'junk\n<!DOCTYPE rss>\n<!ENTITY a "A">',
    ):
        titles, seconds, _ = parse_measured(rss_with(prolog, "&a;" * 20_000))
        assert titles == ["error: XML entity declarations are not allowed"]
        assert seconds < 0.5


def test_bomb_in_utf16_is_seen_and_stripped() -> None:
    body = rss_with(QUADRATIC, "&a;" * 2000).decode().replace('<?xml version="1.0"?>', "")
    titles, seconds, peak = parse_measured("\ufeff".encode("utf-16-le") + body.encode("utf-16-le"))
    assert titles
    assert "AAAA" not in titles[0]
    assert seconds < 1.5
    assert peak < 20_000_000


def test_doctype_after_the_root_is_inert() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><!DOCTYPE x [<!ENTITY a "AAAAAAAAAA">]>'
        b"<channel><title>t</title>"
        b"<item><title>x &a;&a; y</title><link>https://example.com/a</link></item></channel></rss>"
    )
    parsed = parse_feed(body, url="https://example.com/feed")
    assert parsed.entries
    assert "AAAA" not in (parsed.entries[0].title or "")


def test_unterminated_internal_subset_is_rejected() -> None:
    with pytest.raises(FeedParseError, match="unterminated DOCTYPE internal subset"):
        parse_feed(b'<!DOCTYPE rss [<!ENTITY a "x">\n<rss/>', url="u")


def test_str_body_is_refused() -> None:
    with pytest.raises(TypeError):
        parse_feed("/etc/passwd", url="u")  # type: ignore[arg-type]


# --- not feeds ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"", None, "empty document"),
        (b" \r\n\t ", None, "empty document"),
        (b"<!DOCTYPE html>\n<html><head><title>Home</title></head></html>", "text/html", "HTML page"),
        (b"<html><body><p>no doctype</p></body></html>", None, "HTML page"),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
            b'"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n<html xmlns="http://www.w3.org/1999/xhtml"></html>',
            None,
            "HTML page",
        ),
        (b'<?xml version="1.0"?><urlset><url><loc>https://x/</loc></url></urlset>', None, "not a feed"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", None, "not a feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', None, "malformed JSON"),
        (b"[1, 2]", None, "not a JSON Feed"),
        (b'{"title": "x", "entries": []}', None, "not a JSON Feed"),
        (b"not json at all", "application/feed+json", "malformed JSON"),
        (b"[" * 100_000 + b"]" * 100_000, None, "malformed JSON"),
        (b'{"version": "https://jsonfeed.org/version/1", "n": ' + b"9" * 5000 + b"}", None, "malformed"),
    ],
    ids=[
        "empty", "blank", "html", "html-no-doctype", "xhtml", "sitemap", "binary", "json-truncated",
        "json-array", "json-not-feed", "json-type-but-text", "json-deep", "json-huge-int",
    ],
)  # fmt: skip
def test_not_a_feed(body: bytes, content_type: str | None, reason: str) -> None:
    with pytest.raises(FeedParseError, match=reason) as raised:
        parse_feed(body, url="https://example.com/x", content_type=content_type)
    assert "\n" not in str(raised.value)
    assert raised.value.url == "https://example.com/x"


def test_empty_but_valid_feed_is_accepted() -> None:
    parsed = parse_feed(b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>', url="u")
    assert parsed.entries == ()
    assert parsed.title == "Quiet"
    assert parsed.format == "rss20"


def test_ill_formed_feed_with_entries_is_accepted() -> None:
    parsed = parse_feed(
        (FEEDS / "malformed_recoverable.xml").read_bytes(), url="https://sloppy.example.com/feed"
    )
    assert [e.title for e in parsed.entries] == ["Fish & chips\xa0prices rise", "Second item survives"]


# --- what a RawEntry holds -----------------------------------------------------------------------------


def parse_case(name: str) -> ParsedFeed:
    path = FEEDS / name
    return parse_feed(path.read_bytes(), url=feed_url(path), content_type=CONTENT_TYPES[path.suffix])


@pytest.mark.parametrize(
    ("name", "fmt", "title", "link", "image"),
    [
        ("wordpress_rss20.xml", "rss20", "The Daily Example", "https://dailyexample.com",
         "https://dailyexample.com/wp-content/uploads/2023/01/cropped-icon-32x32.png"),
        ("atom10_html_titles.xml", "atom10", "Example Tech", "https://tech.example.org/",
         "https://tech.example.org/logo.png"),
        ("atom03.xml", "atom03", "Old Atom Blog", "http://oldatom.example.com/", None),
        ("rss10_rdf.xml", "rss10", "Science Example", "https://science.example.net/", None),
        ("rss091.xml", "rss091n", "Retro News", "http://retro.example.com/", None),
        ("jsonfeed10.json", "json10", "Micro Example", "https://micro.example.com/", None),
        ("jsonfeed11.json", "json11", "Example Podcast News", "https://pod.example.com/", None),
        ("windows1252.xml", "rss20", "Café Gazette", "https://cafe.example.fr/", None),
        ("hostile_titles.xml", "rss20", "Hostile Feed", "https://hostile.example.com/", None),
    ],
)  # fmt: skip
def test_feed_metadata(name: str, fmt: str, title: str, link: str, image: str | None) -> None:
    parsed = parse_case(name)
    assert (parsed.format, parsed.title, parsed.link, parsed.image) == (fmt, title, link, image)


def test_wordpress_raw_entry() -> None:
    first, second, third = parse_case("wordpress_rss20.xml").entries
    assert first.guid == "https://dailyexample.com/?p=48213"
    assert (first.link or "").startswith("https://dailyexample.com/2024/05/31/city-council-budget-vote/?utm_")
    assert first.title == "City council’s budget vote: “We can’t wait”"
    assert not first.title_is_html
    assert (first.summary or "").startswith("<p>The council approved")
    assert first.content is None
    assert first.published == datetime(2024, 5, 31, 17, 45, tzinfo=UTC)
    assert first.updated is None
    assert first.categories == ("Local", "Politics", "local", "Arts &amp; Culture")  # raw; normalise cleans
    assert first.image == "https://dailyexample.com/wp-content/uploads/2024/05/council.jpg"  # no gravatar
    assert second.published == datetime(2024, 5, 30, 13, 0, tzinfo=UTC)
    assert third.summary is None
    assert third.content
    assert third.content.startswith("<p>Fishing boats")
    assert third.image == "https://dailyexample.com/wp-content/uploads/2024/05/harbour.jpg"  # image enclosure


def test_atom_raw_entry() -> None:
    review, xhtml, plain = parse_case("atom10_html_titles.xml").entries
    assert review.link == "https://tech.example.org/reviews/new-phone"  # rel=alternate, not self/enclosure
    assert review.title_is_html
    assert review.title == "Review: the <b>new</b> phone &amp; its &ldquo;AI&rdquo; tricks"
    assert review.published == datetime(2024, 5, 31, 6, 0, tzinfo=UTC)
    assert review.updated == datetime(2024, 5, 31, 7, 30, tzinfo=UTC)
    assert review.published.tzinfo is UTC
    assert review.categories == ("reviews", "phones")
    assert review.image == "https://tech.example.org/img/101-thumb.jpg"
    assert xhtml.title_is_html
    assert "<em>everyone</em>" in (xhtml.title or "")
    assert xhtml.summary is None
    assert xhtml.content
    assert "native modal dialogs" in xhtml.content
    assert not plain.title_is_html
    assert plain.title == "AT&T <b> tags & Q&A"
    assert plain.summary == "Plain text summary: 5 &lt; 6 &amp; &lt;i&gt; is not markup here."  # escaped


def test_json_raw_entries() -> None:
    hello, note, no_url = parse_case("jsonfeed10.json").entries
    assert hello.guid == "2347259"
    assert not hello.title_is_html
    assert hello.title == "Hello, JSON Feed 1.0 & <friends>"
    assert hello.summary is None
    assert hello.content
    assert hello.content.startswith("<p>This item")
    assert hello.published == datetime(2024, 5, 31, 17, 0, tzinfo=UTC)
    assert hello.categories == ("meta", "feeds")
    assert note.guid == "42"
    assert note.title is None
    assert note.content == "A title-less note. It says something short, then more."
    assert no_url.link is None
    assert no_url.guid == "no-url"
    episode, _ = parse_case("jsonfeed11.json").entries
    assert (
        episode.summary
        == "We settle it. Plain-text summary with &lt;angle brackets&gt; &amp; ampersands kept."
    )
    assert episode.content is None
    assert episode.updated == datetime(2024, 5, 30, 7, 0, tzinfo=UTC)


def test_json_feed_tolerates_wrong_types() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": 5,
            "items": [
                "not an object",
                {"id": True, "url": ["x"], "title": {"a": 1}, "tags": "news", "date_published": "yesterday"},
                {"id": "ok", "url": "https://example.com/ok", "date_published": "2024-05-01t10:00:00z"},
            ],
        }
    ).encode()
    parsed = parse_feed(body, url="https://example.com/feed.json")
    assert parsed.title is None
    assert len(parsed.entries) == 2
    odd, ok = parsed.entries
    assert (odd.guid, odd.link, odd.title, odd.categories, odd.published) == (None, None, None, (), None)
    assert ok.published == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_content_type_charset_is_honoured() -> None:
    body = '<rss version="2.0"><channel><title>Caf\xe9</title></channel></rss>'.encode("latin-1")
    parsed = parse_feed(body, url="u", content_type="application/rss+xml; charset=ISO-8859-1")
    assert parsed.title == "Café"


def test_utf16_feed_parses() -> None:
    body = '<?xml version="1.0" encoding="utf-16"?><rss><channel><title>Ünïcode</title></channel></rss>'
    parsed = parse_feed(body.encode("utf-16"), url="u")
    assert parsed.title == "Ünïcode"


def test_html_doctype_on_a_feed_root_still_parses() -> None:
    # seen in the wild (and in feedparser's corpus): the root element decides, not the DOCTYPE's name
    body = (
        b'<?xml version="1.0" encoding="utf-8"?>'
        b'<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://site.invalid/">\n'
        b"<!-- comment -->\n<rss><channel><title>found</title></channel></rss>"
    )
    assert parse_feed(body, url="https://example.com/feed").title == "found"


def test_honest_entity_declaration_still_reads() -> None:
    body = rss_with(
        '<!DOCTYPE rss [\n<!ENTITY nbsp "&#160;">\n<!ENTITY mdash "&#8212;">\n]>', "Caf&nbsp;news &mdash; ok"
    )
    parsed = parse_feed(body, url="https://example.com/feed")
    article = normalise_entry(
        parsed.entries[0], feed_url="https://example.com/feed", site_url=None, source="s", now=NOW
    )
    assert article is not None
    assert article.headline == "Caf news — ok"


def test_unread_bodies_are_skipped_but_kept_as_fallback() -> None:
    """content:encoded is cut only where the item's description already gives the dek."""
    long_desc = "A description long enough to be the dek of this story, well past eighty bytes of text."
    body = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        "<channel><title>T</title><link>https://t.example/</link>"
        f"<item><title>One</title><link>https://t.example/1</link><description>{long_desc}</description>"
        "<content:encoded><![CDATA[<p>Body one.</p>]]></content:encoded></item>"
        "<item><title>Two</title><link>https://t.example/2</link><description>Short.</description>"
        "<content:encoded><![CDATA[<p>Body two is the fallback.</p>]]></content:encoded></item>"
        "<item><title>Three</title><link>https://t.example/3</link>"
        "<content:encoded><![CDATA[<p>Body three, no description.</p>]]></content:encoded></item>"
        "</channel></rss>"
    ).encode()
    feed = parse_feed(body, url="https://t.example/feed")
    one, two, three = feed.entries
    assert one.summary == long_desc
    assert one.content is None
    assert two.summary == "Short."  # the body would only be read with no summary at all
    assert three.content is not None
    assert "Body three" in three.content
