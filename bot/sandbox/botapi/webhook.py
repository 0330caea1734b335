"""setWebhook, deleteWebhook and getWebhookInfo of the stand-in, and its delivery of updates by webhook.

As Telegram does (../shared/TELEGRAM.md): while a webhook is set, getUpdates answers 409 and each pending
update is POSTed to the webhook's URL as JSON with `X-Telegram-Bot-Api-Secret-Token`; an update leaves the
queue only when the bot answers 2xx, otherwise it is sent again after a pause and getWebhookInfo tells
the last error. Updates go one at a time, in order. deleteWebhook returns to polling.

One allowance: Telegram calls only HTTPS URLs on ports 443, 80, 88 and 8443. The stand-in also takes a
plain-HTTP URL on a loopback host (any port), where a production bot would sit behind its TLS proxy;
any other http:// URL is refused as Telegram refuses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from bot.sandbox.botapi.model import ApiError, JSONDict, bad_request
from bot.sandbox.botapi.state import BotAPIState, int_param

__all__ = ["Webhook", "WebhookMethods"]

_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}\Z")
_PORTS = {443, 80, 88, 8443}
_UPDATE_KINDS = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
)


@dataclass(slots=True)
class Webhook:
    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None
    delivered: int = 0
    failures: list[str] = field(default_factory=list)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(host).is_loopback
    return False


def _kind(update: JSONDict) -> str | None:
    return next((k for k in _UPDATE_KINDS if k in update), None)


class WebhookMethods(BotAPIState):
    """The webhook methods and the delivery task; `retry_delay` is the pause after a failed delivery."""

    webhook: Webhook | None = None
    retry_delay: float = 1.0
    _delivery: asyncio.Task[None] | None = None

    async def set_webhook(self, params: JSONDict) -> bool:
        url = str(params.get("url") or "").strip()
        if not url:  # setWebhook with an empty URL removes it, as deleteWebhook does
            await self.delete_webhook(params)
            return True
        parts = urlsplit(url)
        if parts.scheme == "http" and not _loopback(parts.hostname or ""):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
        if parts.scheme == "https" and (parts.port or 443) not in _PORTS:
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET.match(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        allowed = params.get("allowed_updates")
        if allowed is not None and not (
            isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)
        ):
            raise bad_request("can't parse allowed updates JSON object")
        connections = int_param(params.get("max_connections"), 40)
        if not 1 <= connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates") is True:
            self.updates.clear()
        self.webhook = Webhook(url, None if secret is None else str(secret), allowed or None, connections)
        self.poll_generation += 1  # a long poll waiting now ends (it answers 409)
        self.notify()
        if self._delivery is None or self._delivery.done():
            self._delivery = asyncio.create_task(self._deliver(), name="botapi-webhook")
        return True

    async def delete_webhook(self, params: JSONDict) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates") is True:
            self.updates.clear()
        self.notify()
        return True

    async def get_webhook_info(self, params: JSONDict) -> JSONDict:
        hook = self.webhook
        info: JSONDict = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.allowed_updates is not None:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info

    def refuse_polling_while_webhook(self) -> None:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )

    async def stop_webhook_delivery(self) -> None:
        task, self._delivery = self._delivery, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _deliver(self) -> None:
        """POST pending updates to the webhook, oldest first, until it is deleted or the server stops."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while self.webhook is not None and not self.closing:
                hook = self.webhook
                if not self.updates:
                    await self.wait_changed(1.0)
                    continue
                update = self.updates[0]
                if hook.allowed_updates is not None and _kind(update) not in hook.allowed_updates:
                    self.updates.pop(0)  # Telegram never sends what the bot did not ask for
                    continue
                headers = {"X-Telegram-Bot-Api-Secret-Token": hook.secret_token} if hook.secret_token else {}
                error: str | None = None
                try:
                    async with session.post(hook.url, json=update, headers=headers) as response:
                        await response.read()
                        if not 200 <= response.status < 300:
                            error = f"Wrong response from the webhook: {response.status} {response.reason}"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    error = f"Connection failed: {type(exc).__name__}"
                if error is None:
                    if self.updates and self.updates[0] is update:
                        self.updates.pop(0)
                    hook.delivered += 1
                    self.notify()
                    continue
                hook.last_error_date, hook.last_error_message = int(time.time()), error
                hook.failures.append(error)
                self.notify()
                await asyncio.sleep(self.retry_delay)
