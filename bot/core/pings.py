"""Update pings: what a ping body names (XML-RPC weblogUpdates, a form or JSON `url`) and how a URL matches.

WordPress, with no plugin, POSTs `weblogUpdates.ping(name, url)` (XML-RPC) to every address under
Settings -> Writing -> Update Services when a post is published; other CMSs and webhooks send a form or
JSON body with `url`. This module only reads the body and says which URLs it names; whether one is a
configured feed, and fetching it, is the ping service's job (`bot/services/pings.py`).

Safety, before any parser sees the body: at most `MAX_PING_BYTES`, and a `<!DOCTYPE` or `<!ENTITY` is
refused outright, so expat (the stdlib XML-RPC parser) never meets an entity declaration to expand.
"""

from __future__ import annotations

import json
import re
import xmlrpc.client
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit
from xml.parsers.expat import ExpatError

from bot.core.urls import canonical_url

__all__ = ["MAX_PING_BYTES", "PINGED_WITHIN", "PingError", "ping_key", "ping_urls", "xmlrpc_answer"]

MAX_PING_BYTES = 64 * 1024
PINGED_WITHIN = timedelta(days=7)  # a feed pinged this lately shows as "pinged" in /feeds
PING_METHODS = frozenset({"weblogUpdates.ping", "weblogUpdates.extendedPing"})
_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<")


class PingError(ValueError):
    """A ping body that cannot be read; `str()` is the one-line reason."""


def ping_urls(body: bytes, content_type: str | None) -> tuple[str, ...]:
    """The http(s) URLs a ping names, in order (for extendedPing: the site, changes and feed URLs).

    XML-RPC when the body is XML (whatever the declared type: WordPress says text/xml, some say
    nothing); JSON for application/json; otherwise a form. PingError for anything else.
    """
    if len(body) > MAX_PING_BYTES:
        raise PingError(f"ping body over {MAX_PING_BYTES // 1024} KiB")
    kind = (content_type or "").split(";")[0].strip().lower()
    if _XML_START.match(body):
        urls = _xmlrpc_urls(body)
    elif kind == "application/json" or body.lstrip()[:1] == b"{":
        urls = _json_urls(body)
    else:
        urls = _form_urls(body)
    found = tuple(u.strip() for u in urls if isinstance(u, str) and _is_http(u.strip()))
    if not found:
        raise PingError("the ping names no http(s) URL")
    return found


def _xmlrpc_urls(body: bytes) -> list[object]:
    if _DECLARATION.search(body):
        raise PingError("XML-RPC with a DOCTYPE or entity declaration refused")
    try:
        params, method = xmlrpc.client.loads(body)
    except (ExpatError, xmlrpc.client.ResponseError, ValueError, TypeError) as exc:
        raise PingError(f"malformed XML-RPC: {str(exc).splitlines()[0][:120]}") from None
    if method not in PING_METHODS:
        raise PingError(f"unknown XML-RPC method {str(method)[:60]!r}")
    if len(params) < 2:
        raise PingError(f"{method} needs a name and a URL")
    return list(params[1:4])  # url, then extendedPing's changesURL and rssURL (tags, if any, are not URLs)


def _json_urls(body: bytes) -> list[object]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise PingError("malformed JSON ping") from None
    if not isinstance(data, dict):
        raise PingError("a JSON ping is an object with a url")
    return [data.get("url"), data.get("feed_url"), data.get("rss_url")]


def _form_urls(body: bytes) -> list[object]:
    try:
        fields = parse_qs(body.decode("utf-8"), max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise PingError("malformed form ping") from None
    return [value for key in ("url", "feed_url", "rss_url") for value in fields.get(key, [])[:1]]


def _is_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def ping_key(url: str) -> str | None:
    """What a ping URL and a feed's (or its site's) URL are compared by: the canonical URL without its
    scheme, a leading `www.` or a trailing slash (a site pinging http://www.example.com/ is the
    https://example.com feed's site). None for a URL that is not http(s)."""
    try:
        canonical = canonical_url(url)
    except ValueError:
        return None
    rest = canonical.split("://", 1)[1]
    rest = rest.removeprefix("www.")
    return rest.rstrip("/")


def xmlrpc_answer(*, ok: bool, message: str) -> bytes:
    """The weblogUpdates reply: a struct with `flerror` (true = not taken) and a message."""
    return xmlrpc.client.dumps(({"flerror": not ok, "message": message},), methodresponse=True).encode()
