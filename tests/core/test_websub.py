"""WebSub's pure parts: hubs in feeds and Link headers (headers first), and X-Hub-Signature checks."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

import bot.core.feedparse as feedparse
from bot.core.digest import digest_body
from bot.core.feedparse import parse_feed
from bot.core.websub import (
    SIGNATURE_METHODS,
    HubLink,
    Signature,
    check_signature,
    discover_hub,
    link_header_rels,
    sign,
)

FEED = "https://news.example/feed/"
BODY = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
SECRET = "s3cr3t-of-this-subscription"


def test_link_header_rels_in_order_resolved_and_deduplicated() -> None:
    header = (
        '<https://hub.example/>; rel="hub", </feed/>; rel=self; title="a, b; c", '
        '<https://hub2.example/websub>; rel="HUB alternate", <https://hub.example/>; rel=hub'
    )
    assert link_header_rels(header, FEED) == {
        "hub": ["https://hub.example/", "https://hub2.example/websub"],
        "self": ["https://news.example/feed/"],
        "alternate": ["https://hub2.example/websub"],
    }


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "https://hub.example/; rel=hub",  # no angle brackets
        '<javascript:alert(1)>; rel="hub"',
        '<mailto:hub@example>; rel="hub"',
        "<https://hub.example/>",  # no rel
        '<https://[::1/>; rel="hub"',  # an unparseable URL
    ],
)
def test_link_header_garbage_names_no_hub(header: str | None) -> None:
    assert link_header_rels(header, FEED).get("hub", []) == []


def test_only_the_first_rel_parameter_counts() -> None:
    assert link_header_rels('<https://h.example/>; rel="self"; rel="hub"', FEED) == {
        "self": ["https://h.example/"]
    }


def test_discovery_prefers_the_link_header_then_the_document() -> None:
    header = '<https://hub.header/>; rel="hub", <https://news.example/topic>; rel="self"'
    from_header = discover_hub(link_header=header, hubs=("https://hub.doc/",), self_url=None, feed_url=FEED)
    assert from_header == HubLink("https://hub.header/", "https://news.example/topic")
    from_document = discover_hub(
        link_header=None, hubs=("https://hub.doc/", "https://hub2.doc/"), self_url=FEED + "?a", feed_url=FEED
    )
    assert from_document == HubLink("https://hub.doc/", FEED + "?a")
    # a header hub without a self URL takes the document's; neither: the URL the feed was read from
    mixed = discover_hub(
        link_header='<https://hub.header/>; rel="hub"', hubs=(), self_url=FEED + "self", feed_url=FEED
    )
    assert mixed == HubLink("https://hub.header/", FEED + "self")
    bare = discover_hub(link_header=None, hubs=("https://hub.doc/",), self_url=None, feed_url=FEED)
    assert bare == HubLink("https://hub.doc/", FEED)


def test_no_hub_or_only_unusable_ones_is_no_discovery() -> None:
    assert discover_hub(link_header=None, hubs=(), self_url=FEED, feed_url=FEED) is None
    unusable = discover_hub(link_header='<x>; rel="self"', hubs=("ftp://hub/",), self_url=None, feed_url=FEED)
    assert unusable is None


@pytest.mark.parametrize("method", sorted(SIGNATURE_METHODS))
def test_every_algorithm_signs_and_verifies(method: str) -> None:
    header = sign(SECRET, BODY, method)
    expected = hmac.new(SECRET.encode(), BODY, getattr(hashlib, method)).hexdigest()
    assert header == f"{method}={expected}"
    assert check_signature(SECRET, BODY, header) is Signature.VALID
    assert check_signature(SECRET, BODY, header.upper().replace(method.upper(), method)) is Signature.VALID
    assert check_signature(SECRET, BODY + b" ", header) is Signature.MISMATCH
    assert check_signature(SECRET + "x", BODY, header) is Signature.MISMATCH


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, Signature.MISSING),
        ("", Signature.MISSING),
        ("   ", Signature.MISSING),
        ("sha256", Signature.MALFORMED),
        ("sha256=", Signature.MALFORMED),
        ("=abcdef", Signature.MALFORMED),
        ("sha256=not-hex!", Signature.MALFORMED),
        ("sha256=abc def", Signature.MALFORMED),
        ("md5=" + hashlib.md5(BODY).hexdigest(), Signature.UNSUPPORTED),
        ("sha3_256=" + "ab" * 32, Signature.UNSUPPORTED),
        ("sha256=" + "00" * 32, Signature.MISMATCH),
        ("sha256=" + "ab" * 31, Signature.MISMATCH),  # the right method, a digest of the wrong length
        ("sha1=" + sign(SECRET, BODY, "sha256").split("=")[1], Signature.MISMATCH),  # method and digest apart
    ],
)
def test_missing_malformed_and_wrong_signatures(header: str | None, expected: Signature) -> None:
    assert check_signature(SECRET, BODY, header) is expected


RSS_WITH_HUB = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Planet</title>
<link>https://news.example/</link>
<atom:link rel="hub" href="https://pubsubhubbub.appspot.com/"/>
<atom:link rel="self" href="https://news.example/feed/" type="application/rss+xml"/>
<atom:link rel="hub" href="https://websub.example/hub"/>
<item><title>One</title><link>https://news.example/1</link><guid>https://news.example/1</guid></item>
</channel></rss>"""
ATOM_WITH_HUB = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Planet</title><id>tag:news.example,2026:feed</id>
<link rel="alternate" href="https://news.example/"/><link rel="hub" href="/hub/"/>
<link rel="self" href="/feed.atom"/><updated>2026-12-01T00:00:00Z</updated>
<entry><title>One</title><id>tag:news.example,2026:1</id><link href="https://news.example/1"/>
<updated>2026-12-01T00:00:00Z</updated></entry></feed>"""
JSON_WITH_HUB = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "Planet",
"feed_url": "https://news.example/feed.json", "hubs": [{"type": "rssCloud", "url": "https://cloud.example/"},
{"type": "WebSub", "url": "https://websub.example/hub"}, {"type": "WebSub"}, "junk"],
"items": [{"id": "1", "url": "https://news.example/1", "title": "One"}]}"""


