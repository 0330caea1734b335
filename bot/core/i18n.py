"""The reader's language: which of the shipped languages a Telegram `language_code` means, and a
Translator that turns English message ids into that language, with ages and numbers through Babel.

Pure: catalogs are read by bot/adapters/catalogs.py and handed in as gettext translations. Message ids
are the English texts themselves, with `{name}` placeholders filled after translation (values that are
HTML must be escaped by the caller first, as everywhere). Marked for extraction (`make catalogs`, Babel):
`t("…")` (a Translator call), `t.plural("…", "…", n)`, `msg("…")` (a message translated later, e.g.
inside an error), `N_("…")` (a constant translated where it is shown) and `Command(name, args, "…")`.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

DEFAULT_LANGUAGE = "en"
# Our language codes (what DEFAULT_LANGUAGE takes) → Babel's locale names.
LOCALES: Mapping[str, str] = {"en": "en", "zh-hans": "zh_Hans", "ms": "ms"}
# setMyCommands takes two-letter ISO 639-1 codes: the menu for each shipped language.
MENU_CODES: Mapping[str, str] = {"en": "en", "zh-hans": "zh", "ms": "ms"}
# Simplified Chinese is what zh-CN, zh-SG, zh-MY and a bare "zh" mean; zh-TW and zh-HK are Traditional.
_SIMPLIFIED = ("zh", "zh-hans", "zh-cn", "zh-sg", "zh-my")


def resolve_language(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The shipped language for a Telegram `language_code` (an IETF tag, maybe missing), else `default`."""
    if not code:
        return default
    tag = code.strip().lower().replace("_", "-")
    if tag in _SIMPLIFIED or tag.startswith(("zh-hans-", "zh-cn-", "zh-sg-")):
        return "zh-hans"
    primary = tag.split("-", 1)[0]
    if primary in ("ms", "en"):
        return primary
    return default


@dataclass(frozen=True, slots=True)
class Msg:
    """A message to translate later (an error raised deep down, answered in the reader's language)."""

    text: str
    params: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return ENGLISH.render(self)


def msg(text: str, **params: object) -> Msg:
    return Msg(text, params)


def N_(text: str) -> str:  # noqa: N802 - gettext's name for "mark for extraction, translate later"
    return text


class Translator:
    """One language's texts: `t("Hello {name}", name=…)`, `t.plural(…)`, `t.age(seconds)`."""

    def __init__(self, language: str, catalog: gettext.NullTranslations | None = None) -> None:
        self.language = language
        self.locale = LOCALES.get(language, "en")
        self._catalog = catalog or gettext.NullTranslations()

    def __call__(self, text: str, **params: object) -> str:
        translated = self._catalog.gettext(text)
        if not params:
            return translated
        return translated.format(**{k: self._value(v) for k, v in params.items()})

    def plural(self, singular: str, plural: str, n: int, **params: object) -> str:
        translated = self._catalog.ngettext(singular, plural, n)
        values = {k: self._value(v) for k, v in params.items()}
        return translated.format(n=self.number(n), **values)

    def render(self, message: Msg) -> str:
        return self(message.text, **message.params)

    def _value(self, value: object) -> object:
        return self.render(value) if isinstance(value, Msg) else value

    def date(self, value: datetime, pattern: str) -> str:
        """A date in this language by a CLDR pattern, e.g. "EEEE d MMMM": "Tuesday 3 December"."""
        from babel.dates import format_date  # noqa: PLC0415 - Babel loads where texts are made, not in ingest

        return format_date(value, pattern, locale=self.locale)

    def number(self, n: int) -> str:
        from babel.numbers import format_decimal  # noqa: PLC0415 - as in `date`

        return format_decimal(n, locale=self.locale)

    def age(self, seconds: float) -> str:
        """How long ago, readers' way: "just now", "5m ago", "2小时前", "3 hari lalu"."""
        if seconds < 60:
            return self(N_("just now"))
        # whole minutes, hours (up to two days) or days, rounded down as "5m ago" always was; the threshold
        # keeps Babel from rounding 30 hours up to a day
        threshold = 1.0
        if seconds < 3600:
            value = timedelta(minutes=seconds // 60)
        elif seconds < 48 * 3600:
            value = timedelta(hours=seconds // 3600)
            threshold = 1.0 if value < timedelta(hours=24) else 2.0
        else:
            value = timedelta(days=seconds // 86400)
        from babel.dates import format_timedelta  # noqa: PLC0415 - as in `date`

        return format_timedelta(
            -value, add_direction=True, format="narrow", threshold=threshold, locale=self.locale
        )


ENGLISH = Translator("en")
