"""Parsing and validating chat command arguments: counts, topic names, /addtopic rules and feed references.

Pure: every function takes the raw argument text and returns a value or raises `ArgumentError` with one
line a reader can act on. Replying is the handlers' job; wording of lists and results is `replies*.py`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.core.errors import NewsbotError
from bot.core.i18n import Msg, msg
from bot.core.models import Topic
from bot.core.topics import valid_topic_name

MAX_ARG_CHARS = 200
LIST_DEFAULT = 5
LIST_MAX = 20
MAX_KEYWORDS = 30
MAX_KEYWORD_CHARS = 64
MAX_DESCRIPTION_CHARS = 120

_NUMBER_RE = re.compile(r"^[+-]?\d+$")
_CHANNEL_RE = re.compile(r"^@(?:[A-Za-z][A-Za-z0-9_]{3,31}|-100\d{5,15})$")
_SPACES_RE = re.compile(r"\s+")

ADDTOPIC_USAGE = (
    "Usage: /addtopic <name> <keyword>, <keyword>, … [#category …] [@channel] [| description]\n"
    "Example: /addtopic climate climate change, heatwave, emissions #Environment | Climate and weather"
)


class ArgumentError(NewsbotError):
    """A command argument is missing or invalid: `message` is the answer to send, in the reader's language
    when it is a `msg(…)` (admins' errors are plain English text); `str()` is the English."""

    def __init__(self, message: str | Msg) -> None:
        self.message = message if isinstance(message, Msg) else Msg(message)
        super().__init__(str(self.message))


@dataclass(frozen=True, slots=True)
class Count:
    """A clamped list length and, when it was clamped, a note saying so."""

    value: int
    note: Msg | None = None


def clean_text(raw: str | None) -> str:
    """NFKC-normalised, control and format characters (zero-width, bidi) removed, spaces collapsed.

    Raises ArgumentError for text longer than MAX_ARG_CHARS.
    """
    if not raw:
        return ""
    if len(raw) > MAX_ARG_CHARS * 4:  # don't normalise megabytes
        raise ArgumentError(_too_long())
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cs", "Co", "Cn"))
    text = _SPACES_RE.sub(" ", text).strip()
    if len(text) > MAX_ARG_CHARS:
        raise ArgumentError(_too_long())
    return text


def _too_long() -> Msg:
    return msg("That is too long: keep it under {n} characters.", n=MAX_ARG_CHARS)


def parse_count(raw: str | None, *, default: int = LIST_DEFAULT, maximum: int = LIST_MAX) -> Count:
    """A list length from "10": clamped to 1…maximum with a note; absent gives `default`."""
    text = clean_text(raw)
    if not text:
        return Count(default)
    if not _NUMBER_RE.match(text):
        shown = text if len(text) <= 20 else text[:19] + "…"
        raise ArgumentError(
            msg(
                "“{shown}” is not a number: send a number from 1 to {maximum}, e.g. 10.",
                shown=shown,
                maximum=maximum,
            )
        )
    value = int(text) if len(text) <= 12 else (-1 if text.startswith("-") else maximum + 1)
    if value > maximum:
        return Count(maximum, msg("Showing {n}, the most I send at once.", n=maximum))
    if value < 1:
        return Count(1, msg("Showing 1, the fewest I can send."))
    return Count(value)


def parse_topic_name(raw: str | None, *, usage: str | Msg) -> str:
    """A topic name as typed (a leading # is ignored); ArgumentError names the usage when missing."""
    text = clean_text(raw).lstrip("#").strip()
    if not text:
        raise ArgumentError(msg("Which topic? {usage}", usage=usage))
    if " " in text or not valid_topic_name(text):
        shown = text if len(text) <= 40 else text[:39] + "…"
        raise ArgumentError(
            msg(
                "“{shown}” is not a topic name: names are one word of letters, digits, _ or -, "
                "at most 32 characters. See /topics.",
                shown=shown,
            )
        )
    return text


def split_name_and_count(
    args: list[str], *, usage: str | Msg, default: int = LIST_DEFAULT, maximum: int = LIST_MAX
) -> tuple[str, Count]:
    """`/topic <name> [n]`: the name, and a count when the last word is a number (as `parse_count`)."""
    if len(args) >= 2 and _NUMBER_RE.match(clean_text(args[-1])):
        count = parse_count(args[-1], default=default, maximum=maximum)
        return parse_topic_name(" ".join(args[:-1]), usage=usage), count
    return parse_topic_name(" ".join(args), usage=usage), Count(default)


def parse_addtopic(raw: str | None) -> Topic:
    """`<name> <keyword>, <keyword>, … [#category …] [@channel] [| description]` as a Topic.

    Keyword phrases are separated by commas; `#Word` adds a feed category (underscores read as spaces,
    so #Climate_change is "Climate change"); `@channel` routes the topic's articles to that channel too;
    text after `|` is the description shown by /topics.
    """
    text = clean_text(raw)
    if not text:
        raise ArgumentError(ADDTOPIC_USAGE)
    rules, _, description = text.partition("|")
    description = description.strip()
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise ArgumentError(f"The description is too long: keep it under {MAX_DESCRIPTION_CHARS} characters.")
    name, _, rest = rules.strip().partition(" ")
    name = parse_topic_name(name, usage=ADDTOPIC_USAGE)
    categories: list[str] = []
    channel: str | None = None
    plain: list[str] = []
    for word in rest.split(" "):
        if word.startswith("#") and len(word) > 1:
            categories.append(word[1:].replace("_", " ").strip(",").strip())
        elif word.startswith("@") and len(word) > 1:
            candidate = word.rstrip(",")
            if not _CHANNEL_RE.match(candidate):
                raise ArgumentError(f"“{candidate[:40]}” is not a channel: use @channelname or @-100….")
            channel = candidate[1:] if candidate.startswith("@-") else candidate
        else:
            plain.append(word)
    keywords: list[str] = []
    for raw_phrase in " ".join(plain).split(","):
        phrase = raw_phrase.strip()
        if not phrase:
            continue
        if len(phrase) > MAX_KEYWORD_CHARS:
            raise ArgumentError(f"A keyword is over {MAX_KEYWORD_CHARS} characters: {phrase[:30]}…")
        if not any(ch.isalnum() for ch in phrase):
            raise ArgumentError(f"“{phrase}” has no letters or digits; keywords must.")
        if phrase.casefold() not in (k.casefold() for k in keywords):
            keywords.append(phrase)
    if len(keywords) > MAX_KEYWORDS:
        raise ArgumentError(f"That is {len(keywords)} keywords; at most {MAX_KEYWORDS} per topic.")
    categories = [c for c in dict.fromkeys(categories) if c]
    if not keywords and not categories:
        raise ArgumentError(f"Give at least one keyword or #category.\n{ADDTOPIC_USAGE}")
    return Topic(name, description, tuple(keywords), tuple(categories), channel)


def parse_feed_ref(raw: str | None, *, usage: str) -> int | str:
    """A feed id ("3", "#3") or an http(s) URL, as typed."""
    text = clean_text(raw)
    if not text:
        raise ArgumentError(usage)
    if re.fullmatch(r"#?\d{1,12}", text):
        return int(text.lstrip("#"))
    if " " in text or not re.match(r"^https?://[^\s/]+", text, re.IGNORECASE):
        raise ArgumentError(f"Send a feed id from /feeds or an http(s) URL. {usage}")
    return text


def parse_url(raw: str | None, *, usage: str) -> str:
    """An http(s) URL with a host, as typed; anything else is refused with the usage."""
    text = clean_text(raw)
    if not text:
        raise ArgumentError(usage)
    if " " in text or not re.match(r"^https?://[^\s/?#]+", text, re.IGNORECASE):
        raise ArgumentError(f"Only http:// and https:// addresses can be feeds. {usage}")
    return text
