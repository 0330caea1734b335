"""Feed bytes to ParsedFeed/RawEntry: feedparser (plain RSS 2.0: feedparser-rs), JSON Feed by hand.

The fast path (feedparser-rs, whitelisted) is `bot.core.feedparse_fast`; JSON Feed is `bot.core.jsonfeed`.
Both XML paths give the feed's links in feedparser's shape, from which its WebSub hubs and self URL are
read (`<atom:link rel="hub|self">` in RSS, `<link rel="hub|self">` in Atom).

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

"""

from __future__ import annotations

import functools
import html
import io
import re
from datetime import UTC, datetime
from typing import Any

import feedparser
import feedparser.mixin
import feedparser.urls
from feedparser.encodings import convert_to_utf8

from bot.core.errors import FeedParseError
from bot.core.feedparse_fast import fast_parse, fits_fast_path
from bot.core.jsonfeed import parse_json_feed
from bot.core.models import ParsedFeed, RawEntry
from bot.core.text import clean_headline
from bot.core.wrapped_feed import wrapped_feed

__all__ = ["parse_feed"]

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
        return parse_json_feed(body, url)
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
        result = fast_parse(body, url) if fits_fast_path(body, root) else None
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
    hubs, self_url = _websub_links(feed.get("links") or [])
    return ParsedFeed(
        title or None, feed.get("link") or None, entries, version or "xml", image or None, hubs, self_url
    )


def _websub_links(links: list[Any]) -> tuple[tuple[str, ...], str | None]:
    """The feed's own `rel="hub"` links (RSS `<atom:link>`, Atom `<link>`) and its first `rel="self"`."""
    hubs: dict[str, None] = {}
    self_url = None
    for link in links:
        href, rel = link.get("href"), link.get("rel")
        if not isinstance(href, str) or not href.strip():
            continue
        if rel == "hub":
            hubs.setdefault(href.strip())
        elif rel == "self" and self_url is None:
            self_url = href.strip()
    return tuple(hubs), self_url


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
