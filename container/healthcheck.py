"""The image's HEALTHCHECK: GET /healthz on the bot's own HTTP_LISTEN port; exit 0 on 200, 1 otherwise.

Standard library only (no curl in the image). A wildcard or empty host in HTTP_LISTEN (0.0.0.0, ::) is
asked on loopback; the answer's failing checks are printed, which `docker inspect` shows as the probe's log.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

TIMEOUT = 4.0  # under the HEALTHCHECK's --timeout


def probe_url(listen: str) -> str:
    host, _, port = listen.strip().rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::"):  # noqa: S104  (a wildcard bind: ask on loopback)
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def main() -> int:
    listen = os.environ.get("HTTP_LISTEN", "").strip()
    if not listen:
        print("HTTP_LISTEN is empty: the bot's HTTP server (and /healthz) is off")
        return 1
    url = probe_url(listen)
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:  # noqa: S310  (http on loopback)
            print(answer.status, answer.read(2000).decode(errors="replace"))
            return 0 if answer.status == 200 else 1
    except urllib.error.HTTPError as exc:  # 503: a check fails
        print(exc.code, exc.read(2000).decode(errors="replace"))
    except OSError as exc:
        print(f"{url}: {exc}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
