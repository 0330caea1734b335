"""Feed discovery and og:/twitter:/meta tags from an HTML page's head."""

from __future__ import annotations

import time

from bot.core.pagemeta import PageMeta, discover_feeds, page_meta

BASE = "https://news.example.com/section/story.html"

WORDPRESS_HEAD = b"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<title>Council approves budget &#8211; The Daily Example</title>
<link rel="alternate" type="application/rss+xml" title="The Daily Example &raquo; Feed"
  href="https://dailyexample.com/feed/" />
<link rel="alternate" type="application/rss+xml" title="The Daily Example &raquo; Comments Feed"
  href="https://dailyexample.com/comments/feed/" />
<link rel="alternate" type="application/rss+xml"
  title="The Daily Example &raquo; Council approves budget Comments Feed"
  href="https://dailyexample.com/2024/05/31/budget/feed/" />
<link rel="alternate" type="application/json" href="https://dailyexample.com/wp-json/wp/v2/posts/48213" />
<link rel="alternate" type="application/json+oembed"
  href="https://dailyexample.com/wp-json/oembed/1.0/embed?url=x" />
<link rel="canonical" href="https://dailyexample.com/2024/05/31/budget/" />
<meta property="og:locale" content="en_US" />
<meta property="og:type" content="article" />
<meta property="og:title" content="Council approves budget" />
<meta property="og:description"
  content="The council approved a $4.2&nbsp;million budget on Friday &amp; residents cheered." />
