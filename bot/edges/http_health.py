"""`GET /healthz`: 200 `{"status": "ok", "checks": {…}}` when every check passes, else 503 with
`"status": "failing"` and `"failing": [names]`. The checks are bot/services/health.py's; their probes over
a runtime (database, Telegram transports, the ingest process, the outbox) are built here."""

from __future__ import annotations

import time

from aiohttp import web

from bot.core.timeutil import utcnow
from bot.edges.runtime import Runtime
from bot.services.health import Health, HealthProbes


def health_routes(health: Health) -> list[web.RouteDef]:
    async def healthz(request: web.Request) -> web.Response:
        ok, checks = await health.check()
        body: dict[str, object] = {"status": "ok" if ok else "failing", "checks": checks}
        if not ok:
            body["failing"] = [name for name, check in checks.items() if not check["ok"]]
        return web.json_response(body, status=200 if ok else 503, headers={"Cache-Control": "no-store"})

    return [web.get("/healthz", healthz)]


def build_health(runtime: Runtime) -> Health:
    """The /healthz checks over this runtime's database, Telegram transports and ingest process."""

    async def write_database() -> None:
        await runtime.db.execute_write(
            "INSERT INTO bot_state (key, value) VALUES ('health_probe', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (utcnow().isoformat(),),
        )

    def telegram_age() -> float | None:
        answers = [r.last_answer for r in runtime.telegram_requests if r.last_answer is not None]
        return time.monotonic() - max(answers) if answers else None

    def ingest_alive() -> bool:
        return runtime.ingest_process is None or runtime.ingest_process.running

    async def oldest_queued_age() -> float | None:
        row = await (runtime.read_db or runtime.db).fetchone(
            "SELECT MIN(o.queued_at) FROM outbox o WHERE o.state = 'queued' AND o.review = 0"
            " AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.chat_id = o.chat_id AND c.paused = 1)"
            " AND NOT EXISTS (SELECT 1 FROM bot_state WHERE key = 'posting_paused')"
        )
        if row is None or row[0] is None:
            return None
        return max(0.0, utcnow().timestamp() - float(row[0]))

    probes = HealthProbes(write_database, telegram_age, ingest_alive, oldest_queued_age)
    settings = runtime.settings
    return Health(
        probes, telegram_within=settings.health_telegram_seconds, queue_within=settings.health_queue_seconds
    )
