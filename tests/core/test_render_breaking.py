"""The breaking mark in a post: `{breaking}` where the template has it, else leading the headline; the
prefix and the headline are escaped, the mark is never trimmed away, and the post still fits its limit."""

from __future__ import annotations

import pytest

from bot.core.render import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    breaking_mark,
    measure_html,
    render_post,
    validate_template,
)
from bot.core.telegram_html import parse_html
from bot.settings import DEFAULT_TEMPLATE

HOSTILE = 'Mayor says <b>"no"</b> & </a><script>alert(1)</script> &nbsp;'
URL = "https://news.example/story?id=1&ref=rss"


def post(*, breaking: str, template: str = DEFAULT_TEMPLATE, headline: str = HOSTILE, **kw: object) -> str:
    fields: dict[str, object] = {"dek": "Dek & <i>more</i>.", "url": URL, "source": "News & Co", **kw}
    return render_post(headline=headline, template=template, breaking=breaking, **fields)  # type: ignore[arg-type]


def seen(html_text: str) -> str:
    return parse_html(html_text).stripped().text


@pytest.mark.parametrize(
    ("prefix", "mark"),
    [
        ("🔴 BREAKING", "🔴 BREAKING: "),
        ("  BREAKING  NEWS ", "BREAKING NEWS: "),
        ("BREAKING:", "BREAKING: "),
        ("BREAKING —", "BREAKING — "),
        ("🚨", "🚨 "),
        ("", ""),
        ("   ", ""),
    ],
)
def test_the_mark_reads_as_a_sub_editor_would_write_it(prefix: str, mark: str) -> None:
    assert breaking_mark(prefix) == mark


def test_without_the_placeholder_the_mark_leads_the_bold_headline() -> None:
    text = post(breaking="🔴 BREAKING")
    assert text.startswith("<b>🔴 BREAKING: Mayor says &lt;b&gt;&quot;no&quot;&lt;/b&gt; &amp; &lt;/a&gt;")
    assert seen(text).startswith('🔴 BREAKING: Mayor says <b>"no"</b> & </a><script>')
    entities = parse_html(text).stripped().entities
    assert (entities[0].type, entities[0].offset) == ("bold", 0)  # the mark is bold with the headline


def test_other_posts_carry_no_mark() -> None:
    assert post(breaking="") == post(breaking="", template=DEFAULT_TEMPLATE)
    assert "BREAKING" not in post(breaking="")
    assert "{breaking}" not in post(breaking="", template="{breaking}<b>{headline}</b>\n{url}")
    assert seen(post(breaking="", template="{breaking}<b>{headline}</b>\n{url}")).startswith("Mayor says")


def test_the_placeholder_puts_the_escaped_prefix_where_the_template_says() -> None:
    template = "<b>{breaking}</b><i>{headline}</i>\n\n{url}"
    validate_template(template)
    text = post(breaking='<b>LIVE</b> & "now"', template=template)
    assert text.startswith("<b>&lt;b&gt;LIVE&lt;/b&gt; &amp; &quot;now&quot; </b><i>Mayor says")
    assert seen(text).startswith('<b>LIVE</b> & "now" Mayor says')
    plain = post(breaking="", template=template)
    assert plain.startswith("<i>Mayor says")  # the empty bold tag vanishes with its markup


@pytest.mark.parametrize("limit", [TEXT_LIMIT, CAPTION_LIMIT, 200])
def test_the_mark_fits_the_budget_and_survives_trimming(limit: int) -> None:
    long_headline = "Storm " * 400
    for template, tail in (
        (DEFAULT_TEMPLATE, "Read more at News & Co"),
        ("{breaking}<b>{headline}</b>\n{url}", URL),
    ):
        text = post(
            breaking="🔴 BREAKING", template=template, headline=long_headline, dek="word " * 900, limit=limit
        )
        assert measure_html(text) <= limit
        assert seen(text).startswith("🔴 BREAKING: Storm Storm")
        assert seen(text).endswith(tail)
