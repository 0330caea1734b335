"""The fast path of feed parsing: feedparser-rs, for the shapes it reads exactly as feedparser does.

Plain RSS 2.0 (the WordPress shape, most news feeds), RSS 2.0 with `dc:date` beside `pubDate` (the
Guardian's shape) and Atom 1.0 are read by feedparser-rs, a Rust parser with feedparser's API, several
times faster (2.6 ms against 18 ms a 165 KB farm feed, the whole parse_feed; the bench farm's mix of
shapes: 6.9 -> 3.5 CPU-seconds). FEEDS.md warns that fast parsers fail silently, so the fast path is a
whitelist, not a fallback chain: only documents without the shapes where the two parsers were seen to
differ go to it, and its result is refused (feedparser reads the feed instead) when it is bozo, has no
items or another number of items than the document, hits a list limit, or has a relative guid.

- RSS: refused with xml:base, base64, a DOCTYPE, C1 control characters, markup inside a
  title/description/category, or date elements other than pubDate (dc:date only when every item has one
  plain pubDate and one plain dc:date, both then read by feedparser's own date parser). Mapped to
  feedparser's shapes: the RSS title HTML-or-text guessed with feedparser's own rule, the feed link
  resolved, no pubDate copied to updated, no description made up from the body.
- Atom 1.0: feedparser-rs types a text construct without `type` as HTML and fills a missing summary from
  the content, so each entry's title/summary/content types are read from the bytes (only absent, "text",
  "html" and plain "xhtml"), its dates by feedparser's date parser from the element texts, its id resolved
  as feedparser resolves it, and the id is the link when there is no alternate link (as in feedparser).
  Refused: xml:base anywhere but on <content>, <source>, out-of-line content, markup inside a text/html
  construct, prefixed Atom elements, other date elements, Atom 0.3.

tests/core/test_feedparse_fastpath.py holds it to feedparser field by field on feedparser's own
2,200-file test corpus, our goldens, the bench farm's shapes and hundreds of hand-made Atom and dc:date
cases: every RawEntry the fast path produces is the one feedparser produces.

`bot.core.feedparse` decides when to ask (`fits_fast_path`) and falls back to feedparser when the answer
is None; both see the UTF-8 body with any DOCTYPE internal subset already cut out.
"""

from __future__ import annotations

import re
from typing import Any

import feedparser.mixin
import feedparser.urls
from feedparser.datetimes import _parse_date

__all__ = ["fast_parse", "fits_fast_path"]

try:
    import feedparser_rs
except ImportError:  # no wheel for this platform (musl has none): feedparser reads every feed
    feedparser_rs = None  # type: ignore[assignment]

_looks_like_html = feedparser.mixin._FeedParserMixin.looks_like_html
_RSS2_ROOT = re.compile(rb"<rss\s[^>]*\bversion\s*=\s*[\"']2\.0[\"']")
# Shapes feedparser handles by rules of its own (xml:base resolution, base64 text, DTD entities, an
# item's body in <fullitem> or <xhtml:body>, an Atom-style <summary> in RSS).
_FAST_PATH_MARKERS = (b"xml:base", b"base64", b"<!DOCTYPE", b"<!doctype", b"<fullitem", b"body>", b"<summary")
# A URL whose host is an IP address or localhost: feedparser-rs blanks links to loopback and private
# addresses (its own SSRF guard), feedparser keeps them; the fetcher decides what may be fetched.
_ADDRESS_HOST = re.compile(rb"://(?:[^/@\s<>\"']*@)?(?:\[|localhost\b|[0-9])", re.I)
# Dublin Core besides dc:creator: feedparser maps dc:description, dc:subject, dc:title and the rest.
_DUBLIN_CORE = re.compile(rb"<dc:(?!creator\b|date\b|language\b|rights\b)")
# C1 controls, raw or as references: feedparser reads them as the Windows-1252 characters meant.
_C1_CONTROLS = re.compile(rb"\xc2[\x80-\x9f]|&#(?:12[89]|1[3-5][0-9]);|&#[xX]0*[89][0-9a-fA-F];")
# What _xml_entry, _xml_image and _at_a_limit read: feedparser-rs builds each value on access, and a
# whole `dict(entry)` (some 70 keys) cost more than its parse.
_ENTRY_KEYS = (
    "id", "link", "links", "title", "title_detail", "summary_detail", "content", "tags",
    "published_parsed", "updated_parsed", "media_content", "media_thumbnail", "image", "enclosures",
)  # fmt: skip
# feedparser-rs's default ParserLimits on per-entry lists (feedparser has none).
_RS_LIMITS = (("tags", 100), ("links", 50), ("content", 10), ("enclosures", 20))
# Date elements besides pubDate (dc:date, atom:updated, dcterms:modified): feedparser reads them.
_OTHER_DATES = re.compile(rb"<(?!dc:date\b)(?:\w+:)?(?:date|created|issued|modified|published|updated)\b")
_DC_DATE = b"<dc:date"
_RSS_ITEM = re.compile(rb"<item[\s>/]")
# A title or description with a child element (not CDATA, not its own end tag): feedparser keeps the
# markup as text, feedparser-rs drops it.
_MARKUP_IN_TEXT = re.compile(
    rb"<(title|description|summary|category)\b[^>]*(?<!/)>(?:[^<]++|<!\[CDATA\[.*?\]\]>)*+<(?!/\1>)", re.S
)


