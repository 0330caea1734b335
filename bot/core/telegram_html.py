"""Telegram's HTML parse mode as the Bot API parses it: plain text, entities in UTF-16 units, or an error.

The rules follow TDLib's `parse_html` (the code behind the Bot API): the supported tags, attribute syntax,
entity decoding (only `&lt; &gt; &amp; &quot;` by name, with or without `;`, and numeric references; any other
`&` stays literal) and error messages with UTF-8 byte offsets. Checking lengths and limits is left to callers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "ENTITY_LIMIT",
    "Entity",
    "ParsedText",
    "TelegramHTMLError",
    "parse_html",
    "utf16_len",
]

ENTITY_LIMIT = 100
"""A message may carry at most this many entities."""

_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
# TDLib sorts entities by offset, then longer first, then by this priority (outer entities first).
_PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = frozenset(" \t\r\n\v\f\0")  # TDLib's is_space; the end of the text reads as NUL
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
_MARKUP = re.compile(r"[<&]")
# The shapes nearly every tag has, read at once; anything else goes the careful way, character by character.
_PLAIN_START = re.compile(r"<([a-z][a-z0-9-]*)>")
_LINK_START = re.compile(r'<a href="([^"]*)">')
_PLAIN_END = re.compile(r"</([a-z][a-z0-9-]*)>")
_ALPHA_RUN = re.compile(r"[A-Za-z]*")
_DIGIT_RUN = re.compile(r"[0-9]*")
_HEX_RUN = re.compile(r"[0-9A-Fa-f]*")
_USER_LINK = re.compile(r"tg://user\?id=([0-9]{1,19})\Z", re.IGNORECASE)
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_HOST = re.compile(r"(?:[^\s/?#@]+@)?([^\s/?#:]+)(?::[0-9]{1,5})?([/?#].*)?\Z", re.DOTALL)
_LINK_SCHEMES = frozenset({"http", "https", "tg", "ton", "tonsite"})
_TRIM = " \t\r\n\v\f"


class TelegramHTMLError(ValueError):
    """The text is not valid Telegram HTML; `str()` reads like Telegram's "Can't parse entities: ..."."""

    def __init__(self, reason: str, *, byte_offset: int | None = None) -> None:
        super().__init__(f"Can't parse entities: {reason}")
        self.reason = reason
        self.byte_offset = byte_offset


class Entity(NamedTuple):
    """One message entity: Bot API type, offset and length in UTF-16 code units, and its one argument.

    `extra` is the `url` of a text_link, the `language` of a pre, the `custom_emoji_id` of a custom_emoji and
    the user id of a text_mention; None for the other types.
    """

    type: str
    offset: int
    length: int
    extra: str | None = None

    def to_dict(self) -> dict[str, object]:
        """The entity as the Bot API's MessageEntity JSON object."""
        out: dict[str, object] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.extra is None:
            return out
        if self.type == "text_link":
            out["url"] = self.extra
        elif self.type == "pre":
            out["language"] = self.extra
        elif self.type == "custom_emoji":
            out["custom_emoji_id"] = self.extra
        elif self.type == "text_mention":
            out["user"] = {"id": int(self.extra), "is_bot": False, "first_name": "User"}
        return out


@dataclass(frozen=True, slots=True)
class ParsedText:
    """What a reader sees: the text without markup and its entities, sorted the way Telegram sorts them."""

    text: str
    entities: list[Entity] = field(default_factory=list)

    @property
    def length(self) -> int:
        """Length of the text in UTF-16 code units, the unit of Telegram's length limits."""
        return utf16_len(self.text)

    def stripped(self) -> ParsedText:
        """The text with leading and trailing whitespace removed, as Telegram stores a message.

        Entities are shifted and clipped to the remaining text; entities left empty are dropped.
        """
        text = self.text.lstrip(_TRIM)
        start = utf16_len(self.text[: len(self.text) - len(text)])
        text = text.rstrip(_TRIM)
        end = start + utf16_len(text)
        if start == 0 and text == self.text:
            return self
        kept: list[Entity] = []
        for entity in self.entities:
            begin, finish = max(entity.offset, start), min(entity.offset + entity.length, end)
            if finish > begin:
                kept.append(entity._replace(offset=begin - start, length=finish - begin))
        return ParsedText(text, kept)

    def entity_dicts(self) -> list[dict[str, object]]:
        """The entities as Bot API MessageEntity JSON objects."""
        return [entity.to_dict() for entity in self.entities]


