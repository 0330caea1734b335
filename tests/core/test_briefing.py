"""Digest decisions with the clock injected: due, missed and waiting slots across midnight and DST, the
grace window, dated titles, and the body's ranking, grouping, escaping and Telegram limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.briefing import OTHER, DigestStory, decide, digest_html, rank, title
from bot.core.daytime import due_slot, load_zone, next_slot, parse_times
from bot.core.telegram_html import parse_html

KL = load_zone("Asia/Kuala_Lumpur")
LONDON = load_zone("Europe/London")
HOUR = timedelta(hours=1)
GRACE = timedelta(minutes=60)
T0 = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)  # 08:00 in Kuala Lumpur, a Thursday


def story(
    n: int, *, topics: tuple[str, ...] = (), breaking: bool = False, age: int = 0, **kw: str
) -> DigestStory:
    return DigestStory(
        n,
        kw.get("headline", f"Headline {n}"),
        kw.get("url", f"https://news.example/{n}"),
        topics,
        breaking,
        T0 - timedelta(minutes=age),
    )


def test_decide_posts_within_grace_records_missed_after_and_waits_for_the_next() -> None:
    times = parse_times("08:00,18:00")
    on_time = decide(T0 + timedelta(minutes=1), times, KL, GRACE, claimed=())
    assert (on_time.action, on_time.slot and on_time.slot.key) == ("post", "2026-12-03T08:00")
    assert decide(T0 + GRACE, times, KL, GRACE, ()).action == "post"  # the grace's last minute
    late = decide(T0 + GRACE + timedelta(seconds=1), times, KL, GRACE, ())
    assert late.action == "missed"
    claimed = decide(T0 + timedelta(minutes=1), times, KL, GRACE, {"2026-12-03T08:00"})
    assert (claimed.action, claimed.slot) == ("wait", None)
    assert claimed.wake_at == T0 + 10 * HOUR  # 18:00 in Kuala Lumpur
    assert claimed.nap(T0) == 60.0  # never more than a minute, so a jumped clock is noticed
    assert claimed.nap(T0 + 10 * HOUR - timedelta(seconds=5)) == 5.0
    assert on_time.nap(T0) == 0.0
    off = decide(T0, (), KL, GRACE, ())
    assert (off.action, off.wake_at, off.nap(T0)) == ("wait", None, 60.0)


def test_slots_wrap_midnight() -> None:
    times = parse_times("23:30,00:15")
    now = datetime(2026, 12, 3, 16, 5, tzinfo=UTC)  # 00:05 on 4 December in Kuala Lumpur
    due = due_slot(now, times, KL)
    upcoming = next_slot(now, times, KL)
    assert due is not None
    assert upcoming is not None
    assert (due.key, upcoming.key) == ("2026-12-03T23:30", "2026-12-04T00:15")
    assert upcoming.when == datetime(2026, 12, 3, 16, 15, tzinfo=UTC)
    decision = decide(now, times, KL, timedelta(minutes=40), ())  # 35 minutes late
    assert (decision.action, decision.slot) == ("post", due)


def test_a_slot_skipped_by_the_spring_jump_still_comes_once_an_hour_later() -> None:
    # London skips 01:00-02:00 on 29 March 2026: 01:30 lands at 02:30 BST (01:30 UTC), after 02:00 BST
    times = parse_times("01:30,02:00")
    first = due_slot(datetime(2026, 3, 29, 1, 10, tzinfo=UTC), times, LONDON)
    assert first is not None
    assert first.key == "2026-03-29T02:00"
    jumped = due_slot(datetime(2026, 3, 29, 1, 40, tzinfo=UTC), times, LONDON)
    assert jumped is not None
    assert (jumped.key, jumped.when) == ("2026-03-29T01:30", datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
    upcoming = next_slot(datetime(2026, 3, 29, 1, 10, tzinfo=UTC), times, LONDON)
    assert upcoming == jumped
    # the autumn repeat of 01:30 (25 October) is taken once, at its first occurrence
    autumn = due_slot(datetime(2026, 10, 25, 1, 45, tzinfo=UTC), parse_times("01:30"), LONDON)
    assert autumn is not None
    assert autumn.when == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_titles_by_time_of_day_in_the_newsrooms_zone() -> None:
    def at(hour: int, minute: int = 0) -> str:
        return title(T0 - 8 * HOUR + timedelta(hours=hour, minutes=minute), KL)

    assert at(8) == "Morning briefing, Thursday 3 December"
    assert at(11, 59).startswith("Morning")
    assert at(12) == "Afternoon briefing, Thursday 3 December"
    assert at(16, 59).startswith("Afternoon")
    assert at(17) == "Evening briefing, Thursday 3 December"
    assert at(24) == "Morning briefing, Friday 4 December"
    assert (
        title(T0, LONDON, name="digest of your topics")
        == "Morning digest of your topics, Thursday 3 December"
    )


def test_top_stories_are_breaking_then_in_more_topics_then_newest() -> None:
    stories = [
        story(1, age=1),
        story(2, age=50, topics=("a", "b")),
        story(3, age=90, breaking=True),
        story(4, age=5, topics=("a",)),
        story(5, age=2, topics=("a",)),
    ]
    assert [s.article_id for s in rank(stories)] == [3, 2, 5, 4, 1]


def test_body_groups_by_topic_alphabetically_with_more_news_last_and_escapes() -> None:
    stories = [
        story(1, headline="Tom & Jerry <b>win</b>", url='https://news.example/?a=1&b="2"'),
        story(2, topics=("politics",), headline="Vote today"),
        story(3, topics=("politics", "climate"), headline="Green bill"),
        story(4, topics=("climate",), breaking=True, headline="Flood"),
        story(5, topics=("sport",), age=600),
        story(6, age=700),
    ]
    html = digest_html("Morning briefing, Thursday 3 December", stories, 5)
    assert html is not None
    parsed = parse_html(html)  # Telegram would accept it
    assert parsed.text.splitlines() == [
        "🗞 Morning briefing, Thursday 3 December",
        "",
        "climate",
        "• 🔴 Flood",
        "• Green bill",
        "",
        "politics",
        "• Vote today",
        "",
        "sport",
        "• Headline 5",
        "",
        OTHER,
        "• Tom & Jerry <b>win</b>",
    ]  # the sixth story is over DIGEST_SIZE
    assert 'href="https://news.example/?a=1&amp;b=&quot;2&quot;"' in html
    assert "Tom &amp; Jerry &lt;b&gt;win&lt;/b&gt;" in html
    assert digest_html("Nothing", [], 8) is None


def test_body_fits_4096_characters_and_100_entities() -> None:
    long = [story(n, headline="Ω𝔸 " * 120, topics=(f"t{n}",)) for n in range(60)]
    html = digest_html("Evening briefing", long, 60)
    assert html is not None
    parsed = parse_html(html)
    assert 3000 < parsed.length <= 4096
    many = [story(n, topics=(f"t{n:02}",)) for n in range(80)]
    html = digest_html("Evening briefing", many, 80)
    assert html is not None
    parsed = parse_html(html)
    assert 90 <= len(parsed.entities) <= 100
    links = [e for e in parsed.entities if e.type == "text_link"]
    assert [e.extra for e in links][:2] == ["https://news.example/0", "https://news.example/1"]
