"""Headlines and deks from feed HTML: boilerplate removed, deks made from the right paragraphs, text cut
to length. HTML-to-text conversion is `bot.core.htmltext`'s (re-exported here); escaping for Telegram is
the renderer's.

A dek is the summary's standfirst: when the summary's first block (paragraph, list item, heading,
`<br>`-separated line, …) is a real sentence of reasonable length (STANDFIRST_MIN_CHARS, several words)
it is the dek alone; otherwise the next blocks are joined on until the text is that long, each boundary
kept a sentence boundary ("Standfirst. Next paragraph…", a full stop added when the block has no end
punctuation and the next one does not go on in lower case), never a bare space. Boilerplate never enters a
dek: "Related: …" blocks, list items that are nothing but a link (the Guardian's related stories),
trailers such as WordPress's "The post … appeared first on …", "Continue reading...", "Read more", "[…]"
and reddit's "submitted by /u/X to r/Y [link] [N comments]" (a reddit link post has no dek of its own).
"""

from __future__ import annotations

import re

from bot.core.htmltext import html_blocks, html_to_text, plain_text

__all__ = [
    "clean_headline",
    "first_sentence",
    "html_to_text",
    "lead_text",
    "make_dek",
    "plain_text",
    "strip_boilerplate",
    "truncate",
]

STANDFIRST_MIN_CHARS = 60  # a first block this long (of several words) is the dek on its own

_PARTIAL_TAG = re.compile(r"<[^>]*+$")
# A list item that is nothing but a link: the Guardian's related stories under a standfirst.
_LINK_ITEM = re.compile(r"<li\b[^>]*+>\s*<a\b[^>]*+>[^<]*+</a\s*>\s*</li\s*>", re.I)
_RELATED = re.compile(r"related\s*:", re.I)  # a "Related: <a>…</a>" block
_CLOSERS = "\"'”’»)]"
_CLAUSE_ENDS = ".!?…。！？:;,–—-"
_NOT_ALNUM = re.compile(r"[\W_]+")
_ALNUM = re.compile(r"[^\W_]")

# WordPress/Yoast "The post X appeared first on Y." in English, German, French and Spanish: each opening
# is found with str.find, then the rest must match to the end of the text.
_POST_FOOTER_OPENINGS = ("The post ", "Der Beitrag ", "L’article ", "L'article ", "La entrada ")
_POST_FOOTER = re.compile(
    r"(?:The post .{1,400}? (?:appeared first on|first appeared on)"
    r"|Der Beitrag .{1,400}? erschien zuerst auf"
    r"|L[’']article .{1,400}? est apparu en premier sur"
    r"|La entrada .{1,400}? se publicó primero en) .{1,200}?\.?\s*",
    re.S,
)
_MORE = (
    r"(?:Continue reading|Keep reading|Read more|Read More|READ MORE|Read the full (?:story|article|post))\b"
)
_MORE_GUARDS = ("reading", "Read", "READ")
_MORE_END = r"\s*(?:[→»›…]|\.\.\.)?\s*$"  # "Continue reading →", the Guardian's "Continue reading..."
# Other trailers, each guarded by substrings (a cheap `in` test) because most deks have none. A "\n"
# is a block boundary (make_dek joins blocks with it); trailers never reach across one, reddit's excepted.
_TRAILERS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    (("]",), re.compile(r"\[\s*(?:…|\.\.\.)?\s*\]\s*$")),
    # "… Continue reading <title> →" after a sentence, or a block that is nothing but "Read more".
    (
        _MORE_GUARDS,
        re.compile(
            r"(?<=[.!?…\]\"”»)])[^\S\n]*"
            + _MORE
            + r"(?:[^\S\n]*[\"“«][^\"”»\n]{0,200}[\"”»]|[^.!?\"“\n]{0,200}?)"
            + _MORE_END
        ),
    ),
    (_MORE_GUARDS, re.compile(r"(?:^|\n)[^\S\n]*" + _MORE + _MORE_END)),
    # reddit: "submitted by /u/X [link] [comments]", "submitted by X to Y <br> [link] [275 comments]"
    # (the labels are translated: "[commentaires]"); with the author deleted, "[link] [comments]" alone.
    (
        ("submitted by", "[link]"),
        re.compile(
            r"(?:(?:^|(?<=\s))submitted by\s+(?:/?u/)?(?:[\w-]{1,40}|\[deleted\])"
            r"(?:\s+to\s+(?:/?r/)?\w{1,40})?\s*\[[^\[\]\n]{1,40}\]|(?:^|\n)\s*\[link\])"
            r"\s*\[[^\[\]\n]{1,40}\]\s*$"
        ),
    ),
)
_TAIL = 900  # boilerplate is matched only in the last characters of a text: it sits at the end
_SPACED_ELLIPSIS = re.compile(r"\s+(?:…|\.\.\.)\s*$")  # "last year …" -> "last year…"
_ELLIPSIS_TAIL = re.compile(r"\s*(?:…|\.\.\.)\s*$")
_CUT_TRAILERS = " ,;:–—-([{\"'“‘«"
_LEAD_TRAILERS = " .,:;!?–—-|·•\"'”’)]»"

