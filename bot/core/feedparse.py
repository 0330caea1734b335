"""Feed bytes to ParsedFeed/RawEntry: feedparser (plain RSS 2.0: feedparser-rs), JSON Feed by hand.

Security: the bytes are untrusted. A DOCTYPE's internal subset (`<!DOCTYPE x [ ... ]>`: ENTITY and
parameter-entity declarations, the stuff of billion-laughs, quadratic-blowup and external-entity
attacks) is cut out before any XML parser sees the document; feedparser then drops what is left of
the DOCTYPE, external DTDs included, and nothing is ever fetched or read from disk. Stripping, rather
than rejecting, keeps the rare honest feed that declares `<!ENTITY nbsp "&#160;">`: its references
stay as text and the text cleaner decodes the HTML ones. An `<!ENTITY` before the root element but
outside a DOCTYPE subset (where feedparser would re-declare it) is rejected: "XML entity declarations
are not allowed". The checks run on the UTF-8 that feedparser's own `convert_to_utf8` produces, so
UTF-16, UTF-7 or EBCDIC cannot hide a declaration. feedparser only ever gets a BytesIO (given a str
it opens paths and URLs).

Speed: feedparser runs with `sanitize_html=False, resolve_relative_uris=False`. Those two passes
re-parse every HTML field, `content:encoded` most of all: on a 160 KB WordPress feed of 40 items they
are about three quarters of the time (about 125 ms -> 32 ms). The bot never shows feed HTML, only plain
text from `bot.core.text`, which drops tags, scripts and styles itself (JSON Feed HTML reaches it
unsanitised anyway), and it uses no link inside HTML. Two more savings, measured on the benchmark farm's
165 KB WordPress feed (31 ms -> about 21 ms): feedparser re-resolves `xml:base` with `urljoin` on every
element, so that pure function is memoised; and an RSS item's `content:encoded` is cut out of the bytes
when the same item has a `<description>` of real length, since the dek then comes from the description
and the body is never read (items with an empty or short description keep their body as the fallback).

Fast path: plain RSS 2.0 (the WordPress shape, most news feeds) is read by feedparser-rs, a Rust
parser with feedparser's API, about 7x faster here (2.6 ms against 18 ms a 165 KB farm feed, the
whole parse_feed). FEEDS.md warns that fast parsers fail silently, so the fast path is a whitelist, not
a fallback chain: only RSS 2.0 without the shapes where the two parsers were seen to differ (xml:base,
base64, a DOCTYPE, C1 control characters, markup inside a title/description/category, date elements
other than pubDate) goes to it, and its result is refused (feedparser reads the feed instead) when it
is bozo, has no items or another number of items than the document, hits a list limit, or has a
relative guid. What remains is mapped to feedparser's shapes (RSS title HTML-or-text guessed with
feedparser's own rule, the feed link resolved, no pubDate copied to updated, no description made up
from the body). tests/test_feedparse_fastpath.py holds it to feedparser field by field on feedparser's
own 2,200-file test corpus and our goldens: every RawEntry the fast path produces is the one
feedparser produces.
"""

from __future__ import annotations

import functools
import html
import io
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser
import feedparser.mixin
import feedparser.urls
from feedparser.encodings import convert_to_utf8

from bot.core.errors import FeedParseError
from bot.core.models import ParsedFeed, RawEntry
from bot.core.text import clean_headline
from bot.core.wrapped_feed import wrapped_feed

__all__ = ["parse_feed"]

try:
    import feedparser_rs
except ImportError:  # no wheel for this platform (musl has none): feedparser reads every feed
    feedparser_rs = None  # type: ignore[assignment]

