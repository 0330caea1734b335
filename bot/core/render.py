"""Channel posts from POST_TEMPLATE: validating the template, escaping values, fitting Telegram's limits.

Pure: takes plain-text article fields and returns the text to send. Sending, retrying and the plain-text
fallback decision are the publisher's; parsing Telegram HTML is `telegram_html`'s.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.core.errors import ConfigError, PublishError
from bot.core.telegram_html import TelegramHTMLError, parse_html, utf16_len

__all__ = [
    "CAPTION_LIMIT",
    "PLACEHOLDERS",
    "TEXT_LIMIT",
    "RenderError",
    "breaking_mark",
    "hashtags",
    "measure_html",
    "render_plain",
    "render_post",
    "validate_template",
]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
PLACEHOLDERS = ("headline", "dek", "url", "source", "hashtags", "breaking")
_SAMPLE = {
    "headline": "Sample headline & <more>",
    "dek": "A sample dek: \"quoted\" words & 'apostrophes'.",
    "url": "https://news.example/2024/05/sample-story?id=1&ref=rss",
    "source": "Sample News",
    "hashtags": "#Sample #News",
    "breaking": "🔴 BREAKING: ",
}
_MAX_HASHTAGS = 10
_MAX_HASHTAG_CHARS = 64
_ELLIPSIS = "…"
# Tags left with nothing inside once a value is empty (a dek wrapped in <i>) vanish with their markup.
_EMPTY_TAG = re.compile(
    r"<(b|strong|i|em|u|ins|s|strike|del|code|pre|tg-spoiler|blockquote)(?:\s[^<>]*)?>(\s*)</\1\s*>"
    r"|<a\s[^<>]*>(\s*)</a\s*>",
    re.IGNORECASE,
)
_NON_WORD = re.compile(r"\W+")
_BLANK_LINES = re.compile(r"[ \t]*\n(?:[ \t]*\n)+")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_UNSAFE_CHARS = re.compile("[\x00\ud800-\udfff]")
_CUT_TRAILERS = " \t\n,;:–—-([{\"'“‘«/"


class RenderError(PublishError):
    """The post cannot be rendered within the limit, or the rendered HTML does not parse."""


@dataclass(frozen=True, slots=True)
class _Template:
    parts: tuple[tuple[str, str | None], ...]  # (literal text, placeholder name or None)

    def uses(self, name: str) -> bool:
        return any(part == name for _, part in self.parts)

    def fill(self, values: dict[str, str]) -> str:
        return "".join(literal + (values[name] if name else "") for literal, name in self.parts)


@lru_cache(maxsize=16)
def _compile(template: str) -> _Template:
    """Split the template into literals and placeholders; ConfigError on anything but `{name}`."""
    text = template.replace("\\n", "\n")  # env files and shells make real newlines awkward
    parts: list[tuple[str, str | None]] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ConfigError(f"POST_TEMPLATE: {exc}; write {{{{ or }}}} for a literal brace") from None
    for literal, name, spec, conversion in parsed:
        if name is not None and name not in PLACEHOLDERS:
            allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            raise ConfigError(f"POST_TEMPLATE: unknown placeholder {{{name}}}; use {allowed}")
        if spec or conversion:
            raise ConfigError(f"POST_TEMPLATE: placeholder {{{name}}} takes no format spec or conversion")
        parts.append((literal, name))
    return _Template(tuple(parts))


def validate_template(template: str) -> None:
    """Raise ConfigError (one line) unless the template renders to valid Telegram HTML.

    Checks placeholders, then the template's own markup, with sample escaped values put in.
    """
    compiled = _compile(template)
    names = {name for _, name in compiled.parts if name}
    if not names & {"headline", "url"}:
        raise ConfigError("POST_TEMPLATE: needs at least {headline} or {url}")
    sample = compiled.fill({k: html.escape(v, quote=True) for k, v in _SAMPLE.items()})
    try:
        parsed = parse_html(sample).stripped()
    except TelegramHTMLError as exc:
        raise ConfigError(f"POST_TEMPLATE: invalid Telegram HTML: {exc.reason}") from None
    if parsed.length == 0:
        raise ConfigError("POST_TEMPLATE: renders to an empty message")


def hashtags(categories: Iterable[str]) -> str:
    """`#Word` for each category (word characters only, at least one letter), without duplicates."""
    seen: set[str] = set()
    tags: list[str] = []
    for category in categories:
        word = _NON_WORD.sub("", category)[:_MAX_HASHTAG_CHARS]
        if not any(ch.isalpha() for ch in word) or word.casefold() in seen:
            continue
        seen.add(word.casefold())
        tags.append("#" + word)
        if len(tags) == _MAX_HASHTAGS:
            break
    return " ".join(tags)


def breaking_mark(prefix: str) -> str:
    """BREAKING_PREFIX as it stands before a headline: "🔴 BREAKING" -> "🔴 BREAKING: ", while a prefix
    that ends in its own punctuation or a symbol ("BREAKING —", "🚨") only gets a space; "" stays ""."""
    prefix = " ".join(_clean(prefix).split())
    if not prefix:
        return ""
    return prefix + (": " if prefix[-1].isalnum() else " ")


def measure_html(text: str) -> int:
    """UTF-16 length of what readers see once Telegram parses `text` and strips surrounding whitespace."""
    return parse_html(text).stripped().length


def _clean(value: str) -> str:
    return _UNSAFE_CHARS.sub("", value).strip()


def _collapse(text: str) -> str:
    """Drop trailing spaces and blank-line runs (an empty dek leaves one blank line, not three)."""
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def _tidy(html_text: str) -> str:
    """`_collapse` after dropping the template's tags left empty (values are escaped: no tags of theirs)."""
    previous = None
    while previous != html_text:
        previous, html_text = html_text, _EMPTY_TAG.sub(lambda m: m.group(2) or m.group(3) or "", html_text)
    return _collapse(html_text)


