"""The world around the bot, played locally: for `newsbot sandbox`, the tests and the benchmarks.

- `botapi/`: the stand-in for the Telegram Bot API that the real bot talks to over loopback HTTP.
- `stories`, `feeds`, `site`: invented newsrooms, their RSS/Atom/JSON feeds, article pages and images.
- `controls`, `page`, `static/`: the live page (channel, chat, fault buttons) and what it may do.
- `run`: wires these with the real bot; `cli`: the `newsbot sandbox` sub-command.

The product's layers (core, adapters, services, edges) never import this package (tests/test_layers.py).
"""