# feedparser calls this on every start tag with the same two arguments; it is a pure function.
feedparser.mixin.make_safe_absolute_uri = functools.lru_cache(maxsize=1024)(
    feedparser.urls.make_safe_absolute_uri
)

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_CLOSE_TAG = re.compile(r"</[A-Za-z][A-Za-z0-9]*\s*>")
_LEADING = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*")
_DOCTYPE_TOKEN = re.compile(rb"\"[^\"]*\"|'[^']*'|[\[>]|[^\"'\[>]+")
_SUBSET_TOKEN = re.compile(rb"\"[^\"]*\"|'[^']*'|<!--.*?-->|<\?.*?\?>|\]|[^\"'<\]]+|<", re.S)
_ROOT_NAME = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.I)
_FIRST_TAG = re.compile(rb"<\w")  # where feedparser's own DOCTYPE handling ends its "head"
_looks_like_html = feedparser.mixin._FeedParserMixin.looks_like_html
_RSS2_ROOT = re.compile(rb"<rss\s[^>]*\bversion\s*=\s*[\"']2\.0[\"']")
# Shapes feedparser handles by rules of its own (xml:base resolution, base64 text, DTD entities, an
# item's body in <fullitem> or <xhtml:body>, an Atom-style <summary> in RSS).
_FAST_PATH_MARKERS = (b"xml:base", b"base64", b"<!DOCTYPE", b"<!doctype", b"<fullitem", b"body>", b"<summary")
# A URL whose host is an IP address or localhost: feedparser-rs blanks links to loopback and private
# addresses (its own SSRF guard), feedparser keeps them; the fetcher decides what may be fetched.
_ADDRESS_HOST = re.compile(rb"://(?:[^/@\s<>\"']*@)?(?:\[|localhost\b|[0-9])", re.I)
# Dublin Core besides dc:creator: feedparser maps dc:description, dc:subject, dc:title and the rest.
_DUBLIN_CORE = re.compile(rb"<dc:(?!creator\b)")
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
_OTHER_DATES = re.compile(rb"<(?:\w+:)?(?:date|created|issued|modified|published|updated)\b")
_RSS_ITEM = re.compile(rb"<item[\s>/]")
# A title or description with a child element (not CDATA, not its own end tag): feedparser keeps the
# markup as text, feedparser-rs drops it.
_MARKUP_IN_TEXT = re.compile(
    rb"<(title|description|summary|category)\b[^>]*(?<!/)>(?:[^<]++|<!\[CDATA\[.*?\]\]>)*+<(?!/\1>)", re.S
)


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed 1.0/1.1 bytes fetched from `url`.

    Raises FeedParseError (one-line reason) for an empty body, an HTML page, malformed JSON, a
    JSON document that is not a JSON Feed, or XML that yields no entries and no feed title. A feed
    that is ill-formed but still yields entries is accepted, and so is a feed an XHTML page wraps
    (`bot.core.wrapped_feed`).
    """
    if not isinstance(body, bytes):  # feedparser given a str opens it as a path or URL
        raise TypeError(f"parse_feed takes the response body as bytes, not {type(body).__name__}")
    start = body[_LEADING.match(body).end() :][:1]  # type: ignore[union-attr]
    if not start:
        raise FeedParseError(url, "empty document")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if start in (b"{", b"[") or ("json" in media_type and start != b"<"):
        return _parse_json(body, url)
    headers = {"content-type": content_type or "application/xml", "content-location": url}
    try:
        info: dict[str, Any] = {}
        body = convert_to_utf8(headers, body, info)  # as feedparser will: the checks below see UTF-8
        body, root = _strip_internal_subset(body, url)
        if root.lower() == b"html" or root.lower().endswith(b":html"):
            wrapped = wrapped_feed(body)  # a feed served inside an XHTML page
            if wrapped is None:
                raise FeedParseError(url, "not a feed: an HTML page")
            body, root = wrapped
        first_tag = _FIRST_TAG.search(body)
        if _ENTITY_DECL.search(body, 0, first_tag.start() if first_tag else len(body)):
            raise FeedParseError(url, "XML entity declarations are not allowed")  # outside a DOCTYPE
        headers["content-type"] = "application/xml; charset=utf-8"
        if b"<content:encoded" in body:
            body = _drop_unread_bodies(body)
        result = _fast_parse(body, url) if _fits_fast_path(body, root) else None
        if result is None:
            result = feedparser.parse(
                io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
            )
    except FeedParseError:
        raise
    except Exception as e:  # feedparser reports problems as bozo; anything raised is a bug on odd input
        raise FeedParseError(url, f"feed parser failed: {type(e).__name__}: {e}"[:200]) from e
    version: str = result.get("version") or ""
    feed = result["feed"]
    atom = version.startswith("atom")
    entries = tuple(_xml_entry(dict(e), atom) for e in result["entries"])  # plain dict.get: no aliases
    title = clean_headline(
        feed.get("title"), _detail_is_html(feed.get("title_detail"), feed.get("title"), atom)
    )
    if not entries and (not version or (result.get("bozo") and not title)):
        problem = result.get("bozo_exception") or info.get("bozo_exception") or "no feed elements"
        reason = (str(problem).strip() or type(problem).__name__).splitlines()[0][:200]
        raise FeedParseError(url, f"not a feed: {reason}")
    image = feed.get("image", {}).get("href") or feed.get("logo") or feed.get("icon")
    return ParsedFeed(title or None, feed.get("link") or None, entries, version or "xml", image or None)


def _fits_fast_path(body: bytes, root: bytes) -> bool:
    """Whether `body` (UTF-8, subset stripped) is the plain RSS 2.0 that feedparser-rs reads as feedparser.

    Atom stays with feedparser: feedparser-rs types an Atom title without `type` as HTML (the spec
    says text), and the type is what decides whether `A &lt;b&gt; B` keeps its `<b>`.
    """
    if feedparser_rs is None or root != b"rss" or not _RSS2_ROOT.search(body):
        return False
    if any(marker in body for marker in _FAST_PATH_MARKERS) or _C1_CONTROLS.search(body):
        return False
    if _OTHER_DATES.search(body) or _DUBLIN_CORE.search(body) or _ADDRESS_HOST.search(body):
        return False
    if body.count(b"<![CDATA[") != body.count(b"]]>"):
        return False  # an unclosed CDATA would make each search below scan to the end: quadratic
    return not _MARKUP_IN_TEXT.search(body)


def _fast_parse(body: bytes, url: str) -> dict[str, Any] | None:
    """feedparser-rs's reading of `body` in feedparser's shapes, or None when it must not be trusted."""
    try:
        result = feedparser_rs.parse(body, sanitize_html=False, resolve_relative_uris=False)
    except Exception:  # noqa: BLE001  # any surprise from the fast path: feedparser reads it instead
        return None
    entries = [{key: e.get(key) for key in _ENTRY_KEYS} for e in result.entries]
    if result.bozo or not entries or len(entries) != len(_RSS_ITEM.findall(body)):
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
    for item in (feed, *entries):  # feedparser guesses HTML in an RSS title; feedparser-rs says HTML
        title, detail = item.get("title"), item.get("title_detail")
        if isinstance(title, str) and detail is not None:
            item["title_detail"] = {"type": "text/html" if _looks_like_html(title) else "text/plain"}
    for entry in entries:
        entry["updated_parsed"] = None  # feedparser-rs copies pubDate here; feedparser leaves it unset
        summary, content = entry.get("summary_detail"), entry.get("content") or ()
        if summary is not None and any(c.get("value") == summary.get("value") for c in content):
            entry["summary_detail"] = None  # feedparser-rs fills a missing description from the body
    return {"version": result.version, "feed": feed, "entries": entries, "bozo": False}


def _at_a_limit(entry: dict[str, Any]) -> bool:
    """Whether feedparser-rs may have cut a list short at one of its default resource limits."""
    return any(len(entry.get(key) or ()) >= limit for key, limit in _RS_LIMITS)


def _drop_unread_bodies(body: bytes) -> bytes:
    """The feed without each RSS item's `content:encoded` whose item has a description of real length."""
    out: list[bytes] = []
    pos = 0
    while (start := body.find(b"<content:encoded", pos)) >= 0:
        close = body.find(b"</content:encoded>", start)
        item_start = body.rfind(b"<item", 0, start)
        item_end = body.find(b"</item>", start)
        if close < 0 or item_start < 0 or item_end < 0 or item_start < pos:
            break
        close += len(b"</content:encoded>")
        if _has_description(body, item_start, item_end):
            out.append(body[pos:start])
        else:
            out.append(body[pos:close])
        pos = close
    out.append(body[pos:])
    return b"".join(out)


