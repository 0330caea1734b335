"""What the sandbox page may see and do: its chats and identities, link preview cards, faults and bot status.

HTTP lives in `page`; the Telegram stand-in itself in `bot.sandbox.botapi`. Status reads the
bot's database through its own read-only connection: the bot's single writing connection is never touched.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import structlog

from bot.sandbox.announce import HOW, Announcer
from bot.sandbox.botapi import LocalBotAPI
from bot.sandbox.botapi.model import JSONDict, SentMessage
from bot.sandbox.feeds import Newsroom
from bot.sandbox.site import preview_for
from bot.sandbox.stories import PUBLICATIONS

log = structlog.get_logger(__name__)

FLOOD_COUNT = 3
FLOOD_RETRY_AFTER = 5


@dataclass(frozen=True, slots=True)
class Identity:
    """A person the visitor can write to the bot as."""

    key: str
    user_id: int
    first_name: str
    username: str


class SandboxControls:
    """Filters and enriches the stand-in's events for the page, injects messages and faults, tells status."""

    fault_actions = ("flood", "outage", "kick", "restore", "clear")

    def __init__(
        self,
        api: LocalBotAPI,
        newsroom: Newsroom,
        *,
        channel_id: int,
        identities: tuple[Identity, ...],
        db_path: Path,
        groups: dict[str, tuple[int, Identity]] | None = None,
    ) -> None:
        self.api = api
        self.newsroom = newsroom
        self.channel_id = channel_id
        self.identities = {i.key: i for i in identities}
        self._by_user = {i.user_id: i for i in identities}
        # group chats the visitor writes in, by page identity → (chat id, who writes there): "editors" (the
        # editors' group, as an admin) and "group" (a readers' group, as its owner)
        self.groups = dict(groups or {})
        self._by_group = {chat_id: key for key, (chat_id, _) in self.groups.items()}
        self.db_path = db_path
        self.origin = ""  # the page server's http://host:port, set once it is bound
        self.announcer: Announcer | None = None  # how the sample sites announce stories, once running
        self.stopping = asyncio.Event()
        self._db: aiosqlite.Connection | None = None

    async def inline(self, text: str, offset: str = "") -> JSONDict:
        """The reader types `@bot text` in some chat: the bot's answer, as the client would list it."""
        reader = self.identities["reader"]
        query_id = self.api.inject_inline_query(text, user_id=reader.user_id, offset=offset)
        record = await self.api.wait_for_inline_answer(query_id, timeout=10)
        results = [
            {
                k: r.get(k)
                for k in ("id", "title", "description", "thumbnail_url", "url")
                if r.get(k) is not None
            }
            | {"html": r["input_message_content"]["message_text"]}
            for r in record.results
        ]
        return {"query_id": query_id, "results": results, "next_offset": record.answer.get("next_offset", "")}

    # -- what the page sees ----------------------------------------------------------------------------------

    def describe(self, event: JSONDict) -> JSONDict | None:
        """The event as the page wants it (with `identity` and `preview`); None when the page skips it."""
        kind = event.get("event")
        if kind == "api_error":
            return dict(event)
        if kind == "callback_answered":
            return {**event, "where": "toast"} if event.get("text") else None
        chat_id = event.get("chat_id")
        if chat_id == self.channel_id:
            where: dict[str, Any] = {"where": "channel"}
        elif isinstance(chat_id, int) and chat_id in self._by_group:
            where = {"where": "chat", "identity": self._by_group[chat_id]}
        elif isinstance(chat_id, int) and chat_id in self._by_user:
            where = {"where": "chat", "identity": self._by_user[chat_id].key}
        else:
            return None
        out = {**event, **where}
        if kind in ("message_pinned", "message_unpinned"):  # a mark on the message, never a bubble of its own
            return {**out, "pinned": kind == "message_pinned"}
        if kind in ("message_sent", "message_edited"):
            out["preview"] = self._preview(event)
            out["pinned"] = event.get("message_id") in self.api.pins.get(int(chat_id), ())
        return out

    def _preview(self, event: JSONDict) -> JSONDict | None:
        """The link preview card Telegram would show: the options' URL, else the first link in the text."""
        if event.get("kind") != "text":
            return None
        options = event.get("link_preview_options") or {}
        if options.get("is_disabled"):
            return None
        url = options.get("url") or first_link(str(event.get("text") or ""), event.get("entities") or [])
        if not url:
            return None
        card = preview_for(str(url), self.newsroom, self.origin)
        if card is None:
            return None
        layout = {
            k: bool(options.get(k)) for k in ("prefer_small_media", "prefer_large_media", "show_above_text")
        }
        return {**card, **layout}

    def snapshot(self) -> JSONDict:
        """Everything the page shows, for its first paint and after a reconnect."""
        messages: list[JSONDict] = []
        chats = [self.api.chat(self.channel_id), *(self.api.private_chat(i) for i in self._by_user)]
        chats += [self.api.chat(chat_id) for chat_id, _ in self.groups.values()]
        for chat in chats:
            items: list[tuple[int, JSONDict]] = [
                (m.message_id, m.to_event(_sent_kind(m), chat)) for m in self.api.chat_messages(chat.id)
            ]
            items += [
                (message_id, _user_event(message))
                for (cid, message_id), message in self.api.incoming.items()
                if cid == chat.id
            ]
            for _, event in sorted(items, key=lambda pair: pair[0]):
                described = self.describe(event)
                if described is not None:
                    messages.append(described)
        channel = self.api.chat(self.channel_id)
        return {
            "channel": {"id": channel.id, "title": channel.title, "username": channel.username},
            "bot": {k: self.api.bot_user.get(k) for k in ("id", "first_name", "username")},
            "identities": {
                i.key: {"user_id": i.user_id, "first_name": i.first_name, "username": i.username}
                for i in self.identities.values()
            },
            "messages": messages,
            "faults": self.fault_state(),
            "sites": self.sites(),
        }

    def sites(self) -> list[JSONDict]:
        """Each sample site, how it tells the bot it published (push / ping / poll), and how that went."""
        out: list[JSONDict] = []
        for pub in PUBLICATIONS:
            stats = self.announcer.stats[pub.key] if self.announcer is not None else None
            out.append(
                {
                    "key": pub.key,
                    "name": pub.name,
                    "feed": f"{self.origin}/{pub.key}/{pub.feed_path}",
                    "delivery": pub.delivery,
                    "how": HOW[pub.delivery],
                    "sent": stats.sent if stats else 0,
                    "failed": stats.failed if stats else 0,
                }
            )
        return out

    # -- what the page does -------------------------------------------------------------------------------

    @property
    def writers(self) -> tuple[str, ...]:
        """The page's identities: the people, then the group chats ("editors", "group")."""
        return (*self.identities, *self.groups)

    def _where(self, identity: str) -> tuple[Identity, int]:
        if identity in self.groups:
            chat_id, who = self.groups[identity]
            return who, chat_id
        who = self.identities[identity]
        return who, who.user_id

    def send(
        self, identity: str, text: str, reply_to: int | None = None, *, language: str | None = None
    ) -> int:
        """The identity writes `text` (in their private chat, or the editors' group), maybe as a reply to
        one of that chat's messages; returns the update id. ValueError when `reply_to` is not there."""
        who, chat_id = self._where(identity)
        log.info("sandbox_message", identity=identity, text=text[:80], reply_to=reply_to)
        return self.api.inject_message(
            text,
            user_id=who.user_id,
            chat_id=chat_id,
            username=who.username,
            first_name=who.first_name,
            reply_to=reply_to,
            language_code=language,
        )

    def press(self, identity: str, message_id: int, button: str) -> str:
        """The identity presses an inline button under a bot message; ValueError when there is none."""
        who, chat_id = self._where(identity)
        log.info("sandbox_press", identity=identity, message_id=message_id, button=button)
        return self.api.press(chat_id, message_id, button, user_id=who.user_id, first_name=who.first_name)

    def apply_fault(self, action: str) -> str:
        """Make the stand-in misbehave; returns one line saying what will happen."""
        api = self.api
        if action == "flood":
            api.fail_next(
                None, status=429, retry_after=FLOOD_RETRY_AFTER, count=FLOOD_COUNT, chat_id=self.channel_id
            )
            message = f"the next {FLOOD_COUNT} calls to the channel get 429 retry after {FLOOD_RETRY_AFTER} s"
        elif action == "outage":
            api.set_outage(not api.outage)
            message = "Telegram answers 502 to every call" if api.outage else "Telegram is back"
        elif action == "kick":
            api.kick_bot(self.channel_id)
            message = "the bot was removed from the channel: posts now get 403"
        elif action == "restore":
            api.restore_bot(self.channel_id)
            message = "the bot is an admin of the channel again: an admin sends /resume"
        else:
            api.clear_faults()
            api.restore_bot(self.channel_id)
            message = "every fault cleared"
        log.info("sandbox_fault", action=action, effect=message)
        return message

    def fault_state(self) -> JSONDict:
        flood = sum(f.remaining for f in self.api.faults if f.error is not None and f.error.status == 429)
        return {
            "outage": self.api.outage,
            "bot_status": self.api.chat(self.channel_id).bot_status,
            "flood_pending": flood,
        }

    # -- status ---------------------------------------------------------------------------------------------

    async def status(self) -> JSONDict:
        """The bot's reaction in numbers: the stand-in's counters and the bot's outbox and channel state."""
        api = self.api
        last = api.errors[-1] if api.errors else None
        return {
            "faults": self.fault_state(),
            "channel_posts": len(api.channel_posts(self.channel_id)),
            "telegram": {
                "sent": api.count_sent,
                "edited": api.count_edited,
                "errors": api.count_errors,
                "status_429": api.count_429,
                "updates_by": "webhook" if api.webhook is not None else "polling",
                "last_error": None
                if last is None
                else {"method": last[0], "status": last[1], "description": last[2]},
            },
            "bot": await self._bot_state(),
            "sites": self.sites(),
        }

    async def _bot_state(self) -> JSONDict | None:
        """Outbox counts, channel pause and feed errors from the bot's database; None until it exists."""
        if not self.db_path.exists():
            return None
        try:
            if self._db is None:
                self._db = await aiosqlite.connect(f"{self.db_path.resolve().as_uri()}?mode=ro", uri=True)
            db = self._db
            outbox = list(await db.execute_fetchall("SELECT state, COUNT(*) FROM outbox GROUP BY state"))
            paused = list(
                await db.execute_fetchall(
                    "SELECT paused, paused_reason FROM channels WHERE chat_id = ?", (str(self.channel_id),)
                )
            )
            feeds = list(await db.execute_fetchall("SELECT COUNT(*), SUM(error_count > 0) FROM feeds"))
            articles = list(await db.execute_fetchall("SELECT COUNT(*) FROM articles"))
        except sqlite3.Error as exc:  # not migrated yet, or busy: the page asks again soon
            log.debug("sandbox_status_unavailable", error=str(exc))
            return None
        return {
            "outbox": {str(row[0]): int(row[1]) for row in outbox},
            "paused": bool(paused and paused[0][0]),
            "paused_reason": paused[0][1] if paused else None,
            "feeds": int(feeds[0][0] or 0),
            "feeds_failing": int(feeds[0][1] or 0),
            "articles": int(articles[0][0] or 0),
        }

    async def close(self) -> None:
        self.stopping.set()
        if self._db is not None:
            await self._db.close()
            self._db = None


