"""`newsbot topics add|list|remove`: the shell twin of /addtopic, /topics and /removetopic.

Works on the database directly (safe next to a running bot: WAL, short write transactions); adding or
changing a topic re-tags recent articles as /addtopic does. Validation and wording of rules are shared
with the chat commands (bot/core/chat_args.py); errors print one line.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.adapters.db import Database
from bot.adapters.repo_audit import AuditRepo
from bot.adapters.repo_topics import TopicRepo
from bot.core.chat_args import parse_addtopic, parse_topic_name
from bot.core.timeutil import utcnow
from bot.services.audit import Actor, Audit
from bot.settings import Settings


def _rules_text(args: argparse.Namespace) -> str:
    """The sub-command's arguments as /addtopic's argument text, so both are validated alike."""
    parts = [args.name, ", ".join(k.strip() for k in args.keywords if k.strip())]
    parts += [f"#{c.strip().replace(' ', '_')}" for c in args.category or [] if c.strip()]
    if args.channel:
        parts.append(args.channel if args.channel.startswith("@") else f"@{args.channel}")
    text = " ".join(p for p in parts if p)
    if args.description:
        text += f" | {args.description}"
    return text


async def cmd_topics(settings: Settings, args: argparse.Namespace) -> int:
    db = await Database(settings.database_path).open(migrate=True)
    try:
        repo = TopicRepo(db)
        if args.topics_command == "add":
            parse_topic_name(args.name, usage="usage: newsbot topics add NAME KEYWORD... [--category C]")
            topic = parse_addtopic(_rules_text(args))
            now = utcnow()
            stored, created = await repo.save(topic, now)
            tagged = await repo.retag(stored, now=now)
            await Audit(AuditRepo(db)).record(Actor.shell(), "topic saved", topic.name)
            print(
                f"topic {topic.name} {'added' if created else 'updated'}; {tagged} recent article(s) match it"
            )
        elif args.topics_command == "remove":
            if not await repo.remove(args.name):
                print(f"newsbot: error: no topic called {args.name!r}", file=sys.stderr)
                return 1
            await Audit(AuditRepo(db)).record(Actor.shell(), "topic removed", args.name)
            print(f"topic {args.name} removed")
        else:
            topics = await repo.all()
            if not topics:
                print("no topics; add one with `newsbot topics add NAME KEYWORD...`")
            for stored in topics:
                t = stored.topic
                count = await repo.article_count(stored.id)
                subs = await repo.subscriber_count(stored.id)
                print(f"{t.name}: {count} article(s), {subs} subscriber(s)")
                print(f"  keywords: {', '.join(t.keywords) or '-'}")
                if t.categories:
                    print(f"  categories: {', '.join(t.categories)}")
                if t.channel_id:
                    print(f"  channel: {t.channel_id}")
                if t.description:
                    print(f"  description: {t.description}")
    finally:
        await db.close()
    return 0


def add_topics_parser(sub: Any) -> None:
    topics = sub.add_parser("topics", help="list, add or remove topics (as /topics, /addtopic, /removetopic)")
    topics.set_defaults(handler=cmd_topics)
    actions = topics.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="every topic with its rules and counts")
    add = actions.add_parser(
        "add",
        help="add a topic, or replace the rules of an existing one, and re-tag recent articles",
        description="Example: newsbot topics add climate 'climate change' heatwave --category Environment",
    )
    add.add_argument("name", help="one word: letters, digits, _ or -")
    add.add_argument("keywords", nargs="*", help="keyword phrases (quote phrases with spaces)")
    add.add_argument("--category", action="append", help="a feed category that puts an article in the topic")
    add.add_argument("--channel", help="also post the topic's articles to this @channel or -100… id")
    add.add_argument("--description", help="one line shown by /topics")
    remove = actions.add_parser("remove", help="remove a topic with its tags and subscriptions")
    remove.add_argument("name")
