"""The chat benchmark's database: a million articles filled once and cached, and the plans of its queries.

Filling is tests/articlefactory.py's (plain sqlite3, one transaction, the FTS index rebuilt once); this
module times it, keeps the file under bench/results/ keyed by the schema version, the factory's source and
the row count (so a new migration or a changed factory fills afresh), hands each run a throw-away copy, and
asks SQLite how the chat commands' queries run on it. The measuring is bench/chat.py's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import shutil
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.adapters.db import Database, load_migrations
from bot.adapters.repo_reading import ReadingRepo
from bot.adapters.repo_topics import TopicRepo
from tests.kits import articlefactory

FACTORY_SOURCE = Path(articlefactory.__file__)
# the bm25 docstring of repo_reading: a very common word costs the most; mix common, rarer and two-word
SEARCHES = ("election", "Reykjavík", "central bank", "vaccine Lagos", "football")
TOPIC = "politics"
FILL_VERSION = 2  # bump when what this module does to a filled database changes
_LITERAL = re.compile(r"'(?:[^']|'')*'")


def cache_key(articles: int) -> str:
    schema = len(load_migrations())
    factory = hashlib.sha256(FACTORY_SOURCE.read_bytes()).hexdigest()[:10]
    return f"chat-{articles}-schema{schema}-factory{factory}-fill{FILL_VERSION}"


def cached_database(cache_dir: Path, articles: int) -> tuple[Path, dict[str, Any]]:
    """The filled database file (filling it first if no cached one fits) and how long filling took."""
    key = cache_key(articles)
    path, meta_path = cache_dir / f"{key}.db", cache_dir / f"{key}.json"
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return path, {**meta, "cached": True}
    cache_dir.mkdir(parents=True, exist_ok=True)
    for stale in cache_dir.glob(f"chat-{articles}-*"):
        stale.unlink()
    partial = cache_dir / f"{key}.filling"
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    made = articlefactory.fill_articles(
        partial, articles, now=datetime.now(UTC), span=timedelta(days=365), seed=0
    )
    fill_s = time.perf_counter() - started
    started = time.perf_counter()
    with sqlite3.connect(partial) as conn:
        # The factory builds the FTS index with one 'rebuild'; left so, the next inserts pay for merging its
        # segments (40 articles took 15 ms instead of 1.7 on a million). A database grown by ingest merges as
        # it goes; 'optimize' stands in for that. Then the WAL is folded in: the cache is one file.
        conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('optimize')")
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    optimize_s = time.perf_counter() - started
    partial.rename(path)
    meta = {
        "articles": made.articles,
        "fill_s": round(fill_s, 1),
        "fts_optimize_s": round(optimize_s, 1),
        "size_mib": round(path.stat().st_size / 1048576),
        "filled_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    meta_path.write_text(json.dumps(meta))
    return path, {**meta, "cached": False}


def working_copy(cached: Path, workdir: Path) -> Path:
    """A copy the bot may write to; the factory's made-up feeds are disabled so only the farm is read."""
    copy = workdir / "chat.db"
    shutil.copyfile(cached, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("UPDATE feeds SET enabled = 0")
    conn.close()
    return copy


def _full_scans(plan: list[str]) -> list[str]:
    """Steps that read every row of articles or article_topics: a SCAN of them without an index."""
    return [
        step
        for step in plan
        if step.startswith("SCAN")
        and step.split()[1:2] in (["articles"], ["a"], ["article_topics"], ["t"])
        and "INDEX" not in step
    ]


async def query_plans(path: Path) -> list[dict[str, Any]]:
    """Every statement /latest, /topic and /search run (traced, values bound) with SQLite's plan for it."""
    traced: list[tuple[str, str]] = []
    command = ""

    def trace(sql: str) -> None:
        # FTS5 reads its own shadow tables ('main'.'articles_fts_config'): not the commands' queries
        if sql.lstrip().upper().startswith(("SELECT", "WITH")) and "'main'." not in sql:
            traced.append((command, sql))

    async with Database(path) as db:
        await db.conn.set_trace_callback(trace)
        reading, topics = ReadingRepo(db), TopicRepo(db)
        command = "/latest"
        await reading.latest(5)
        command = f"/topic {TOPIC}"
        topic = await topics.get(TOPIC)
        if topic is None:
            raise RuntimeError(f"the factory made no topic {TOPIC!r}")
        await reading.by_topic(topic.id, 5)
        for words in SEARCHES:
            command = f"/search {words}"
            await reading.search(words, 5)
        await db.conn.set_trace_callback(None)
    plans: list[dict[str, Any]] = []
    seen: set[str] = set()
    with sqlite3.connect(path) as conn:
        for command, sql in traced:
            shape = _LITERAL.sub("?", sql)  # one plan per query shape, not per search word
            if shape in seen:
                continue
            seen.add(shape)
            plan = [str(row[3]) for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
            plans.append({"command": command, "sql": sql, "plan": plan, "full_scans": _full_scans(plan)})
    conn.close()
    return plans


def plan_lines(plans: list[dict[str, Any]]) -> list[str]:
    lines = ["  query plans (EXPLAIN QUERY PLAN of each statement the commands ran):"]
    for p in plans:
        sql = " ".join(p["sql"].split())
        lines.append(f"    {p['command']}: {sql[:150]}{'…' if len(sql) > 150 else ''}")
        lines.extend(f"      {step}" for step in p["plan"])
        if p["full_scans"]:
            lines.append(f"      !! full scan: {'; '.join(p['full_scans'])}")
    return lines


if __name__ == "__main__":  # print the plans of a filled database: python -m bench.chatdb PATH
    import sys

    print("\n".join(plan_lines(asyncio.run(query_plans(Path(sys.argv[1]))))))
