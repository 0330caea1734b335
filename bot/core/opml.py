"""OPML 2.0 feed lists, in and out: the format every feed reader (and RSS-to-Telegram-Bot) exchanges.

Reading refuses what could hurt before the parser sees it: more than MAX_OPML_BYTES, any `<!DOCTYPE` or
`<!ENTITY` (no entity is ever expanded: the stdlib's expat parser then only meets plain elements), and more
than MAX_OUTLINES outlines. Nested category outlines are read flat. Adding the feeds is the callers'.
listparser was measured and not used: it reads with an HTML parser (lxml's in recover mode, else
html.parser), so it expands no entity either, but it also takes an HTML page for a feed list, keeps no
htmlUrl of a feed, and fetches its argument when given a string that starts with http.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import quoteattr

__all__ = ["MAX_OPML_BYTES", "MAX_OUTLINES", "OpmlError", "OpmlFeed", "export_opml", "parse_opml"]

MAX_OPML_BYTES = 1024 * 1024
MAX_OUTLINES = 5000
_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_OUTLINE = re.compile(rb"<outline[\s/>]", re.IGNORECASE)


class OpmlError(ValueError):
    """Why a file is not an OPML feed list we read; one line."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    url: str
    title: str | None = None
    site_url: str | None = None


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds an OPML file lists (outlines with an xmlUrl), in order, without duplicates."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError(f"the file is larger than {MAX_OPML_BYTES // 1024} KiB")
    if _DECLARATION.search(data):
        raise OpmlError("the file declares a DOCTYPE or entities, which are refused")
    if (count := len(_OUTLINE.findall(data))) > MAX_OUTLINES:
        raise OpmlError(f"{count} outlines; at most {MAX_OUTLINES} are read")
    try:
        root = ET.fromstring(data)  # noqa: S314 - declarations refused above: no entity can expand
    except ET.ParseError as exc:
        raise OpmlError(f"not well-formed XML ({exc})") from None
    if root.tag.lower() != "opml":
        raise OpmlError(f"not OPML: the document is <{root.tag}>, not <opml>")
    outlines = root.findall(".//outline")
    if len(outlines) > MAX_OUTLINES:
        raise OpmlError(f"{len(outlines)} outlines; at most {MAX_OUTLINES} are read")
    feeds: list[OpmlFeed] = []
    seen: set[str] = set()
    for outline in outlines:
        attrs = {k.lower(): v.strip() for k, v in outline.attrib.items()}
        url = attrs.get("xmlurl")
        if not url or url in seen:
            continue
        seen.add(url)
        feeds.append(
            OpmlFeed(url, attrs.get("title") or attrs.get("text") or None, attrs.get("htmlurl") or None)
        )
    return feeds


def export_opml(feeds: Sequence[OpmlFeed], *, title: str, now: datetime) -> str:
    """An OPML 2.0 document listing `feeds` as rss outlines (what parse_opml and feed readers read)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{_text(title)}</title>",
        f"    <dateCreated>{format_datetime(now)}</dateCreated>",
        "  </head>",
        "  <body>",
    ]
    for feed in feeds:
        name = feed.title or feed.url
        attrs = f'type="rss" text={quoteattr(name)} title={quoteattr(name)} xmlUrl={quoteattr(feed.url)}'
        if feed.site_url:
            attrs += f" htmlUrl={quoteattr(feed.site_url)}"
        lines.append(f"    <outline {attrs}/>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
