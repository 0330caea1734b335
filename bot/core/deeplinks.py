"""Deep links: `https://t.me/<bot>?start=<payload>` opens the bot's chat and sends `/start <payload>`.

Telegram allows 1-64 characters of A-Za-z0-9_- in a payload. Ours:
- `topic-<name>`: follow a topic (after one confirming press); a name with other characters (é, ü…) is
  `topicu-<base64url of its UTF-8>`; a name that does not fit in 64 characters gets no deep link;
- `a-<article id>`: show that article.
Anything else decodes to None (the reader gets a friendly word, never an error).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

__all__ = ["DeepLink", "article_payload", "deep_link", "parse_payload", "topic_payload"]

_SAFE = re.compile(r"[A-Za-z0-9_-]+\Z")
MAX_PAYLOAD = 64


@dataclass(frozen=True, slots=True)
class DeepLink:
    kind: str  # "topic" or "article"
    topic: str = ""
    article_id: int = 0


def topic_payload(name: str) -> str | None:
    payload = f"topic-{name}" if _SAFE.match(name) else ""
    if not payload:
        encoded = base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
        payload = f"topicu-{encoded}"
    return payload if len(payload) <= MAX_PAYLOAD else None


def article_payload(article_id: int) -> str:
    return f"a-{article_id}"


def deep_link(bot_username: str | None, payload: str | None) -> str | None:
    if not bot_username or not payload:
        return None
    return f"https://t.me/{bot_username}?start={payload}"


def parse_payload(payload: str) -> DeepLink | None:
    text = payload.strip()
    if not text or len(text) > MAX_PAYLOAD or not _SAFE.match(text):
        return None
    if text.startswith("topicu-"):
        raw = text.removeprefix("topicu-")
        try:
            name = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        return DeepLink("topic", topic=name) if name.strip() else None
    if text.startswith("topic-"):
        name = text.removeprefix("topic-")
        return DeepLink("topic", topic=name) if name else None
    if text.startswith("a-") and text[2:].isdecimal() and len(text) <= 20:
        return DeepLink("article", article_id=int(text[2:]))
    return None
