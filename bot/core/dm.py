"""A subscription DM: the queued item as the fan-out loop sees it, the text it sends, and which failures
mean the reader is gone.

Pure. Queueing is `ArticleRepo.store`'s, reading the queue `repo_dm.py`'s, pacing and sending `fanout.py`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.core.models import StoredArticle
from bot.core.replies import esc, link, shorten

DM_HEADLINE_CHARS = 300
DM_DEK_CHARS = 600
DM_TOPICS_SHOWN = 5
# Telegram's answers that mean the reader cannot get private messages any more (besides every 403:
# "bot was blocked by the user", "bot can't initiate conversation with a user", "user is deactivated").
_GONE_PHRASES = ("chat not found", "user is deactivated", "peer_id_invalid", "user not found")


@dataclass(frozen=True, slots=True)
class PendingDM:
    """One queued message: the reader, the article, and the reader's topics that article is in."""

    id: int
    user_id: int
    article: StoredArticle
    topics: tuple[str, ...]
    queued_at: datetime


def dm_text(article: StoredArticle, topic_names: Sequence[str] = ()) -> str:
    """Telegram HTML: the bold linked headline, the dek, then the source and the topics in italics.

    Bounded well under Telegram's limits (about 1,000 characters and 3 entities plus hashtags).
    """
    lines = [f"<b>{link(article.url, shorten(article.headline or article.url, DM_HEADLINE_CHARS))}</b>"]
    if article.dek:
        lines += ["", esc(shorten(article.dek, DM_DEK_CHARS))]
    footer = [esc(shorten(article.source, 60))] if article.source else []
    footer += [f"#{esc(name)}" for name in topic_names[:DM_TOPICS_SHOWN]]
    if footer:
        lines += ["", f"<i>{' · '.join(footer)}</i>"]
    return "\n".join(lines)


def reader_gone(reason: str, *, forbidden: bool) -> bool:
    """Whether a failed DM means the reader is gone for good: any 403, or a 400 naming a missing chat."""
    lowered = reason.lower()
    return forbidden or any(phrase in lowered for phrase in _GONE_PHRASES)
