"""The web chat's flow in Chromium: a conversation that stays in view, direct answers first, the
welcome view, filters, several conversations, and the polish a reader notices.

The browser, server and chat fixtures are in conftest.py, the page driver in tests/browser.py.
"""

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser import DESKTOP, KNOWN_QUESTION, PHONE, UNANSWERABLE, chat_page
from tests.support import serving

pytestmark = pytest.mark.slow

# Questions a reader of the sample corpus might ask one after another, answerable or not.
TEN_QUESTIONS = [
    KNOWN_QUESTION,
    "and by when?",
    "What did Motegi discuss with Jaishankar?",
    UNANSWERABLE,
    "What regional vision do both reports say Japan and India are promoting?",
    "Who is Japan's foreign minister?",
    "What is the Japan-India Joint Vision for the Next Decade?",
    "Which minister met Prime Minister Modi?",
    "What did the two countries agree on supply chains?",
    "How many Indian AI professionals will Japan invite to Mumbai?",
]

IN_VIEW = """(selector) => {
  const box = [...document.querySelectorAll(selector)].at(-1).getBoundingClientRect();
  const region = document.getElementById("scroller").getBoundingClientRect();
  return box.bottom > region.top + 20 && box.top < region.bottom - 20;
}"""

FUTURE_ARTICLE = """Japan Widens Its Invitation to Indian AI Professionals
Published: 2026-03-02
Japan will invite 800 Indian AI professionals by 2031, its embassy in New Delhi said on Monday.
The embassy said the wider programme would add research posts at universities in Osaka and Sendai.
"""


def upload(server, name: str, text: str) -> str:
    """Ingest one article through the API; its document id."""
    response = httpx.post(
        f"{server.url}/v1/documents?wait=true",
        files=[("files", (name, text.encode(), "text/plain"))],
        timeout=120,
    )
    response.raise_for_status()
    return response.json()["documents"][0]["doc_id"]


def delete(server, doc_id: str) -> None:
    httpx.delete(f"{server.url}/v1/documents/{doc_id}", timeout=120).raise_for_status()


def assert_page_and_header_stay(page) -> None:
    assert page.evaluate("document.scrollingElement.scrollTop") == 0, "the page scrolled"
    header = page.locator(".topbar").bounding_box()
    assert header["y"] == 0
    expect(page.locator("#question")).to_be_in_viewport()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_ten_questions_in_a_row_keep_the_header_the_box_and_the_newest_answer_in_view(
    browser, web_dossier, screenshots, size
):
    options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if size == "phone" else {}
    with chat_page(browser, web_dossier, screenshots, **options) as chat:
        for number, question in enumerate(TEN_QUESTIONS, 1):
            answer = chat.ask(question)
            assert_page_and_header_stay(chat.page)
            assert chat.page.evaluate(IN_VIEW, ".turn .answer"), f"answer {number} is off screen"
            expect(answer).to_be_in_viewport()
            expect(chat.page.locator("#jump-latest")).to_be_hidden()
        chat.shot(f"{size}-ten-questions")
        expect(chat.page.locator(".turn")).to_have_count(10)


def test_reading_back_shows_jump_to_latest_and_a_reload_returns_to_the_latest(chat):
    for question in TEN_QUESTIONS[:4]:
        chat.ask(question)
    page = chat.page
    page.locator("#scroller").hover()
    page.mouse.wheel(0, -5000)
    jump = page.locator("#jump-latest")
    expect(jump).to_be_visible()
    expect(page.locator(".turn").first).to_be_in_viewport()
    chat.shot("desktop-jump-to-latest")
    jump.click()
    expect(jump).to_be_hidden()
    expect(page.locator(".turn .answer").last).to_be_in_viewport()

    page.reload()
    expect(page.locator(".turn")).to_have_count(4)
    expect(page.locator(".turn .answer").last).to_be_in_viewport()
    assert page.evaluate(IN_VIEW, ".turn .answer")
    expect(jump).to_be_hidden()


def test_a_direct_answer_leads_and_its_chip_opens_the_quote(chat):
    answer = chat.ask(KNOWN_QUESTION)
    lead = answer.locator(".lead")
    expect(lead).to_contain_text("500")
    lead.locator(".chip").click()
    expect(chat.page.locator("mark.cited")).to_contain_text("500")
    expect(answer.locator(".supporting")).to_contain_text("highly skilled Indian AI professionals")
    chat.shot("desktop-direct-answer")


