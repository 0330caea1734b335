"""OPML in and out through `newsbot feeds import|export` and in chat (/export sends a document, an admin's
.opml document is imported): a round trip, twice adds nothing, non-feeds and (in chat) private addresses are
refused with their reason, and bombs, huge lists and non-OPML files are one-line refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.opml import MAX_OPML_BYTES, MAX_OUTLINES, OpmlError, OpmlFeed, export_opml, parse_opml
from tests.edges.test_cli_feeds import newsbot
from tests.kits.chatkit import ADMIN, READER, ChatBot, running_bot
from tests.kits.feedserver import FeedServer
from tests.kits.ingestkit import DATA

NOW = datetime(2026, 12, 3, tzinfo=UTC)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        srv.route("/a.xml", (DATA / "wordpress.xml").read_bytes())
        srv.route("/b.xml", (DATA / "wordpress.xml").read_bytes().replace(b"<title>", b"<title>B ", 1))
        srv.route("/page", "<html><body>no feed here</body></html>", content_type="text/html")
        yield srv


def opml(*outlines: str) -> str:
    body = "".join(outlines)
    return f'<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>{body}</body></opml>'


async def test_import_twice_then_export_round_trip(tmp_path: Path, server: FeedServer) -> None:
    listing = tmp_path / "feeds.opml"
    listing.write_text(
        opml(
            f'<outline text="News"><outline type="rss" text="A" xmlUrl="{server.url("/a.xml")}"/>',
            f'<outline type="rss" text="B" xmlUrl="{server.url("/b.xml")}"/></outline>',
            f'<outline type="rss" text="Not a feed" xmlUrl="{server.url("/page")}"/>',
        )
    )
    code, out, err = await newsbot(tmp_path, "feeds", "import", str(listing))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "added 2, already there 0, refused 1 (of 3 in the file)"
    assert lines[1].startswith(f"  refused {server.url('/page')}: ")
    code, out, _ = await newsbot(tmp_path, "feeds", "import", str(listing))
    assert out.splitlines()[0] == "added 0, already there 2, refused 1 (of 3 in the file)"
    code, out, err = await newsbot(tmp_path, "feeds", "export")
    assert code == 0, err
    exported = parse_opml(out.encode())
    assert sorted(f.url for f in exported) == sorted([server.url("/a.xml"), server.url("/b.xml")])
    code, out, _ = await newsbot(tmp_path, "feeds", "export", str(tmp_path / "out.opml"))
    assert out.strip() == f"exported 2 feed(s) to {tmp_path / 'out.opml'}"
    code, out, _ = await newsbot(tmp_path, "audit")
    assert "shell · feeds imported · added 2, already there 0, refused 1" in out


async def test_refusals_are_one_line_and_add_nothing(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.opml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
        '<opml version="2.0"><body><outline text="&b;" xmlUrl="http://x.example/feed"/></body></opml>'
    )
    huge = tmp_path / "huge.opml"
    huge.write_text(opml(*(f'<outline xmlUrl="http://x.example/{i}"/>' for i in range(10_000))))
    html = tmp_path / "page.opml"
    html.write_text("<html><body>hello</body></html>")
    for path, reason in (
        (bomb, "declares a DOCTYPE or entities"),
        (huge, "10000 outlines; at most 5000"),
        (html, "not OPML"),
        (tmp_path / "missing.opml", "cannot read"),
    ):
        code, out, err = await newsbot(tmp_path, "feeds", "import", str(path))
        assert code != 0
        assert len(err.strip().splitlines()) == 1
        assert reason in err
    code, out, _ = await newsbot(tmp_path, "feeds", "list")
    assert "no feeds yet" in out


def test_parse_and_export_pure() -> None:
    feeds = [
        OpmlFeed("https://a.example/feed?x=1&y=2", 'A & "B"', "https://a.example/"),
        OpmlFeed("https://b.example/rss"),
    ]
    assert parse_opml(export_opml(feeds, title="t & t", now=NOW).encode()) == [
        feeds[0],
        OpmlFeed("https://b.example/rss", "https://b.example/rss", None),
    ]
    with pytest.raises(OpmlError, match="not well-formed"):
        parse_opml(b"<opml><body>")
    assert (
        len(parse_opml(opml(*(f'<outline xmlUrl="http://x/{i}"/>' for i in range(MAX_OUTLINES))).encode()))
        == MAX_OUTLINES
    )


# -- in chat: /export sends a document, an admin's .opml document is imported -----------------------------


async def _reply_to_document(chat: ChatBot, filename: str, content: bytes, *, user_id: int = ADMIN) -> str:
    chat.api.inject_document(filename, content, user_id=user_id)
    return (await chat.api.wait_for_reply(user_id, timeout=15)).text


async def _export(chat: ChatBot) -> bytes:
    chat.api.inject_message("/export", user_id=ADMIN)
    sent = await chat.api.wait_for_reply(ADMIN, timeout=10)
    assert sent.kind == "document"
    assert sent.document is not None
    assert sent.document["file_name"] == "newsbot-feeds.opml"
    return chat.api.files[sent.document["file_id"]].content


def _feed_urls(chat: ChatBot) -> set[str]:
    return {row[0] for row in chat.query("SELECT url FROM feeds")}


async def test_chat_export_then_import_of_a_document(tmp_path: Path, server: FeedServer) -> None:
    async with running_bot(tmp_path, articles=20, ALLOW_PRIVATE_FEEDS="true", COMMAND_BURST="100") as chat:
        before = _feed_urls(chat)
        exported = await _export(chat)
        assert {f.url for f in parse_opml(exported)} == before
        listing = opml(
            f'<outline text="News"><outline type="rss" text="A" xmlUrl="{server.url("/a.xml")}"/>',
            f'<outline type="rss" text="B" xmlUrl="{server.url("/b.xml")}"/></outline>',
            f'<outline type="rss" text="Not a feed" xmlUrl="{server.url("/page")}"/>',
            f'<outline type="rss" text="Known" xmlUrl="{sorted(before)[0]}"/>',
        ).encode()
        first = await _reply_to_document(chat, "feeds.opml", listing)
        assert first.splitlines()[0] == "📥 Added 2, already there 1, refused 1 (of 4 in the file)."
        assert f"• {server.url('/page')}: " in first
        again = await _reply_to_document(chat, "feeds.opml", listing)
        assert again.splitlines()[0] == "📥 Added 0, already there 3, refused 1 (of 4 in the file)."
        assert _feed_urls(chat) == before | {server.url("/a.xml"), server.url("/b.xml")}
        round_trip = await _reply_to_document(chat, "newsbot-feeds.opml", await _export(chat))
        total = len(before) + 2
        assert (
            round_trip.splitlines()[0]
            == f"📥 Added 0, already there {total}, refused 0 (of {total} in the file)."
        )
        audit = chat.query("SELECT actor_id, action, detail FROM audit_log ORDER BY id")
        assert (ADMIN, "feeds imported", "added 2, already there 1, refused 1 (of 4 in the file)") in audit


async def test_chat_import_refusals_change_nothing(tmp_path: Path, server: FeedServer) -> None:
    async with running_bot(tmp_path, articles=20, COMMAND_BURST="100") as chat:
        before = _feed_urls(chat)
        private = opml(f'<outline type="rss" text="A" xmlUrl="{server.url("/a.xml")}"/>').encode()
        reply = await _reply_to_document(chat, "feeds.opml", private, user_id=READER)
        assert reply == "Sorry, only the bot's admins can import feeds. /help lists what you can do."
        reply = await _reply_to_document(chat, "feeds.opml", private)  # ALLOW_PRIVATE_FEEDS is false
        assert reply.splitlines()[0] == "📥 Added 0, already there 0, refused 1 (of 1 in the file)."
        assert "127.0.0.1 is a private or local address" in reply
        bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>'
        huge = opml(*(f'<outline xmlUrl="http://x.example/{i}"/>' for i in range(10_000))).encode()
        for filename, content, expected in (
            ("bomb.opml", bomb, "Nothing was imported: the file declares a DOCTYPE or entities"),
            ("huge.opml", huge, "Nothing was imported: 10000 outlines; at most 5000 are read."),
            (
                "big.opml",
                b" " * (MAX_OPML_BYTES + 1),
                "That file is larger than 1024 KiB; nothing was imported.",
            ),
            ("notes.pdf", b"%PDF-1.4", "Send an OPML file (.opml or .xml) to import feeds"),
            ("page.xml", b"<html><body>hi</body></html>", "Nothing was imported: not OPML"),
        ):
            reply = await _reply_to_document(chat, filename, content)
            assert len(reply.splitlines()) == 1
            assert reply.startswith(expected), reply
        assert _feed_urls(chat) == before
        chat.api.inject_message("/export", user_id=READER)
        refused = await chat.api.wait_for_reply(READER, timeout=10)
        assert refused.text == "Sorry, /export is only for the bot's admins. /help lists what you can do."
        assert chat.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'feeds imported'") == 1
