"""Ping bodies: what WordPress and other senders POST, and every way a body can be bad."""

from __future__ import annotations

import json
import xmlrpc.client

import pytest

from bot.core.pings import MAX_PING_BYTES, PingError, ping_key, ping_urls, xmlrpc_answer

# What WordPress's IXR client sends for weblog_ping(): extendedPing with (blog name, home URL, RSS2 URL),
# then plain ping(name, home URL) if the service refuses that.
WORDPRESS_EXTENDED = b"""<?xml version="1.0"?>
<methodCall>
<methodName>weblogUpdates.extendedPing</methodName>
<params>
<param><value><string>Daily Planet &amp; Co</string></value></param>
<param><value><string>https://dailyplanet.example/</string></value></param>
<param><value><string>https://dailyplanet.example/feed/</string></value></param>
</params></methodCall>
"""
WORDPRESS_PING = b"""<?xml version="1.0"?>
<methodCall>
<methodName>weblogUpdates.ping</methodName>
<params>
<param><value><string>Daily Planet</string></value></param>
<param><value><string>https://dailyplanet.example/</string></value></param>
</params></methodCall>
"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<methodCall><methodName>weblogUpdates.ping</methodName><params>
<param><value>&lol2;</value></param><param><value>https://dailyplanet.example/</value></param>
</params></methodCall>"""


def test_wordpress_pings_name_the_site_and_its_feed() -> None:
    assert ping_urls(WORDPRESS_EXTENDED, "text/xml") == (
        "https://dailyplanet.example/",
        "https://dailyplanet.example/feed/",
    )
    assert ping_urls(WORDPRESS_PING, None) == ("https://dailyplanet.example/",)  # type or none: XML is XML


def test_four_argument_extended_ping_and_values_without_a_string_type() -> None:
    body = xmlrpc.client.dumps(
        ("Blog", "http://blog.example", "http://blog.example/changes", "http://blog.example/rss"),
        "weblogUpdates.extendedPing",
    ).encode()
    assert ping_urls(body, "text/xml") == (
        "http://blog.example",
        "http://blog.example/changes",
        "http://blog.example/rss",
    )
    bare = b"<methodCall><methodName>weblogUpdates.ping</methodName><params><param><value>B</value></param>"
    bare += b"<param><value>https://b.example/</value></param></params></methodCall>"
    assert ping_urls(bare, "text/xml") == ("https://b.example/",)


def test_form_and_json_pings() -> None:
    assert ping_urls(b"url=https%3A%2F%2Fsite.example%2Ffeed%2F", "application/x-www-form-urlencoded") == (
        "https://site.example/feed/",
    )
    body = json.dumps({"url": "https://site.example/", "feed_url": "https://site.example/rss"}).encode()
    assert ping_urls(body, "application/json") == ("https://site.example/", "https://site.example/rss")


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (BILLION_LAUGHS, "text/xml", "DOCTYPE or entity declaration refused"),
        (b'<?xml version="1.0"?><!ENTITY x "y"><methodCall/>', "text/xml", "DOCTYPE or entity"),
        (b"<!doctype html><html></html>", "text/html", "DOCTYPE or entity"),
        (b"<methodCall><methodName>weblogUpdates.ping</methodName>", "text/xml", "malformed XML-RPC"),
        (xmlrpc.client.dumps(("a", "https://x.example/"), "system.listMethods").encode(), None, "unknown"),
        (
            xmlrpc.client.dumps(("only a name",), "weblogUpdates.ping").encode(),
            None,
            "needs a name and a URL",
        ),
        (xmlrpc.client.dumps(("n", "javascript:alert(1)"), "weblogUpdates.ping").encode(), None, "no http"),
        (xmlrpc.client.dumps(("n", 42), "weblogUpdates.ping").encode(), None, "no http(s) URL"),
        (b"{not json", "application/json", "malformed JSON ping"),
        (b"[1, 2]", "application/json", "a JSON ping is an object"),
        (b"url=file%3A%2F%2F%2Fetc%2Fpasswd", None, "no http(s) URL"),
        (b"\xff\xfe", "application/x-www-form-urlencoded", "malformed form ping"),
        (b"", None, "no http(s) URL"),
        (b"url=https://x.example/" + b"a" * MAX_PING_BYTES, None, "over 64 KiB"),
    ],
)
def test_bad_pings_are_one_line_errors(body: bytes, content_type: str | None, reason: str) -> None:
    with pytest.raises(PingError) as caught:
        ping_urls(body, content_type)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_ping_keys_ignore_scheme_www_and_trailing_slash_but_not_the_path() -> None:
    assert ping_key("http://www.Example.com/") == ping_key("https://example.com") == "example.com"
    assert ping_key("https://example.com/feed/") == "example.com/feed"
    assert ping_key("https://example.com/feed/?utm_source=x") == "example.com/feed"
    assert ping_key("https://example.com/other/") != ping_key("https://example.com/feed/")
    assert ping_key("https://example.com:8443/") != ping_key("https://example.com/")
    assert ping_key("ftp://example.com/") is None


def test_the_answer_is_what_weblogupdates_clients_read() -> None:
    (struct,), method = xmlrpc.client.loads(xmlrpc_answer(ok=True, message="Thanks for the ping."))
    assert method is None
    assert struct == {"flerror": False, "message": "Thanks for the ping."}
    (struct,), _ = xmlrpc.client.loads(xmlrpc_answer(ok=False, message="no <feed> & such"))
    assert struct["flerror"] is True
    assert struct["message"] == "no <feed> & such"
