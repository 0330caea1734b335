"""Canonical URLs: resolution, case, ports, IDNA, tracking parameters, fragments; dedupe keys."""

from __future__ import annotations

import pytest

from bot.core.urls import TRACKING_PARAMS, canonical_url, dedupe_key


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://WWW.Example.COM", "http://www.example.com/"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com:443/a", "http://example.com:443/a"),
        ("https://example.com/Path/Case/", "https://example.com/Path/Case/"),
        ("https://example.com/a#section", "https://example.com/a"),
        ("https://example.com/#!/story/12", "https://example.com/#!/story/12"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/a/b/..", "https://example.com/a/"),
        ("https://example.com/../../x", "https://example.com/x"),
        ("https://example.com/a b/ü", "https://example.com/a%20b/%C3%BC"),
        ("https://example.com/%7euser/%c3%a9", "https://example.com/%7Euser/%C3%A9"),
        ("https://münchen.de/", "https://xn--mnchen-3ya.de/"),
        ("https://straße.de/", "https://xn--strae-oqa.de/"),  # IDNA 2008 keeps ß
        ("https://example.com./x", "https://example.com/x"),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
        ("https://user:pw@Example.com/x", "https://user:pw@example.com/x"),
        ("  https://example.com/trim  ", "https://example.com/trim"),
        ("https://example.com/?", "https://example.com/"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ("utm_source=rss&utm_medium=feed&utm_campaign=x", ""),
        ("id=5&utm_source=rss&page=2", "?id=5&page=2"),
        ("b=2&a=1", "?b=2&a=1"),  # order kept
        ("UTM_Source=x&Fbclid=y&GCLID=z", ""),
        ("fbclid=1&gclid=2&mc_cid=3&mc_eid=4&igshid=5&ref_src=6&msclkid=7&_hsenc=8&yclid=9", ""),
        ("utm%5Fsource=x&q=a+b", "?q=a+b"),  # decoded before comparing, kept as written
        ("ref=homepage&source=rss", "?ref=homepage&source=rss"),  # too generic to drop
        ("a=1&&b=2&", "?a=1&b=2"),
        ("q=caf%C3%A9&x=é", "?q=caf%C3%A9&x=%C3%A9"),
        ("flag", "?flag"),
    ],
)
def test_tracking_params(query: str, kept: str) -> None:
    assert canonical_url(f"https://example.com/p?{query}") == f"https://example.com/p{kept}"


def test_tracking_list_is_lowercase() -> None:
    assert all(name == name.lower() for name in TRACKING_PARAMS)


@pytest.mark.parametrize(
    ("url", "base", "canonical"),
    [
        ("/a/b", "https://example.com/feed/", "https://example.com/a/b"),
        ("story.html", "https://example.com/feed/", "https://example.com/feed/story.html"),
        ("../story.html", "https://example.com/feed/x", "https://example.com/story.html"),
        ("//cdn.example.com/i.png", "https://example.com/", "https://cdn.example.com/i.png"),
        ("?p=1", "https://example.com/index.php", "https://example.com/index.php?p=1"),
        ("https://other.org/x", "https://example.com/", "https://other.org/x"),
        ("", "https://example.com/feed", "https://example.com/feed"),
    ],
)
def test_relative_resolution(url: str, base: str, canonical: str) -> None:
    assert canonical_url(url, base) == canonical


@pytest.mark.parametrize(
    "url",
    [
        "mailto:someone@example.com",
        "javascript:alert(1)",
        "ftp://example.com/file",
        "file:///etc/passwd",
        "data:text/html,hi",
        "/relative/without/base",
        "//example.com/no-scheme",
        "https://",
        "https://exa mple.com/",
        "https://ex<ample.com/",
        "https://example.com:99999/",
        "https://example.com:port/",
        "https://xn--a.xn--b-ü.com/",
    ],
)
def test_rejected(url: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  (every failure is a plain ValueError by design)
        canonical_url(url)


def test_javascript_link_with_base_is_rejected() -> None:
    with pytest.raises(ValueError, match="not an http"):
        canonical_url("javascript:alert(1)", "https://example.com/")


def test_dedupe_key() -> None:
    key = dedupe_key("http://www.example.com/a/?b=1&utm_source=x#frag")
    assert key == "example.com/a?b=1"
    assert dedupe_key("https://example.com/a?b=1") == key
    assert dedupe_key("https://EXAMPLE.com:443/a/") == "example.com/a"
    assert dedupe_key("https://example.com/") == "example.com"
    assert dedupe_key("https://example.com/a?b=1") != dedupe_key("https://example.com/a?b=2")