<meta property="og:url" content="https://dailyexample.com/2024/05/31/budget/" />
<meta property="og:site_name" content="The Daily Example" />
<meta property="og:image" content="https://dailyexample.com/wp-content/uploads/2024/05/council.jpg" />
<meta name="twitter:card" content="summary_large_image" />
<meta name="description" content="Meta description loses to og:description" />
<script type="application/ld+json">
{"@type": "NewsArticle", "x": "<link rel='alternate' type='application/rss+xml' href='/fake'>"}
</script>
</head>
<body>
<link rel="alternate" type="application/rss+xml" href="/in-body-is-ignored.xml">
<meta property="og:description" content="in the body: ignored">
</body>
</html>
"""


def test_discover_wordpress_feeds() -> None:
    assert discover_feeds(WORDPRESS_HEAD, BASE) == ["https://dailyexample.com/feed/"]


def test_discover_resolves_relative_in_order_and_dedupes() -> None:
    html = b"""<html><head>
    <link rel="alternate" type="application/atom+xml" href="/atom.xml">
    <link rel="Alternate home" type="Application/RSS+XML; charset=utf-8" href="rss.xml">
    <link rel="alternate" type="application/feed+json" href="//cdn.example.com/feed.json">
    <link rel="alternate" type="application/json" title="JSON Feed" href="/feed.json">
    <link rel="alternate" type="application/rss+xml" href="/atom.xml">
    <link rel="alternate" type="text/html" href="/other-language/">
    <link rel="stylesheet" type="application/rss+xml" href="/not-alternate.xml">
    <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
    <link rel="alternate" type="application/rss+xml">
    </head><body></body></html>"""
    assert discover_feeds(html, BASE) == [
        "https://news.example.com/atom.xml",
        "https://news.example.com/section/rss.xml",
        "https://cdn.example.com/feed.json",
        "https://news.example.com/feed.json",
    ]


def test_discover_comment_feeds_only_when_nothing_else() -> None:
    html = b"""<head><link rel="alternate" type="application/rss+xml" title="Comments on X"
    href="/x/comments/feed/"></head>"""
    assert discover_feeds(html, BASE) == ["https://news.example.com/x/comments/feed/"]


def test_discover_ignores_comments_and_scripts() -> None:
    html = b"""<head><!-- <link rel="alternate" type="application/rss+xml" href="/old.xml"> -->
    <script>document.write('<link rel="alternate" type="application/rss+xml" href="/js.xml">')</script>
    <link rel=alternate type=application/rss+xml href=/real.xml></head>"""
    assert discover_feeds(html, BASE) == ["https://news.example.com/real.xml"]


def test_base_href_changes_resolution() -> None:
    html = b"""<head><base href="https://static.example.org/sub/">
    <link rel="alternate" type="application/rss+xml" href="feed.xml">
    <meta property="og:image" content="img/a.png"></head>"""
    assert discover_feeds(html, BASE) == ["https://static.example.org/sub/feed.xml"]
    assert page_meta(html, BASE).image == "https://static.example.org/sub/img/a.png"


def test_no_feeds() -> None:
    assert discover_feeds(b"", BASE) == []
    assert discover_feeds(b"<html><head><title>x</title></head></html>", BASE) == []


def test_page_meta_wordpress() -> None:
    assert page_meta(WORDPRESS_HEAD, BASE) == PageMeta(
        title="Council approves budget",
        description="The council approved a $4.2 million budget on Friday & residents cheered.",
        image="https://dailyexample.com/wp-content/uploads/2024/05/council.jpg",
        canonical="https://dailyexample.com/2024/05/31/budget/",
        site_name="The Daily Example",
    )


def test_page_meta_fallbacks() -> None:
    html = b"""<html><head><title> Plain &amp; simple </title>
    <meta name="twitter:description" content="Twitter wins over meta description">
    <meta name="Description" content="meta description">
    <meta name="twitter:image" content="/tw.jpg">
    <link rel="canonical" href="/canonical">
    </head><body><p>text</p></body></html>"""
    assert page_meta(html, BASE) == PageMeta(
        title="Plain & simple",
        description="Twitter wins over meta description",
        image="https://news.example.com/tw.jpg",
        canonical="https://news.example.com/canonical",
        site_name=None,
    )
    only_meta = (
        b'<head><meta name="description" content="  only this  "><meta property="og:title" content="">'
    )
    assert page_meta(only_meta, BASE) == PageMeta(description="only this")


def test_page_meta_empty() -> None:
    assert page_meta(b"", BASE) == PageMeta()
    assert page_meta(b"\x89PNG\r\n\x1a\n binary", BASE) == PageMeta()


def test_charset_from_meta() -> None:
    html = '<head><meta charset="windows-1252"><meta property="og:title" content="Caf\xe9 \u201cq\u201d">'
    assert page_meta(html.encode("cp1252"), BASE).title == "Café “q”"


def test_charset_from_http_equiv_and_latin1_alias() -> None:
    html = (
        '<head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        '<meta property="og:title" content="\u201cCurly\u201d caf\xe9"></head>'
    )
    # browsers decode "iso-8859-1" as windows-1252, where 0x93/0x94 are curly quotes
    assert page_meta(html.encode("cp1252"), BASE).title == "“Curly” café"


def test_charset_from_header_wins() -> None:
    html = '<meta charset="utf-8"><meta property="og:title" content="\u0416\u0443\u0440\u043d\u0430\u043b">'
    body = html.encode("koi8-r")
    assert page_meta(body, BASE, content_type="text/html; charset=KOI8-R").title == "Журнал"


def test_undeclared_non_utf8_falls_back_to_windows_1252() -> None:
    html = '<head><meta property="og:title" content="na\xefve caf\xe9">'.encode("cp1252")
    assert page_meta(html, BASE).title == "naïve café"


def test_utf8_bom_and_utf16() -> None:
    html = '<head><meta property="og:title" content="Ünïcode"></head>'
    assert page_meta(b"\xef\xbb\xbf" + html.encode(), BASE).title == "Ünïcode"
    assert page_meta(html.encode("utf-16"), BASE).title == "Ünïcode"


def test_huge_page_stops_at_head() -> None:
    head = b'<html><head><meta property="og:title" content="Fast"></head><body>'
    body = head + b"<p>" + b"x" * 20_000_000 + b"</p></body></html>"
    started = time.perf_counter()
    assert page_meta(body, BASE).title == "Fast"
    assert time.perf_counter() - started < 0.5


def test_headless_page_is_bounded() -> None:
    body = b'<meta property="og:title" content="No head tags">' + b"<div>x</div>" * 2_000_000
    started = time.perf_counter()
    assert page_meta(body, BASE).title == "No head tags"
    assert time.perf_counter() - started < 1.0
