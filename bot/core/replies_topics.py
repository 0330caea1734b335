"""Telegram HTML for topics and subscriptions: /topics, /topic, /mytopics, (un)subscribe and "did you mean".

Pure. An unknown topic name always gets an answer: the closest names, else the list of topics. Article
lists and the fitting rules are `replies.py`; the admin's view of a topic's rules is `replies_admin.py`.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence, Set
from datetime import datetime

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


def unknown_topic(name: str, names: Sequence[str]) -> str:
    """Never silence: the closest names, or the topics there are, or how topics come to be."""
    shown = esc(shorten(name, 40))
    if not names:
        return f"There is no topic “{shown}”: no topics have been set up yet."
    close = suggest(name, names)
    if close:
        return f"There is no topic “{shown}”. Did you mean {_names(close)}?"
    listed = _names(sorted(names, key=str.casefold)[:LIST_NAMES])
    more = " and more (see /topics)" if len(names) > LIST_NAMES else ""
    return f"There is no topic “{shown}”. Topics: {listed}{more}."


def topics_reply(topics: Sequence[Topic]) -> str:
    if not topics:
        return "No topics have been set up yet."
    lines = [
        f"• <b>{esc(t.name)}</b>" + (f" — {esc(shorten(t.description, 120))}" if t.description else "")
        for t in topics
    ]
    tail = ["", "Read one with /topic &lt;name&gt;; follow one with /subscribe &lt;name&gt;."]
    return fit(["🏷 <b>Topics</b>", ""], lines, tail)


def topic_reply(
    topic: Topic,
    articles: Sequence[StoredArticle],
    now: datetime,
    *,
    note: str | None = None,
    rules: str | None = None,
    link: str | None = None,
) -> str:
    """A topic's newest articles; `rules` (HTML, for admins) goes under the title, then the topic's deep
    `link` (following it subscribes)."""
    title = f"🏷 <b>{esc(topic.name)}</b>"
    if topic.description:
        title += f" — {esc(shorten(topic.description, 120))}"
    if rules:
        title += f"\n{rules}"
    if link:
        title += f"\n{topic_link_line(link)}"
    if not articles:
        empty = f"No articles in <b>{esc(topic.name)}</b> yet."
        extra = [line for line in (rules, topic_link_line(link) if link else None) if line]
        return "\n".join([empty, *extra])
    return article_list(title, articles, now, note=note, empty="")


def my_topics_reply(topics: Sequence[Topic], *, daily: Set[str] = frozenset()) -> str:
    if not topics:
        return "You don't follow any topic yet. See /topics, then /subscribe &lt;name&gt;."
    lines = [f"• <b>{esc(t.name)}</b>{' (daily)' if t.name in daily else ''}" for t in topics]
    tail = ["", "Stop one with /unsubscribe &lt;name&gt;."]
    return fit(["📬 <b>Topics you follow</b>", ""], lines, tail)


def subscribed(topic: Topic, *, created: bool, daily: bool = False) -> str:
    name = f"<b>{esc(topic.name)}</b>"
    if not created:
        return f"You already follow {name}{' once a day' if daily else ''}."
    how = (
        "one private message a day with its new articles"
        if daily
        else "a private message for each new article"
    )
    return f"✅ You now follow {name}: I'll send you {how} in it. /unsubscribe {esc(topic.name)} stops them."


def unsubscribed(topic: Topic, *, removed: bool) -> str:
    name = f"<b>{esc(topic.name)}</b>"
    return f"You no longer follow {name}." if removed else f"You weren't following {name}."


def slow_down(retry_in: float) -> str:
    seconds = max(1, round(retry_in))
    return f"🐢 Slow down a little: I'll answer again in about {seconds} s."


def follow_prompt(topic: Topic) -> str:
    """A deep link's question before following: one press on the button answers it."""
    about = f" — {esc(shorten(topic.description, 120))}" if topic.description else ""
    return (
        f"🏷 Follow <b>{esc(topic.name)}</b>{about}?\n"
        "You'll get a private message for each new article in it; /unsubscribe stops them."
    )


def follow_button(topic: Topic) -> str:
    return f"✅ Follow {shorten(topic.name, 40)}"


UNKNOWN_LINK = "I don't know that link. Send /help to see what I can do, or /topics for the topics to follow."
ARTICLE_GONE = "That article is no longer in the archive. Send /latest for the newest ones."


def topic_link_line(link: str) -> str:
    """The topic's deep link under /topic: readers share it, and it subscribes whoever opens it."""
    return f'🔗 Follow it from any chat: <a href="{esc(link)}">{esc(link)}</a>'