def utf16_len(s: str) -> int:
    """Length of `s` in UTF-16 code units: characters outside the BMP count twice."""
    if s.isascii():
        return len(s)
    return len(s.encode("utf-16-le", "surrogatepass")) // 2


def parse_html(text: str) -> ParsedText:
    """Parse `text` in Telegram's HTML parse mode; TelegramHTMLError carries Telegram's message if invalid.

    The result is not stripped of surrounding whitespace (see `ParsedText.stripped`) nor checked for length.
    """
    return _Parser(text).parse()


class _Open(NamedTuple):
    tag: str
    argument: str
    offset: int  # UTF-16 offset in the output where the tag's content starts
    part: int  # index in the output parts where the tag's content starts


class _Parser:
    """One pass over the markup; positions are str indexes, turned into UTF-8 byte offsets for errors."""

    def __init__(self, text: str) -> None:
        self.src = text
        self.parts: list[str] = []
        self.utf16 = 0
        self.entities: list[Entity] = []
        self.surrogate = False

    def at(self, i: int) -> str:
        return self.src[i] if i < len(self.src) else "\0"

    def fail(self, reason: str, pos: int | None = None, suffix: str = "") -> TelegramHTMLError:
        """An error; with `pos`, the message says "<reason> at byte offset N<suffix>" as Telegram's do."""
        if pos is None:
            return TelegramHTMLError(reason)
        byte_offset = len(self.src[:pos].encode("utf-8", "surrogatepass"))
        return TelegramHTMLError(f"{reason} at byte offset {byte_offset}{suffix}", byte_offset=byte_offset)

    def emit(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.utf16 += utf16_len(chunk)

    def parse(self) -> ParsedText:
        src = self.src
        nested: list[_Open] = []
        pos = 0
        while True:
            match = _MARKUP.search(src, pos)
            if match is None:
                if pos < len(src):
                    self.emit(src[pos:])
                break
            i = match.start()
            if i > pos:
                self.emit(src[pos:i])
            if src[i] == "&":
                decoded, end = self.reference(i)
                if decoded is None:
                    self.emit("&")
                    pos = i + 1
                else:
                    self.emit(decoded)
                    pos = end
                continue
            if self.at(i + 1) != "/":
                opened, pos = self.start_tag(i)
                nested.append(opened)
            else:
                pos = self.end_tag(i, nested)
        if nested:
            raise self.fail(f'Can\'t find end tag corresponding to start tag "{nested[-1].tag}"')
        if self.surrogate:
            raise self.fail(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        entities = [e._replace(extra=None) if e.type == "code" else e for e in self.entities]
        entities.sort(key=lambda e: (e.offset, -e.length, _PRIORITY.get(e.type, 50)))
        return ParsedText("".join(self.parts), entities)

    def reference(self, i: int) -> tuple[str | None, int]:
        """Decode the character reference at `i` (an `&`): the character and the index after it, or None."""
        src = self.src
        if self.at(i + 1) == "#":
            if self.at(i + 2) == "x":
                digits, base, end = _run(_HEX_RUN, src, i + 3), 16, i + 3
            else:
                digits, base, end = _run(_DIGIT_RUN, src, i + 2), 10, i + 2
            end += len(digits)
            code = int(digits, base) if digits else 0
            if code == 0 or code >= 0x10FFFF or end - i >= 10:
                return None, i
            if 0xD800 <= code <= 0xDFFF:
                self.surrogate = True
            char = chr(code)
        else:
            name = _run(_ALPHA_RUN, src, i + 1)
            end = i + 1 + len(name)
            named = _NAMED_REFERENCES.get(name)
            if named is None:
                return None, i
            char = named
        return char, end + 1 if self.at(end) == ";" else end

    def start_tag(self, begin: int) -> tuple[_Open, int]:
        """Read the start tag at `begin` (a `<`); returns the open tag and the index after its `>`."""
        quick = self.quick_start(begin)
        if quick is not None:
            return quick
        at = self.at
        i = begin + 1
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        if i >= len(self.src):
            raise self.fail("Unclosed start tag", begin)
        tag = self.src[begin + 1 : i].lower()
        if tag not in _SUPPORTED_TAGS:
            raise self.fail(f'Unsupported start tag "{tag}"', begin)
        argument = ""
        while at(i) != ">":
            while i < len(self.src) and at(i) in _SPACES:
                i += 1
            if at(i) == ">":
                break
            name_begin = i
            while at(i) not in _SPACES and at(i) not in "=>/\"'":
                i += 1
            name = self.src[name_begin:i]
            if not name:
                raise self.fail(f'Empty attribute name in the tag "{tag}"', begin)
            while i < len(self.src) and at(i) in _SPACES:
                i += 1
            if at(i) != "=":
                if i >= len(self.src):
                    raise self.fail(f'Unclosed start tag "{tag}"', begin)
                if tag == "blockquote" and name == "expandable":
                    argument = "1"
                continue
            i += 1
            while i < len(self.src) and at(i) in _SPACES:
                i += 1
            if i >= len(self.src):
                raise self.fail(f'Unclosed start tag "{tag}"', begin)
            value, i = self.attribute_value(i)
            if i >= len(self.src):
                raise self.fail("Unclosed start tag", begin)
            argument = _tag_argument(tag, name, value, argument)
        if tag == "span" and argument != "spoiler":
            raise self.fail('Tag "span" must have class "tg-spoiler"', begin)
        return _Open(tag, argument, self.utf16, len(self.parts)), i + 1

    def quick_start(self, begin: int) -> tuple[_Open, int] | None:
        """`<b>` or `<a href="…">` as `start_tag` reads them; None for any other shape."""
        plain = _PLAIN_START.match(self.src, begin)
        if plain is not None:
            tag = plain.group(1)
            if tag not in _SUPPORTED_TAGS or tag == "span":
                return None  # the careful way says why
            return _Open(tag, "", self.utf16, len(self.parts)), plain.end()
        link = _LINK_START.match(self.src, begin)
        if link is None:
            return None
        raw = link.group(1)
        value = _decode_references(raw) if "&" in raw else raw
        return _Open("a", _tag_argument("a", "href", value, ""), self.utf16, len(self.parts)), link.end()

    def attribute_value(self, i: int) -> tuple[str, int]:
        """Read the attribute value at `i`: a lowercased name token, or a quoted string decoded."""
        at = self.at
        quote = at(i)
        if quote not in "'\"":
            token_begin = i
            while at(i) in _TOKEN_CHARS:
                i += 1
            if at(i) not in _SPACES and at(i) != ">":
                raise self.fail("Unexpected end of name token", token_begin)
            return self.src[token_begin:i].lower(), i
        i += 1
        end = self.src.find(quote, i)
        if end < 0:
            end = len(self.src)
        raw = self.src[i:end]
        value = _decode_references(raw) if "&" in raw else raw
        return value, end + 1 if end < len(self.src) else end

    def end_tag(self, begin: int, nested: list[_Open]) -> int:
        """Close the innermost open tag with the end tag at `begin`; returns the index after its `>`."""
        if not nested:
            raise self.fail("Unexpected end tag", begin)
        quick = _PLAIN_END.match(self.src, begin)
        if quick is not None:
            end_name, i = quick.group(1), quick.end() - 1
        else:
            at = self.at
            i = begin + 2
            while at(i) not in _SPACES and at(i) != ">":
                i += 1
            end_name = self.src[begin + 2 : i].lower()
            while i < len(self.src) and at(i) in _SPACES:
                i += 1
            if at(i) != ">":
                raise self.fail("Unclosed end tag", begin)
        opened = nested.pop()
        if end_name and end_name != opened.tag:
            raise self.fail(
                "Unmatched end tag", begin, f', expected "</{opened.tag}>", found "</{end_name}>"'
            )
        if self.utf16 > opened.offset:
            self.add_entity(opened, self.utf16 - opened.offset)
        return i + 1

    def add_entity(self, opened: _Open, length: int) -> None:
        tag, offset, entities = opened.tag, opened.offset, self.entities
        last = entities[-1] if entities else None
        same_span = last is not None and last.offset == offset and last.length == length
        simple = _SIMPLE_TAGS.get(tag)
        if simple is not None:
            entities.append(Entity(simple, offset, length))
        elif tag == "blockquote":
            entities.append(
                Entity("expandable_blockquote" if opened.argument else "blockquote", offset, length)
            )
        elif tag == "tg-emoji":
            if not opened.argument.isdigit() or not 0 < int(opened.argument) < 2**63:
                raise self.fail("Invalid custom emoji identifier specified")
            entities.append(Entity("custom_emoji", offset, length, str(int(opened.argument))))
        elif tag == "a":
            url = opened.argument or "".join(self.parts[opened.part :])
            user = _USER_LINK.match(url.strip())
            if user is not None and int(user.group(1)) > 0:
                entities.append(Entity("text_mention", offset, length, str(int(user.group(1)))))
            else:
                checked = _check_link(url)
                if checked is not None:
                    entities.append(Entity("text_link", offset, length, checked))
        elif tag == "pre":
            if last is not None and same_span and last.type == "code" and last.extra:
                entities[-1] = Entity("pre", offset, length, last.extra)
            else:
                entities.append(Entity("pre", offset, length))
        elif tag == "code":
            if last is not None and same_span and last.type == "pre" and opened.argument:
                entities[-1] = Entity("pre", offset, length, opened.argument)
            else:
                entities.append(Entity("code", offset, length, opened.argument or None))


def _run(pattern: re.Pattern[str], text: str, pos: int) -> str:
    """The run of characters `pattern` matches at `pos`, possibly empty."""
    match = pattern.match(text, pos)
    return match.group() if match is not None else ""


def _tag_argument(tag: str, name: str, value: str, current: str) -> str:
    """The argument a start tag keeps from one attribute; unknown attributes are ignored, as Telegram does."""
    if (tag == "a" and name == "href") or (tag == "tg-emoji" and name == "emoji-id"):
        return value
    if tag == "code" and name == "class" and value.startswith("language-"):
        return value[9:]
    if tag == "span" and name == "class" and value.startswith("tg-"):
        return value[3:]
    if tag == "blockquote" and name == "expandable":
        return "1"
    return current


def _decode_references(raw: str) -> str:
    """Decode the character references inside a quoted attribute value; other `&` stay literal."""
    parser = _Parser(raw)
    out: list[str] = []
    pos = 0
    while (i := raw.find("&", pos)) >= 0:
        out.append(raw[pos:i])
        decoded, end = parser.reference(i)
        if decoded is None:
            out.append("&")
            pos = i + 1
        else:
            out.append(decoded)
            pos = end
    out.append(raw[pos:])
    return "".join(out)


def _check_link(url: str) -> str | None:
    """The URL a text_link keeps, or None when Telegram would drop the link and keep only its text.

    Schemes http, https, tg, ton and tonsite are kept; a link without a scheme needs a dotted host and gets
    `http://`; an http(s) link without a path gets `/`, as Telegram shows them.
    """
    url = url.strip()
    scheme_match = _SCHEME.match(url)
    if scheme_match is None or not url.startswith("//", scheme_match.end()):
        # "mailto:", "javascript:" and friends are dropped; "host:port/..." without a scheme is a link.
        if scheme_match is not None and not url[scheme_match.end() : scheme_match.end() + 1].isdigit():
            return None
        host = _HOST.match(url)
        if host is None or "." not in host.group(1).strip("."):
            return None
        return f"http://{url}" if host.group(2) else f"http://{url}/"
    scheme = scheme_match.group(1).lower()
    rest = url[scheme_match.end() + 2 :]
    if scheme not in _LINK_SCHEMES or not rest:
        return None
    if scheme not in ("http", "https"):
        return url
    host = _HOST.match(rest)
    if host is None:
        return None
    return url if host.group(2) else f"{url}/"
