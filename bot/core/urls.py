"""Canonical article URLs and dedupe keys (pure string work); fetching and redirects are left to the fetcher.

`canonical_url` resolves a URL against a base and normalises what never changes the resource:
scheme and host case, IDNA host, default port, empty path, dot segments, unsafe characters, the
fragment (kept only for "#!" hash-bang routes) and the tracking parameters listed in
`TRACKING_PARAMS`/`TRACKING_PREFIXES`. Every other query parameter keeps its order and spelling,
and path case and trailing slashes are kept: servers may tell them apart.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

import idna

__all__ = ["TRACKING_PARAMS", "TRACKING_PREFIXES", "canonical_url", "dedupe_key"]

# Query parameters that only track the click (compared case-insensitively, after percent-decoding).
TRACKING_PARAMS = frozenset(
    {
        # Google Ads / Analytics, Microsoft, Meta, TikTok, X, LinkedIn, Yandex click ids
        "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "_ga", "_gl", "msclkid", "fbclid", "ttclid",
        "twclid", "li_fat_id", "yclid", "ysclid",
        # Mailchimp, HubSpot, Marketo, Vero, Olytics, Openstat
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "__hssc", "__hstc", "__hsfp", "hsctatracking", "mkt_tok",
        "vero_id", "vero_conv", "oly_anon_id", "oly_enc_id", "_openstat",
        # Instagram, X/Twitter share links, news-site share and campaign tags
        "igshid", "igsh", "ref_src", "ref_url", "s_cid", "cmpid", "ncid", "ocid", "smid", "smtyp",
        "sr_share", "xtor", "at_medium", "at_campaign", "wt.mc_id", "wt_mc", "ito", "spm",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_",)  # utm_source, utm_medium, utm_campaign, utm_term, utm_content, utm_id, ...

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are; everything else (space, non-ASCII, quotes, angle brackets) is %-encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = "/?%:@!$&'()*+,;=-._~"
_ASCII_HOST = re.compile(r"[a-z0-9_.-]+|[0-9a-f:.]+")  # names (with "_", seen in the wild) or IPv6
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


def _host(hostname: str) -> str:
    host = hostname.rstrip(".").lower()
    if not host:
        raise ValueError("URL has no host")
    if host.isascii():
        if not _ASCII_HOST.fullmatch(host):
            raise ValueError(f"invalid host {hostname!r}")
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as e:
        raise ValueError(f"invalid host {hostname!r}: {e}") from e


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, for paths that contain "." or ".." segments."""
    out: list[str] = []
    segments = path.split("/")
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
        elif segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    result = "/".join(out)
    return result if result.startswith("/") else "/" + result


def _is_tracking(param: str) -> bool:
    key = unquote_plus(param.split("=", 1)[0]).lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _upper(match: re.Match[str]) -> str:
    return match.group().upper()


def canonical_url(url: str, base: str | None = None) -> str:
    """The canonical absolute form of `url` (resolved against `base`); ValueError unless http(s)."""
    url = url.strip()
    if base and not _HAS_SCHEME.match(url):  # urljoin costs two parses; absolute URLs skip it
        url = urljoin(base.strip(), url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(f"not an http(s) URL: {url[:200]!r}")
    host = _host(parts.hostname or "")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port  # ValueError when out of range or not a number
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    if "@" in parts.netloc:
        netloc = parts.netloc.rpartition("@")[0] + "@" + netloc
    path = parts.path or "/"
    if "/." in path:
        path = _remove_dot_segments(path)
    path = quote(path, safe=_PATH_SAFE)
    if "%" in path:
        path = _ESCAPE.sub(_upper, path)
    query = parts.query
    if query:
        query = "&".join(p for p in query.split("&") if p and not _is_tracking(p))
        query = quote(query, safe=_QUERY_SAFE)
        if "%" in query:
            query = _ESCAPE.sub(_upper, query)
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    return urlunsplit((scheme, netloc, path, query, quote(fragment, safe=_QUERY_SAFE + "#")))


def dedupe_key(url: str) -> str:
    """A looser key for "same article" checks: canonical URL without scheme, "www." and trailing "/".

    `http://www.example.com/a/?b=1` and `https://example.com/a?b=1` share the key
    `example.com/a?b=1`. Raises ValueError like `canonical_url`.
    """
    parts = urlsplit(canonical_url(url))
    host = parts.netloc.removeprefix("www.")
    path = parts.path.rstrip("/")
    key = host + path
    if parts.query:
        key += "?" + parts.query
    if parts.fragment:
        key += "#" + parts.fragment
    return key
