"""Feed links and share metadata from an HTML page's <head> (pure, bytes in); fetching pages is not here.

Only the head matters, so decoding and scanning stop at `</head>` or `<body` (and at 512 KiB). Tags
are found with regular expressions after comments and script/style/noscript/template blocks are
removed, which keeps a commented-out or script-built `<link>` from counting. A `<base href>` in the
head changes what relative URLs resolve against. The charset comes from a BOM, then the given
Content-Type header, then `<meta charset>` / `http-equiv` in the first 4 KiB, else UTF-8 when the
bytes are valid UTF-8 and windows-1252 otherwise (as browsers do for "latin-1" and "ascii" too).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from bot.core.htmltext import html_to_text

__all__ = ["FEED_TYPES", "PageMeta", "discover_feeds", "page_meta"]

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
        "application/json",
        "application/rdf+xml",
    }
)
MAX_HEAD_BYTES = 512 * 1024

_HEAD_END = re.compile(rb"</head\s*>|<body[\s>]", re.I)
_HEAD_END_TEXT = re.compile(r"</head\s*>|<body[\s>]", re.I)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_NOISE = re.compile(
    r"<!--.*?(?:-->|$)|<(script|style|noscript|template)\b[^>]*>.*?(?:</\1\s*>|$)", re.S | re.I
)
_TAG = re.compile(r"<(meta|link|base|title)\b((?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+)>", re.I)
_TITLE_TEXT = re.compile(r"([^<]*)</title", re.I)
_ATTR = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_WINDOWS_1252_ALIASES = frozenset({"iso8859-1", "latin-1", "ascii", "cp1252"})


@dataclass(frozen=True, slots=True)
class PageMeta:
    """What a page says about itself: plain-text title/description, absolute image/canonical URLs."""

    title: str | None = None
    description: str | None = None
    image: str | None = None
    canonical: str | None = None
    site_name: str | None = None


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "cp1252" if name in _WINDOWS_1252_ALIASES else name


def _decode_head(html: bytes, content_type: str | None) -> str:
    if html.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = html[: MAX_HEAD_BYTES & ~1].decode("utf-16", "replace")
        end_text = _HEAD_END_TEXT.search(text)
        return text[: end_text.end() if end_text else len(text)]
    end = _HEAD_END.search(html, 0, MAX_HEAD_BYTES)
    head = html[: end.end() if end else MAX_HEAD_BYTES]
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:].decode("utf-8", "replace")
    header = _HEADER_CHARSET.search(content_type or "")
    meta = _CHARSET.search(head, 0, 4096)
    encoding = _codec(header.group(1) if header else None) or _codec(meta.group(1).decode() if meta else None)
    if encoding is None or encoding == "utf-8":
        try:
            return head.decode("utf-8")
        except UnicodeDecodeError as e:
            if e.start < len(head) - 3:  # not just a character cut at the end of the slice
                encoding = "cp1252" if encoding is None else encoding
    return head.decode(encoding or "utf-8", "replace")


def _tags(html: bytes, content_type: str | None) -> list[tuple[str, dict[str, str], int]]:
    """(tag name, attributes, end offset) for each meta/link/base/title tag in the head, in order."""
    text = _NOISE.sub(" ", _decode_head(html, content_type))
    found = []
    for match in _TAG.finditer(text):
        attrs: dict[str, str] = {}
        for name, double, single, bare in _ATTR.findall(match.group(2)):
            attrs.setdefault(name.lower(), double or single or bare)
        tag = match.group(1).lower()
        if tag == "title":
            title = _TITLE_TEXT.match(text, match.end())
            attrs["text"] = title.group(1) if title else ""
        found.append((tag, attrs, match.end()))
    return found


def _base(tags: list[tuple[str, dict[str, str], int]], base_url: str) -> str:
    href = next((a.get("href", "") for t, a, _ in tags if t == "base" and a.get("href")), "")
    return urljoin(base_url, html_to_text(href)) if href else base_url


def _absolute(base: str, href: str) -> str | None:
    url = urljoin(base, html_to_text(href))
    return url if urlsplit(url).scheme in ("http", "https") else None


def discover_feeds(html: bytes, base_url: str, *, content_type: str | None = None) -> list[str]:
    """Absolute URLs of the feeds a page links with rel="alternate", in document order.

    Comment feeds (title or URL mentioning comments) are listed only when there is no other feed.
    A type="application/json" link counts only when its title or URL says "feed" and it is not a
    WordPress REST API URL (`/wp-json/`), which WordPress also marks rel="alternate".
    """
    tags = _tags(html, content_type)
    base = _base(tags, base_url)
    feeds: list[str] = []
    comments: list[str] = []
    for tag, attrs, _ in tags:
        rel = attrs.get("rel", "").lower().split()
        kind = attrs.get("type", "").split(";")[0].strip().lower()
        href = attrs.get("href", "")
        if tag != "link" or "alternate" not in rel or kind not in FEED_TYPES or not href:
            continue
        url = _absolute(base, href)
        title = attrs.get("title", "").lower()
        if url is None or url in feeds or url in comments:
            continue
        if kind == "application/json" and ("/wp-json/" in url or "feed" not in title + url.lower()):
            continue
        is_comments = "comment" in title or "/comments" in url.lower()
        (comments if is_comments else feeds).append(url)
    return feeds or comments


def page_meta(html: bytes, base_url: str, *, content_type: str | None = None) -> PageMeta:
    """Title (og:title, twitter:title, <title>), description (og:, twitter:, meta description),
    image (og:image, twitter:image), canonical (link rel=canonical) and og:site_name of a page."""
    tags = _tags(html, content_type)
    base = _base(tags, base_url)
    values: dict[str, str] = {}
    for tag, attrs, _ in tags:
        if tag == "meta":
            key = (attrs.get("property") or attrs.get("name") or "").strip().lower()
            content = attrs.get("content", "")
            if key and content.strip():
                values.setdefault(key, content)
        elif tag == "link" and "canonical" in attrs.get("rel", "").lower().split() and attrs.get("href"):
            values.setdefault(" canonical", attrs["href"])
        elif tag == "title" and attrs.get("text", "").strip():
            values.setdefault(" title", attrs["text"])

    def text(*keys: str) -> str | None:
        for key in keys:
            cleaned = html_to_text(values.get(key, ""))
            if cleaned:
                return cleaned
        return None

    def url(*keys: str) -> str | None:
        for key in keys:
            if values.get(key) and (found := _absolute(base, values[key])):
                return found
        return None

    return PageMeta(
        title=text("og:title", "twitter:title", " title"),
        description=text("og:description", "twitter:description", "description"),
        image=url("og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"),
        canonical=url(" canonical"),
        site_name=text("og:site_name"),
    )