@pytest.mark.parametrize("fast", [True, False], ids=["as-read", "feedparser-only"])
def test_rss_atom_links_name_the_hubs_and_self(fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not fast:
        monkeypatch.setattr(feedparse, "fits_fast_path", lambda body, root: False)
    parsed = parse_feed(RSS_WITH_HUB, url=FEED)
    assert parsed.hubs == ("https://pubsubhubbub.appspot.com/", "https://websub.example/hub")
    assert parsed.self_url == FEED
    assert discover_hub(
        link_header=None, hubs=parsed.hubs, self_url=parsed.self_url, feed_url=FEED
    ) == HubLink("https://pubsubhubbub.appspot.com/", FEED)


def test_atom_links_resolve_against_the_feed_address() -> None:
    parsed = parse_feed(ATOM_WITH_HUB, url="https://news.example/atom/")
    assert parsed.hubs == ("https://news.example/hub/",)
    assert parsed.self_url == "https://news.example/feed.atom"


def test_json_feed_hubs_of_type_websub_and_its_feed_url() -> None:
    parsed = parse_feed(JSON_WITH_HUB, url="https://news.example/j", content_type="application/feed+json")
    assert parsed.hubs == ("https://websub.example/hub",)
    assert parsed.self_url == "https://news.example/feed.json"


def test_a_feed_without_hub_links_names_none() -> None:
    plain = RSS_WITH_HUB.replace(b'rel="hub"', b'rel="related"')
    parsed = parse_feed(plain, url=FEED)
    assert (parsed.hubs, parsed.self_url) == ((), FEED)
    digest = digest_body(RSS_WITH_HUB, url=FEED, content_type=None, now=datetime(2026, 12, 3, tzinfo=UTC))
    assert (digest.hubs[0], digest.self_url) == ("https://pubsubhubbub.appspot.com/", FEED)