def fits_fast_path(body: bytes, root: bytes) -> bool:
    """Whether `body` (UTF-8, subset stripped) is the plain RSS 2.0 that feedparser-rs reads as feedparser.

    Atom 1.0 is checked by `_fits_atom`: feedparser-rs types an Atom title without `type` as HTML (the
    spec says text), so the types are read from the bytes (`_atom_constructs`) and only the shapes where
    that reading is certain are taken.
    """
    if feedparser_rs is not None and root == b"feed":
        return _fits_atom(body)
    if feedparser_rs is None or root != b"rss" or not _RSS2_ROOT.search(body):
        return False
    if any(marker in body for marker in _FAST_PATH_MARKERS) or _C1_CONTROLS.search(body):
        return False
    if _OTHER_DATES.search(body) or _DUBLIN_CORE.search(body) or _ADDRESS_HOST.search(body):
        return False
    if _DC_DATE in body and _item_dates(body) is None:
        return False
    if body.count(b"<![CDATA[") != body.count(b"]]>"):
        return False  # an unclosed CDATA would make each search below scan to the end: quadratic
    return not _MARKUP_IN_TEXT.search(body)


_ITEM_SPAN = re.compile(rb"<item[\s>/].*?</item>", re.S)
_PUBDATE = re.compile(rb"<pubDate>([^<&]*)</pubDate>")
_DCDATE = re.compile(rb"<dc:date>([^<&]*)</dc:date>")


def _item_dates(body: bytes) -> list[tuple[str, str]] | None:
    """Each item's pubDate and dc:date texts, when every item has exactly one of each in plain form."""
    found = []
    for span in _ITEM_SPAN.finditer(body):
        item = span.group()
        pub, dc = _PUBDATE.findall(item), _DCDATE.findall(item)
        if len(pub) != 1 or len(dc) != 1 or item.count(b"<pubDate") != 1 or item.count(b"<dc:date") != 1:
            return None
        found.append((pub[0].decode(), dc[0].decode()))
    return found if len(found) == len(_RSS_ITEM.findall(body)) else None


def fast_parse(body: bytes, url: str) -> dict[str, Any] | None:
    """feedparser-rs's reading of `body` in feedparser's shapes, or None when it must not be trusted."""
    try:
        result = feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False)
    except Exception:  # noqa: BLE001  # any surprise from the fast path: feedparser reads it instead
        return None
    entries = [{key: e.get(key) for key in _ENTRY_KEYS} for e in result.entries]
    atom = result.version == "atom10"
    constructs = _atom_constructs(body) if atom else None
    if atom and (constructs is None or len(constructs) != len(entries)):
        return None
    if result.bozo or not entries or len(entries) != len((_ATOM_ENTRY if atom else _RSS_ITEM).findall(body)):
        return None  # feedparser also reads what is ill-formed, and an item lost is a story lost
    if any(map(_at_a_limit, entries)) or not all(":" in (e.get("id") or ":") for e in entries):
        return None  # a list cut short; a relative permalink guid feedparser would resolve
    if any(e.get("link") == "" or any(x.get("href") == "" for x in e.get("links") or ()) for e in entries):
        return None  # a link feedparser-rs blanked (see _ADDRESS_HOST)
    feed = dict(result.feed)
    for item in (feed, *entries):  # links resolved against the feed's address, as feedparser does
        if isinstance(item.get("link"), str):
            item["link"] = feedparser.mixin.make_safe_absolute_uri(url, item["link"])
        links = item.get("links") or ()
        item["links"] = [
            {**link, "href": feedparser.mixin.make_safe_absolute_uri(url, link.get("href") or "")}
            for link in links
        ]
    if constructs is not None:
        return _as_feedparser_atom(url, result.version, feed, entries, constructs=constructs, body=body)
    for item in (feed, *entries):  # feedparser guesses HTML in an RSS title; feedparser-rs says HTML
        title, detail = item.get("title"), item.get("title_detail")
        if isinstance(title, str) and detail is not None:
            item["title_detail"] = {"type": "text/html" if _looks_like_html(title) else "text/plain"}
    dates = _item_dates(body) if _DC_DATE in body else None
    if dates is not None and len(dates) != len(entries):
        return None
    for i, entry in enumerate(entries):
        if dates is None:
            entry["updated_parsed"] = None  # feedparser-rs copies pubDate here; feedparser leaves it unset
        else:  # read as feedparser reads them: its own date parser on the stripped texts
            entry["published_parsed"] = _parse_date(dates[i][0].strip())
            entry["updated_parsed"] = _parse_date(dates[i][1].strip())
        summary, content = entry.get("summary_detail"), entry.get("content") or ()
        if summary is not None and any(c.get("value") == summary.get("value") for c in content):
            entry["summary_detail"] = None  # feedparser-rs fills a missing description from the body
    return {"version": result.version, "feed": feed, "entries": entries, "bozo": False}


