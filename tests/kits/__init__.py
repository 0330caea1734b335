"""What many tests share: the article factory, a feed server, and the chat, outbox and ingest kits."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
DATA = ROOT / "tests" / "data"  # golden files and fixtures
ARTIFACTS = ROOT / "tests" / "artifacts"  # what tests leave for a person to look at (screenshots)