def test_an_abstention_says_why_and_keeps_the_closest_evidence_collapsed(chat):
    answer = chat.ask("How many Indian AI professionals will Japan invite to Mumbai?")
    expect(answer).to_have_class(re.compile(r"is-abstained"))
    expect(answer.locator(".lead")).to_contain_text("Mumbai")
    evidence = answer.locator("details.closest-evidence")
    expect(evidence).not_to_have_attribute("open", "")
    expect(evidence.locator(".chip").first).to_be_hidden()
    evidence.locator("summary").click()
    evidence.locator(".chip").first.click()
    expect(chat.page.locator("mark.cited")).to_be_visible()
    chat.shot("desktop-abstention-with-evidence")


def test_the_welcome_view_says_what_is_loaded_and_a_suggestion_is_answered(chat):
    page = chat.page
    summary = page.locator("#corpus-summary")
    expect(summary).to_contain_text("2 articles")
    expect(summary).to_contain_text("2026")
    suggestions = page.locator("#suggestion-list button")
    expect(suggestions.nth(2)).to_be_visible()  # at least three
    chat.shot("desktop-welcome-suggestions")
    question = suggestions.first.inner_text()
    suggestions.first.click()
    answer = page.locator(".turn .answer").last
    expect(answer).to_have_class(re.compile(r"is-done"), timeout=60_000)
    expect(answer).not_to_have_class(re.compile(r"is-abstained"))
    expect(answer.locator(".answer-body .chip").first).to_be_visible()
    expect(page.locator(".turn .question-text")).to_have_text(question)


def test_an_empty_server_says_how_to_start_with_nothing_in_the_console(
    browser, tmp_path, screenshots
):
    with serving(tmp_path / ".dossier") as empty:
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        console = []  # every message, failed requests included: the empty page makes none
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
        try:
            page.goto(empty.url + "/")
            expect(page.locator("#empty-corpus")).to_be_visible()
            expect(page.locator("#empty-corpus")).to_contain_text("dossier ingest")
            expect(page.locator("#suggestions")).to_be_hidden()
            page.screenshot(path=str(screenshots / "desktop-empty-welcome.png"))
            page.click("#welcome-upload")
            expect(page.locator("#documents-panel")).to_be_visible()
            expect(page.locator("#documents-message")).to_contain_text("No documents yet")
            page.wait_for_timeout(500)
        finally:
            context.close()
    assert [line for line in console if line.startswith(("error", "pageerror"))] == []


def cited_titles(answer) -> set[str]:
    return set(answer.locator(".sources .source-title").all_inner_texts())


def test_a_date_filter_changes_the_sources_and_holds_for_follow_ups(chat, web_dossier):
    doc_id = upload(web_dossier, "japan-widens-invitation.txt", FUTURE_ARTICLE)
    try:
        page = chat.page
        page.reload()
        page.click("#filter-toggle")
        page.fill("#filter-from", "2026-03-01")
        page.click("#filter-apply")
        chip = page.locator(".filter-chip")
        expect(chip).to_have_count(1)
        expect(chip).to_contain_text("From")
        later = chat.ask(KNOWN_QUESTION)
        assert cited_titles(later) == {"Japan Widens Its Invitation to Indian AI Professionals"}
        expect(page.locator(".turn .searched").first).to_contain_text("Only articles")
        follow_up = chat.ask("and by when?")
        expect(follow_up.locator(".answer-body")).to_contain_text("2031")
        chat.shot("desktop-date-filter")

        chip.get_by_role("button").click()  # removed: the whole corpus again
        expect(page.locator(".filter-chip")).to_have_count(0)
        page.click("#filter-toggle")
        page.fill("#filter-to", "2026-02-28")
        page.click("#filter-apply")
        earlier = chat.ask(KNOWN_QUESTION)
        assert "Japan Widens Its Invitation to Indian AI Professionals" not in cited_titles(earlier)
    finally:
        delete(web_dossier, doc_id)


