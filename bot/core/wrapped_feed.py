"""A feed served inside an (X)HTML document, cut out so it is read as the feed it is; pages stay pages.

Some sites serve their feed wrapped in a page, `<html xmlns="http://www.w3.org/1999/xhtml"><head>
<title>…</title></head><body><feed xmlns="http://www.w3.org/2005/Atom">…</feed></body></html>` (as
text/html or application/xhtml+xml), which feedparser reads but whose root is `<html>`. The feed element
is taken when it declares what it needs itself (Atom's namespace; RSS's version; RDF's and RSS 1.0's
namespaces), holds an entry or item, and ends the document (only end tags, comments and whitespace after
its end tag), so a page that quotes a feed in a script or an example stays a page whose `<link
rel="alternate">` is followed. Parsing is `feedparse`'s, which calls this only for an `<html>` root:
the cost on a real page is three `bytes.find` scans. The bytes given have had their DOCTYPE internal
subset cut out already; the element returned has no DOCTYPE, and gets feedparse's checks like any feed.
"""

from __future__ import annotations

import re

__all__ = ["wrapped_feed"]

_XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
# (opening, its start tag with the declarations it needs, end tag, an entry's opening)
_FEED_ELEMENTS = (
    (
        b"<feed",
        re.compile(
            rb"<feed\s[^>]*?\bxmlns\s*=\s*[\"'](?:http://www\.w3\.org/2005/Atom|http://purl\.org/atom/ns#)[\"']"
        ),
        b"</feed>",
        b"<entry",
    ),
    (b"<rss", re.compile(rb"<rss\s[^>]*?\bversion\s*=\s*[\"'][^\"']+[\"']"), b"</rss>", b"<item"),
    (
        b"<rdf:RDF",
        re.compile(
            rb"<rdf:RDF\s(?=[^>]*?\bxmlns:rdf\s*=)[^>]*?\bxmlns\s*=\s*[\"']http://purl\.org/rss/1\.0/[\"']"
        ),
        b"</rdf:RDF>",
        b"<item",
    ),
)
_DOCUMENT_END = re.compile(rb"(?:\s++|</[A-Za-z][\w.:-]*+\s*+>|<!--.*?-->)*+\Z", re.S)


def wrapped_feed(document: bytes) -> tuple[bytes, bytes] | None:
    """The feed element an (X)HTML `document` wraps, as a standalone UTF-8 XML document, and its name;
    None when the document is a page (see the module's docstring). `document` is UTF-8."""
    for opening, start_tag, end_tag, entry in _FEED_ELEMENTS:
        start = document.find(opening)
        while start >= 0 and not start_tag.match(document, start):
            start = document.find(opening, start + 1)
        if start < 0:
            continue
        end = document.rfind(end_tag)
        if end < start or document.find(entry, start, end) < 0:
            continue
        end += len(end_tag)
        if _DOCUMENT_END.match(document, end):
            return _XML_DECLARATION + document[start:end], opening[1:]
    return None