def _at_a_limit(entry: dict[str, Any]) -> bool:
    """Whether feedparser-rs may have cut a list short at one of its default resource limits."""
    return any(len(entry.get(key) or ()) >= limit for key, limit in _RS_LIMITS)


# -- Atom 1.0 ---------------------------------------------------------------------------------------------
_ATOM10_ROOT = re.compile(rb"<feed\b[^>]*\bxmlns\s*=\s*[\"']http://www\.w3\.org/2005/Atom[\"']")
_ATOM_ENTRY = re.compile(rb"<entry[\s>/]")
_ATOM_MARKERS = (b"base64", b"<!DOCTYPE", b"<!doctype", b"<source", b"<atom:")
_CONTENT_BASE = re.compile(rb"<content\b[^>]*\bxml:base=")
_ATOM_OTHER_DATES = re.compile(rb"<(?:\w+:)?(?:date|created|issued|modified)\b|<dc:|<dcterms:")
_ATOM_MARKUP = re.compile(
    rb"<(subtitle|category)\b[^>]*(?<!/)>(?:[^<]++|<!\[CDATA\[.*?\]\]>)*+<(?!/\1>)", re.S
)
_TYPE_ATTR = re.compile(rb"\btype\s*=\s*[\"']([^\"']*)[\"']")
_ATOM_TYPES = {None: "text/plain", b"text": "text/plain", b"html": "text/html"}
_PREFIXED = re.compile(rb"</?\w+:")
_CDATA = re.compile(rb"<!\[CDATA\[.*?\]\]>", re.S)
_DATE_TEXT = {
    name: re.compile(rb"<" + name + rb">([^<&]*)</" + name + rb">") for name in (b"published", b"updated")
}


def _fits_atom(body: bytes) -> bool:
    """Atom 1.0 (default namespace) in the shapes `_atom_constructs` reads with certainty."""
    if not _ATOM10_ROOT.search(body) or any(marker in body for marker in _ATOM_MARKERS):
        return False
    if body.count(b"xml:base") != len(_CONTENT_BASE.findall(body)):
        return False  # xml:base only on <content>, where it changes nothing the bot reads
    if _C1_CONTROLS.search(body) or _ATOM_OTHER_DATES.search(body) or _ADDRESS_HOST.search(body):
        return False
    if body.count(b"<![CDATA[") != body.count(b"]]>"):
        return False
    if _ATOM_MARKUP.search(body):
        return False
    head = body[: m.start()] if (m := _ATOM_ENTRY.search(body)) else body
    return _construct_type(head, b"title") is not False and _atom_constructs(body) is not None


_PARTS = re.compile(rb"<(title|summary|content|published|updated)\b([^>]*)>")
_NAMES = (b"<title", b"<summary", b"<content", b"<published", b"<updated")
# fits_fast_path and fast_parse are called one after the other on the same bytes: read them once.
_last: dict[str, Any] = {"body": b"", "constructs": None}


def _construct_type(part: bytes, name: bytes) -> str | bool | None:
    """The feedparser type of the one `<name>` text construct in `part`; None if absent; False: refuse."""
    if part.count(b"<" + name) > 1:
        return False
    found = _PARTS.search(part)
    while found is not None and found.group(1) != name:
        found = _PARTS.search(part, found.end())
    if found is None:
        return None if b"<" + name not in part else False
    return _typed(name, found.group(2), part, found.end())


