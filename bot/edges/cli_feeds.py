"""`newsbot feeds add|list|remove`, `newsbot ingest [--once]` and `newsbot preview URL [--json]`.

Thin shell commands over the ingest service built by the runtime (preview needs no database: it builds
only a fetcher and a parse pool). Failures are NewsbotErrors, which the CLI prints as one line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

from bot.adapters.fetcher import Fetcher
from bot.adapters.parse_pool import ParsePool
from bot.adapters.repo_review import ReviewRepo
from bot.core.errors import NewsbotError
from bot.core.models import Article, Feed
from bot.core.schedule import reading
from bot.core.timeutil import humanize_age, utcnow
from bot.core.websub_plan import push_note
from bot.edges.cli_opml import export_file, import_file
from bot.edges.cli_runner import wait_for_signal
from bot.services.audit import Actor
from bot.services.feed_reader import FeedReader, ReaderConfig
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.edges.runtime import Runtime
    from bot.services.ingest import IngestService


async def _with_ingest(settings: Settings, work: Any) -> int:
    from bot.edges.runtime import open_runtime  # noqa: PLC0415 - keeps telegram out of other commands

    runtime = await open_runtime(settings)
    try:
        if runtime.ingest is None:
            raise NewsbotError("the ingest service is not configured")
        result: int = await work(runtime.ingest, runtime)
        return result
    finally:
        await runtime.close()


def _feed_line(feed: Feed) -> str:
    state = "on " if feed.enabled else "off"
    fetched = (
        humanize_age((utcnow() - feed.last_fetched_at).total_seconds()) if feed.last_fetched_at else "never"
    )
    title = feed.title or "untitled"
    review = "" if feed.review is None else f"; review {'on' if feed.review else 'off'}"
    line = f"{feed.id:>4}  {state}  {feed.url}  [{title}; fetched {fetched}; {reading(feed)}{review}]"
    if feed.last_error:
        line += f"  error ({feed.error_count}x): {feed.last_error}"
    if note := push_note(feed.push, feed.push_error):
        line += f"  {note}"
    return line


async def cmd_feeds(settings: Settings, args: argparse.Namespace) -> int:
    async def work(ingest: IngestService, runtime: Runtime) -> int:
        shell = Actor.shell()
        if args.feeds_command == "add":
            feed = await ingest.add_feed(args.url)
            await runtime.audit.record(shell, "feed added", f"{feed.id} {feed.url}")
            print(f"added feed {feed.id}: {feed.url} ({feed.title or 'untitled'})")
        elif args.feeds_command == "remove":
            removed = await ingest.remove_feed(args.ref)
            if removed is None:
                raise NewsbotError(f"no feed with id or URL {args.ref!r}; see `newsbot feeds list`")
            await runtime.audit.record(shell, "feed removed", f"{removed.id} {removed.url}")
            print(f"removed feed {removed.id}: {removed.url}")
        elif args.feeds_command == "import":
            await import_file(ingest, runtime, args.file)
        elif args.feeds_command == "export":
            await export_file(ingest, args.file)
        elif args.feeds_command == "review":
            switch = {"on": True, "off": False, "default": None}[args.switch]
            if not await ReviewRepo(runtime.db).set_feed(args.id, switch):
                raise NewsbotError(f"no feed with id {args.id}; see `newsbot feeds list`")
            await runtime.audit.record(shell, "review switched", f"feed {args.id}: {args.switch}")
            print(f"review for feed {args.id}: {args.switch}")
        else:
            feeds = await ingest.catalog.list_feeds()
            for feed in feeds:
                print(_feed_line(feed))
            if not feeds:
                print("no feeds yet: `newsbot feeds add URL` or set FEEDS")
        return 0

    return await _with_ingest(settings, work)


async def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    async def work(ingest: IngestService, runtime: Runtime) -> int:
        await ingest.catalog.ensure_configured_feeds()
        if args.once:
            summary = await ingest.run_cycle(only_due=False)
            print(summary.line())
            return 0
        await wait_for_signal(lambda stop: ingest.loop(None, stop))
        return 0

    return await _with_ingest(settings, work)


def _entry(article: Article, message: str) -> dict[str, Any]:
    return {
        "headline": article.headline,
        "dek": article.dek,
        "url": article.url,
        "published": article.published.isoformat() if article.published else None,
        "categories": list(article.categories),
        "image": article.image,
        "source": article.source,
        "guid": article.guid,
        "message": message,
    }


def _print_block(number: int, entry: dict[str, Any]) -> None:
    print(f"[{number}] {entry['headline']}")
    print(f"    url:        {entry['url']}")
    print(f"    published:  {entry['published'] or 'unknown (first seen)'}")
    print(f"    categories: {', '.join(entry['categories']) or '-'}")
    print(f"    image:      {entry['image'] or '-'}")
    print(f"    dek:        {entry['dek'] or '-'}")
    print("    message:")
    for line in entry["message"].split("\n"):
        print(f"      {line}")
    print()


async def cmd_preview(settings: Settings, args: argparse.Namespace) -> int:
    fetcher = Fetcher.from_settings(settings)
    pool = ParsePool(settings.parse_workers)
    try:
        reader = FeedReader(fetcher, pool, None, ReaderConfig())
        preview = await reader.preview(args.url.strip(), now=utcnow(), template=settings.post_template)
        source_url = preview.source_url
        entries = [_entry(article, message) for article, message in preview.entries]
    finally:
        await asyncio.gather(fetcher.aclose(), pool.close())
    if args.json:
        for entry in entries:
            print(json.dumps(entry, ensure_ascii=False))
    else:
        print(f"{len(entries)} entries from {source_url}\n")
        for number, entry in enumerate(entries, start=1):
            _print_block(number, entry)
    if not entries:
        print(f"newsbot: the feed at {source_url} has no entries", file=sys.stderr)
    return 0


def add_feed_parsers(sub: Any) -> None:
    feeds = sub.add_parser("feeds", help="list, add or remove feeds")
    feeds.set_defaults(handler=cmd_feeds)
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    add = feeds_sub.add_parser("add", help="add a feed by its URL or a site page that links it")
    add.add_argument("url")
    feeds_sub.add_parser("list", help="every feed with its state, interval and last error")
    remove = feeds_sub.add_parser("remove", help="remove a feed and its articles")
    remove.add_argument("ref", metavar="ID|URL")
    imp = feeds_sub.add_parser("import", help="add every feed an OPML file lists (twice adds nothing)")
    imp.add_argument("file", metavar="FILE")
    exp = feeds_sub.add_parser("export", help="the feeds as OPML 2.0 (to FILE, or standard output)")
    exp.add_argument("file", metavar="FILE", nargs="?")
    review = feeds_sub.add_parser("review", help="editors approve this feed's posts first (on), or not (off)")
    review.add_argument("id", type=int, metavar="ID")
    review.add_argument("switch", choices=("on", "off", "default"), help="default follows REVIEW and /review")

    ingest = sub.add_parser("ingest", help="read the feeds: on their schedule until Ctrl-C, or --once")
    ingest.set_defaults(handler=cmd_ingest)
    ingest.add_argument(
        "--once", action="store_true", help="one cycle over every enabled feed, print a summary line, exit"
    )

    preview = sub.add_parser("preview", help="show what the bot would store and post from a feed or page URL")
    preview.set_defaults(handler=cmd_preview)
    preview.add_argument("url")
    preview.add_argument("--json", action="store_true", help="one JSON object per entry and line")
