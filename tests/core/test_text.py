"""HTML to plain text, boilerplate removal, headline cleaning and dek cutting."""

from __future__ import annotations

import time

import pytest

from bot.core.text import (
    clean_headline,
    first_sentence,
    html_to_text,
    make_dek,
    plain_text,
    strip_boilerplate,
    truncate,
)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One</p><p>Two</p>", "One Two"),
        ("line<br>break<br/>again", "line break again"),
        ("<ul><li>a</li><li>b</li></ul>", "a b"),
        ("in<b>line</b> tags <em>join</em>ed", "inline tags joined"),
        ("It&#8217;s &ldquo;quoted&rdquo; &amp; &#x2014; done", "It’s “quoted” & — done"),
        ("non&nbsp;breaking&#160;space", "non breaking space"),
        ("AT&amp;amp;T and It&amp;#8217;s", "AT&T and It’s"),  # double-encoded, decoded twice
        ("&amp;amp;amp; stops after two", "&amp; stops after two"),  # never more than twice
        ("&lt;script&gt;alert(1)&lt;/script&gt; is text", "<script>alert(1)</script> is text"),
        ("a <script>var s = '<p>x</p>';</script>b", "a b"),
        ("<style>p { color: red }</style>styled", "styled"),
        ("<SCRIPT type='x'>evil()</SCRIPT >ok", "ok"),
        ("<!-- hidden <p>x</p> -->shown", "shown"),
        ("<iframe src=x>fallback</iframe><noscript><img src=y></noscript>seen", "seen"),
        ("<svg><title>icon</title><path d='M0'/></svg>Label", "Label"),
        ('<a href="x" title="a > b">link</a> text', "link text"),
        ('<img src="x.jpg" alt="photo">caption', "caption"),
        ("5 < 6 and 7 > 3", "5 < 6 and 7 > 3"),
        ("<3 hearts", "<3 hearts"),
        ('unclosed <a href="x>text', "unclosed text"),  # lenient: the tag ends at the next ">"
        ("   lots \n\t of \r\n  space   ", "lots of space"),
        ("zero\u200bwidth soft\u00adhyphen bom\ufeff", "zerowidth softhyphen bom"),
        ("bidi \u202eoverride\u202c gone", "bidi override gone"),
        ("ctrl\x00\x07\x1b chars\x85", "ctrl chars"),
        ("emoji 👨\u200d👩\u200d👧 keeps ZWJ", "emoji 👨\u200d👩\u200d👧 keeps ZWJ"),
        ("lone \ud800 surrogate", "lone surrogate"),
        ("<![CDATA[x]]>after", "after"),
        ("&unknown; &amp stays", "&unknown; & stays"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_plain_text_keeps_markup_characters() -> None:
    assert plain_text("  AT&T <b> tags & Q&A  ") == "AT&T <b> tags & Q&A"
    assert plain_text("a\u00a0b\u2003c\nd") == "a b c d"


@pytest.mark.parametrize(
    ("title", "is_html", "headline"),
    [
        ("AT&T <b> tags & Q&A", False, "AT&T <b> tags & Q&A"),
        ("Tom &amp; Jerry", False, "Tom &amp; Jerry"),
        ("Tom &amp; Jerry", True, "Tom & Jerry"),
        ("<script>alert(1)</script>Breaking <b>news</b>", True, "Breaking news"),
        ("Hello&nbsp;world\n", True, "Hello world"),
        ("  spaced\t out  ", False, "spaced out"),
        (None, True, ""),
        ("", False, ""),
    ],
)
def test_clean_headline(title: str | None, is_html: bool, headline: str) -> None:
    assert clean_headline(title, is_html) == headline


@pytest.mark.parametrize(
    ("text", "stripped"),
    [
        ("Body text. The post Title Here appeared first on Site Name.", "Body text."),
        ("Body. The post “A, B: C” first appeared on Example News", "Body."),
        ("Text. Der Beitrag Titel erschien zuerst auf Seite.", "Text."),
        ("Texte. L’article Titre est apparu en premier sur Site.", "Texte."),
        ("Texto. La entrada Título se publicó primero en Sitio.", "Texto."),
        ("Summary goes here […]", "Summary goes here"),
        ("Summary goes here [...]", "Summary goes here"),
        ("Summary goes here […] The post X appeared first on Y.", "Summary goes here"),
        ("Short intro. Continue reading →", "Short intro."),
        ("Short intro. Continue reading Some Title →", "Short intro."),
        ('Short intro. Continue reading "What now?"', "Short intro."),
        ("Short intro… Read more", "Short intro…"),
        ("Short intro. Read More »", "Short intro."),
        ("Short intro … Read more", "Short intro…"),
        ("Ends mid-sentence ...", "Ends mid-sentence…"),
        ("You can read more about it later.", "You can read more about it later."),
        ("The post office reopened on Monday.", "The post office reopened on Monday."),
        ("Read more: the headline is a verb", "Read more: the headline is a verb"),
        ("Read more »", ""),
        ("Stocks fell. Read more about markets", "Stocks fell."),
    ],
)
def test_strip_boilerplate(text: str, stripped: str) -> None:
    assert strip_boilerplate(text) == stripped


def test_strip_boilerplate_only_looks_at_the_end() -> None:
    text = "The post X appeared first on Y. " + "More words follow here. " * 50
    assert strip_boilerplate(text) == text.strip()


LONG = (
    "The council approved the budget on Friday after a long session. Residents spoke for hours about "
    "parks, roads and the library. The mayor said the vote was a compromise that nobody loved. Opponents "
    "vowed to return next year with a new plan, and a petition has already gathered thousands of names "
    "across the city and beyond."
)


def test_truncate_prefers_a_late_sentence_end() -> None:
    cut = truncate(LONG, 200)
    assert cut == (
        "The council approved the budget on Friday after a long session. Residents spoke for hours about "
        "parks, roads and the library. The mayor said the vote was a compromise that nobody loved."
    )
    assert len(cut) <= 200


def test_truncate_falls_back_to_a_word_boundary_with_ellipsis() -> None:
    cut = truncate(LONG, 90)  # the sentence end at 63 is past 60% of the budget (54)
    assert cut == "The council approved the budget on Friday after a long session."
    cut = truncate(LONG, 60)
    assert cut.endswith("…")
    assert len(cut) <= 60
    assert cut == "The council approved the budget on Friday after a long…"
    assert truncate("x" * 100, 10) == "x" * 9 + "…"


def test_truncate_does_not_cut_after_abbreviations() -> None:
    text = "Officials in the U.S. and Mr. Smith of Acme Inc. said talks would resume next week, no sooner."
    cut = truncate(text, 60)
    assert cut.endswith("…")
    assert "U.S." in cut
    assert not cut.endswith("U.S.")


def test_truncate_short_text_unchanged() -> None:
    assert truncate("short", 300) == "short"
    assert truncate("short", 5) == "short"


def test_truncate_sentence_ending_exactly_at_the_budget() -> None:
    text = "First sentence here. Second one ends at forty. Third."
    assert truncate(text, 46) == "First sentence here. Second one ends at forty."


def test_truncate_tiny_budgets() -> None:
    assert truncate("abcdef", 1) == "…"
    assert truncate("abcdef", 0) == ""
    assert truncate("abcdef", 2) == "a…"


def test_first_sentence() -> None:
    assert first_sentence("Mr. Smith went to Washington. Then he left.") == "Mr. Smith went to Washington."
    assert first_sentence("no sentence end at all " * 20, 40).endswith("…")
    assert first_sentence("中文句子。第二句。") == "中文句子。"


def test_make_dek_cleans_and_cuts() -> None:
    html = "<p>" + LONG + "</p><p>The post <a>Budget</a> appeared first on <a>Daily</a>.</p>"
    dek = make_dek(html, "Budget approved", 200)
    assert dek.startswith("The council approved")
    assert dek.endswith("nobody loved.")


@pytest.mark.parametrize(
    ("summary", "headline", "dek"),
    [
        ("Budget approved", "Budget approved", ""),
        ("<p>BUDGET approved!</p>", "Budget approved.", ""),
        ("Budget", "Budget approved after long night", ""),  # a beginning of the headline
        ("Budget approved. The council voted 7-2.", "Budget approved", "The council voted 7-2."),
        ("Budget approved: the council voted 7-2.", "Budget Approved", "the council voted 7-2."),
        ("Budgets are up.", "Budget approved", "Budgets are up."),
        ("Something else entirely.", "Budget approved", "Something else entirely."),
        ("", "Budget approved", ""),
        (None, "Budget approved", ""),
        ("<p>The post X appeared first on Y.</p>", "Headline", ""),
        ("Straße gesperrt. Mehr dazu.", "STRASSE GESPERRT", "Mehr dazu."),
    ],
)
def test_make_dek_against_headline(summary: str | None, headline: str, dek: str) -> None:
    assert make_dek(summary, headline) == dek


def test_make_dek_of_a_long_many_paragraph_summary_is_its_standfirst() -> None:
    figure = '<figure><img src="https://example.com/a.jpg" srcset="a 300w, b 768w" alt=""></figure>'
    html = "".join(f"<p>Paragraph {i} has a sentence. And another one here.</p>{figure}" for i in range(200))
    html += "<p>The post X appeared first on Y.</p>"
    # the dek is the standfirst: the first paragraph, joined with the next while it is too short to stand
    # alone; reading a prefix of the document gives what reading all of it gives
    standfirst = (
        "Paragraph 0 has a sentence. And another one here. Paragraph 1 has a sentence. And another one here."
    )
    assert make_dek(html, "Unrelated headline") == standfirst
    assert make_dek(html, "Unrelated headline", 100_000) == standfirst
    # a prefix that holds too little text falls back to converting everything
    sparse = "<div>" + "<span></span>" * 1000 + "</div><p>Only text at the end.</p>"
    assert make_dek(sparse, "h") == "Only text at the end."


def test_make_dek_is_fast() -> None:
    html = (
        "<p>The council approved a $4.2&nbsp;million budget on Friday after a six-hour session. Residents "
        'packed the chamber to speak about parks funding &#8230;</p>\n<p>The post <a href="https://x/">'
        'Budget</a> appeared first on <a href="https://x">Daily</a>.</p>'
    )
    started = time.perf_counter()
    for _ in range(2000):
        make_dek(html, "City council approves budget")
    per_call = (time.perf_counter() - started) / 2000
    assert per_call < 0.0005  # about 0.03 ms on a developer machine; generous for slow CI
