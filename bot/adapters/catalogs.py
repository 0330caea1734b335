"""The shipped translations: gettext catalogs (`bot/locale/<locale>/LC_MESSAGES/newsbot.po`) read once and
compiled in memory with Babel, so no build step stands between a `.po` edit and the running bot.

`make catalogs` extracts the message ids from the code (Babel) and merges them into the `.po` files;
tests/core/test_catalogs.py fails when one is missing, untranslated or has different placeholders.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.core.errors import ConfigError
from bot.core.i18n import DEFAULT_LANGUAGE, LOCALES, Translator, resolve_language

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "newsbot"
# What marks a reader-facing text for extraction (Babel's keyword specs; the Makefile's CATALOG_KEYWORDS).
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "t": None,
    "msg": None,
    "N_": None,
    "plural": (1, 2),
    "Command": (3,),
}


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / LOCALES[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=8)
def load_catalog(language: str) -> gettext.NullTranslations:
    """One language's translations (English: the message ids themselves)."""
    if language == "en":
        return gettext.NullTranslations()
    path = catalog_path(language)
    try:
        with path.open("rb") as source:
            catalog = read_po(source, locale=LOCALES[language], domain=DOMAIN)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the {language} catalog {path}: {exc}") from exc
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


class Translators:
    """A Translator for each shipped language; a reader's `language_code` picks one, else the default."""

    def __init__(self, default: str = DEFAULT_LANGUAGE) -> None:
        self.default = default
        self._by_language = {lang: Translator(lang, load_catalog(lang)) for lang in LOCALES}

    def for_code(self, code: str | None) -> Translator:
        return self._by_language[resolve_language(code, self.default)]

    def language(self, language: str) -> Translator:
        return self._by_language.get(language) or self._by_language[self.default]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._by_language)
