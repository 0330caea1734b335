"""Telegram HTML parse mode: plain text, entities in UTF-16 units and Telegram's exact error messages."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bot.core import telegram_html
from bot.core.telegram_html import Entity, ParsedText, TelegramHTMLError, parse_html, utf16_len


def test_plain_text_passes_through() -> None:
    assert parse_html("Hello, world") == ParsedText("Hello, world", [])


@pytest.mark.parametrize(
    ("tag", "kind"),
    [
        ("b", "bold"),
        ("strong", "bold"),
        ("i", "italic"),
        ("em", "italic"),
        ("u", "underline"),
        ("ins", "underline"),
        ("s", "strikethrough"),
        ("strike", "strikethrough"),
        ("del", "strikethrough"),
        ("tg-spoiler", "spoiler"),
        ("code", "code"),
        ("pre", "pre"),
        ("blockquote", "blockquote"),
    ],
)
def test_simple_tags(tag: str, kind: str) -> None:
    parsed = parse_html(f"a <{tag}>bc</{tag}> d")
    assert parsed.text == "a bc d"
    assert parsed.entities == [Entity(kind, 2, 2, None)]


def test_tags_are_case_insensitive_and_end_tag_may_be_empty() -> None:
    assert parse_html("<B>x</b><I>y</>").entities == [Entity("bold", 0, 1), Entity("italic", 1, 1)]


def test_nested_entities_sorted_outer_first() -> None:
    parsed = parse_html("<b>bold <i>both</i></b> <u>u</u>")
    assert parsed.text == "bold both u"
    assert parsed.entities == [
        Entity("bold", 0, 9),
        Entity("italic", 5, 4),
        Entity("underline", 10, 1),
    ]


def test_offsets_count_utf16_code_units() -> None:
    parsed = parse_html("😀é <b>x😀</b>")
    assert parsed.text == "😀é x😀"
    assert parsed.entities == [Entity("bold", 4, 3)]
    assert parsed.length == 7
    assert utf16_len("😀é") == 3
    assert utf16_len("plain") == 5


def test_only_four_named_entities_are_decoded() -> None:
    parsed = parse_html("&lt;b&gt; &amp; &quot;q&quot; &nbsp; &copy; &AMP; &lt")
    assert parsed.text == '<b> & "q" &nbsp; &copy; &AMP; <'


def test_numeric_references_and_bare_ampersand() -> None:
    assert parse_html("&#60;&#x3C;&#x3c &#128512; AT&T &# &#0; &#1114111;").text == (
        "<<< 😀 AT&T &# &#0; &#1114111;"
    )


def test_link_with_escaped_ampersand_in_href() -> None:
    parsed = parse_html('<a href="https://example.com/a?b=1&amp;c=2">read</a>')
    assert parsed.text == "read"
    assert parsed.entities == [Entity("text_link", 0, 4, "https://example.com/a?b=1&c=2")]
    assert parsed.entities[0].to_dict() == {
        "type": "text_link",
        "offset": 0,
        "length": 4,
        "url": "https://example.com/a?b=1&c=2",
    }


def test_link_variants() -> None:
    assert parse_html("<a>example.com</a>").entities == [Entity("text_link", 0, 11, "http://example.com/")]
    assert parse_html("<a href='https://example.com'>x</a>").entities[0].extra == "https://example.com/"
    # an unquoted value is a name token, lowercased
    assert parse_html("<a href=Example.com>x</a>").entities[0].extra == "http://example.com/"
    # links Telegram refuses keep their text and lose the entity
    assert parse_html('<a href="javascript:alert(1)">x</a>') == ParsedText("x", [])
    assert parse_html('<a href="not a link">x</a>') == ParsedText("x", [])
    mention = parse_html('<a href="tg://user?id=42">Ann</a>').entities
    assert mention == [Entity("text_mention", 0, 3, "42")]
    assert mention[0].to_dict()["user"] == {"id": 42, "is_bot": False, "first_name": "User"}


def test_pre_with_language_and_code_language_outside_pre() -> None:
    parsed = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert parsed.entities == [Entity("pre", 0, 5, "python")]
    assert parsed.entities[0].to_dict()["language"] == "python"
    assert parse_html('<code class="language-python">x</code>').entities == [Entity("code", 0, 1)]


def test_blockquote_spoiler_and_custom_emoji() -> None:
    assert parse_html("<blockquote expandable>q</blockquote>").entities == [
        Entity("expandable_blockquote", 0, 1)
    ]
    assert parse_html('<span class="tg-spoiler">s</span>').entities == [Entity("spoiler", 0, 1)]
    emoji = parse_html('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>').entities
    assert emoji == [Entity("custom_emoji", 0, 2, "5368324170671202286")]


def test_empty_tags_make_no_entity_and_unknown_attributes_are_ignored() -> None:
    assert parse_html("a<b></b>c") == ParsedText("ac", [])
    assert parse_html('<b class="x" data-y=1>z</b>').entities == [Entity("bold", 0, 1)]


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("line<br>", 'Unsupported start tag "br" at byte offset 4'),
        ("é <div>", 'Unsupported start tag "div" at byte offset 3'),  # byte offsets count UTF-8 bytes
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<a href", 'Unclosed start tag "a" at byte offset 0'),
        ('<a href="x"', "Unclosed start tag at byte offset 0"),
        ('<a ="x">y</a>', 'Empty attribute name in the tag "a" at byte offset 0'),
        ("<a href=x/>y</a>", "Unexpected end of name token at byte offset 8"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ('<tg-emoji emoji-id="x">y</tg-emoji>', "Invalid custom emoji identifier specified"),
        ("<{}>", 'Unsupported start tag "{}" at byte offset 0'),
        (
            "&#xD83D;&#xDE00;",
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units",
        ),
    ],
)
def test_errors_read_like_telegram(html: str, reason: str) -> None:
    with pytest.raises(TelegramHTMLError) as caught:
        parse_html(html)
    assert str(caught.value) == f"Can't parse entities: {reason}"
    assert caught.value.reason == reason


def test_error_carries_byte_offset() -> None:
    with pytest.raises(TelegramHTMLError) as caught:
        parse_html("😀<img>")
    assert caught.value.byte_offset == 4


def test_stripped_trims_whitespace_and_clips_entities() -> None:
    parsed = parse_html("\n  <b> bold</b> tail <i> </i>\n").stripped()
    assert parsed.text == "bold tail"
    assert parsed.entities == [Entity("bold", 0, 4)]
    assert parse_html("   ").stripped().text == ""
    unchanged = parse_html("<b>x</b>")
    assert unchanged.stripped() is unchanged


def test_entity_dicts() -> None:
    assert parse_html("<b>x</b>").entity_dicts() == [{"type": "bold", "offset": 0, "length": 1}]


def test_long_message_parses_fast() -> None:
    chunk = (
        '<b>Headline &amp; more</b>\n<i>dek é 😀</i> <a href="https://example.com/a?b=1&amp;c=2">Read</a>\n'
    )
    parsed = parse_html(chunk * 100)
    assert len(parsed.entities) == 300


def test_module_imports_no_io_library() -> None:
    code = (
        "import sys, bot.core.telegram_html\n"
        "bad = {'httpx', 'aiosqlite', 'telegram', 'aiohttp'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


QUICK_CASES = [
    "<b>bold</b> and <i>it</i>",
    '<a href="https://x.example/?a=1&amp;b=2">link</a>',
    '<a href="">empty href</a>',
    '<a href="tg://user?id=1">user</a>',
    "<span>no class</span>",
    '<span class="tg-spoiler">ok</span>',
    "<B>upper</b>",
    "<b>x</B>",
    "<b>x</i>",
    "<b>x</b >",
    "<b >x</b>",
    "<tg-spoiler>s</tg-spoiler>",
    "<blockquote expandable>q</blockquote>",
    "<p>unsupported</p>",
    "<a href='single'>q</a>",
    '<a  href="two spaces">q</a>',
    '<a href="x" title="t">q</a>',
    "<b><i>nested</i></b>",
    "<b></b>empty",
    "</b>",
    "<b>unclosed",
    '<pre><code class="language-python">x</code></pre>',
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
    "a &lt; b &amp;&amp; c &gt; d",
    "<u>😀</u><s>ü</s>",
]


@pytest.mark.parametrize("markup", QUICK_CASES)
def test_the_quick_tag_shapes_read_as_the_careful_way_does(
    markup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def outcome() -> object:
        try:
            parsed = parse_html(markup)
        except TelegramHTMLError as exc:
            return ("error", str(exc))
        return (parsed.text, parsed.entities)

    quick = outcome()
    monkeypatch.setattr(telegram_html._Parser, "quick_start", lambda self, begin: None)
    monkeypatch.setattr(telegram_html, "_PLAIN_END", re.compile(r"(?!)"))
    assert outcome() == quick