def _typed(name: bytes, attrs: bytes, part: bytes, at: int) -> str | bool:
    close = part.find(b"</" + name + b">", at)
    if close < 0 or attrs.endswith(b"/"):
        return False  # <title/>, an unclosed one
    inner = part[at:close]
    if name == b"content" and re.search(rb"\bsrc\s*=", attrs):
        return False  # out-of-line content
    attr = _TYPE_ATTR.search(attrs)
    kind = attr.group(1) if attr else None
    if kind == b"xhtml":
        # feedparser re-serialises the XHTML: only the plain shapes where both parsers agree
        return "application/xhtml+xml" if b"/>" not in inner and not _PREFIXED.search(inner) else False
    if b"<" in inner and b"<" in _CDATA.sub(b"", inner):
        return False  # markup inside a text or html construct: feedparser keeps it as text
    return _ATOM_TYPES.get(kind, False)


def _atom_constructs(body: bytes) -> list[dict[str, Any]] | None:
    """Per entry: the feedparser types of its title, summary and content, and its date texts."""
    if _last["body"] is body:
        return _last["constructs"]  # type: ignore[no-any-return]
    found: list[dict[str, Any]] | None = []
    starts = [m.start() for m in _ATOM_ENTRY.finditer(body)]
    for start in starts:
        end = body.find(b"</entry>", start)
        if end < 0:
            found = None
            break
        entry = body[start:end]
        if entry.count(b"<entry") != 1 or any(entry.count(n) > 1 for n in _NAMES):
            found = None
            break
        info: dict[str, Any] = {
            "title": None,
            "summary": None,
            "content": None,
            "published": None,
            "updated": None,
        }
        pos = 0
        while (part := _PARTS.search(entry, pos)) is not None:
            name, attrs = part.group(1), part.group(2)
            close = entry.find(b"</" + name + b">", part.end())
            if name in (b"published", b"updated"):
                text = entry[part.end() : close]
                if close < 0 or b"<" in text or b"&" in text or attrs.strip():
                    found = None
                    break
                info[name.decode()] = text.decode().strip()
            else:
                kind = _typed(name, attrs, entry, part.end())
                if kind is False:
                    found = None
                    break
                info[name.decode()] = kind
            pos = max(close, part.end())
        if found is None:
            break
        if any(n in entry and info[n[1:].decode()] is None for n in _NAMES):
            found = None  # a name the tag pattern did not match (<title/>, <titlex>)
            break
        found.append(info)
    if found is not None and not found:
        found = None
    _last.update(body=body, constructs=found)
    return found


def _as_feedparser_atom(
    url: str,
    version: str,
    feed: dict[str, Any],
    entries: list[dict[str, Any]],
    *,
    constructs: list[dict[str, Any]],
    body: bytes,
) -> dict[str, Any] | None:
    head = body[: m.start()] if (m := _ATOM_ENTRY.search(body)) else body
    feed_title = _construct_type(head, b"title")
    if isinstance(feed.get("title"), str) and feed.get("title_detail") is not None and feed_title:
        feed["title_detail"] = {"type": feed_title}
    for entry, info in zip(entries, constructs, strict=True):
        if isinstance(entry.get("id"), str):  # feedparser resolves an Atom id as a URI reference
            entry["id"] = feedparser.urls._urljoin(url, entry["id"])
        if not any(x.get("rel") == "alternate" and x.get("href") for x in entry.get("links") or ()):
            entry["link"] = entry.get("id") or None  # feedparser: an id is the link when no link is
        if info["title"] is None:
            entry["title"] = entry["title_detail"] = None
        elif entry.get("title_detail") is not None:
            entry["title_detail"] = {"type": info["title"]}
        summary = entry.get("summary_detail")
        if info["summary"] is None or summary is None:
            entry["summary_detail"] = None
        else:
            entry["summary_detail"] = {"type": info["summary"], "value": summary.get("value")}
        content = entry.get("content") or []
        if info["content"] is None:
            entry["content"] = []
        elif len(content) != 1:
            return None
        else:
            entry["content"] = [{"type": info["content"], "value": content[0].get("value")}]
        entry["published_parsed"] = _parse_date(info["published"]) if info["published"] else None
        entry["updated_parsed"] = _parse_date(info["updated"]) if info["updated"] else None
    return {"version": version, "feed": feed, "entries": entries, "bozo": False}
