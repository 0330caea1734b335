"""Topic rules: a topic matches an article by keyword (whole words, case-insensitive) or by feed category."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from bot.core.models import Topic

_NAME_RE = re.compile(r"^[\w][\w-]{0,31}$", re.UNICODE)


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def valid_topic_name(name: str) -> bool:
    return bool(_NAME_RE.match(name))


@dataclass(frozen=True)
class TopicMatcher:
    """Compiled rules of one topic."""

    topic: Topic
    topic_id: int

    @cached_property
    def _keyword_re(self) -> re.Pattern[str] | None:
        words = [fold(k).strip() for k in self.topic.keywords if k.strip()]
        if not words:
            return None
        alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    @cached_property
    def _categories(self) -> frozenset[str]:
        return frozenset(fold(c).strip() for c in self.topic.categories if c.strip())

    def matches(self, headline: str, dek: str, categories: Iterable[str]) -> bool:
        if self._categories and any(fold(c).strip() in self._categories for c in categories):
            return True
        pattern = self._keyword_re
        return pattern is not None and pattern.search(fold(f"{headline}\n{dek}")) is not None


def matching_topics(
    matchers: Iterable[TopicMatcher], headline: str, dek: str, categories: Iterable[str]
) -> list[TopicMatcher]:
    cats = tuple(categories)
    return [m for m in matchers if m.matches(headline, dek, cats)]
