"""Online SQLite backups: SQLite's backup API in one step (one read transaction; in WAL mode the running
bot's writes go on meanwhile, whereas a copy in steps restarts on every write from another connection and a
busy ingest starves it, as the mid-ingest test showed), then `PRAGMA integrity_check` on the copy, written
to a temporary file beside the target and renamed into place, so a failed backup leaves nothing behind.
Blocking work runs in a thread. When to back up and what to keep is bot/services/backups.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.core.errors import StorageError

__all__ = ["BackupResult", "backup"]


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    bytes: int
    pages: int
    seconds: float

    def summary(self) -> str:
        size = (
            f"{self.bytes / 1_048_576:.1f} MiB" if self.bytes >= 1_048_576 else f"{self.bytes / 1024:.0f} KiB"
        )
        return (
            f"backup written to {self.path}: {size}, {self.pages} pages, integrity ok, {self.seconds:.2f} s"
        )


def _copy(source: Path, target: Path, force: bool) -> BackupResult:
    started = time.perf_counter()
    if not source.exists():
        raise StorageError(f"no database at {source}")
    if target.exists() and not force:
        raise StorageError(f"{target} exists; choose another path or pass --force to replace it")
    if target.is_dir():
        raise StorageError(f"{target} is a directory; give a file path")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise StorageError(f"no directory {directory}")
    if not os.access(directory, os.W_OK):
        raise StorageError(f"cannot write in {directory}")
    try:
        fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=directory)
    except OSError as exc:
        raise StorageError(f"cannot write in {directory}: {exc.strerror}") from None
    os.close(fd)
    temp = Path(temp_name)
    try:
        src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        dst = sqlite3.connect(temp)
        try:
            src.backup(dst)  # pages=-1: all at once, a consistent snapshot
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file; the bot turns WAL on again
            check = dst.execute("PRAGMA integrity_check").fetchall()
            if check != [("ok",)]:
                raise StorageError(f"the copy failed its integrity check: {check[0][0]}")
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
        finally:
            dst.close()
            src.close()
        os.replace(temp, target)
    except sqlite3.Error as exc:
        raise StorageError(f"backup failed: {exc}") from None
    except OSError as exc:
        raise StorageError(f"cannot write {target}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return BackupResult(target, target.stat().st_size, pages, time.perf_counter() - started)


async def backup(source: Path, target: Path, *, force: bool = False) -> BackupResult:
    """Copy the database at `source` to `target` while it is in use; StorageError says why not, in a line."""
    return await asyncio.to_thread(_copy, source, target, force)
