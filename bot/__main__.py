"""`python -m bot` runs the same CLI as the `newsbot` console script."""

from bot.edges.cli import main

raise SystemExit(main())
