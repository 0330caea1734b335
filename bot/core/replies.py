"""Telegram HTML for the readers' article replies: /latest, /topic and /search lists.

Pure. Stored headlines and deks are plain text (entities were decoded at ingest), so each is escaped exactly
once here. Every reply is measured with `telegram_html.parse_html` and fits Telegram's limits: 4096 UTF-16
units of rendered text and 100 entities; lines that would not fit are left out with a note. Topic and
subscription wording is `replies_topics.py`; admin replies are `replies_admin.py`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from bot.core.i18n import ENGLISH, Msg, Translator, msg
from bot.core.models import StoredArticle
from bot.core.telegram_html import ENTITY_LIMIT, parse_html

TEXT_LIMIT = 4096
HEADLINE_CHARS = 200  # a list line's headline is cut here; the link leads to the rest


def esc(text: str) -> str:
    """Plain text into Telegram HTML: `&`, `<`, `>` and `"` escaped, once."""
    return html.escape(text, quote=True)


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with "…" when longer than `limit` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def link(url: str, text: str) -> str:
    return f'<a href="{esc(url)}">{esc(text)}</a>'


def age(published: datetime, now: datetime, t: Translator = ENGLISH) -> str:
    return t.age(max(0.0, (now - published).total_seconds()))


def article_line(article: StoredArticle, now: datetime, t: Translator = ENGLISH) -> str:
    """`• <linked headline> · Source · 2h ago`."""
    parts = [link(article.url, shorten(article.headline or article.url, HEADLINE_CHARS))]
    if article.source:
        parts.append(esc(shorten(article.source, 40)))
    parts.append(esc(age(article.published, now, t)))
    return "• " + " · ".join(parts)


def fit(head: Sequence[str], lines: Sequence[str], tail: Sequence[str] = (), t: Translator = ENGLISH) -> str:
    """Join head, as many lines as fit, and tail; a note says how many lines were left out.

    Each piece must be well-formed Telegram HTML on its own. Lengths are Telegram's: rendered text in
    UTF-16 units, and entities counted, with room kept for the note.
    """
    note_room = 60

    def measure(piece: str) -> tuple[int, int]:
        parsed = parse_html(piece)
        return parsed.length + 1, len(parsed.entities)  # +1 for the newline joining it

    used_len, used_ent = 0, 0
    for piece in (*head, *tail):
        length, entities = measure(piece)
        used_len, used_ent = used_len + length, used_ent + entities
    kept: list[str] = []
    for line in lines:
        length, entities = measure(line)
        if used_len + length + note_room > TEXT_LIMIT or used_ent + entities > ENTITY_LIMIT - 1:
            break
        kept.append(line)
        used_len, used_ent = used_len + length, used_ent + entities
    body = list(head) + kept
    left_out = len(lines) - len(kept)
    if left_out:
        more = t.plural(
            "…and {n} more that did not fit in one message.",
            "…and {n} more that did not fit in one message.",
            left_out,
        )
        body.append(f"<i>{esc(more)}</i>")
    return "\n".join([*body, *tail]).strip()


def article_list(
    title: str,
    articles: Sequence[StoredArticle],
    now: datetime,
    *,
    note: Msg | None = None,
    empty: str,
    t: Translator = ENGLISH,
) -> str:
    """A titled list of linked headlines with ages; `title` is HTML, `note` and `empty` plain text."""
    if not articles:
        return esc(empty)
    head = [title, ""]
    tail = ["", f"<i>{esc(t.render(note))}</i>"] if note else []
    return fit(head, [article_line(a, now, t) for a in articles], tail, t)


def latest_reply(
    articles: Sequence[StoredArticle], now: datetime, *, note: Msg | None = None, t: Translator = ENGLISH
) -> str:
    return article_list(
        t("🗞 <b>Latest articles</b>"),
        articles,
        now,
        note=note,
        empty=t("No articles yet. They show up here as soon as the feeds have been read."),
        t=t,
    )


def search_reply(
    words: Sequence[str],
    articles: Sequence[StoredArticle],
    now: datetime,
    *,
    all_words: bool = True,
    note: Msg | None = None,
    t: Translator = ENGLISH,
) -> str:
    shown = esc(shorten(" ".join(words), 80))
    if not articles:
        return t("🔎 Nothing found for <b>{words}</b>. Try fewer or other words.", words=shown)
    title = t("🔎 <b>Results for {words}</b>", words=shown)
    if not all_words:
        title += "\n" + t("<i>No article has all of those words; these have some of them.</i>")
    return article_list(title, articles, now, note=note, empty="", t=t)


def search_usage() -> Msg:
    return msg("What should I look for? Send /search followed by words, e.g. /search election results")
