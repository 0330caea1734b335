"""How reader tips read for editors and how editors' answers read for the reader; all text escaped.

Each message fits Telegram's limits (4096 for text, 1024 for a caption), counted as Telegram counts them:
in UTF-16 code units of the parsed text (bot/core/render.py's measure_html), so an escaped "&" is one and
an emoji two. The reader never learns which editor answered.
"""

from __future__ import annotations

import html

from bot.core.render import CAPTION_LIMIT, TEXT_LIMIT, measure_html
from bot.core.telegram_html import utf16_len

__all__ = ["answer_for_reader", "fit_utf16", "tip_for_editors", "tip_text"]

ELLIPSIS = "…"
REPLY_HINT = "\n\n<i>Reply to this message to answer the reader (as the newsroom).</i>"


def fit_utf16(text: str, room: int) -> str:
    """`text` whole when it is at most `room` UTF-16 units, else its start and "…" within `room`."""
    if utf16_len(text) <= room:
        return text
    budget, kept = room - 1, 0  # "…" is one unit
    for index, char in enumerate(text):
        kept += 2 if ord(char) > 0xFFFF else 1
        if kept > budget:
            return text[:index].rstrip() + ELLIPSIS
    return text  # pragma: no cover - the whole text fitted after all


def _within(head: str, text: str, tail: str, limit: int) -> str:
    """head + escaped text + tail, the text cut so the parsed whole measures at most `limit`."""
    room = max(limit - measure_html(head + "x" + tail) + 1, 1)
    return head + html.escape(fit_utf16(text, room), quote=False) + tail


def tip_text(raw: str) -> str:
    """The tip's words after "/tip" (or "/tip@bot"), trimmed; "" when there are none."""
    text = raw.strip()
    if text.startswith("/"):
        parts = text.split(maxsplit=1)
        text = parts[1] if len(parts) > 1 else ""
    return text.strip()


def tip_for_editors(text: str, *, name: str, username: str | None, user_id: int, caption: bool) -> str:
    """ "💡 Tip from Rita (@rita, id 501):" and the tip, literal (escaped) and capped."""
    who = html.escape(name, quote=False)
    handle = f"@{html.escape(username, quote=False)}, " if username else ""
    head = f"💡 <b>Tip</b> from {who} ({handle}id {user_id}):\n\n"
    if caption:
        return _within(head, text, "", CAPTION_LIMIT)
    return _within(head, text, REPLY_HINT, TEXT_LIMIT)


def answer_for_reader(text: str, *, caption: bool = False) -> str:
    """ "📰 The newsroom replies:" and the editor's words, escaped and capped; never the editor's name."""
    head = "📰 <b>The newsroom replies:</b>"
    if not text.strip():
        return head
    return _within(head + "\n\n", text, "", CAPTION_LIMIT if caption else TEXT_LIMIT)
