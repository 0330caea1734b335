"""Telegram HTML for admins' replies: a topic's rules, topic and feed changes, /feeds, pause and refusal.

Pure. Feed titles, URLs and errors came from the outside world and are escaped like any feed text. The
/status text itself is `bot/core/status.py`'s; readers' replies are `replies.py` and `replies_topics.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.core.i18n import ENGLISH, Translator
from bot.core.models import Feed, Topic
from bot.core.replies import esc, fit, shorten
from bot.core.schedule import reading
from bot.core.timeutil import humanize_age
from bot.core.websub_plan import push_note


def refusal(command: str, t: Translator = ENGLISH) -> str:
    """What a reader who tried an admin command is told (in their language: they are a reader)."""
    return t(
        "Sorry, /{command} is only for the bot's admins. /help lists what you can do.", command=esc(command)
    )


def _rule_lines(topic: Topic) -> list[str]:
    keywords = ", ".join(esc(k) for k in topic.keywords) or "none"
    lines = [f"<i>Keywords:</i> {keywords}"]
    if topic.categories:
        lines.append(f"<i>Categories:</i> {', '.join(esc(c) for c in topic.categories)}")
    if topic.channel_id:
        lines.append(f"<i>Also posted to:</i> {esc(topic.channel_id)}")
    return lines


def topic_rules(topic: Topic, *, articles: int, subscribers: int) -> str:
    """The rules an article must meet to be in the topic, for admins (under the /topic title)."""
    counts = f"<i>Tagged articles:</i> {articles} · <i>subscribers:</i> {subscribers}"
    return "\n".join([*_rule_lines(topic), counts])


def topic_saved(topic: Topic, *, created: bool, tagged: int) -> str:
    verb = "added" if created else "updated"
    return "\n".join(
        [
            f"✅ Topic <b>{esc(topic.name)}</b> {verb}; {tagged} recent article(s) match it.",
            *_rule_lines(topic),
            f"See them with /topic {esc(topic.name)}.",
        ]
    )


def topic_removed(name: str, *, removed: bool) -> str:
    if removed:
        return f"🗑 Topic <b>{esc(name)}</b> removed, with its tags and subscriptions."
    return f"There is no topic <b>{esc(name)}</b>; nothing was removed. See /topics."


def _feed_line(feed: Feed, count: int, now: datetime) -> str:
    title = esc(shorten(feed.title or feed.url, 60))
    parts = [f"<b>#{feed.id}</b> {title}", esc(shorten(feed.url, 120))]
    state = [] if feed.enabled else ["⏸ disabled"]
    if feed.last_fetched_at is not None:
        state.append(f"fetched {humanize_age(max(0.0, (now - feed.last_fetched_at).total_seconds()))}")
    else:
        state.append("not fetched yet")
    state.append(f"{count} article(s)")
    state.append(reading(feed))
    if feed.review is not None:
        state.append(f"review {'on' if feed.review else 'off'} (this feed)")
    parts.append(" · ".join(state))
    if feed.last_error:
        parts.append(f"⚠ {esc(shorten(feed.last_error, 160))} (failed {feed.error_count}×)")
    if note := push_note(feed.push, feed.push_error):
        parts.append(f"📡 {esc(shorten(note, 160))}")
    return "\n".join(parts)


def feeds_reply(feeds: Sequence[Feed], counts: Mapping[int, int], now: datetime) -> str:
    """Every feed with its last fetch, article count, mode and interval, and error; failing feeds first."""
    if not feeds:
        return "No feeds yet. Add one with /addfeed &lt;url&gt;."
    ordered = sorted(feeds, key=lambda f: (not f.last_error, f.id))
    failing = sum(1 for f in feeds if f.last_error)
    head = [f"📡 <b>Feeds</b>: {len(feeds)}" + (f", {failing} failing" if failing else ""), ""]
    lines = [_feed_line(f, counts.get(f.id, 0), now) + "\n" for f in ordered]
    return fit(head, lines, ["Remove one with /removefeed &lt;id&gt;."])


def feed_added(feed: Feed, *, created: bool = True) -> str:
    name = esc(feed.title or feed.url)
    if not created:
        return f"That feed is already there: <b>#{feed.id}</b> {name}"
    return f"✅ Feed <b>#{feed.id}</b> added: {name}\n{esc(feed.url)}\nIt will be fetched within a minute."


def feed_removed(feed: Feed | None, ref: int | str) -> str:
    if feed is None:
        return f"There is no feed {esc(str(ref))}; see /feeds."
    return f"🗑 Feed <b>#{feed.id}</b> removed: {esc(feed.title or feed.url)}"


def paused(reason: str) -> str:
    return f"⏸ Posting to the channel is paused ({esc(reason)}). /resume starts it again."


def resumed(what: Sequence[str]) -> str:
    if not what:
        return "▶ Posting was not paused; nothing to resume."
    return "▶ Posting resumed. Queued articles go out at the channel's pace."


def publisher_missing() -> str:
    return "The channel publisher is not running in this process; nothing was changed."


def status_extra(
    *,
    posts_today: int,
    dm_counts: Mapping[str, int],
    failing: Sequence[Feed],
    groups: tuple[int, int] = (0, 0),
) -> str:
    """Lines /status adds to the shared status text: posts today, subscription DMs, groups (in, following
    topics), failing feeds."""
    lines = [f"Channel posts today (UTC): {posts_today}"]
    queued, sent, failed = (dm_counts.get(k, 0) for k in ("queued", "sent", "failed"))
    lines.append(f"Subscription messages: {queued} queued · {sent} sent · {failed} failed")
    lines.append(f"Groups: in {groups[0]} · {groups[1]} topic subscriptions")
    if failing:
        lines.append("Failing feeds:")
        for feed in failing[:5]:
            error = esc(shorten(feed.last_error or "", 100))
            lines.append(f"  • #{feed.id} {esc(shorten(feed.title or feed.url, 50))}: {error}")
        if len(failing) > 5:
            lines.append(f"  …and {len(failing) - 5} more (see /feeds)")
    return "\n".join(lines)
