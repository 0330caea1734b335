"""Telegram HTML for topics and subscriptions: /topics, /topic, /mytopics, (un)subscribe and "did you mean".

Pure. An unknown topic name always gets an answer: the closest names, else the list of topics. Article
lists and the fitting rules are `replies.py`; the admin's view of a topic's rules is `replies_admin.py`.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence, Set
from datetime import datetime

from bot.core.i18n import ENGLISH, Msg, Translator, msg
from bot.core.models import StoredArticle, Topic
from bot.core.replies import article_list, esc, fit, shorten
from bot.core.topics import fold

SUGGESTIONS = 3
LIST_NAMES = 12


def suggest(name: str, names: Sequence[str], n: int = SUGGESTIONS) -> list[str]:
    """The topic names closest to `name`: spelling (difflib), then shared prefixes or substrings."""
    folded = {fold(x): x for x in names}
    wanted = fold(name)
    close = difflib.get_close_matches(wanted, list(folded), n=n, cutoff=0.6)
    out = [folded[c] for c in close]
    for key, original in folded.items():
        if len(out) >= n:
            break
        if original not in out and len(wanted) >= 3 and (wanted in key or key.startswith(wanted[:3])):
            out.append(original)
    return out


def _names(names: Sequence[str]) -> str:
    return ", ".join(f"<b>{esc(x)}</b>" for x in names)


def unknown_topic(name: str, names: Sequence[str], t: Translator = ENGLISH) -> str:
    """Never silence: the closest names, or the topics there are, or how topics come to be."""
    shown = esc(shorten(name, 40))
    if not names:
        return t("There is no topic “{name}”: no topics have been set up yet.", name=shown)
    close = suggest(name, names)
    if close:
        return t("There is no topic “{name}”. Did you mean {names}?", name=shown, names=_names(close))
    listed = _names(sorted(names, key=str.casefold)[:LIST_NAMES])
    if len(names) > LIST_NAMES:
        return t(
            "There is no topic “{name}”. Topics: {names} and more (see /topics).", name=shown, names=listed
        )
    return t("There is no topic “{name}”. Topics: {names}.", name=shown, names=listed)


def topics_reply(topics: Sequence[Topic], t: Translator = ENGLISH) -> str:
    if not topics:
        return t("No topics have been set up yet.")
    lines = [
        f"• <b>{esc(x.name)}</b>" + (f" — {esc(shorten(x.description, 120))}" if x.description else "")
        for x in topics
    ]
    tail = ["", t("Read one with /topic &lt;name&gt;; follow one with /subscribe &lt;name&gt;.")]
    return fit([t("🏷 <b>Topics</b>"), ""], lines, tail, t)


def topic_reply(
    topic: Topic,
    articles: Sequence[StoredArticle],
    now: datetime,
    *,
    note: Msg | None = None,
    rules: str | None = None,
    link: str | None = None,
    t: Translator = ENGLISH,
) -> str:
    """A topic's newest articles; `rules` (HTML, for admins) goes under the title, then the topic's deep
    `link` (following it subscribes)."""
    title = f"🏷 <b>{esc(topic.name)}</b>"
    if topic.description:
        title += f" — {esc(shorten(topic.description, 120))}"
    if rules:
        title += f"\n{rules}"
    if link:
        title += f"\n{topic_link_line(link, t)}"
    if not articles:
        empty = t("No articles in <b>{name}</b> yet.", name=esc(topic.name))
        extra = [line for line in (rules, topic_link_line(link, t) if link else None) if line]
        return "\n".join([empty, *extra])
    return article_list(title, articles, now, note=note, empty="", t=t)


def my_topics_reply(
    topics: Sequence[Topic], *, daily: Set[str] = frozenset(), t: Translator = ENGLISH
) -> str:
    if not topics:
        return t("You don't follow any topic yet. See /topics, then /subscribe &lt;name&gt;.")
    once_a_day = t("(daily)")
    lines = [f"• <b>{esc(x.name)}</b>{' ' + esc(once_a_day) if x.name in daily else ''}" for x in topics]
    tail = ["", t("Stop one with /unsubscribe &lt;name&gt;.")]
    return fit([t("📬 <b>Topics you follow</b>"), ""], lines, tail, t)


def subscribed(topic: Topic, *, created: bool, daily: bool = False, t: Translator = ENGLISH) -> str:
    name = f"<b>{esc(topic.name)}</b>"
    if not created:
        if daily:
            return t("You already follow {name} once a day.", name=name)
        return t("You already follow {name}.", name=name)
    if daily:
        return t(
            "✅ You now follow {name}: I'll send you one private message a day with its new articles. "
            "/unsubscribe {topic} stops them.",
            name=name,
            topic=esc(topic.name),
        )
    return t(
        "✅ You now follow {name}: I'll send you a private message for each new article in it. "
        "/unsubscribe {topic} stops them.",
        name=name,
        topic=esc(topic.name),
    )


def unsubscribed(topic: Topic, *, removed: bool, t: Translator = ENGLISH) -> str:
    name = f"<b>{esc(topic.name)}</b>"
    if removed:
        return t("You no longer follow {name}.", name=name)
    return t("You weren't following {name}.", name=name)


def slow_down(retry_in: float, t: Translator = ENGLISH) -> str:
    seconds = max(1, round(retry_in))
    return t("🐢 Slow down a little: I'll answer again in about {n} s.", n=t.number(seconds))


def follow_prompt(topic: Topic, t: Translator = ENGLISH) -> str:
    """A deep link's question before following: one press on the button answers it."""
    about = f" — {esc(shorten(topic.description, 120))}" if topic.description else ""
    return t(
        "🏷 Follow <b>{name}</b>{about}?\n"
        "You'll get a private message for each new article in it; /unsubscribe stops them.",
        name=esc(topic.name),
        about=about,
    )


def follow_button(topic: Topic, t: Translator = ENGLISH) -> str:
    return t("✅ Follow {name}", name=shorten(topic.name, 40))


UNKNOWN_LINK = msg(
    "I don't know that link. Send /help to see what I can do, or /topics for the topics to follow."
)
ARTICLE_GONE = msg("That article is no longer in the archive. Send /latest for the newest ones.")


def topic_link_line(link: str, t: Translator = ENGLISH) -> str:
    """The topic's deep link under /topic: readers share it, and it subscribes whoever opens it."""
    return t("🔗 Follow it from any chat: {link}", link=f'<a href="{esc(link)}">{esc(link)}</a>')
