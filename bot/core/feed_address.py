"""Whether a feed address an admin sent from chat may be fetched: http(s) only, and no private networks.

Pure: the chat edge resolves the host name and passes the addresses in. Loopback, private, link-local,
carrier-grade NAT, multicast, reserved and unspecified addresses are refused (IPv4-mapped IPv6 included), so
a stolen admin account cannot make the bot probe the host's own network. Feeds the operator configures
(FEEDS, the shell) are trusted and never come through here; ALLOW_PRIVATE_FEEDS=true skips the check.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from bot.core.chat_args import ArgumentError

_BLOCKED_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_BLOCKED_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class UnsafeAddressError(ArgumentError):
    """The URL points at a private or local network (or cannot be fetched as a feed at all)."""


def feed_host(url: str) -> tuple[str, int]:
    """The (host, port) to check for an http(s) URL; UnsafeAddressError for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeAddressError(f"That address is not a valid URL ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeAddressError("Only http:// and https:// addresses can be feeds.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeAddressError("That address has no host name.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeAddressError("Feed addresses with a user name or password are not accepted from chat.")
    return host, port or (443 if scheme == "https" else 80)


def blocked_ip(address: str) -> bool:
    """True for an address on a loopback, private, link-local or otherwise non-public network."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return blocked_ip(str(mapped))
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return True
    return not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback


def check_host_name(host: str) -> None:
    """Refuse names that always mean this machine or its local network, before any lookup."""
    literal = host.strip("[]")
    try:
        ipaddress.ip_address(literal.split("%", 1)[0])
    except ValueError:
        # A name without a dot ("nas", "intranet") is found through the local search domains.
        if host in _BLOCKED_NAMES or host.endswith(_BLOCKED_SUFFIXES) or "." not in host.strip("."):
            raise UnsafeAddressError(
                f"{host} is a local address; feeds from chat must be on the public internet."
            ) from None
        return
    if blocked_ip(literal):
        raise UnsafeAddressError(f"{literal} is a private or local address; feeds from chat must be public.")


def names_private_place(url: str) -> bool:
    """True when the URL itself, without any lookup, names a non-public place: a non-public IP address or
    a local name. The fetcher trusts such a URL (the operator wrote it), redirects included."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    try:
        check_host_name(host)
    except UnsafeAddressError:
        return bool(host)
    return False


def check_resolved(host: str, addresses: Iterable[str]) -> None:
    """Refuse the host when any address it resolves to is private or local (or it resolves to none)."""
    found = list(addresses)
    if not found:
        raise UnsafeAddressError(f"{host} does not resolve to any address.")
    bad = next((a for a in found if blocked_ip(a)), None)
    if bad is not None:
        raise UnsafeAddressError(
            f"{host} resolves to {bad}, a private or local address; feeds must be public."
        )
