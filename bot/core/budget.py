"""One send budget per bot token: Telegram's flood limits as rolling windows, with lanes by priority.

Pure, like `pacing.py` (whose RateWindow it uses): callers pass monotonic seconds and do the waiting
(bot/adapters/send_budget.py queues the Bot API calls and grants them in lane order).

Limits (../shared/TELEGRAM.md): about 30 messages a second over all chats, counted in a rolling window;
20 a minute per channel or group; about one a second per private chat with short bursts (3 in any 3 s
here). Every message-sending or -editing call draws from them, whichever service makes it.

Lanes. Replies to readers (command answers, button presses) are `REPLY`; channel and group posts, edits
and pins' notices are `POST`; topic DMs and digests are `BULK`. A waiting call of a higher lane goes
first whenever both could go. The lower lanes together use at most `background_per_second` of the 30,
so a reader's reply finds room within the second even while a fan-out runs flat out.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from enum import IntEnum

from bot.core.pacing import RateWindow

__all__ = ["SENDING_METHODS", "BudgetLimits", "Lane", "SendBudget", "chat_key"]


class Lane(IntEnum):
    """Priority of a send: lower goes first."""

    REPLY = 0
    POST = 1
    BULK = 2


# Bot API methods that post or change a message: what Telegram's flood limits count.
SENDING_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendAnimation",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendMediaGroup",
        "sendSticker",
        "sendPoll",
        "sendLocation",
        "sendContact",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
    }
)


@dataclass(frozen=True, slots=True)
class BudgetLimits:
    overall: tuple[int, float] = (30, 1.0)
    background_per_second: int = 24  # the POST and BULK lanes together; the rest is kept for replies
    group: tuple[int, float] = (20, 60.0)
    private: tuple[int, float] = (3, 3.0)
    # seconds added to every window: a send is counted when it is let go, Telegram counts it when it
    # arrives, and under load the two differ by tens of milliseconds (without it, a full window let go
    # in a burst drew 429s from the strict stand-in)
    margin: float = 0.15


ChatKey = tuple[str, Hashable]


def chat_key(chat_id: object) -> ChatKey | None:
    """("private", id) for a user's chat, ("group", id) for a channel or group, None without a chat.

    Positive ids are users; negative ids and @usernames are channels and groups (a username is
    lower-cased so "@News" and "@news" count as one chat)."""
    if chat_id is None:
        return None
    if isinstance(chat_id, str):
        text = chat_id.strip()
        try:
            chat_id = int(text)
        except ValueError:
            return ("group", text.lower())
    if isinstance(chat_id, int) and not isinstance(chat_id, bool):
        return ("private", chat_id) if chat_id > 0 else ("group", chat_id)
    return ("group", str(chat_id))


class SendBudget:
    """The windows every send counts against; `wait_time` says when a send of a lane to a chat may go."""

    def __init__(self, limits: BudgetLimits | None = None) -> None:
        self.limits = limits = limits or BudgetLimits()
        pad = limits.margin
        self.overall = RateWindow(limits.overall[0], limits.overall[1] + pad)
        self.background = RateWindow(max(1, min(limits.background_per_second, limits.overall[0])), 1.0 + pad)
        self.groups = RateWindow(limits.group[0], limits.group[1] + pad)
        self.privates = RateWindow(limits.private[0], limits.private[1] + pad)

    def _chat_window(self, key: ChatKey) -> RateWindow:
        return self.privates if key[0] == "private" else self.groups

    def wait_time(self, chat: ChatKey | None, lane: Lane, now: float) -> float:
        """Seconds until one more send of `lane` to `chat` is within every limit; 0.0 when it is now."""
        wait = self.overall.wait_time(None, now)
        if lane is not Lane.REPLY:
            wait = max(wait, self.background.wait_time(None, now))
        if chat is not None:
            wait = max(wait, self._chat_window(chat).wait_time(chat, now))
        return wait

    def record(self, chat: ChatKey | None, lane: Lane, now: float) -> None:
        """Count one send of `lane` to `chat` at `now`."""
        self.overall.record(None, now)
        if lane is not Lane.REPLY:
            self.background.record(None, now)
        if chat is not None:
            self._chat_window(chat).record(chat, now)

    def block(self, chat: ChatKey | None, until: float) -> None:
        """Send nothing more to `chat` before `until` (Telegram answered 429 with retry_after)."""
        if chat is None:
            self.overall.block(None, until)
        else:
            self._chat_window(chat).block(chat, until)
