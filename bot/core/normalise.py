"""RawEntry to Article (plain-text headline and dek, canonical URL, UTC date); dedupe and storage: elsewhere.

Decisions:
- The link is the entry's link, else its guid when that is an http(s) URL; relative ones (and image
  URLs) resolve against the feed URL, the document's own base (RFC 3986; feedparser already applied
  any xml:base), not the channel link. No usable link: no article (None).
- The headline is the cleaned title (cut at HEADLINE_MAX_CHARS); with no title it is the first
  sentence of the summary's first paragraph (and the dek then loses that sentence). Neither: no article.
- The dek comes from the summary, else from the full content; `needs_dek` is True when neither gives
  one, so the caller may fetch the page's og:description.
- `published` falls back to `updated`; none gives None (storage uses "first seen"). A date more than
  `FUTURE_SLACK` ahead of `now` (time-zone bugs, scheduled posts) is clamped to `now`.
- Categories are decoded (WordPress sends "Arts &amp; Culture" in CDATA), trimmed, deduplicated
  case-insensitively in order, capped in number and length.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.models import Article, RawEntry
from bot.core.text import clean_headline, first_sentence, html_to_text, lead_text, make_dek, truncate
from bot.core.urls import canonical_url

__all__ = ["FUTURE_SLACK", "HEADLINE_MAX_CHARS", "MAX_CATEGORIES", "normalise_entry"]

FUTURE_SLACK = timedelta(minutes=10)
MAX_CATEGORIES = 20
MAX_CATEGORY_CHARS = 64
HEADLINE_MAX_CHARS = 300  # some feeds put a whole paragraph in <title>
HEADLINE_FALLBACK_CHARS = 140


def _absolute(url: str | None, bases: tuple[str | None, ...]) -> str | None:
    """`url` made canonical and absolute against the first base that works, or None."""
    if not url or not url.strip():
        return None
    for base in (*bases, None):
        try:
            return canonical_url(url, base)
        except ValueError:
            continue
    return None


def _categories(raw: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for category in raw:
        text = html_to_text(category)[:MAX_CATEGORY_CHARS].strip() if category else ""
        if text and text.casefold() not in seen:
            seen[text.casefold()] = text
            if len(seen) == MAX_CATEGORIES:
                break
    return tuple(seen.values())


def normalise_entry(
    entry: RawEntry,
    *,
    feed_url: str,
    site_url: str | None,
    source: str,
    now: datetime,
    dek_max_chars: int = 300,
) -> Article | None:
    """The Article for `entry`, or None when it has no usable link or headline."""
    bases = (feed_url, site_url)
    url = _absolute(entry.link, bases)
    if url is None and entry.guid and entry.guid.lstrip().lower().startswith(("http://", "https://")):
        url = _absolute(entry.guid, bases)
    if url is None:
        return None

    headline = truncate(clean_headline(entry.title, entry.title_is_html), HEADLINE_MAX_CHARS)
    bodies = [html for html in (entry.summary, entry.content) if html]
    if not headline:
        for body in bodies:
            text = lead_text(body)  # the first paragraph: a sentence never runs on into the next one
            if text:
                headline = first_sentence(text, HEADLINE_FALLBACK_CHARS)
                break
        if not headline:
            return None
    dek = ""
    for body in bodies:
        dek = make_dek(body, headline, dek_max_chars)
        if dek:
            break

    published = entry.published or entry.updated
    if published is not None and published > now + FUTURE_SLACK:
        published = now

    return Article(
        guid=(entry.guid or "").strip() or url,
        url=url,
        headline=headline,
        dek=dek,
        published=published,
        categories=_categories(entry.categories),
        image=_absolute(entry.image, bases),
        source=source,
        needs_dek=not dek,
    )
