"""Pure chat logic: reply HTML within Telegram's limits and escaped once, argument parsing, the per-user
command limit, and the private-address check for /addfeed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.chat_args import (
    ArgumentError,
    clean_text,
    parse_addtopic,
    parse_count,
    parse_feed_ref,
    parse_topic_name,
    parse_url,
    split_name_and_count,
)
from bot.core.dm import dm_text, reader_gone
from bot.core.feed_address import blocked_ip, check_host_name, check_resolved, feed_host
from bot.core.i18n import msg
from bot.core.models import Feed, StoredArticle, Topic
from bot.core.ratelimit import CommandLimiter, Verdict
from bot.core.replies import TEXT_LIMIT, latest_reply, search_reply
from bot.core.replies_admin import feeds_reply, refusal, status_extra, topic_rules, topic_saved
from bot.core.replies_topics import my_topics_reply, suggest, topic_reply, topics_reply, unknown_topic
from bot.core.telegram_html import ENTITY_LIMIT, parse_html

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def art(
    i: int, headline: str = "", *, dek: str = "", hours: float = 2, source: str = "Daily Planet"
) -> StoredArticle:
    return StoredArticle(
        id=i,
        feed_id=1,
        url=f"https://news.example/story/{i}?a=1&b=2",
        headline=headline or f"Headline {i}",
        dek=dek,
        published=NOW - timedelta(hours=hours),
        source=source,
    )


def shown(html_text: str) -> tuple[str, list[dict[str, object]]]:
    parsed = parse_html(html_text).stripped()
    return parsed.text, parsed.entity_dicts()


def test_latest_reply_links_escapes_once_and_shows_age() -> None:
    tricky = art(1, "AT&T <b>buys</b> “R&D” lab &amp; more", hours=2)
    text, entities = shown(latest_reply([tricky, art(2, hours=0.2), art(3, hours=50)], NOW))
    assert "AT&T <b>buys</b> “R&D” lab &amp; more · Daily Planet · 2h ago" in text  # exactly as stored
    assert "12m ago" in text
    assert "2d ago" in text
    links = [e for e in entities if e["type"] == "text_link"]
    assert links[0]["url"] == "https://news.example/story/1?a=1&b=2"
    assert len(links) == 3


def test_latest_reply_with_note_and_empty() -> None:
    text, _ = shown(latest_reply([art(1)], NOW, note=msg("Showing {n}, the most I send at once.", n=20)))
    assert text.endswith("Showing 20, the most I send at once.")
    assert "No articles yet" in shown(latest_reply([], NOW))[0]


def test_long_lists_fit_telegram_limits_in_utf16() -> None:
    # 20 headlines of astral-plane emoji: each counts twice in UTF-16
    many = [art(i, "🚀" * 190 + f" {i}", source="S" * 60) for i in range(20)]
    html_text = latest_reply(many, NOW)
    parsed = parse_html(html_text)
    assert parsed.length <= TEXT_LIMIT
    assert "more that did not fit in one message" in parsed.text


def test_entity_limit_is_respected() -> None:
    topics = [Topic(f"t{i}", "d") for i in range(150)]
    parsed = parse_html(topics_reply(topics))
    assert len(parsed.entities) <= ENTITY_LIMIT
    assert "more that did not fit" in parsed.text


def test_search_reply_variants() -> None:
    text, _ = shown(search_reply(["<x>", "AT&T"], [art(1)], NOW))
    assert text.startswith("🔎 Results for <x> AT&T")
    assert "Nothing found for <x>" in shown(search_reply(["<x>"], [], NOW))[0]
    some = shown(search_reply(["a", "b"], [art(1)], NOW, all_words=False))[0]
    assert "No article has all of those words" in some


def test_topic_replies() -> None:
    topic = Topic("climate", "Weather & <climate>", ("heat wave", "CO2"), ("Environment",), "@climate_news")
    text, _ = shown(topic_reply(topic, [art(1)], NOW))
    assert text.startswith("🏷 climate — Weather & <climate>")
    rules = topic_rules(topic, articles=12, subscribers=3)
    admin_text, _ = shown(topic_reply(topic, [], NOW, rules=rules))
    assert "No articles in climate yet." in admin_text
    assert "Keywords: heat wave, CO2" in admin_text
    assert "Also posted to: @climate_news" in admin_text
    assert "Tagged articles: 12 · subscribers: 3" in admin_text
    listing, _ = shown(topics_reply([topic]))
    assert "• climate — Weather & <climate>" in listing
    assert "/subscribe <name>" in listing
    assert "You don't follow any topic yet" in shown(my_topics_reply([]))[0]
    saved, _ = shown(topic_saved(topic, created=True, tagged=4))
    assert saved.startswith("✅ Topic climate added; 4 recent article(s) match it.")


def test_unknown_topic_always_answers() -> None:
    names = ["politics", "climate", "tech", "sport", "economy", "health"]
    assert suggest("politcs", names) == ["politics"]
    assert suggest("Clim", names)[0] == "climate"
    close, _ = shown(unknown_topic("poltics", names))
    assert close == "There is no topic “poltics”. Did you mean politics?"
    far, _ = shown(unknown_topic("qqq", names))
    assert far.startswith("There is no topic “qqq”. Topics: climate, economy")
    none, _ = shown(unknown_topic("<b>", []))
    assert none == "There is no topic “<b>”: no topics have been set up yet."


def test_feeds_reply_and_status_extra() -> None:
    ok = Feed(
        1,
        "https://a.example/feed",
        "A & B",
        True,
        last_fetched_at=NOW - timedelta(minutes=5),
        poll_interval=240,
    )
    bad = Feed(2, "https://b.example/rss", None, True, error_count=3, last_error="HTTP 503 <oops>")
    text, _ = shown(feeds_reply([ok, bad], {1: 40}, NOW))
    assert text.splitlines()[0] == "📡 Feeds: 2, 1 failing"
    assert text.index("#2") < text.index("#1")  # failing first
    assert "fetched 5m ago · 40 article(s) · polled every 4 min" in text
    assert "not fetched yet · 0 article(s) · polled\n" in text  # no interval chosen yet
    assert "⚠ HTTP 503 <oops> (failed 3×)" in text
    extra, _ = shown(status_extra(posts_today=7, dm_counts={"queued": 2, "sent": 5}, failing=[bad]))
    assert "Channel posts today (UTC): 7" in extra
    assert "2 queued · 5 sent · 0 failed" in extra
    assert "#2 https://b.example/rss: HTTP 503 <oops>" in extra
    assert shown(refusal("addfeed"))[0].startswith("Sorry, /addfeed is only for the bot's admins.")


def test_dm_text() -> None:
    article = art(5, "Fish & chips <prices>", dek="A dek with <tags> & “quotes”. " * 40)
    text, entities = shown(dm_text(article, ["food", "economy"]))
    assert text.startswith("Fish & chips <prices>\n\nA dek with <tags> & “quotes”.")
    assert text.endswith("Daily Planet · #food · #economy")
    assert {e["type"] for e in entities} >= {"bold", "text_link", "italic"}
    assert len(text) < 1200


def test_which_dm_failures_mean_the_reader_is_gone() -> None:
    assert reader_gone("Forbidden: bot was blocked by the user", forbidden=True)
    assert reader_gone("Chat not found", forbidden=False)
    assert not reader_gone("Can't parse entities: unsupported start tag", forbidden=False)


# -- arguments -----------------------------------------------------------------------------------------


def test_parse_count_clamps_with_notes() -> None:
    assert parse_count(None).value == 5
    assert parse_count("10").value == 10
    assert parse_count("50") == parse_count("9" * 40)
    assert str(parse_count("50").note) == "Showing 20, the most I send at once."
    assert parse_count("0").value == 1
    assert str(parse_count("-3").note) == "Showing 1, the fewest I can send."
    assert parse_count("７").value == 7  # fullwidth digit
    with pytest.raises(ArgumentError, match="is not a number"):
        parse_count("ten")
    with pytest.raises(ArgumentError, match="too long"):
        parse_count("1" * 300)


def test_clean_text_drops_invisible_and_bidi() -> None:
    assert clean_text("  a\u200bb\u202e c\x00d\n e ") == "ab c d e"
    assert clean_text(None) == ""


def test_topic_names() -> None:
    assert parse_topic_name("#Politics", usage="u") == "Politics"
    assert split_name_and_count(["tech", "3"], usage="u")[1].value == 3
    assert split_name_and_count(["tech"], usage="u")[1].value == 5
    with pytest.raises(ArgumentError, match="Which topic"):
        parse_topic_name("", usage="u")
    for bad in ("two words", "'; DROP TABLE topics;--", "<b>x</b>", "x" * 40):
        with pytest.raises(ArgumentError, match="not a topic name"):
            parse_topic_name(bad, usage="u")


def test_parse_addtopic_syntax() -> None:
    topic = parse_addtopic(
        "climate climate change, heat wave,  CO2 #Environment #Climate_crisis @climate_news | Weather & more"
    )
    assert topic == Topic(
        "climate",
        "Weather & more",
        ("climate change", "heat wave", "CO2"),
        ("Environment", "Climate crisis"),
        "@climate_news",
    )
    assert parse_addtopic("x @-1001234567890 #Cat").channel_id == "-1001234567890"
    assert parse_addtopic("x a, A, b").keywords == ("a", "b")
    with pytest.raises(ArgumentError, match="at least one keyword"):
        parse_addtopic("climate")
    with pytest.raises(ArgumentError, match="Usage"):
        parse_addtopic("")
    with pytest.raises(ArgumentError, match="not a channel"):
        parse_addtopic("x kw @ab")
    with pytest.raises(ArgumentError, match="no letters or digits"):
        parse_addtopic("x ???, ok")
    with pytest.raises(ArgumentError, match="at most 30"):
        parse_addtopic("x " + ", ".join(f"k{i}" for i in range(31)))


def test_feed_refs_and_urls() -> None:
    assert parse_feed_ref("#12", usage="u") == 12
    assert parse_feed_ref("https://a.example/feed", usage="u") == "https://a.example/feed"
    with pytest.raises(ArgumentError):
        parse_feed_ref("ftp://x", usage="u")
    assert parse_url("HTTPS://a.example/x", usage="u") == "HTTPS://a.example/x"
    for bad in ("", "javascript:alert(1)", "file:///etc/passwd", "http://", "a b"):
        with pytest.raises(ArgumentError):
            parse_url(bad, usage="u")


# -- rate limit ----------------------------------------------------------------------------------------


def test_rate_limit_warns_once_then_drops_per_user() -> None:
    limiter = CommandLimiter(5, 10.0)
    verdicts = [limiter.check(1, 0.0) for _ in range(8)]
    assert verdicts == [Verdict.ALLOW] * 5 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    assert limiter.check(2, 0.0) is Verdict.ALLOW  # another reader is unaffected
    assert limiter.retry_in(1, 0.0) == pytest.approx(2.0)
    assert limiter.check(1, 1.0) is Verdict.DROP
    assert limiter.check(1, 2.0) is Verdict.ALLOW  # one token back after 2 s
    assert limiter.check(1, 2.1) is Verdict.WARN  # a new burst warns again, once
    assert limiter.forget_idle(100.0) == 2
    assert len(limiter) == 0


def test_rate_limit_memory_is_bounded() -> None:
    limiter = CommandLimiter(1, 10.0, max_users=100)
    for uid in range(1000):
        limiter.check(uid, float(uid) / 1000)
    assert len(limiter) <= 100


# -- private addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.4", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1",
     "fe80::1%eth0", "fc00::1", "::ffff:127.0.0.1", "2002:7f00:1::", "224.0.0.1", "not-an-ip"],
)  # fmt: skip
def test_private_addresses_are_blocked(address: str) -> None:
    assert blocked_ip(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "1.1.1.1"])
def test_public_addresses_pass(address: str) -> None:
    assert not blocked_ip(address)


def test_host_checks() -> None:
    assert feed_host("https://News.Example./feed") == ("news.example", 443)
    assert feed_host("http://a.example:8080/") == ("a.example", 8080)
    for url in ("ftp://a.example/", "http:///x", "http://user:pw@a.example/", "http://a.example:99999/"):
        with pytest.raises(ArgumentError):
            feed_host(url)
    for host in ("localhost", "printer.local", "db.internal", "127.0.0.1", "[::1]", "10.0.0.8"):
        with pytest.raises(ArgumentError, match="local"):
            check_host_name(host)
    check_host_name("news.example")
    check_resolved("news.example", ["93.184.215.14"])
    with pytest.raises(ArgumentError, match=r"resolves to 10\.0\.0\.1"):
        check_resolved("evil.example", ["93.184.215.14", "10.0.0.1"])
    with pytest.raises(ArgumentError, match="does not resolve"):
        check_resolved("x.example", [])