def _has_description(body: bytes, start: int, end: int) -> bool:
    open_at = body.find(b"<description", start, end)
    if open_at < 0:
        return False
    text_at = body.find(b">", open_at, end) + 1
    close = body.find(b"</description>", text_at, end)
    return text_at > 0 and close - text_at >= 80


def _strip_internal_subset(body: bytes, url: str) -> tuple[bytes, bytes]:
    """`body` with every prolog DOCTYPE's internal subset cut out, and the root element's name."""
    pos = _LEADING.match(body).end()  # type: ignore[union-attr]  # the pattern always matches
    while pos < len(body):
        if body.startswith(b"<?", pos):
            pos = _after(body, b"?>", pos + 2)
        elif body.startswith(b"<!--", pos):
            pos = _after(body, b"-->", pos + 4)
        elif body[pos : pos + 9].upper() == b"<!DOCTYPE":
            pos += 9
            while (token := _DOCTYPE_TOKEN.match(body, pos)) is None or token.group() != b">":
                if token is None:
                    raise FeedParseError(url, "unterminated DOCTYPE")
                if token.group() == b"[":
                    subset = _SUBSET_TOKEN.finditer(body, token.end())
                    close = next((t.end() for t in subset if t.group() == b"]"), -1)
                    if close < 0:
                        raise FeedParseError(url, "unterminated DOCTYPE internal subset")
                    body = body[:pos] + body[close:]
                else:
                    pos = token.end()
            pos = token.end()
        elif body[pos : pos + 1] in b" \t\r\n":
            pos += 1
        else:
            root = _ROOT_NAME.match(body, pos)
            return body, root.group(1) if root else b""
    return body, b""