def _shorten(value: str, keep: int) -> str:
    """The first `keep` characters of `value`, cut back to a word boundary when one is near, plus "…"."""
    if keep >= len(value):
        return value
    cut = value[:keep]
    if keep < len(value) and not value[keep].isspace():
        space = max(cut.rfind(" "), cut.rfind("\n"))
        if space >= keep // 2:
            cut = cut[:space]
    cut = cut.rstrip(_CUT_TRAILERS).removesuffix("...").rstrip(_CUT_TRAILERS)
    return cut + _ELLIPSIS


def _fit(build: Callable[[str], str], value: str, measure: Callable[[str], int], limit: int) -> str | None:
    """The longest `build(_shorten(value, k))` that measures within `limit`, None when no word fits.

    Binary search over `k`: the rendered length (nearly) never shrinks as more of the value is kept.
    """
    low, high, best = 1, len(value) - 1, None
    while low <= high:
        mid = (low + high) // 2
        short = _shorten(value, mid)
        text = build(short)
        if measure(text) <= limit:
            if short != _ELLIPSIS:
                best = text
            low = mid + 1
        else:
            high = mid - 1
    return best


def _fit_fields(
    build: Callable[[str, str], str], headline: str, dek: str, measure: Callable[[str], int], limit: int
) -> str:
    """Trim the dek first (to nothing if need be), then the headline; RenderError if nothing fits."""
    text = build(headline, dek)
    if measure(text) <= limit:
        return text
    if dek:
        trimmed = _fit(lambda d: build(headline, d), dek, measure, limit)
        if trimmed is not None:
            return trimmed
        text = build(headline, "")
        if measure(text) <= limit:
            return text
    trimmed = _fit(lambda h: build(h, ""), headline, measure, limit)
    if trimmed is None:
        raise RenderError(f"post does not fit {limit} characters even with the headline cut short")
    return trimmed


@lru_cache(maxsize=16)
def _valid(template: str) -> bool:
    """Whether the template passes `validate_template` (remembered: templates are few and fixed)."""
    try:
        validate_template(template)
    except ConfigError:
        return False
    return True


def _bounded(limit: int) -> Callable[[str], int]:
    """`measure_html` for a post from a valid template, skipped when the raw length already fits.

    Values are escaped into a template whose markup was checked, so the post parses; what readers see is
    never longer than the raw text (tags vanish, entities shrink), so a raw UTF-16 length within `limit`
    fits without parsing. Only comparisons with `limit` are made of the result.
    """

    def measure(text: str) -> int:
        upper = utf16_len(text)
        return upper if upper <= limit else measure_html(text)

    return measure


def render_post(
    *,
    headline: str,
    dek: str,
    url: str,
    source: str,
    categories: Iterable[str] = (),
    template: str,
    limit: int = TEXT_LIMIT,
    breaking: str = "",
) -> str:
    """Telegram HTML for one post: values escaped, fitted to `limit` UTF-16 units after entity parsing.

    `breaking` is BREAKING_PREFIX for a breaking post, "" for any other: its mark (`breaking_mark`) goes
    where the template says `{breaking}`, else it leads the headline, styled and linked as the headline is
    ("<b>🔴 BREAKING: Headline</b>" with the default template) and never trimmed before the headline is.

    The dek is trimmed at a word boundary with "…" (never inside a tag or entity: trimming happens on the
    plain value before escaping); when even an empty dek is too long, the headline is trimmed too.
    """
    compiled = _compile(template)
    mark = breaking_mark(breaking)
    if mark and "{breaking}" not in template:
        headline, mark = mark + _clean(headline), ""
    fixed = {
        "breaking": html.escape(mark, quote=True),
        "url": html.escape(_clean(url), quote=True),
        "source": html.escape(_clean(source), quote=True),
        # only when the template shows them: a regex per category is a third of a short post's cost
        "hashtags": html.escape(hashtags(categories), quote=True) if compiled.uses("hashtags") else "",
    }

    def build(head: str, body: str) -> str:
        values = {"headline": html.escape(head, quote=True), "dek": html.escape(body, quote=True), **fixed}
        return _tidy(compiled.fill(values))

    measure = _bounded(limit) if _valid(template) else measure_html
    try:
        return _fit_fields(build, _clean(headline), _clean(dek), measure, limit)
    except TelegramHTMLError as exc:
        raise RenderError(f"rendered post is not valid Telegram HTML: {exc.reason}") from exc


def render_plain(
    *,
    headline: str,
    dek: str,
    url: str,
    categories: Iterable[str] = (),
    limit: int = TEXT_LIMIT,
) -> str:
    """The plain-text fallback (no parse mode): headline, dek, hashtags and the link, fitted to `limit`."""
    tags = hashtags(categories)

    def build(head: str, body: str) -> str:
        return _collapse("\n\n".join(part for part in (head, body, tags, _clean(url)) if part))

    def measure(text: str) -> int:
        return utf16_len(text)

    return _fit_fields(build, _clean(headline), _clean(dek), measure, limit)
