"""Digests: which slot is due (or missed), the dated title, and the body: the top stories since the last
digest grouped by topic, each a linked headline, fitted to Telegram's limits.

"Top" here is simple and stated: breaking stories first, then stories in more of the newsroom's topics,
then the newest. Sending and remembering slots is bot/services/briefings.py's and repo_digests.py's.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Literal

from bot.core.daytime import Slot, due_slot

__all__ = ["DigestStory", "Due", "decide", "digest_html", "title"]

OTHER = "More news"
TEXT_ROOM = 3900  # under Telegram's 4096, counted on the visible text
ENTITY_ROOM = 90  # under Telegram's 100 entities per message
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class DigestStory:
    article_id: int
    headline: str
    url: str
    topics: tuple[str, ...]
    breaking: bool
    published: datetime


@dataclass(frozen=True, slots=True)
class Due:
    action: Literal["post", "missed"]
    slot: Slot


def decide(
    now: datetime, times: tuple[time, ...], zone: tzinfo, grace: timedelta, claimed: set[str]
) -> Due | None:
    """The latest slot at or before `now` if not yet claimed: post it within `grace`, else it was missed."""
    slot = due_slot(now, times, zone)
    if slot is None or slot.key in claimed:
        return None
    return Due("post" if now - slot.when <= grace else "missed", slot)


def title(when: datetime, zone: tzinfo, *, name: str = "briefing") -> str:
    """The dated title, e.g. "Morning briefing, Tuesday 3 December" (afternoon from 12:00, evening 17:00)."""
    local = when.astimezone(zone)
    part = "Morning" if local.hour < 12 else "Afternoon" if local.hour < 17 else "Evening"
    return f"{part} {name}, {_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"


def rank(stories: list[DigestStory]) -> list[DigestStory]:
    return sorted(
        stories, key=lambda s: (not s.breaking, -len(s.topics), -s.published.timestamp(), s.article_id)
    )


def digest_html(heading: str, stories: list[DigestStory], size: int) -> str | None:
    """The digest post, or None when there is nothing to tell. Each story appears once, under its first
    topic (alphabetically); untopical stories come last under "More news"."""
    chosen = rank(stories)[:size]
    if not chosen:
        return None
    groups: dict[str, list[DigestStory]] = {}
    for story in chosen:
        groups.setdefault(min(story.topics, key=str.casefold) if story.topics else OTHER, []).append(story)
    order = sorted((g for g in groups if g != OTHER), key=str.casefold) + ([OTHER] if OTHER in groups else [])
    lines = [f"🗞 <b>{html.escape(heading, quote=False)}</b>"]
    used, entities = len(heading) + 3, 1
    for group in order:
        block = [f"\n<b>{html.escape(group, quote=False)}</b>"]
        cost = len(group) + 2
        for story in groups[group]:
            mark = "🔴 " if story.breaking else ""
            block.append(
                f'• {mark}<a href="{html.escape(story.url)}">{html.escape(story.headline, quote=False)}</a>'
            )
            cost += len(story.headline) + len(mark) + 3
        if used + cost > TEXT_ROOM or entities + len(block) > ENTITY_ROOM:
            break
        lines.extend(block)
        used, entities = used + cost, entities + len(block)
    return "\n".join(lines)
