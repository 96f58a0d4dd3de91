"""Driving the web chat in a real browser (Debian's Chromium, through Playwright's sync API).

The fixtures that use this (`browser`, `screenshots`, `web_dossier`, `chat`) are in conftest.py, so
that every browser test module shares one browser: Playwright's sync API runs one per process.
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}

KNOWN_QUESTION = "How many Indian AI professionals will Japan invite?"
UNANSWERABLE = "What is the population of Mars?"
SUPPORTED = "Japan will invite 500 highly skilled Indian AI professionals by 2030 [1]."


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    assert CHROMIUM.exists(), (
        "the browser tests need Debian's chromium: apt-get install -y chromium"
    )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


class Chat:
    """The chat page in one browser tab, as a user drives it."""

    def __init__(self, page: Page, url: str, screenshots: Path) -> None:
        self.page = page
        self.url = url
        self.screenshots = screenshots
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self.note_console_error)

    def note_console_error(self, message) -> None:
        # The browser logs every 4xx/5xx response; the tests that cause them check what the page shows.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def open(self, check_status: bool = True) -> "Chat":
        self.page.goto(self.url)
        if check_status:
            expect(self.page.locator("#status")).not_to_be_empty()
        return self

    def ask(self, question: str):
        turns = self.page.locator(".turn")
        count = turns.count()
        self.page.fill("#question", question)
        self.page.press("#question", "Enter")
        answer = turns.nth(count).locator(".answer")
        expect(answer).not_to_have_class(re.compile(r"is-streaming"), timeout=60_000)
        return answer

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.screenshots / f"{name}.png"))

    def open_documents(self):
        self.page.click("#open-documents")
        expect(self.page.locator("#documents-panel")).to_be_visible()
        return self.page.locator("#documents-panel")


@contextmanager
def chat_page(
    browser: Browser, server, screenshots: Path, check_status: bool = True, **context_options
) -> Iterator[Chat]:
    """The chat of `server` in a fresh browser context (its own local storage); desktop size unless told."""
    context = browser.new_context(**{"viewport": DESKTOP} | context_options)
    chat = Chat(context.new_page(), server.url + "/", screenshots)
    try:
        yield chat.open(check_status)
    finally:
        context.close()
    assert not chat.errors, chat.errors
