"""Edges: the CLI, python-telegram-bot wiring and command handlers, the sandbox."""
