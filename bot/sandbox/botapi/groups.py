"""Groups as Telegram runs them for a bot: being added and removed (`my_chat_member` updates), and a group
upgraded to a supergroup (`migrate_to_chat_id`).

- Adding the bot delivers `my_chat_member` (old "left", new "member" or "administrator") from the user who
  added it; removing it delivers the same with new status "left" or "kicked", after which sends answer
  403 "Forbidden: bot was kicked from the group chat" (or "… is not a member …").
- Upgrading a group creates the supergroup (new id, same title, admins and bot membership) and delivers
  two service messages: `migrate_to_chat_id` in the old group and `migrate_from_chat_id` in the new one.
  Sends to the old id then answer 400 "group chat was upgraded to a supergroup chat" with
  `parameters.migrate_to_chat_id` (python-telegram-bot raises ChatMigrated).
"""

from __future__ import annotations

import time

from bot.sandbox.botapi.harness_inject import InjectionHarness
from bot.sandbox.botapi.model import BotStatus, Chat, JSONDict, member_json


class GroupHarness(InjectionHarness):
    def _bot_member(self, chat: Chat, status: str) -> JSONDict:
        return member_json(self.bot_user, status, can_pin=chat.bot_can_pin)

    def _chat_member_update(self, chat: Chat, by: int, old: str, new: str) -> int:
        user = self.users.get(by) or self.remember_user(by, username=None, first_name=f"User {by}")
        return self.inject_update(
            {
                "my_chat_member": {
                    "chat": chat.to_json(),
                    "from": user,
                    "date": int(time.time()),
                    "old_chat_member": self._bot_member(chat, old),
                    "new_chat_member": self._bot_member(chat, new),
                }
            }
        )

    def add_bot_to_group(
        self,
        chat_id: int,
        *,
        by: int,
        title: str = "Readers' group",
        type: str = "supergroup",
        admins: dict[int, str] | None = None,
        as_admin: bool = False,
    ) -> int:
        """User `by` adds the bot to a group (created when unknown, `by` its creator unless `admins` says
        otherwise); returns the my_chat_member update's id."""
        if type not in ("group", "supergroup"):
            raise ValueError(f"not a group type: {type!r}")
        chat = self.find_chat(chat_id)
        status: BotStatus = "administrator" if as_admin else "member"
        if chat is None:
            chat = self.add_chat(
                chat_id, title=title, type=type, bot_status=status, admins=admins or {by: "creator"}
            )
            old = "left"
        else:
            old, chat.bot_status = chat.bot_status, status
        self.publish({"event": "bot_added", "chat_id": chat.id, "by": by})
        return self._chat_member_update(chat, by, old, status)

    def remove_bot_from_group(self, chat_id: int, *, by: int, kicked: bool = True) -> int:
        """User `by` removes the bot (kicked, or left when `kicked=False`); returns the update's id."""
        chat = self.chat(chat_id)
        if chat.type not in ("group", "supergroup"):
            raise ValueError(f"chat {chat_id} is not a group")
        old = chat.bot_status
        chat.bot_status = "kicked" if kicked else "left"
        self.publish({"event": "bot_removed", "chat_id": chat.id, "by": by})
        return self._chat_member_update(chat, by, old, chat.bot_status)

    def migrate_group(self, chat_id: int, new_id: int, *, by: int) -> Chat:
        """Upgrade a group to a supergroup with id `new_id`; returns the new chat."""
        old = self.chat(chat_id)
        if old.type != "group":
            raise ValueError(f"chat {chat_id} is not a basic group")
        if self.find_chat(new_id) is not None:
            raise ValueError(f"chat {new_id} exists already")
        new = self.add_chat(
            new_id,
            title=old.title or "Group",
            type="supergroup",
            bot_status=old.bot_status,
            admins=dict(old.admins),
        )
        new.bot_can_pin = old.bot_can_pin
        old.migrated_to = new_id
        user = self.users.get(by) or self.remember_user(by, username=None, first_name=f"User {by}")
        for chat, field, value in (
            (old, "migrate_to_chat_id", new_id),
            (new, "migrate_from_chat_id", old.id),
        ):
            message: JSONDict = {
                "message_id": chat.next_message_id(),
                "date": int(time.time()),
                "chat": chat.to_json(),
                "from": user,
                field: value,
            }
            self.inject_update({"message": message})
        self.publish({"event": "group_migrated", "chat_id": old.id, "new_chat_id": new_id})
        return new
