"""JSON Feed 1.0/1.1 (jsonfeed.org) bytes to ParsedFeed/RawEntry: plain JSON, no XML parser needed.

feedparser reads no JSON Feed (FEEDS.md), and the format is small and documented: its `title` and
`summary` are plain text (escaped here so the text cleaner gives them back unchanged), HTML is only in
`content_html`; relative URLs resolve against the feed's own address. Its WebSub hubs are `hubs` entries
of type "WebSub" and its self URL is `feed_url`. `bot.core.feedparse` routes a body
here when it starts like JSON or is served as JSON.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from bot.core.errors import FeedParseError
from bot.core.models import ParsedFeed, RawEntry
from bot.core.text import clean_headline

__all__ = ["parse_json_feed"]


def parse_json_feed(body: bytes, url: str) -> ParsedFeed:
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
    self_url = _str(doc.get("feed_url"))
    return ParsedFeed(
        clean_headline(_str(doc.get("title")), False) or None,
        urljoin(url, home) if home else None,
        entries,
        fmt,
        urljoin(url, image) if image else None,
        _hubs(doc.get("hubs"), url),
        urljoin(url, self_url) if self_url else None,
    )


def _hubs(value: Any, url: str) -> tuple[str, ...]:
    """The feed's WebSub hubs: `hubs` entries of type WebSub (or its old name), not rssCloud."""
    found: dict[str, None] = {}
    for hub in value if isinstance(value, list) else ():
        kind = _str(hub.get("type")) if isinstance(hub, dict) else None
        address = _str(hub.get("url")) if isinstance(hub, dict) else None
        if address and kind and kind.lower() in ("websub", "pubsubhubbub"):
            found.setdefault(urljoin(url, address))
    return tuple(found)


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
