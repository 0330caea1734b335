"""Adding the feeds an OPML list names: each URL goes through the caller's `add` (the shell's `feeds add`
path, or the chat's with its address rules), a few at a time, and the outcome is counted as added, already
there or refused (with the reason), in the file's order. Reading the file is bot/core/opml.py's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog

from bot.core.errors import DuplicateFeedError, NewsbotError
from bot.core.opml import OpmlFeed

__all__ = ["ImportSummary", "import_feeds"]

log = structlog.get_logger(__name__)
AddFeed = Callable[[str], Awaitable[object]]
PARALLEL = 8  # feeds fetched at once: each is a real fetch and parse, like `feeds add`


@dataclass(frozen=True, slots=True)
class ImportSummary:
    total: int
    added: int
    already: int
    refused: tuple[str, ...]  # "<url>: <reason>", in the file's order

    def line(self) -> str:
        """One line: what the audit log records and both shell and chat answer first."""
        return (
            f"added {self.added}, already there {self.already}, refused {len(self.refused)} "
            f"(of {self.total} in the file)"
        )

    def refusals(self, *, shown: int = 5, width: int = 300) -> list[str]:
        """The first `shown` refusals (each cut to `width` characters) and how many more there are."""
        lines = [r if len(r) <= width else r[: width - 1] + "…" for r in self.refused[:shown]]
        if len(self.refused) > shown:
            lines.append(f"… and {len(self.refused) - shown} more")
        return lines


async def import_feeds(add: AddFeed, feeds: Sequence[OpmlFeed], *, parallel: int = PARALLEL) -> ImportSummary:
    """Add each feed with `add` (DuplicateFeedError = already there, any other NewsbotError = refused, in
    one line); nothing else is caught. Importing the same list twice adds nothing the second time."""
    gate = asyncio.Semaphore(parallel)
    outcomes: list[str | None] = [None] * len(feeds)  # "added", "already" or the refusal

    async def one(index: int, feed: OpmlFeed) -> None:
        async with gate:
            try:
                await add(feed.url)
            except DuplicateFeedError:
                outcomes[index] = "already"
            except NewsbotError as exc:
                outcomes[index] = f"{feed.url}: {_one_line(str(exc))}"
            else:
                outcomes[index] = "added"

    async with asyncio.TaskGroup() as group:  # an unexpected error cancels the rest and is raised
        for index, feed in enumerate(feeds):
            group.create_task(one(index, feed))
    refused = tuple(o for o in outcomes if o not in ("added", "already") and o is not None)
    summary = ImportSummary(len(feeds), outcomes.count("added"), outcomes.count("already"), refused)
    log.info("feeds_imported", summary=summary.line())
    return summary


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "refused"
