"""The shipped catalogs are complete: every reader-facing text the code marks (extracted here with Babel,
as `make catalogs` does) is translated in every shipped language, with the same placeholders and the same
Telegram HTML tags; and the checker itself catches what it should."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.adapters.catalogs import KEYWORDS, LOCALE_DIR, Translators, catalog_path, load_catalog
from bot.core.i18n import LOCALES, Translator

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = [lang for lang in LOCALES if lang != "en"]
_PLACEHOLDER = re.compile(r"\{(\w*)\}")
_TAG = re.compile(r"</?(b|strong|i|em|u|ins|s|strike|del|a|code|pre|blockquote|tg-spoiler)\b[^>]*>", re.I)


def extracted() -> dict[str, tuple[str, ...]]:
    """msgid (the singular) → all its ids, from the code under bot/."""
    found: dict[str, tuple[str, ...]] = {}
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT / "bot"), method_map=[("**.py", "python")], keywords=dict(KEYWORDS)
    ):
        ids = (message,) if isinstance(message, str) else tuple(message)
        if ids[0]:
            found[ids[0]] = ids
    return found


def problems(catalog: Catalog, wanted: dict[str, tuple[str, ...]]) -> list[str]:
    """What is wrong with a catalog for these message ids: missing, untranslated, fuzzy, or differing
    placeholders or HTML tags."""
    out: list[str] = []
    for key, ids in wanted.items():
        message = catalog.get(key if len(ids) == 1 else ids)
        if message is None:
            out.append(f"missing: {key!r}")
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if not all(strings) or message.fuzzy:
            out.append(f"untranslated: {key!r}")
            continue
        for text in strings:
            if Counter(_PLACEHOLDER.findall(text)) != Counter(_PLACEHOLDER.findall(ids[0])):
                out.append(f"placeholders differ: {key!r} → {text!r}")
            if Counter(t.lower() for t in _TAG.findall(text)) != Counter(
                t.lower() for t in _TAG.findall(ids[0])
            ):
                out.append(f"HTML tags differ: {key!r} → {text!r}")
    return out


def test_the_code_marks_the_reader_texts() -> None:
    found = extracted()
    assert len(found) > 80
    for text in ("🗞 <b>Latest articles</b>", "just now", "Commands:", "Which topic? {usage}"):
        assert text in found


@pytest.mark.parametrize("language", SHIPPED)
def test_every_reader_text_is_translated_alike(language: str) -> None:
    with catalog_path(language).open("rb") as source:
        catalog = read_po(source, locale=LOCALES[language])
    assert problems(catalog, extracted()) == []
    assert load_catalog(language).gettext("Commands:") != "Commands:"


def test_the_checker_catches_missing_untranslated_and_altered_texts() -> None:
    wanted = {
        "Hello {name}": ("Hello {name}",),
        "<b>Bold</b> {n}": ("<b>Bold</b> {n}",),
        "Gone": ("Gone",),
        "Empty": ("Empty",),
    }
    catalog = Catalog(locale="ms")
    catalog.add("Hello {name}", "Hai {nama}")  # a renamed placeholder
    catalog.add("<b>Bold</b> {n}", "Tebal {n}")  # lost its tags
    catalog.add("Empty", "")
    found = problems(catalog, wanted)
    assert found == [
        "placeholders differ: 'Hello {name}' → 'Hai {nama}'",
        "HTML tags differ: '<b>Bold</b> {n}' → 'Tebal {n}'",
        "missing: 'Gone'",
        "untranslated: 'Empty'",
    ]


def test_the_makefile_extracts_with_the_same_keywords() -> None:
    line = next(x for x in (ROOT / "Makefile").read_text().splitlines() if x.startswith("CATALOG_KEYWORDS"))
    specs = re.findall(r"-k (\S+)", line)
    as_specs = [
        name if spec is None else f"{name}:{','.join(map(str, spec))}" for name, spec in KEYWORDS.items()
    ]
    assert sorted(specs) == sorted(as_specs)
    assert (LOCALE_DIR / "newsbot.pot").exists()


def test_unknown_and_missing_language_codes_fall_back() -> None:
    translators = Translators("ms")
    assert translators.for_code(None).language == "ms"
    assert translators.for_code("pt-br").language == "ms"
    assert translators.for_code("zh-Hant-TW").language == "ms"  # Traditional: not what we ship
    for code in ("zh", "zh-hans", "zh-CN", "zh_SG", "zh-Hans-CN"):
        assert translators.for_code(code).language == "zh-hans", code
    assert translators.for_code("EN-gb").language == "en"
    assert isinstance(translators.for_code("ms-MY"), Translator)
