"""Tip wording: escaped, signed with the reader's name and id, within Telegram's limits as Telegram counts
them (UTF-16 units of the parsed text); the newsroom's answer never names an editor; /audit's message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.audit import AuditEntry, audit_message
from bot.core.render import CAPTION_LIMIT, TEXT_LIMIT, measure_html
from bot.core.telegram_html import parse_html, utf16_len
from bot.core.tips import answer_for_reader, fit_utf16, tip_for_editors, tip_text


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("/tip the mayor", "the mayor"),
        ("/tip@newsbot  the mayor \n", "the mayor"),
        ("/tip", ""),
        ("/tip   ", ""),
        ("/tip\nline one\nline two", "line one\nline two"),
    ],
)
def test_tip_text_takes_the_words_after_the_command(raw: str, words: str) -> None:
    assert tip_text(raw) == words


def test_a_tip_reads_literally_with_name_username_and_id() -> None:
    hostile = '<b>bold</b> & <a href="javascript:x">link</a> &amp;'
    body = tip_for_editors(hostile, name="<Rita>", username="rita", user_id=501, caption=False)
    parsed = parse_html(body)
    assert parsed.text.startswith("💡 Tip from <Rita> (@rita, id 501):\n\n")
    assert hostile in parsed.text  # shown exactly as typed, no markup of the reader's
    assert [e.type for e in parsed.entities] == ["bold", "italic"]  # only ours
    no_handle = tip_for_editors("x", name="Rita", username=None, user_id=7, caption=True)
    assert parse_html(no_handle).text == "💡 Tip from Rita (id 7):\n\nx"


@pytest.mark.parametrize("unit", ["a", "&", "<", "😀", "é"])
@pytest.mark.parametrize(("caption", "limit"), [(False, TEXT_LIMIT), (True, CAPTION_LIMIT)])
def test_long_tips_are_cut_to_telegrams_limits_in_utf16(unit: str, caption: bool, limit: int) -> None:
    body = tip_for_editors(unit * 5000, name="Rita", username="rita", user_id=501, caption=caption)
    assert limit - 2 <= measure_html(body) <= limit  # full, but not over (an emoji is two units)
    assert parse_html(body).text.count("…") == 1


def test_short_tips_are_not_cut() -> None:
    text = "😀" * 400
    assert text in parse_html(tip_for_editors(text, name="R", username=None, user_id=1, caption=True)).text


def test_fit_utf16_never_splits_a_surrogate_pair() -> None:
    assert fit_utf16("ab😀", 4) == "ab😀"
    assert fit_utf16("ab😀c", 4) == "ab…"
    assert utf16_len(fit_utf16("😀" * 10, 6)) <= 6


def test_the_newsroom_answer_is_escaped_capped_and_unsigned() -> None:
    answer = answer_for_reader("Thanks <Rita> & see you")
    assert parse_html(answer).text == "📰 The newsroom replies:\n\nThanks <Rita> & see you"
    assert measure_html(answer_for_reader("😀" * 3000)) <= TEXT_LIMIT
    assert measure_html(answer_for_reader("x" * 3000, caption=True)) <= CAPTION_LIMIT
    assert parse_html(answer_for_reader("", caption=True)).text == "📰 The newsroom replies:"


def test_audit_message_escapes_and_stops_within_the_limit() -> None:
    at = datetime(2026, 12, 3, 10, 42, tzinfo=UTC)
    entries = [AuditEntry(i, at, 1, "Ada <admin> (1)", "topic saved", "😀" * 400) for i in range(100)]
    text = audit_message(entries)
    parsed = parse_html(text)
    assert parsed.length <= TEXT_LIMIT
    lines = parsed.text.splitlines()
    assert lines[0] == "Latest changes (newest first)"
    assert lines[1] == "2026-12-03 10:42 UTC · Ada <admin> (1) · topic saved · " + "😀" * 400
    assert 3 <= len(lines) < 101
    assert audit_message([]) == "No admin changes yet."
