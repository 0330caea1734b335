"""`python -m bench.bare_bot API_URL TOKEN [httpx|aiohttp]`: the chat benchmark's baseline bot.

A trivial python-telegram-bot Application (one /ping handler answering "pong") in a process of its own,
polling the local Bot API as `newsbot run` does, over PTB's default httpx transport or over the bot's
aiohttp one (bot/adapters/telegram_request.py), so the two are measured side by side. Stops on SIGTERM.
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from bot.adapters.telegram_request import AiohttpRequest


async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("pong")


def main(argv: list[str]) -> None:
    api_url, token, transport = (*argv, "httpx")[:3]
    builder = ApplicationBuilder().token(token).base_url(f"{api_url}/bot")
    if transport == "aiohttp":
        builder = builder.request(AiohttpRequest()).get_updates_request(AiohttpRequest(pool_size=1))
    app = builder.build()
    app.add_handler(CommandHandler("ping", ping))
    app.run_polling(poll_interval=0.0, timeout=10)


if __name__ == "__main__":
    main(sys.argv[1:])
