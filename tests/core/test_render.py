"""Rendering channel posts: golden files for hostile input, fitting Telegram's limits, template validation.

Goldens: tests/data/render/hostile.json (input) next to hostile.expected.json (HTML, what readers see, and
the entities). Regenerate after an intended change with NEWSBOT_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import pytest

from bot.core.errors import ConfigError
from bot.core.render import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    RenderError,
    hashtags,
    measure_html,
    render_plain,
    render_post,
    validate_template,
)
from bot.core.telegram_html import parse_html, utf16_len
from bot.settings import DEFAULT_TEMPLATE, load_settings
from tests.kits import DATA

RENDER = DATA / "render"
CASES: list[dict[str, Any]] = json.loads((RENDER / "hostile.json").read_text("utf-8"))
URL = "https://news.example/2024/05/story"


def _render(case: dict[str, Any]) -> str:
    return render_post(
        headline=case["headline"],
        dek=case["dek"],
        url=case["url"],
        source=case["source"],
        categories=case.get("categories", []),
        template=case.get("template", DEFAULT_TEMPLATE),
    )


def test_hostile_goldens() -> None:
    expected_path = RENDER / "hostile.expected.json"
    got = []
    for case in CASES:
        html = _render(case)
        parsed = parse_html(html).stripped()
        got.append(
            {"name": case["name"], "html": html, "text": parsed.text, "entities": parsed.entity_dicts()}
        )
    if os.environ.get("NEWSBOT_UPDATE_GOLDEN"):
        expected_path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert got == json.loads(expected_path.read_text("utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_feed_markup_is_shown_literally_never_interpreted(case: dict[str, Any]) -> None:
    parsed = parse_html(_render(case)).stripped()
    # readers see the headline exactly as the feed's plain text, and only the template makes entities
    assert parsed.text.startswith(case["headline"])
    if case["dek"]:
        assert case["dek"] in parsed.text
    assert [e.type for e in parsed.entities] == ["bold", "text_link"]
    assert parsed.entities[0].length == utf16_len(case["headline"])
    assert parsed.entities[1].extra == case["url"]


def test_empty_dek_leaves_no_blank_run() -> None:
    html = render_post(headline="H", dek="", url=URL, source="S", template=DEFAULT_TEMPLATE)
    assert html == f'<b>H</b>\n\n<a href="{URL}">Read more at S</a>'
    custom = "<b>{headline}</b>\\n\\n<i>{dek}</i>\\n\\n{hashtags}\\n\\n{url}"
    html = render_post(headline="H", dek="", url=URL, source="S", template=custom)
    assert html == f"<b>H</b>\n\n{URL}"


@pytest.mark.parametrize("limit", [TEXT_LIMIT, CAPTION_LIMIT, 300])
def test_long_dek_is_trimmed_at_a_word_with_ellipsis(limit: int) -> None:
    dek = " ".join(f"word{i}" for i in range(3000))
    html = render_post(
        headline="Headline", dek=dek, url=URL, source="S", template=DEFAULT_TEMPLATE, limit=limit
    )
    parsed = parse_html(html).stripped()
    assert parsed.length <= limit
    assert parsed.length > limit - 12  # trimmed to a word boundary, not much shorter
    body = parsed.text.split("\n\n")[1]
    assert body.endswith("…")
    assert body[:-1].split(" ")[-1].startswith("word")  # a whole word before the ellipsis
    assert dek.startswith(body[:-1])
    assert parsed.text.startswith("Headline\n\n")
    assert parsed.entities[-1].extra == URL


def test_escaped_characters_are_budgeted_after_parsing_and_never_cut() -> None:
    # each "&" is 5 characters of markup but 1 character for Telegram; "<" likewise
    dek = " ".join(["&<>&"] * 2000)
    html = render_post(headline="A&B", dek=dek, url=URL, source="S&P", template=DEFAULT_TEMPLATE)
    assert len(html) > TEXT_LIMIT  # the markup is longer than the limit, the message is not
    parsed = parse_html(html).stripped()
    assert TEXT_LIMIT - 8 < parsed.length <= TEXT_LIMIT
    assert "&amp;" not in parsed.text
    assert parsed.text.split("\n\n")[1].endswith("&<>&…")


def test_astral_characters_count_twice_near_the_limit() -> None:
    dek = " ".join(["🚀🌍"] * 1500)  # 4 UTF-16 units + a space per word
    html = render_post(headline="🚀 Launch", dek=dek, url=URL, source="S", template=DEFAULT_TEMPLATE)
    parsed = parse_html(html).stripped()
    assert len(parsed.text) < TEXT_LIMIT < utf16_len(dek)
    assert TEXT_LIMIT - 8 < parsed.length <= TEXT_LIMIT
    assert parsed.text.split("\n\n")[1].endswith("🚀🌍…")
    assert measure_html(html) == parsed.length


def test_a_dek_with_no_spaces_is_cut_inside_the_word() -> None:
    dek = "長" * 5000
    html = render_post(headline="H", dek=dek, url=URL, source="S", template=DEFAULT_TEMPLATE, limit=200)
    parsed = parse_html(html).stripped()
    assert 190 < parsed.length <= 200
    assert "長…" in parsed.text


def test_headline_is_trimmed_when_even_no_dek_is_too_long() -> None:
    headline = " ".join(["headline"] * 200)
    html = render_post(
        headline=headline, dek="a dek", url=URL, source="S", template=DEFAULT_TEMPLATE, limit=CAPTION_LIMIT
    )
    parsed = parse_html(html).stripped()
    assert parsed.length <= CAPTION_LIMIT
    assert "a dek" not in parsed.text
    assert parsed.text.split("\n\n")[0].endswith("headline…")
    assert [e.type for e in parsed.entities] == ["bold", "text_link"]


def test_nothing_fits_is_a_render_error() -> None:
    template = "<b>{headline}</b> " + "x" * 100
    with pytest.raises(RenderError, match="does not fit 50 characters"):
        render_post(headline="H", dek="", url=URL, source="S", template=template, limit=50)


def test_random_hostile_text_always_renders_valid_html() -> None:
    rng = random.Random(4)
    alphabet = ["<", ">", "&", ";", '"', "'", "#", "/", "a", "b", " ", "🚀", "&nbsp;", "<b>", "</i>", "&#"]
    for _ in range(200):
        headline = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))).strip() or "x"
        dek = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400))).strip()
        limit = rng.choice([120, 300, CAPTION_LIMIT])
        html = render_post(
            headline=headline, dek=dek, url=URL, source="<S>", template=DEFAULT_TEMPLATE, limit=limit
        )
        parsed = parse_html(html).stripped()
        assert parsed.length <= limit
        assert [e.type for e in parsed.entities] == ["bold", "text_link"]


def test_hashtags_are_word_characters_deduplicated_and_capped() -> None:
    assert (
        hashtags(["New York", "new-york", "C#", "2024", "__", "Économie", "a.b"])
        == "#NewYork #C #Économie #ab"
    )
    assert hashtags(f"tag{i}" for i in range(30)).count("#") == 10
    assert hashtags([]) == ""


def test_plain_fallback_keeps_markup_literal_and_fits() -> None:
    text = render_plain(headline="<b>AT&T</b>", dek="x " * 3000, url=URL, categories=["Tech"], limit=500)
    assert text.startswith("<b>AT&T</b>\n\n")
    assert text.endswith(f"#Tech\n\n{URL}")
    assert utf16_len(text) <= 500
    assert render_plain(headline="H", dek="", url=URL) == f"H\n\n{URL}"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("<b>{headline}</b> {body}", "unknown placeholder {body}"),
        ("<b>{headline}", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<p>{headline}</p>", 'Unsupported start tag "p"'),
        ("{headline} {", "write {{ or }} for a literal brace"),
        ("{headline!r}", "takes no format spec or conversion"),
        ("{headline:>10}", "takes no format spec or conversion"),
        ("{0} {headline}", "unknown placeholder {0}"),
        ("{dek} only", "needs at least {headline} or {url}"),
        ("<a href={url}>link</a>", "Unexpected end of name token"),
        ("<b>{headline}</i>", "Unmatched end tag"),
    ],
)
def test_bad_templates_are_one_clear_line(template: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_template(template)
    assert message in str(info.value)
    assert str(info.value).startswith("POST_TEMPLATE: ")
    assert "\n" not in str(info.value)


def test_good_templates_and_literal_braces() -> None:
    validate_template(DEFAULT_TEMPLATE)
    validate_template('{{{headline}}} <a href="{url}">{source}</a> <i>{dek}</i> {hashtags}')
    html = render_post(headline="H", dek="", url=URL, source="S", template="{{{headline}}}")
    assert html == "{H}"


def test_bad_template_is_a_startup_error_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POST_TEMPLATE", "<b>{headline}</b> {oops}")
    with pytest.raises(ConfigError, match=r"^invalid setting POST_TEMPLATE: unknown placeholder \{oops\}"):
        load_settings(None)
