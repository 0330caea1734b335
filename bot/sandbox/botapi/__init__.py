"""The local stand-in for the Telegram Bot API that tests, the sandbox and the benchmarks talk to.

`server` serves it over loopback HTTP, `methods` answers each Bot API method as Telegram does, `state` and
`model` hold what it knows, `harness` is how a test or the sandbox drives it (chats, updates, faults, waits).
"""

from bot.sandbox.botapi.model import ApiError, Chat, SentMessage
from bot.sandbox.botapi.server import LocalBotAPI

__all__ = ["ApiError", "Chat", "LocalBotAPI", "SentMessage"]