def _after(body: bytes, terminator: bytes, pos: int) -> int:
    end = body.find(terminator, pos)
    return len(body) if end < 0 else end + len(terminator)


def _detail_is_html(detail: Any, value: Any, atom: bool) -> bool:
    """Whether a feedparser text construct holds HTML. RSS titles marked plain that contain a closing
    tag (`</script>`, `</b>`) are HTML too; a lone `<b>` or `&` in them stays literal text."""
    if not detail or not isinstance(value, str):
        return False
    if detail.get("type") in _HTML_TYPES:
        return True
    return not atom and bool(_CLOSE_TAG.search(value))


def _as_html(detail: Any, atom: bool) -> str | None:
    """A feedparser text construct as HTML: plain text is escaped so that it cleans back to itself."""
    if not detail:
        return None
    value = detail.get("value")
    if not isinstance(value, str) or not value.strip():
        return None
    return value if _detail_is_html(detail, value, atom) else html.escape(value, quote=False)


def _utc(parsed: Any) -> datetime | None:
    """feedparser's UTC struct_time as an aware datetime (a leap second becomes :59)."""
    if not parsed:
        return None
    try:
        year, month, day, hour, minute, second = parsed[:6]
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _xml_entry(e: dict[str, Any], atom: bool) -> RawEntry:
    """One feedparser entry (as a plain dict: FeedParserDict.get warns and aliases) to a RawEntry."""
    links = e.get("links") or []
    link = next((x.get("href") for x in links if x.get("rel") == "alternate" and x.get("href")), None)
    link = link or e.get("link") or None
    guid = (e.get("id") or "").strip() or link
    title = e.get("title")
    summary = _as_html(e.get("summary_detail"), atom)  # no detail: summary is a copy of the content
    content = None
    if summary is None:
        content = next(filter(None, (_as_html(c, atom) for c in e.get("content") or [])), None)
    categories: dict[str, None] = {}
    for tag in e.get("tags") or []:
        term = (tag.get("term") or tag.get("label") or "").strip()
        if term:
            categories.setdefault(term)
    return RawEntry(
        guid=guid,
        link=link,
        title=title if isinstance(title, str) else None,
        title_is_html=_detail_is_html(e.get("title_detail"), title, atom),
        summary=summary,
        content=content,
        published=_utc(e.get("published_parsed")),
        updated=_utc(e.get("updated_parsed")),
        categories=tuple(categories),
        image=_xml_image(e, links),
    )


