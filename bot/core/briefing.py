"""Digests: which slot is due (post it, or it was missed, or wait for the next), the dated title, and the
body: the top stories since the last digest grouped by topic, each a linked headline, fitted to Telegram.

"Top" is simple and stated: breaking stories first, then stories in more of the newsroom's topics, then
the newest. Sending and remembering slots is bot/services/briefings.py's and repo_digests.py's.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Literal

from bot.core.daytime import Slot, due_slot, next_slot
from bot.core.i18n import ENGLISH, N_, Translator
from bot.core.replies import esc, link, shorten
from bot.core.telegram_html import utf16_len

__all__ = ["OTHER", "Decision", "DigestStory", "decide", "digest_html", "rank", "title"]

OTHER = N_("More news")
TEXT_ROOM = 4000  # Telegram allows 4096 UTF-16 units of visible text; a margin for the newlines' count
ENTITY_ROOM = 100  # Telegram's entities per message
HEADLINE_CHARS = 200
MAX_NAP = timedelta(minutes=1)  # wake at least this often, so a clock that jumped is noticed
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
class Decision:
    """What to do now: post `slot`, record it as missed, or wait (`slot` None) until `wake_at`."""

    action: Literal["post", "missed", "wait"]
    slot: Slot | None
    wake_at: datetime | None  # when to look again (never more than MAX_NAP ahead); None when off

    def nap(self, now: datetime) -> float:
        """Seconds to sleep before looking again: until the next slot, at most a minute, 0 if due now."""
        if self.action != "wait":
            return 0.0
        if self.wake_at is None:
            return MAX_NAP.total_seconds()
        return max(0.0, min(self.wake_at - now, MAX_NAP).total_seconds())


def decide(
    now: datetime, times: tuple[time, ...], zone: tzinfo, grace: timedelta, claimed: Collection[str]
) -> Decision:
    """The latest slot at or before `now`, unless claimed before: post it within `grace` after its time,
    else it was missed. Otherwise wait for the next slot. Slots before the latest are never looked at."""
    slot = due_slot(now, times, zone)
    if slot is not None and slot.key not in claimed:
        return Decision("post" if now - slot.when <= grace else "missed", slot, None)
    upcoming = next_slot(now, times, zone)
    return Decision("wait", None, upcoming.when if upcoming is not None else None)


def title(when: datetime, zone: tzinfo, *, name: str = "briefing") -> str:
    """The dated title in English whatever the locale, e.g. "Morning briefing, Tuesday 3 December":
    morning before 12:00, afternoon before 17:00, evening after, in the newsroom's zone."""
    local = when.astimezone(zone)
    part = "Morning" if local.hour < 12 else "Afternoon" if local.hour < 17 else "Evening"
    return f"{part} {name}, {_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"


def reader_title(when: datetime, zone: tzinfo, t: Translator = ENGLISH) -> str:
    """A reader's daily digest title in their language, e.g. "Morning digest of your topics, Tuesday 3
    December" (the part of day in the newsroom's zone, as `title`)."""
    local = when.astimezone(zone)
    date = t.date(local, "EEEE d MMMM")
    if local.hour < 12:
        return t("Morning digest of your topics, {date}", date=date)
    if local.hour < 17:
        return t("Afternoon digest of your topics, {date}", date=date)
    return t("Evening digest of your topics, {date}", date=date)


def rank(stories: list[DigestStory]) -> list[DigestStory]:
    """Top first: breaking, then in more topics, then newest (then the lower id, for a stable order)."""
    return sorted(
        stories, key=lambda s: (not s.breaking, -len(s.topics), -s.published.timestamp(), s.article_id)
    )


def _group(story: DigestStory) -> str:
    return min(story.topics, key=str.casefold) if story.topics else OTHER


def digest_html(heading: str, stories: list[DigestStory], size: int, t: Translator = ENGLISH) -> str | None:
    """The digest post, or None when there is nothing to tell. The top `size` stories, each once, under
    its first topic (alphabetically; topics in alphabetical order, untopical stories last under "More
    news"); stories that would pass 4096 characters or 100 entities are left out."""
    chosen = rank(stories)[: max(size, 0)]
    if not chosen:
        return None
    groups: dict[str, list[DigestStory]] = {}
    for story in chosen:
        groups.setdefault(_group(story), []).append(story)
    order = sorted((g for g in groups if g != OTHER), key=str.casefold) + ([OTHER] if OTHER in groups else [])
    lines = [f"🗞 <b>{esc(heading)}</b>"]
    used, entities = utf16_len(f"🗞 {heading}"), 1
    for group in order:
        shown = t(group) if group == OTHER else group
        head_line, head_cost = f"\n<b>{esc(shown)}</b>", utf16_len(shown) + 2
        for story in groups[group]:
            mark = "🔴 " if story.breaking else ""
            text = shorten(story.headline.strip() or story.url, HEADLINE_CHARS)
            line = f"• {mark}{link(story.url, text)}"
            cost, more = utf16_len(f"\n• {mark}{text}"), 1
            if head_line:
                cost, more = cost + head_cost, 2
            if used + cost > TEXT_ROOM or entities + more > ENTITY_ROOM:
                continue  # a shorter story further down may still fit
            if head_line:
                lines.append(head_line)
                head_line = ""
            lines.append(line)
            used, entities = used + cost, entities + more
    return "\n".join(lines) if len(lines) > 1 else None