_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*(?=\s+(?![a-z])\S)|[。！？]")
# Words whose trailing period is not a sentence end (besides single letters and dotted initialisms).
_ABBREVIATION = re.compile(
    r"(?:mr|mrs|ms|dr|st|jr|sr|prof|gen|sen|rep|gov|lt|col|sgt|capt|inc|ltd|co|corp|vs|etc|no|fig|approx"
    r"|dept|est|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)",
    re.I,
)


def _strip_post_footer(text: str) -> str:
    for opening in _POST_FOOTER_OPENINGS:
        at = text.find(opening)
        while at >= 0:
            if _POST_FOOTER.fullmatch(text, at):
                return text[:at].rstrip()
            at = text.find(opening, at + 1)
    return text


def strip_boilerplate(text: str) -> str:
    """Remove trailing "The post … appeared first on …", "Continue reading →", "Read more", "[…]" and
    reddit's "submitted by … [link] [comments]"; a "\n" in `text` is a block boundary."""
    head, tail = text[:-_TAIL], text[-_TAIL:]
    while True:
        before = tail
        tail = _strip_post_footer(tail)
        for guards, pattern in _TRAILERS:
            if any(guard in tail for guard in guards):
                tail = pattern.sub("", tail).rstrip()
        if tail == before:
            return _SPACED_ELLIPSIS.sub("…", head + tail).strip()


def clean_headline(title: str | None, is_html: bool) -> str:
    """A one-line plain-text headline; a plain title keeps `<`, `&` and friends literally."""
    if not title:
        return ""
    return html_to_text(title) if is_html else plain_text(title)


def _fold(text: str) -> str:
    """Case-folded letters and digits of `text`: what "the same words" compares."""
    return _NOT_ALNUM.sub("", text).casefold()


def _after_prefix(text: str, folded_prefix: str) -> str:
    """`text` after the shortest beginning whose folded form is `folded_prefix`."""
    count = 0
    for match in _ALNUM.finditer(text):
        count += len(match.group().casefold())
        if count >= len(folded_prefix):
            return text[match.end() :]
    return ""


def _is_sentence_end(text: str, match: re.Match[str]) -> bool:
    if text[match.start()] != ".":
        return True
    before = text[max(0, match.start() - 40) : match.start()].rsplit(None, 1)
    word = before[-1].lstrip("\"'“‘(«[") if before else ""
    return not (len(word) == 1 or _ABBREVIATION.fullmatch(word) or "." in word)


def truncate(text: str, max_chars: int) -> str:
    """Cut to at most `max_chars`: after a sentence that ends in the last ~40% of the budget (no
    ellipsis: the dek reads as whole sentences), else at a word boundary with "…"."""
    if len(text) <= max_chars:
        return text
    if max_chars < 2:
        return "…"[:max_chars]
    floor = int(max_chars * 0.6)
    best = -1
    for match in _SENTENCE_END.finditer(text, floor, max_chars + 3):  # +3: room for the lookahead
        if match.end() <= max_chars and _is_sentence_end(text, match):
            best = match.end()
    if best > 0:
        return text[:best]
    limit = max_chars - 1  # room for the ellipsis
    if text[limit].isspace():
        cut = text[:limit]
    else:
        space = text.rfind(" ", 0, limit)
        cut = text[:space] if space >= limit // 2 else text[:limit]
    cut = _ELLIPSIS_TAIL.sub("", cut.rstrip(_CUT_TRAILERS))
    return cut.rstrip(_CUT_TRAILERS) + "…"


