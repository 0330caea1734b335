"""The sandbox page in a real headless Chromium: posts appear live, /latest gets a reply, a screenshot.

Runs `python -m bot sandbox --port 0` as a user would and drives Debian's chromium with Playwright (never a
downloaded browser). `make browser` installs both; without /usr/bin/chromium this test fails and says so.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from bot.sandbox.run import SANDBOX_TOKEN
from bot.sandbox.stories import STORIES
from tests.kits import ARTIFACTS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SETTINGS_ENV = {"BOT_TOKEN", "TELEGRAM_API_URL", "CHANNEL_ID", "ADMIN_IDS", "DATABASE_PATH", "FEEDS"}
ADDRESS = re.compile(r"^Sandbox running: open (http://127\.0\.0\.1:\d+/)$")


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    """`python -m bot sandbox --port 0` in a clean directory (no .env); yields the address it prints first."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    log = (tmp_path / "sandbox.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--port", "0", "--feed-interval", "3"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        match = ADDRESS.match(first)
        assert match, f"first line was {first!r}; log:\n{(tmp_path / 'sandbox.log').read_text()}"
        yield match.group(1)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
    assert code == 0, (tmp_path / "sandbox.log").read_text()
    assert SANDBOX_TOKEN not in (tmp_path / "sandbox.log").read_text()  # the log never shows the token


def _launch_page(playwright: object) -> Page:
    assert CHROMIUM.exists(), "Debian's chromium is missing: run `make browser` (apt-get install chromium)"
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)  # type: ignore[attr-defined]
    return browser.new_page(viewport={"width": 1360, "height": 860})


def test_page_shows_live_posts_and_answers_latest(sandbox_url: str) -> None:
    headlines = {s.headline for s in STORIES}
    with sync_playwright() as playwright:
        page = _launch_page(playwright)
        page.goto(sandbox_url)

        # posts appear, rendered from the bot's HTML: bold headline, a link, and a preview card with its image
        posts = page.locator("#channel-posts > li")
        expect(posts.first).to_be_visible(timeout=10_000)
        first = posts.first
        assert first.locator(".text strong").first.inner_text() in headlines
        expect(first.locator(".text a").first).to_have_attribute(
            "href", re.compile(r"^http://127\.0\.0\.1:\d+/")
        )
        expect(first.locator(".preview img")).to_be_visible()
        image = first.locator(".preview img").element_handle()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image, timeout=5_000)
        expect(page.locator("#channel-empty")).to_be_hidden()

        # the channel keeps moving without a reload: more posts arrive over Server-Sent Events
        count = posts.count()
        expect(posts.nth(count)).to_be_attached(timeout=25_000)

        # the chat: type /latest as the reader, see it sent and the bot's answer listing sample stories
        page.get_by_label("Message to the bot").fill("/latest")
        page.keyboard.press("Enter")
        chat = page.locator("#chat-reader")
        expect(chat.locator("li.outgoing").last).to_contain_text("/latest")
        reply = chat.locator("li.incoming").last
        expect(reply).to_be_visible(timeout=10_000)
        assert any(h in reply.inner_text() for h in headlines), reply.inner_text()

        # the status line reports what the bot did
        expect(page.locator("#status")).to_contain_text("posts in the channel", timeout=5_000)

        ARTIFACTS.mkdir(exist_ok=True)
        page.evaluate("() => document.querySelectorAll('.scroll').forEach(s => s.scrollTo(0, 1e9))")
        page.wait_for_function("() => [...document.images].every(img => img.complete)", timeout=5_000)
        page.screenshot(path=str(ARTIFACTS / "sandbox.png"), animations="disabled")

        # the renderer shows only Telegram's tags; anything else stays text, nothing runs
        rendered = page.evaluate(
            """() => {
                const box = document.createElement("div");
                box.append(renderTelegramHTML(
                    '<script>window.pwned=1</script><img src=x onerror="window.pwned=1">' +
                    '<b>bold &amp; <i>it</i></b> <a href="javascript:alert(1)">x</a> ' +
                    '<tg-spoiler>s</tg-spoiler>'
                ));
                document.body.append(box);
                return {
                    tags: [...box.querySelectorAll("*")].map(e => e.tagName.toLowerCase()),
                    text: box.textContent,
                    pwned: window.pwned === 1,
                };
            }"""
        )
        assert rendered["tags"] == ["strong", "em", "span", "span"]
        assert rendered["text"].startswith("<script>window.pwned=1</script><img src=x")
        assert "bold & it" in rendered["text"]
        assert rendered["pwned"] is False


def test_visitor_plays_editor_review_buttons_and_a_tip(sandbox_url: str) -> None:
    """Review on as the admin, press Post under a preview in the editors' group, see the toast and the
    outcome; Breaking on the next one pins its channel post; send a tip as the reader and answer it from the
    editors' group with ↩ Reply."""
    with sync_playwright() as playwright:
        page = _launch_page(playwright)
        page.goto(sandbox_url)
        expect(page.locator("#channel-posts > li").first).to_be_visible(timeout=10_000)
        page.get_by_role("radio", name="Admin").check()
        page.get_by_label("Message to the bot").fill("/review on")
        page.keyboard.press("Enter")
        expect(page.locator("#chat-admin li.incoming").last).to_contain_text(
            "Review is now on", timeout=10_000
        )

        page.get_by_role("radio", name="Editors' group").check()
        editors = page.locator("#chat-editors")
        preview = editors.locator("li.incoming", has=page.locator(".keyboard")).first
        expect(preview).to_be_visible(timeout=30_000)
        expect(preview.locator(".key")).to_have_count(5)
        preview.get_by_role("button", name="✅ Post").click()
        expect(page.locator("#toast")).to_contain_text("Posting it now.", timeout=10_000)
        decided = editors.locator("li.incoming", has_text="Posted by Alex").first
        expect(decided).to_be_visible(timeout=10_000)
        expect(decided.locator(".keyboard")).to_have_count(0)

        # Breaking on the next preview: the channel post arrives pinned and keeps its text
        upcoming = editors.locator("li.incoming", has=page.locator(".keyboard")).first
        expect(upcoming).to_be_visible(timeout=30_000)
        upcoming.get_by_role("button", name="🔴 Breaking").click()
        pinned = page.locator("#channel-posts > li.pinned")
        expect(pinned).to_have_count(1, timeout=10_000)
        expect(pinned.locator(".text strong").first).not_to_be_empty()

        page.get_by_role("radio", name="Reader").check()
        page.get_by_label("Message to the bot").fill("/tip <b>Smoke</b> over the harbour")
        page.keyboard.press("Enter")
        expect(page.locator("#chat-reader li.incoming").last).to_contain_text("your tip went", timeout=10_000)
        page.get_by_role("radio", name="Editors' group").check()
        tip = editors.locator("li.incoming", has_text="Smoke").last
        expect(tip).to_contain_text("<b>Smoke</b> over the harbour")  # literal text, not markup
        tip.get_by_role("button", name="Reply to this message").click()
        page.get_by_label("Message to the bot").fill("Thank you, we are on it.")
        page.keyboard.press("Enter")
        expect(editors.locator("li.incoming").last).to_contain_text("Sent to the reader.", timeout=10_000)
        page.get_by_role("radio", name="Reader").check()
        expect(page.locator("#chat-reader li.incoming").last).to_contain_text("The newsroom replies")
        page.get_by_role("radio", name="Editors' group").check()
        page.screenshot(path=str(ARTIFACTS / "sandbox-editor.png"), animations="disabled")
