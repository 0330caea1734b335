"""WebSub, the pure parts: where a feed's hub is (discovery) and whether a pushed body is signed by it.

Discovery (W3C WebSub §4): the hub (`rel="hub"`) and the topic (`rel="self"`) are read from the HTTP
`Link:` header first and from the document second (`<atom:link>` in RSS, `<link>` in Atom, `hubs` and
`feed_url` in JSON Feed: `bot.core.feedparse` and `bot.core.jsonfeed` put them on ParsedFeed). A feed
that names a hub but no self URL is subscribed under the URL it was fetched from.

Authenticated content distribution (§7.1): the hub signs each body with HMAC over the subscriber's
`hub.secret` and sends `X-Hub-Signature: method=hexdigest`, method one of sha1, sha256, sha384 or
sha512. The comparison is constant-time. Subscribing, verifying intent and storing are the WebSub
service's (`bot/services/websub.py`); HTTP is `bot/edges/http_websub.py`'s.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urljoin, urlsplit

__all__ = [
    "SIGNATURE_METHODS",
    "HubLink",
    "Signature",
    "check_signature",
    "discover_hub",
    "link_header_rels",
    "sign",
]

SIGNATURE_METHODS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
_LINK_VALUE = re.compile(r"<([^>]*)>(.*)", re.S)
_LINK_PARAM = re.compile(r"""\s*;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?""")
_HEX = re.compile(r"[0-9a-fA-F]+")


@dataclass(frozen=True, slots=True)
class HubLink:
    """Where to subscribe (`hub`) to what (`topic`, the feed's self URL)."""

    hub: str
    topic: str


class Signature(Enum):
    """What an `X-Hub-Signature` header says about a body."""

    VALID = "valid"
    MISSING = "missing"
    MALFORMED = "malformed"  # not `method=hex`
    UNSUPPORTED = "unsupported"  # a method other than sha1/sha256/sha384/sha512
    MISMATCH = "mismatch"  # well-formed, but not this body under this secret


def _http(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _link_values(header: str) -> list[str]:
    """The header's link-values: split at commas outside `<...>` and quoted strings."""
    values: list[str] = []
    start, in_target, in_quote, escaped = 0, False, False, False
    for index, char in enumerate(header):
        if escaped:
            escaped = False
        elif in_quote:
            escaped, in_quote = char == "\\", char != '"'
        elif in_target:
            in_target = char != ">"
        elif char == "<":
            in_target = True
        elif char == '"':
            in_quote = True
        elif char == ",":
            values.append(header[start:index])
            start = index + 1
    values.append(header[start:])
    return [value.strip() for value in values if value.strip()]


def link_header_rels(header: str | None, base: str) -> dict[str, list[str]]:
    """An HTTP `Link:` header (RFC 8288) as rel -> absolute http(s) URLs, in order; relative URLs resolve
    against `base`, a `rel` with several space-separated values counts for each. Garbage is skipped."""
    found: dict[str, list[str]] = {}
    for value in _link_values(header or ""):
        match = _LINK_VALUE.match(value)
        if match is None:
            continue
        rels: list[str] = []
        for name, param in _LINK_PARAM.findall(match.group(2)):
            if name.lower() == "rel" and not rels:  # RFC 8288: only the first rel counts
                rels = param.strip('"').lower().split()
        try:
            url = urljoin(base, match.group(1).strip())
        except ValueError:
            continue
        if not _http(url):
            continue
        for rel in rels:
            if url not in found.setdefault(rel, []):
                found[rel].append(url)
    return found


def discover_hub(
    *, link_header: str | None, hubs: tuple[str, ...], self_url: str | None, feed_url: str
) -> HubLink | None:
    """The hub and topic to subscribe to: the Link header's first, else the document's; the topic is the
    self URL from the same place when it gave one, else the other's, else `feed_url`. None: no hub."""
    header = link_header_rels(link_header, feed_url)
    header_hubs = header.get("hub", [])
    header_self = next(iter(header.get("self", [])), None)
    document_hubs = [h for h in hubs if _http(h)]
    document_self = self_url if self_url and _http(self_url) else None
    if header_hubs:
        hub, topic = header_hubs[0], header_self or document_self
    elif document_hubs:
        hub, topic = document_hubs[0], document_self or header_self
    else:
        return None
    return HubLink(hub=hub, topic=topic or feed_url)


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    """The `X-Hub-Signature` value a hub sends for `body` (what the local hub and the tests use)."""
    digest = hmac.new(secret.encode("utf-8"), body, SIGNATURE_METHODS[method]).hexdigest()
    return f"{method}={digest}"


def check_signature(secret: str, body: bytes, header: str | None) -> Signature:
    """Whether `header` (an `X-Hub-Signature` value) signs `body` under `secret`; constant-time."""
    if header is None or not header.strip():
        return Signature.MISSING
    method, sep, given = header.strip().partition("=")
    method = method.strip().lower()
    given = given.strip()
    if not sep or not method or not _HEX.fullmatch(given):
        return Signature.MALFORMED
    algorithm = SIGNATURE_METHODS.get(method)
    if algorithm is None:
        return Signature.UNSUPPORTED
    expected = hmac.new(secret.encode("utf-8"), body, algorithm).hexdigest()
    if hmac.compare_digest(expected.encode("ascii"), given.lower().encode("ascii")):
        return Signature.VALID
    return Signature.MISMATCH
