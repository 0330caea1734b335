"""The review queue's pure parts: button data round-trips and refuses anything forged or malformed, the
preview and outcome wording, channel post links, and an editor's edit read from a reply."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core import review
from bot.core.review import (
    ACTIONS,
    DEK_MAX,
    HEADLINE_MAX,
    Decided,
    decode,
    encode,
    keyboard,
    outcome_line,
    parse_edit,
    post_link,
    preview_html,
)

SECRET = "0123456789abcdef0123456789abcdef"
AT = datetime(2026, 12, 3, 9, 42, tzinfo=UTC)
LONDON, BERLIN = ZoneInfo("Europe/London"), ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize("action", [a for a, _ in ACTIONS])
@pytest.mark.parametrize("article_id", [1, 35, 36, 1289, 2**62])
def test_button_data_round_trips_and_stays_small(action: str, article_id: int) -> None:
    data = encode(action, article_id, SECRET)  # type: ignore[arg-type]
    assert len(data.encode()) <= 64
    assert data.startswith("rv1:")
    assert str(article_id) not in data.split(":")[2] or article_id < 10  # base 36, not the plain id
    assert decode(data, SECRET) == (action, article_id)


def test_button_data_signed_by_another_install_or_altered_is_refused() -> None:
    data = encode("skip", 1289, SECRET)
    prefix, letter, ident, tag = data.split(":")
    assert decode(data, "another install's secret") is None
    assert decode(f"{prefix}:p:{ident}:{tag}", SECRET) is None  # skip turned into post
    assert decode(f"{prefix}:{letter}:{int(ident, 36) + 1:x}:{tag}", SECRET) is None  # another article
    assert decode(f"{prefix}:{letter}:{ident}:{tag[:-1]}", SECRET) is None
    assert decode(data.upper(), SECRET) is None


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "rv1",
        "rv1:p:zz",
        "rv1:x:zz:0000000000",  # no such action
        "rv2:p:zz:0000000000",  # another version
        "rv1:p:-1:0000000000",
        "rv1:p:zz:0000000000:extra",
        "x" * 65,
        "rv1:p:" + "z" * 60 + ":0000000000",
        "tip:123",  # another feature's buttons
    ],
)
def test_malformed_button_data_decodes_to_none(data: str | None) -> None:
    assert decode(data, SECRET) is None


def test_signed_but_non_positive_or_non_base36_ids_are_refused() -> None:
    # signed with the install's own key: even then only what encode() writes is accepted
    for ident in ("0", "-1", "+1", "1_0"):
        body = f"rv1:p:{ident}"
        assert decode(f"{body}:{review._tag(SECRET, body)}", SECRET) is None


def test_keyboard_is_two_rows_of_the_five_actions() -> None:
    rows = keyboard(7, SECRET)
    assert [[label for label, _ in row] for row in rows] == [
        ["✅ Post", "🔕 Post silently", "🔴 Breaking"],
        ["✏️ Edit", "🗑 Skip"],
    ]
    decoded = [decode(data, SECRET) for row in rows for _, data in row]
    assert decoded == [("post", 7), ("silent", 7), ("breaking", 7), ("edit", 7), ("skip", 7)]


def test_preview_is_a_header_then_the_post_exactly() -> None:
    post = '<b>Budget passes</b>\nThe dek.\n<a href="https://news.example/1">Read more</a>'
    text = preview_html(post, article_id=12, source="The <Daily> & Co", breaking=False, edited=False)
    header, body = text.split("\n\n", 1)
    assert header == "📝 <b>Review</b> · #12 · The &lt;Daily&gt; &amp; Co"
    assert body == post
    marked = preview_html(post, article_id=12, source="D", breaking=True, edited=True)
    assert marked.split("\n\n", 1)[0].endswith("🔴 the feed marks this breaking · ✏️ edited")


@pytest.mark.parametrize(
    ("state", "zone", "want"),
    [
        ("post", UTC, "✅ Posted by Ada at 09:42"),
        ("post", BERLIN, "✅ Posted by Ada at 10:42"),
        ("silent", LONDON, "🔕 Posted silently by Ada at 09:42"),
        ("breaking", BERLIN, "🔴 Posted as breaking news by Ada at 10:42"),
        ("skip", BERLIN, "🗑 Skipped by Ada at 10:42"),
    ],
)
def test_outcome_lines_in_local_time(state: str, zone: ZoneInfo, want: str) -> None:
    assert outcome_line(Decided(state, "Ada", AT), zone) == want


def test_outcome_links_the_post_but_never_a_skip_and_escapes_the_editor() -> None:
    link = "https://t.me/dailynews/17"
    assert outcome_line(Decided("post", "Ada", AT), UTC, link=link) == (
        '<a href="https://t.me/dailynews/17">✅ Posted by Ada at 09:42</a>'
    )
    assert outcome_line(Decided("skip", "Ada", AT), UTC, link=link) == "🗑 Skipped by Ada at 09:42"
    assert outcome_line(Decided("post", "<b>Eve</b> & co", AT), UTC) == (
        "✅ Posted by &lt;b&gt;Eve&lt;/b&gt; &amp; co at 09:42"
    )
    assert outcome_line(Decided("post", None, None), UTC) == "✅ Posted by an editor"


def test_expired_outcome_names_the_window() -> None:
    expired = Decided("expired", None, AT)
    assert outcome_line(expired, UTC, expiry_hours=6) == "⌛ Dropped: not decided within 6 h."
    assert outcome_line(expired, UTC, expiry_hours=1.5) == "⌛ Dropped: not decided within 1.5 h."
    assert outcome_line(expired, UTC) == "⌛ Dropped: not decided within the review window."


def test_post_links_for_public_and_private_channels() -> None:
    assert post_link("-1001234567890", "dailynews", 5) == "https://t.me/dailynews/5"
    assert post_link("-1001234567890", "@dailynews", 5) == "https://t.me/dailynews/5"
    assert post_link("@dailynews", None, 5) == "https://t.me/dailynews/5"
    assert post_link("-1001234567890", None, 5) == "https://t.me/c/1234567890/5"
    assert post_link("-42", None, 5) is None  # a basic group has no post links
    assert post_link("4242", None, 5) is None


def test_edit_first_line_headline_rest_dek_whitespace_tidied() -> None:
    edit = parse_edit("\n  Budget   passes \r\n\nThe council voted\n  late on Tuesday.  \n")
    assert edit is not None
    assert (edit.headline, edit.dek, edit.cut) == (
        "Budget passes",
        "The council voted late on Tuesday.",
        False,
    )
    only = parse_edit("Just a headline")
    assert only is not None
    assert (only.headline, only.dek) == ("Just a headline", "")
    assert parse_edit("") is None
    assert parse_edit(" \n\t\n ") is None


def test_edit_keeps_html_as_literal_text() -> None:
    edit = parse_edit("<b>Bold</b> & <script>x</script>\n<a href='x'>dek</a>")
    assert edit is not None
    assert edit.headline == "<b>Bold</b> & <script>x</script>"  # escaped when rendered, never parsed
    assert edit.dek == "<a href='x'>dek</a>"


def test_a_5000_character_edit_is_cut_and_says_so() -> None:
    edit = parse_edit("H" * 5000 + "\n" + "Long dek. " * 500)
    assert edit is not None
    assert edit.cut
    assert len(edit.headline) == HEADLINE_MAX
    assert edit.headline.endswith("…")
    assert len(edit.dek) <= DEK_MAX
    assert edit.dek.endswith("…")
    exact = parse_edit("H" * HEADLINE_MAX + "\n" + "d" * DEK_MAX)
    assert exact is not None
    assert not exact.cut