def test_two_conversations_are_kept_switched_renamed_exported_and_deleted(chat):
    page = chat.page
    chat.ask(KNOWN_QUESTION)
    page.click("#new-chat")
    expect(page.locator(".turn")).to_have_count(0)
    chat.ask("What did Motegi discuss with Jaishankar?")
    items = page.locator("#chat-list .chat-open")
    expect(items).to_have_count(2)
    page.locator("#chat-list .chat-open", has_text="How many Indian").click()
    expect(page.locator(".turn .question-text")).to_have_text([KNOWN_QUESTION])

    page.get_by_role("button", name=re.compile(r"^Rename chat: How many Indian")).click()
    page.fill("#rename-input", "AI talent")
    page.press("#rename-input", "Enter")
    expect(page.locator("#chat-list .is-current .chat-open")).to_have_text("AI talent")
    chat.shot("desktop-two-chats")

    page.reload()
    expect(page.locator("#chat-list .chat-open")).to_have_count(2)
    expect(page.locator("#chat-list .is-current .chat-open")).to_have_text("AI talent")
    expect(page.locator(".turn .question-text")).to_have_text([KNOWN_QUESTION])

    with page.expect_download() as download:
        page.get_by_role("button", name="Export chat as Markdown: AI talent").click()
    assert download.value.suggested_filename == "ai-talent.md"
    markdown = download.value.path().read_text(encoding="utf-8")
    assert markdown.startswith("# AI talent\n")
    assert f"**Question:** {KNOWN_QUESTION}" in markdown and "**Answer:** 500 [1]" in markdown
    assert re.search(r"characters \d+–\d+", markdown), "offsets are kept in the export"

    page.get_by_role("button", name=re.compile(r"^Delete chat: What did Motegi")).click()
    page.locator("#chat-delete-accept").click()
    expect(page.locator("#chat-list .chat-open")).to_have_count(1)
    expect(page.locator(".turn .question-text")).to_have_text([KNOWN_QUESTION])


