"""`newsbot feeds import FILE` and `newsbot feeds export [FILE]`: OPML 2.0 in and out from the shell.

Import reads the file (bot/core/opml.py refuses bombs, huge lists and non-OPML in one line before adding
anything) and adds each feed as `newsbot feeds add` does (bot/services/feed_import.py); the shell is trusted
with private addresses like `feeds add`. Export writes what import reads.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.errors import NewsbotError
from bot.core.opml import MAX_OPML_BYTES, OpmlError, OpmlFeed, export_opml, parse_opml
from bot.core.timeutil import utcnow
from bot.services.audit import Actor
from bot.services.feed_import import import_feeds

if TYPE_CHECKING:
    from bot.edges.runtime import Runtime
    from bot.services.ingest import IngestService

__all__ = ["export_file", "import_file", "read_opml"]


def read_opml(path: Path) -> list[OpmlFeed]:
    """The feeds of an OPML file; NewsbotError (one line) when it cannot be read or is refused."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_OPML_BYTES + 1)
        return parse_opml(data)
    except OSError as exc:
        raise NewsbotError(f"cannot read {path}: {exc.strerror}") from None
    except OpmlError as exc:
        raise NewsbotError(f"{path}: {exc}") from None


async def import_file(ingest: IngestService, runtime: Runtime, file: str) -> None:
    """Add the file's feeds, audit the import and print the summary with the first refusals."""
    feeds = await asyncio.to_thread(read_opml, Path(file))
    summary = await import_feeds(ingest.add_feed, feeds)
    await runtime.audit.record(Actor.shell(), "feeds imported", summary.line())
    print(summary.line())
    for line in summary.refusals():
        print(f"  refused {line}" if not line.startswith("…") else f"  {line}")


async def export_file(ingest: IngestService, file: str | None) -> None:
    """Write every feed as OPML 2.0 to `file` (replaced whole, or nothing), or to standard output."""
    listed = [OpmlFeed(f.url, f.title, f.site_url) for f in await ingest.catalog.list_feeds()]
    document = export_opml(listed, title="newsbot feeds", now=utcnow())
    if not file:
        sys.stdout.write(document)
        return
    target = Path(file)
    temp = target.with_name(f".{target.name}.partial")
    try:
        await asyncio.to_thread(temp.write_text, document, encoding="utf-8")
        await asyncio.to_thread(temp.replace, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise NewsbotError(f"cannot write {file}: {exc.strerror}") from None
    print(f"exported {len(listed)} feed(s) to {file}")
