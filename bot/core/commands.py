"""The bot's command catalogue: names, argument hints and one-line descriptions for menus and /help."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from bot.core.i18n import ENGLISH, Translator


@dataclass(frozen=True, slots=True)
class Command:
    """A command; `description` is an English message id (translated where shown)."""

    name: str
    args: str
    description: str
    admin: bool = False


READER_COMMANDS: tuple[Command, ...] = (
    Command("start", "", "Welcome and how to follow the channel"),
    Command("help", "", "Every command, one line each"),
    Command("latest", "[n]", "The n newest articles (default 5, at most 20)"),
    Command("topics", "", "The topics you can follow"),
    Command("topic", "<name> [n]", "The newest articles in a topic"),
    Command("search", "<words>", "Search headlines and summaries"),
    Command("subscribe", "<topic> [daily]", "A private message for each new article in a topic, or daily"),
    Command("unsubscribe", "<topic>", "Stop messages for a topic"),
    Command("mytopics", "", "The topics you follow"),
    Command("tip", "<text>", "Send the newsroom a tip (a photo with a /tip caption works too)"),
)

ADMIN_COMMANDS: tuple[Command, ...] = (
    Command("status", "", "Feeds, outbox, latency and errors", admin=True),
    Command("feeds", "", "List feeds with their state", admin=True),
    Command("addfeed", "<url>", "Add a feed (or a site: its feed is discovered)", admin=True),
    Command("removefeed", "<id|url>", "Remove a feed (also /delfeed)", admin=True),
    Command("export", "", "The feeds as an OPML file (send me an .opml file to import)", admin=True),
    Command(
        "addtopic",
        "<name> <keyword>, <keyword>… [#category…] [@channel] [| description]",
        "Add or change a topic: comma-separated keyword phrases match whole words",
        admin=True,
    ),
    Command("removetopic", "<name>", "Remove a topic (also /deltopic)", admin=True),
    Command("pause", "", "Stop posting to the channel", admin=True),
    Command("resume", "", "Resume posting to the channel", admin=True),
    Command("review", "[feed id] on|off", "Editors approve each article before it is posted", admin=True),
    Command("breaking", "<article id|url>", "Post an article as breaking news (pinned)", admin=True),
    Command("audit", "[n]", "The latest admin changes: who, what, when", admin=True),
    Command("block", "<user id>", "Block a reader from tips and commands", admin=True),
    Command("unblock", "<user id>", "Unblock a reader", admin=True),
)


# In a group chat: what anyone may ask, and the group's own topics (changed by its admins only).
GROUP_COMMANDS: tuple[Command, ...] = (
    Command("help", "", "What I can do in this group"),
    Command("latest", "[n]", "The newest articles"),
    Command("topics", "", "The topics this group can follow"),
    Command("topic", "<name> [n]", "The newest articles in a topic"),
    Command("search", "<words>", "Search headlines and summaries"),
    Command("subscribe", "<topic>", "Group admins: post each new article of a topic here"),
    Command("unsubscribe", "<topic>", "Group admins: stop posting a topic here"),
    Command("mytopics", "", "The topics this group follows"),
)


def visible_commands(*, admin: bool, group: bool = False) -> tuple[Command, ...]:
    if group:
        return GROUP_COMMANDS
    return READER_COMMANDS + ADMIN_COMMANDS if admin else READER_COMMANDS


def help_text(
    *, admin: bool, implemented: Set[str] | None = None, group: bool = False, t: Translator = ENGLISH
) -> str:
    """Plain-text help: one line per command, described in the reader's language (names and argument
    hints stay as typed). `implemented` filters to the commands wired up; `group` gives the short list of
    what works in a group chat."""
    lines = [t("Commands:")]
    for cmd in visible_commands(admin=admin, group=group):
        if implemented is not None and cmd.name not in implemented:
            continue
        usage = f"/{cmd.name} {cmd.args}".rstrip()
        lines.append(f"{usage} - {t(cmd.description)}")
    return "\n".join(lines)
