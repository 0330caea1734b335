"""Telegram HTML for group chats: the welcome when added, and the group's topic subscriptions.

Pure. Replies in groups are short: lists are shorter (GROUP_LIST_DEFAULT / GROUP_LIST_MAX) and the help
lists only what works there. Reader-facing, like replies_topics.py, so in the reader's language.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.i18n import ENGLISH, Translator, msg
from bot.core.models import Topic
from bot.core.replies import esc, fit

GROUP_LIST_DEFAULT = 3  # /latest, /topic and /search in a group: a few lines, not a wall
GROUP_LIST_MAX = 5
NOT_GROUP_ADMIN = msg("Only this group's admins can choose the topics posted here.")
NO_DAILY_IN_GROUPS = msg("Groups get each new article as it comes: send /subscribe <topic> without daily.")


def group_welcome(t: Translator = ENGLISH) -> str:
    return t(
        "👋 Thanks for adding me! Anyone here can ask /latest, /topic &lt;name&gt; or "
        "/search &lt;words&gt;. Group admins: /subscribe &lt;topic&gt; posts each new article of that "
        "topic here (/topics lists them)."
    )


def group_subscribed(topic: Topic, *, created: bool, t: Translator = ENGLISH) -> str:
    name = f"<b>{esc(topic.name)}</b>"
    if not created:
        return t("This group already follows {name}.", name=name)
    return t(
        "✅ This group now follows {name}: I'll post each new article in it here. "
        "/unsubscribe {topic} stops them.",
        name=name,
        topic=esc(topic.name),
    )


def group_unsubscribed(topic: Topic, *, removed: bool, t: Translator = ENGLISH) -> str:
    name = f"<b>{esc(topic.name)}</b>"
    if removed:
        return t("This group no longer follows {name}.", name=name)
    return t("This group wasn't following {name}.", name=name)


def group_topics_reply(topics: Sequence[Topic], t: Translator = ENGLISH) -> str:
    if not topics:
        return t("This group follows no topic yet. A group admin can /subscribe &lt;name&gt; (see /topics).")
    lines = [f"• <b>{esc(x.name)}</b>" for x in topics]
    tail = ["", t("An admin stops one with /unsubscribe &lt;name&gt;.")]
    return fit([t("📬 <b>Topics this group follows</b>"), ""], lines, tail, t)