def _is_image(url: str, mime: str | None, medium: str | None) -> bool:
    if "gravatar.com/" in url:
        return False  # WordPress.com lists the author's avatar as media:content medium="image"
    if medium or mime:
        return medium == "image" or (mime or "").startswith("image/")
    return url.lower().split("?", 1)[0].endswith((".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif"))


def _xml_image(e: dict[str, Any], links: list[dict[str, Any]]) -> str | None:
    for media in e.get("media_content") or []:
        url = media.get("url") or ""
        if url and _is_image(url, media.get("type"), media.get("medium")):
            return str(url)
    for thumb in e.get("media_thumbnail") or []:
        if thumb.get("url"):
            return str(thumb["url"])
    for x in links:
        href = x.get("href") or ""
        if x.get("rel") == "enclosure" and href and (x.get("type") or "").startswith("image/"):
            return str(href)
    image = e.get("image")
    return str(image["href"]) if isinstance(image, dict) and image.get("href") else None


def _parse_json(body: bytes, url: str) -> ParsedFeed:
    """JSON Feed 1.0/1.1 (jsonfeed.org). Its title and summary are plain text; HTML is content_html."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, bad UTF, too many digits, deep nesting
        raise FeedParseError(url, f"malformed JSON: {str(e).splitlines()[0][:200]}") from e
    if not isinstance(doc, dict):
        raise FeedParseError(url, "not a JSON Feed: the top level is not an object")
    version = _str(doc.get("version")) or ""
    items = doc.get("items")
    if not version.startswith("https://jsonfeed.org/version/") or not isinstance(items, list):
        raise FeedParseError(url, "not a JSON Feed: no jsonfeed.org version or no items list")
    home = _str(doc.get("home_page_url"))
    entries = tuple(_json_entry(item, url) for item in items if isinstance(item, dict))
    fmt = "json11" if version.rstrip("/").endswith("/1.1") else "json10"
    image = _str(doc.get("icon")) or _str(doc.get("favicon"))
    return ParsedFeed(
        clean_headline(_str(doc.get("title")), False) or None,
        urljoin(url, home) if home else None,
        entries,
        fmt,
        urljoin(url, image) if image else None,
    )


def _str(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _json_date(value: Any) -> datetime | None:
    """RFC 3339 as aware UTC; a date without an offset is taken as UTC."""
    text = _str(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.upper())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _json_entry(item: dict[str, Any], url: str) -> RawEntry:
    link = _str(item.get("url")) or _str(item.get("external_url"))
    link = urljoin(url, link) if link else None
    guid = item.get("id")
    guid = str(guid).strip() if isinstance(guid, str | int) and not isinstance(guid, bool) else None
    summary = _str(item.get("summary"))
    content = None
    if summary is None:
        text = _str(item.get("content_text"))
        content = _str(item.get("content_html")) or (html.escape(text, quote=False) if text else None)
    tags: list[Any] = item["tags"] if isinstance(item.get("tags"), list) else []
    categories = dict.fromkeys(filter(None, map(_str, tags)))
    image = _str(item.get("image")) or _str(item.get("banner_image"))
    attachments: list[Any] = item["attachments"] if isinstance(item.get("attachments"), list) else []
    for attachment in attachments if image is None else ():
        if isinstance(attachment, dict) and str(attachment.get("mime_type")).startswith("image/"):
            image = _str(attachment.get("url"))
            if image:
                break
    return RawEntry(
        guid=guid or link,
        link=link,
        title=_str(item.get("title")),
        title_is_html=False,
        summary=html.escape(summary, quote=False) if summary else None,
        content=content,
        published=_json_date(item.get("date_published")),
        updated=_json_date(item.get("date_modified")),
        categories=tuple(categories),
        image=urljoin(url, image) if image else None,
    )