def first_link(text: str, entities: list[JSONDict]) -> str | None:
    """The first link of a message: a text_link's URL or a url entity's text (offsets in UTF-16 units)."""
    encoded = text.encode("utf-16-le")
    for entity in sorted(entities, key=lambda e: int(e.get("offset", 0))):
        if entity.get("type") == "text_link" and entity.get("url"):
            return str(entity["url"])
        if entity.get("type") == "url":
            start, length = int(entity.get("offset", 0)), int(entity.get("length", 0))
            return encoded[start * 2 : (start + length) * 2].decode("utf-16-le", errors="replace")
    return None


def _sent_kind(message: SentMessage) -> str:
    if message.deleted:
        return "message_deleted"
    return "message_edited" if message.edit_date is not None else "message_sent"


def _user_event(message: JSONDict) -> JSONDict:
    """An injected user message in the shape of the stand-in's `user_message` event."""
    user = message.get("from") or {}
    chat = message.get("chat") or {}
    return {
        "event": "user_message",
        "chat_id": chat.get("id"),
        "chat_type": chat.get("type"),
        "message_id": message.get("message_id"),
        "user_id": user.get("id"),
        "username": user.get("username"),
        "first_name": user.get("first_name"),
        "text": message.get("text") or message.get("caption") or "",
        "date": message.get("date"),
    }
