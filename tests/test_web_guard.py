"""The guard as a person meets it in Chromium: the chat asks for the API key of a server that needs
one, and /docs works offline under its Content-Security-Policy."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests import test_web_ui
from tests.conftest import copy_of_sample_index, serving
from tests.test_web_ui import KNOWN_QUESTION, chat_page

pytestmark = pytest.mark.slow

browser = test_web_ui.browser  # the fixtures of the other browser tests
screenshots = test_web_ui.screenshots

KEY = "k-team-7d41c2a9"


@pytest.fixture(scope="module")
def keyed_dossier(cli_data_dir, tmp_path_factory) -> Iterator:
    """`dossier serve` that wants a key for every /v1 route."""
    data_dir = copy_of_sample_index(cli_data_dir, tmp_path_factory, "keyed")
    with serving(
        data_dir, DOSSIER_API_KEYS=f"k-other-0000,{KEY}", DOSSIER_AUTH_READS="true"
    ) as process:
        yield process


def test_the_chat_asks_for_the_key_once_and_answers_with_citations(
    browser, keyed_dossier, screenshots
):
    with chat_page(browser, keyed_dossier, screenshots) as chat:
        page = chat.page
        expect(page.locator("#status")).to_contain_text("2 documents")  # /readyz stays open
        page.fill("#question", KNOWN_QUESTION)
        page.press("#question", "Enter")
        dialog = page.locator("#key-dialog")
        expect(dialog).to_be_visible()
        expect(page.locator("#key-input")).to_be_focused()
        expect(page.locator("#key-refused")).to_be_hidden()
        chat.shot("key-dialog")

        page.fill("#key-input", "not-the-key")
        page.press("#key-input", "Enter")
        expect(page.locator("#key-refused")).to_be_visible()  # a wrong key: asked again, saying so
        expect(page.locator("#key-input")).to_have_value("")
        chat.shot("key-dialog-wrong-key")

        page.fill("#key-input", KEY)
        page.click("#key-dialog button[type=submit]")
        expect(dialog).to_be_hidden()
        answer = page.locator(".turn").first.locator(".answer")
        expect(answer).to_have_class(re.compile(r"is-done"), timeout=60_000)
        expect(answer.locator(".answer-body")).to_contain_text("500")
        expect(answer.locator(".answer-body .chip").first).to_have_text(re.compile(r"^1"))
        chat.shot("answer-after-key")

        # Kept for this tab: a reload, the documents panel and another question ask no more.
        page.reload()
        panel = chat.open_documents()
        expect(panel.locator("#document-list li")).to_have_count(2)
        expect(dialog).to_be_hidden()
        assert page.evaluate("sessionStorage.getItem('dossier.apiKey')") == KEY
        assert page.evaluate("localStorage.getItem('dossier.apiKey')") is None


def test_cancelling_the_key_dialog_shows_the_refusal(browser, keyed_dossier, screenshots):
    with chat_page(browser, keyed_dossier, screenshots) as chat:
        page = chat.page
        page.fill("#question", KNOWN_QUESTION)
        page.press("#question", "Enter")
        expect(page.locator("#key-dialog")).to_be_visible()
        page.keyboard.press("Escape")
        answer = page.locator(".turn").first.locator(".answer")
        expect(answer).to_contain_text("API key required")
        expect(page.locator("#key-dialog")).to_be_hidden()


def test_the_api_docs_render_offline_under_their_policy(browser, keyed_dossier):
    context = browser.new_context()
    page = context.new_page()
    elsewhere, violations = [], []
    page.route(
        re.compile(r"^(?!" + re.escape(keyed_dossier.url) + ").*"),
        lambda route: (elsewhere.append(route.request.url), route.abort()),
    )

    def note_violation(message) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    page.on("console", note_violation)
    try:
        page.goto(keyed_dossier.url + "/docs")
        expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
        expect(page.locator(".opblock-summary-path", has_text="/v1/ask")).to_be_visible()
        expect(
            page.locator("button.authorize")
        ).to_be_visible()  # the server wants keys: Try it out sends one
        page.goto(keyed_dossier.url + "/redoc")
        expect(page.get_by_text("/v1/ask").first).to_be_attached(timeout=30_000)
    finally:
        context.close()
    # ReDoc's sidebar names its maker with a logo from its CDN: the policy blocks it, nothing else.
    assert all("cdn.redoc.ly/redoc/logo-mini.svg" in url for url in elsewhere), elsewhere
    assert all("cdn.redoc.ly" in text for text in violations), violations
