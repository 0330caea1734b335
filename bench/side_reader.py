"""Runs lemon24/reader's `update_feeds` over the farm in this process: one cold and one warm cycle.

Usage: python -m bench.side_reader URLS_FILE DB_PATH  → prints one JSON line.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from reader import make_reader


def main() -> None:
    with open(sys.argv[1]) as f:
        urls = f.read().split()
    reader = make_reader(sys.argv[2])
    for url in urls:
        reader.add_feed(url, exist_ok=True)
    start = time.perf_counter()
    reader.update_feeds(scheduled=False)
    cold = time.perf_counter() - start
    entries = reader.get_entry_counts().total
    start = time.perf_counter()
    reader.update_feeds(scheduled=False)
    warm = time.perf_counter() - start
    reader.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"cold_s": cold, "warm_s": warm, "entries": entries, "peak_mib": peak_kib / 1024}))


if __name__ == "__main__":
    main()
