"""Pure core: models and decisions. Imports no I/O library (no httpx, aiosqlite or telegram)."""
