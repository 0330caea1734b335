"""How reader tips read for editors and how editors' answers read for the reader; all text escaped.

Caps keep a tip inside Telegram's limits (4096 for text, 1024 for a caption, counted after parsing) with
room for the header; the reader never learns which editor answered.
"""

from __future__ import annotations

import html

__all__ = ["answer_for_reader", "tip_for_editors", "tip_text"]

TEXT_ROOM = 3600
CAPTION_ROOM = 800


def _cut(text: str, room: int) -> str:
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def tip_text(raw: str) -> str:
    """The tip's words after "/tip" (or "/tip@bot"), trimmed; "" when there are none."""
    text = raw.strip()
    if text.startswith("/"):
        text = text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) > 1 else ""
    return text.strip()


def tip_for_editors(text: str, *, name: str, username: str | None, user_id: int, caption: bool) -> str:
    """ "💡 Tip from Rita (@rita, id 501):" and the tip, literal (escaped) and capped."""
    who = html.escape(name, quote=False)
    handle = f"@{html.escape(username, quote=False)}, " if username else ""
    body = html.escape(_cut(text, CAPTION_ROOM if caption else TEXT_ROOM), quote=False)
    footer = "" if caption else "\n\n<i>Reply to this message to answer the reader (as the newsroom).</i>"
    return f"💡 <b>Tip</b> from {who} ({handle}id {user_id}):\n\n{body}{footer}"


def answer_for_reader(text: str) -> str:
    return "📰 <b>The newsroom replies:</b>\n\n" + html.escape(_cut(text, TEXT_ROOM), quote=False)
