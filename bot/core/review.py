"""The review queue's pure parts: button data (small, opaque, signed), the preview, the outcome line, and
an editor's edit read from a reply.

Storing decisions is bot/adapters/repo_review.py's; sending previews and answering presses is
bot/services/review.py's. Nothing here touches Telegram or the database.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

__all__ = [
    "ACTIONS",
    "REVIEW_KEY",
    "Action",
    "Edit",
    "decode",
    "encode",
    "keyboard",
    "outcome_line",
    "parse_edit",
    "post_link",
    "preview_html",
]

REVIEW_KEY = "review"  # bot_state: "1"/"0" once an admin has said /review on|off (else REVIEW applies)
SECRET_KEY = "review_secret"  # noqa: S105 - a bot_state key name, not a secret; bot_state: the key signing button data, made once per database
HEADLINE_MAX = 300
DEK_MAX = 1000
_PREFIX = "rv1"
_TAG_CHARS = 10

Action = Literal["post", "silent", "breaking", "edit", "skip"]
_LETTERS: dict[Action, str] = {"post": "p", "silent": "q", "breaking": "b", "edit": "e", "skip": "s"}
_BY_LETTER: dict[str, Action] = {v: k for k, v in _LETTERS.items()}
ACTIONS: tuple[tuple[Action, str], ...] = (
    ("post", "✅ Post"),
    ("silent", "🔕 Post silently"),
    ("breaking", "🔴 Breaking"),
    ("edit", "✏️ Edit"),
    ("skip", "🗑 Skip"),
)
_DONE: dict[str, str] = {
    "post": "✅ Posted",
    "silent": "🔕 Posted silently",
    "breaking": "🔴 Posted as breaking news",
    "skip": "🗑 Skipped",
}


def _tag(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()[:_TAG_CHARS]


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _DIGITS[r] + out
        if n == 0:
            return out


def encode(action: Action, article_id: int, secret: str) -> str:
    """`rv1:<letter>:<id base36>:<tag>`: at most 30 bytes, unforgeable without the database's secret."""
    body = f"{_PREFIX}:{_LETTERS[action]}:{_base36(article_id)}"
    return f"{body}:{_tag(secret, body)}"


def decode(data: str | None, secret: str) -> tuple[Action, int] | None:
    """The action and article of button data this bot made; None for anything else (stale, forged)."""
    if not data or len(data) > 64:
        return None
    parts = data.split(":")
    if len(parts) != 4 or parts[0] != _PREFIX or parts[1] not in _BY_LETTER:
        return None
    body = ":".join(parts[:3])
    if not hmac.compare_digest(parts[3], _tag(secret, body)):
        return None
    ident = parts[2]
    if not ident or ident[0] == "0" or any(c not in _DIGITS for c in ident):
        return None  # only what encode() writes: lowercase base 36 of a positive id, no sign or padding
    return (_BY_LETTER[parts[1]], int(ident, 36))


def keyboard(article_id: int, secret: str) -> list[list[tuple[str, str]]]:
    """The review buttons as rows of (label, callback data): Post, Post silently, Breaking / Edit, Skip."""
    buttons = [(label, encode(action, article_id, secret)) for action, label in ACTIONS]
    return [buttons[:3], buttons[3:]]


def preview_html(post_html: str, *, article_id: int, source: str, breaking: bool, edited: bool) -> str:
    """What editors see: a header line, then the channel post exactly as it would go out."""
    marks = [f"📝 <b>Review</b> · #{article_id} · {html.escape(source, quote=False)}"]
    if breaking:
        marks.append("🔴 the feed marks this breaking")
    if edited:
        marks.append("✏️ edited")
    return " · ".join(marks) + "\n\n" + post_html


@dataclass(frozen=True, slots=True)
class Decided:
    state: str  # post, silent, breaking, skip, expired
    by: str | None
    at: datetime | None


def outcome_line(
    decided: Decided, zone: tzinfo, *, link: str | None = None, expiry_hours: float | None = None
) -> str:
    """The line replacing the buttons: "✅ Posted by Ada at 10:42" (linked to the post when known)."""
    if decided.state == "expired":
        hours = f"{expiry_hours:g} h" if expiry_hours is not None else "the review window"
        return f"⌛ Dropped: not decided within {hours}."
    verb = _DONE.get(decided.state, decided.state)
    who = html.escape(decided.by or "an editor", quote=False)
    when = f" at {decided.at.astimezone(zone):%H:%M}" if decided.at is not None else ""
    text = f"{verb} by {who}{when}"
    if link and decided.state != "skip":
        return f'<a href="{html.escape(link)}">{text}</a>'
    return text


def post_link(chat_id: str, username: str | None, message_id: int) -> str | None:
    """https://t.me/<name>/<id> for a public channel, https://t.me/c/<id>/<id> for a -100… one."""
    if username:
        return f"https://t.me/{username.lstrip('@')}/{message_id}"
    if chat_id.startswith("@"):
        return f"https://t.me/{chat_id[1:]}/{message_id}"
    if chat_id.startswith("-100") and chat_id[4:].isdigit():
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return None


@dataclass(frozen=True, slots=True)
class Edit:
    headline: str
    dek: str
    cut: bool  # the reply was longer than a post allows and was shortened


def parse_edit(text: str) -> Edit | None:
    """An editor's reply: the first non-empty line is the headline, the rest the dek (plain text, never
    markup: it is escaped when rendered). None when there is no headline."""
    lines = [" ".join(line.split()) for line in text.replace("\r", "").split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        return None
    headline, dek = lines[0], " ".join(lines[1:])
    cut = len(headline) > HEADLINE_MAX or len(dek) > DEK_MAX
    if len(headline) > HEADLINE_MAX:
        headline = headline[: HEADLINE_MAX - 1].rstrip() + "…"
    if len(dek) > DEK_MAX:
        dek = dek[: DEK_MAX - 1].rstrip() + "…"
    return Edit(headline, dek, cut)