def first_sentence(text: str, max_chars: int = 140) -> str:
    """The first sentence of plain `text`, cut to `max_chars` at a word boundary when it runs longer."""
    for match in _SENTENCE_END.finditer(text, 0, max_chars + 3):
        if match.end() <= max_chars and _is_sentence_end(text, match):
            return text[: match.end()]
    return truncate(text, max_chars)


def _without_headline(text: str, folded_head: str) -> str:
    """`text` after the headline it repeats: "" when it is the headline or a beginning of it."""
    if not folded_head:
        return text
    probe = _fold(text[:16])
    if len(probe) >= 4 and not probe.startswith(folded_head[:4]):
        return text  # the common case, decided on a few characters
    window = len(folded_head) * 2 + 16
    folded_dek = _fold(text[:window])
    if len(folded_dek) <= len(folded_head) and len(text) > window:
        folded_dek = _fold(text)  # punctuation-heavy: the window did not cover the headline's length
    if folded_head.startswith(folded_dek):
        return ""  # the text equals the headline, or a beginning of it
    if folded_dek.startswith(folded_head):
        text = _after_prefix(text, folded_head).lstrip(_LEAD_TRAILERS)
        if not _ALNUM.search(text):
            return ""
    return text


def _dek_blocks(summary_html: str, whole: bool) -> list[str]:
    """The summary's blocks that may enter a dek (trailing boilerplate inside each is `_dek_from`'s to
    remove). Boilerplate that spans blocks (reddit's) is removed here, and only from a `whole` summary:
    the end of a prefix is not the end of the text."""
    if "<li" in summary_html:
        summary_html = _LINK_ITEM.sub("", summary_html)
    blocks = [block for block in html_blocks(summary_html) if not _RELATED.match(block)]
    if whole and len(blocks) > 1:
        blocks = strip_boilerplate("\n".join(blocks)).split("\n")
    return blocks


def _is_standfirst(text: str) -> bool:
    """A real sentence of reasonable length: long enough, and words rather than one long token."""
    return len(text) >= STANDFIRST_MIN_CHARS and (text.count(" ") >= 5 or not text.isascii())


def _joined(text: str, block: str) -> str:
    """`text` and the next block, their boundary a sentence boundary."""
    end = text.rstrip(_CLOSERS)[-1:]
    if not end or end in _CLAUSE_ENDS or block[:1].islower():
        return f"{text} {block}"  # already ended, or the block goes on with the same sentence
    return f"{text}. {block}"


def _dek_from(blocks: list[str], folded_head: str) -> tuple[str, int]:
    """The dek text of `blocks` and the index just past the last block it used: the first block with
    text that is not the headline, joined with the next ones while it is shorter than a standfirst."""
    end, text = 0, ""
    while end < len(blocks) and not text:
        text, end = _without_headline(strip_boilerplate(blocks[end]), folded_head), end + 1
    while end < len(blocks) and text and not _is_standfirst(text):
        if block := strip_boilerplate(blocks[end]):
            text = _joined(text, block)
        end += 1
    return text, end


def lead_text(summary_html: str) -> str:
    """The plain text of the summary's first block that may enter a dek (boilerplate left out), or "":
    where a headline for an entry without a title is looked for."""
    for block in _dek_blocks(summary_html, whole=True):
        if text := strip_boilerplate(block):
            return text
    return ""


def make_dek(summary_html: str | None, headline: str, max_chars: int = 300) -> str:
    """A plain-text dek from a summary's HTML (see the module's docstring), cut by `truncate`.

    Blocks that equal the headline or a beginning of it (ignoring case and punctuation) are skipped; a
    block that starts with the whole headline keeps only what follows it. Long HTML is converted from a
    prefix first; the full text is used only when the dek is not made of blocks the prefix holds whole
    (or is not longer than the budget), so the result is the same as converting everything.
    """
    if not summary_html:
        return ""
    folded_head = _fold(headline)
    prefix_len = max(2048, max_chars * 8)
    if len(summary_html) > prefix_len:
        prefix = _PARTIAL_TAG.sub("", summary_html[:prefix_len])
        blocks = _dek_blocks(prefix, whole=False)
        text, end = _dek_from(blocks, folded_head)
        if text and (end < len(blocks) or len(text) > max_chars + 16):  # the last block may be cut
            return truncate(text, max_chars)
    return truncate(_dek_from(_dek_blocks(summary_html, whole=True), folded_head)[0], max_chars)