TIP_BOX = """(chip) => {
  const tip = chip.querySelector('.tip').getBoundingClientRect();
  const header = document.querySelector('.topbar').getBoundingClientRect();
  return {top: tip.top, bottom: tip.bottom, left: tip.left, right: tip.right,
          header: header.bottom, width: innerWidth, height: innerHeight};
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_tooltip_stays_inside_the_window_below_the_header(
    browser, web_dossier, screenshots, viewport
):
    with chat_page(browser, web_dossier, screenshots, viewport=viewport) as chat:
        answer = chat.ask(KNOWN_QUESTION)
        chips = answer.locator(".answer-body .chip")
        for index in range(chips.count()):
            chip = chips.nth(index)
            # the chip just under the header: no room for its tip above it
            chip.evaluate("c => c.scrollIntoView({block: 'start'})")
            chip.hover()
            expect(chip.locator(".tip")).to_be_visible()
            box = chip.evaluate(TIP_BOX)
            assert box["top"] >= box["header"], box
            assert 0 <= box["left"] and box["right"] <= box["width"], box
            assert box["bottom"] <= box["height"], box
        chat.shot(f"tooltip-near-header-{viewport['width']}")


CHIPS_ALONE = """() => [...document.querySelectorAll('.answer-body .chip')].filter((chip) => {
  const group = chip.closest('.keep-together');
  if (!group) return true;
  const before = group.textContent.slice(0, group.textContent.indexOf(chip.textContent));
  return !before.trim() || group.getClientRects().length !== 1;
}).map((chip) => chip.closest('p').textContent.slice(0, 80))"""


def test_a_chip_is_never_alone_at_the_start_of_a_line(browser, web_dossier, screenshots):
    with chat_page(browser, web_dossier, screenshots) as chat:
        for question in TEN_QUESTIONS[:5]:
            chat.ask(question)
        for width in range(360, 1281, 115):
            chat.page.set_viewport_size({"width": width, "height": 800})
            assert chat.page.evaluate(CHIPS_ALONE) == [], width


def test_the_reader_sees_no_offsets_or_ids_and_one_citation_has_no_previous_next(chat, web_dossier):
    answer = chat.ask(KNOWN_QUESTION)
    citation = httpx.post(
        web_dossier.url + "/v1/ask", json={"question": KNOWN_QUESTION}, timeout=60
    ).json()["citations"][0]
    answer.locator(".answer-body .chip").first.click()
    panel = chat.page.locator("#source-panel")
    expect(panel.locator("mark.cited")).to_be_visible()
    expect(panel.locator(".citation-nav")).to_be_hidden()  # one citation: nothing to step through
    for text in (panel.inner_text(), chat.page.locator("#chat").inner_text()):
        assert citation["doc_id"] not in text
        assert "characters" not in text
    panel.locator("#source-ids summary").click()
    expect(panel.locator("#source-ids")).to_contain_text(citation["doc_id"])
    expect(panel.locator("#source-ids")).to_contain_text(
        f"characters {citation['start_char']}–{citation['end_char']}"
    )


def test_a_source_deleted_since_the_answer_gets_a_friendly_message(chat, web_dossier):
    doc_id = upload(web_dossier, "japan-widens-invitation.txt", FUTURE_ARTICLE)
    try:
        answer = chat.ask("Where will the wider programme add research posts?")
        expect(answer.locator(".sources")).to_contain_text("Japan Widens Its Invitation")
    finally:
        delete(web_dossier, doc_id)
    answer.locator(".answer-body .chip").first.click()
    panel = chat.page.locator("#source-panel")
    expect(panel.locator("#source-text .warning")).to_contain_text("no longer in Dossier")
    expect(panel.locator(".kept-quote")).to_contain_text("Osaka")
    expect(panel).not_to_contain_text("No document has the id")
    chat.shot("desktop-deleted-source")


def test_the_phone_header_is_one_row_and_the_placeholder_fits(browser, web_dossier, screenshots):
    with chat_page(
        browser, web_dossier, screenshots, viewport=PHONE, is_mobile=True, has_touch=True
    ) as chat:
        page = chat.page
        header = page.locator(".topbar").bounding_box()
        assert header["height"] < 64, header
        for control in ("#open-chats", ".brand", "#new-chat", "#open-documents"):
            box = page.locator(control).bounding_box()
            assert box["y"] >= header["y"] and box["y"] + box["height"] <= header["height"] + 1
        fits = page.evaluate(
            """() => {
              const box = document.getElementById('question');
              const style = getComputedStyle(box);
              const context = document.createElement('canvas').getContext('2d');
              context.font = `${style.fontSize} ${style.fontFamily}`;
              const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
              return context.measureText(box.placeholder).width <= room;
            }"""
        )
        assert fits, "the question box's placeholder is cut"
        page.click("#open-chats")
        expect(page.locator("#chats-panel")).to_be_visible()
        chat.shot("phone-chat-list")


def test_chats_saved_by_another_version_or_by_hand_never_stop_the_page(chat):
    page = chat.page
    junk = {
        "current": "nope",
        "chats": [
            None,
            1,
            "x",
            {"turns": [None, {"question": 5}]},
            {"id": "kept", "title": "Kept", "turns": [{"question": "Q?", "status": "done"}]},
            {"turns": [{"question": "Half?", "status": "done", "result": {"sentences": None}}]},
        ],
    }
    page.evaluate("(junk) => localStorage.setItem('dossier.chats.v2', JSON.stringify(junk))", junk)
    page.reload()
    expect(page.locator("#suggestion-list button").first).to_be_visible()
    expect(page.locator("#chat-list .chat-open", has_text="Kept")).to_be_visible()
    page.locator("#chat-list .chat-open", has_text="Kept").click()
    expect(page.locator(".turn .error")).to_contain_text("could not be read back")
    answer = chat.ask(KNOWN_QUESTION)  # and the page still answers
    expect(answer.locator(".lead")).to_contain_text("500")


def test_dates_typed_but_not_applied_still_filter_the_question(chat, web_dossier):
    page = chat.page
    sent = []
    page.on("request", lambda request: request.url.endswith("/v1/chat") and sent.append(request))
    page.click("#filter-toggle")
    page.fill("#filter-from", "2026-01-01")
    page.fill("#filter-to", "2026-01-31")
    chat.ask(KNOWN_QUESTION)
    assert sent[-1].post_data_json["filters"] == {
        "published_from": "2026-01-01",
        "published_to": "2026-01-31",
    }
    expect(page.locator(".filter-chip")).to_have_count(2)
    expect(page.locator("#filter-form")).to_be_hidden()

    page.click("#filter-toggle")  # a range that ends before it starts is not sent
    page.fill("#filter-from", "2026-02-01")
    page.fill("#question", "What did Motegi discuss with Jaishankar?")
    page.press("#question", "Enter")
    expect(page.locator("#filter-error")).to_contain_text("start date is after the end date")
    expect(page.locator(".turn")).to_have_count(1)


def test_a_question_the_server_refuses_as_too_long_comes_back_to_edit(chat):
    question = "Why " + "really " * 200 + "?"
    answer = chat.ask(question)
    expect(answer).to_have_class(re.compile(r"is-error"))
    expect(chat.page.locator("#question")).to_have_value(question.strip())


def test_opening_a_source_at_tablet_width_makes_room_for_the_conversation(
    browser, web_dossier, screenshots
):
    with chat_page(
        browser, web_dossier, screenshots, viewport={"width": 1000, "height": 800}
    ) as chat:
        page = chat.page
        if not page.locator("#chats-panel").is_visible():
            page.click("#open-chats")
        answer = chat.ask(KNOWN_QUESTION)
        answer.locator(".answer-body .chip").first.click()
        expect(page.locator("#source-panel")).to_be_visible()
        expect(page.locator("#chats-panel")).to_be_hidden()
        assert page.locator("#chat").bounding_box()["width"] >= 400
        expect(
            page.locator("#jump-latest")
        ).to_be_hidden()  # a re-layout is not the reader scrolling
