"""Telegram HTML for group chats: the welcome when added, and the group's topic subscriptions.

Pure. Replies in groups are short: lists are shorter (GROUP_LIST_DEFAULT / GROUP_LIST_MAX) and the help
lists only what works there. Reader-facing, like replies_topics.py.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.models import Topic
from bot.core.replies import esc, fit

GROUP_LIST_DEFAULT = 3  # /latest, /topic and /search in a group: a few lines, not a wall
GROUP_LIST_MAX = 5
NOT_GROUP_ADMIN = "Only this group's admins can choose the topics posted here."
NO_DAILY_IN_GROUPS = "Groups get each new article as it comes: send /subscribe <topic> without daily."


def group_welcome() -> str:
    return (
        "👋 Thanks for adding me! Anyone here can ask /latest, /topic &lt;name&gt; or "
        "/search &lt;words&gt;. Group admins: /subscribe &lt;topic&gt; posts each new article of that "
        "topic here (/topics lists them)."
    )


def group_subscribed(topic: Topic, *, created: bool) -> str:
    name = f"<b>{esc(topic.name)}</b>"
    if not created:
        return f"This group already follows {name}."
    return (
        f"✅ This group now follows {name}: I'll post each new article in it here. "
        f"/unsubscribe {esc(topic.name)} stops them."
    )


def group_unsubscribed(topic: Topic, *, removed: bool) -> str:
    name = f"<b>{esc(topic.name)}</b>"
    return f"This group no longer follows {name}." if removed else f"This group wasn't following {name}."


def group_topics_reply(topics: Sequence[Topic]) -> str:
    if not topics:
        return "This group follows no topic yet. A group admin can /subscribe &lt;name&gt; (see /topics)."
    lines = [f"• <b>{esc(t.name)}</b>" for t in topics]
    return fit(
        ["📬 <b>Topics this group follows</b>", ""],
        lines,
        ["", "An admin stops one with /unsubscribe &lt;name&gt;."],
    )
