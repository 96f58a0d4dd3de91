"""The web chat in a real browser (Debian's Chromium, driven by Playwright) against `dossier serve`.

Every test saves a screenshot of the state it checks under the pytest temporary directory
(`screenshots/`), so a person can look at what the browser showed.
"""

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser import KNOWN_QUESTION, PHONE, SUPPORTED, UNANSWERABLE, Chat, chat_page
from tests.llm_servers import Reply
from tests.support import copy_of_sample_index, serving

pytestmark = pytest.mark.slow

UPLOADED_ARTICLE = """Valdora Opens a Tidal Power Station
Published: 2026-03-04
The town of Valdora opened its first tidal power station on Tuesday.
The station's twelve turbines will supply electricity to 40,000 homes, the mayor, Ilse Brandt, said.
"""
XSS_ARTICLE = """Harbour Authority Warns of <script>alert("title")</script> Phishing Emails
Published: 2026-03-05
The Korvath harbour authority said staff had received emails hiding <img src=x onerror=alert(1)> tags.
The harbour master of Korvath, Tomas Reyl, said the emails asked staff to reset their passwords.
"""


def test_a_known_question_gets_an_answer_with_citation_chips(chat):
    answer = chat.ask(KNOWN_QUESTION)
    expect(answer).to_have_class(re.compile(r"is-done"))
    expect(answer.locator(".answer-meta")).to_contain_text("extractive")
    expect(answer.locator(".answer-body")).to_contain_text("500")
    chip = answer.locator(".answer-body .chip").first
    expect(chip).to_have_text(re.compile(r"^1"))
    chip.hover()
    tip = chip.locator(".tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("500")
    expect(tip).to_contain_text("India-Japan Strategic Partnership Deepens")  # the article's title
    expect(tip).to_contain_text("date unknown")  # this article has none
    expect(answer.locator(".sources li").first).to_contain_text(
        "India-Japan Strategic Partnership Deepens"
    )
    chat.shot("desktop-answer-with-chip-tooltip")


def test_clicking_a_chip_shows_the_quote_highlighted_in_its_article(chat, web_dossier):
    answer = chat.ask(KNOWN_QUESTION)
    answer.locator(".answer-body .chip").first.click()
    mark = chat.page.locator("#source-panel mark.cited")
    expect(mark).to_be_visible()
    expect(mark).to_be_in_viewport()
    result = httpx.post(
        web_dossier.url + "/v1/ask", json={"question": KNOWN_QUESTION}, timeout=60
    ).json()
    citation = result["citations"][0]
    text = httpx.get(f"{web_dossier.url}/v1/documents/{citation['doc_id']}", timeout=30).json()[
        "text"
    ]
    assert (
        mark.inner_text()
        == text[citation["start_char"] : citation["end_char"]]
        == citation["quote"]
    )
    expect(chat.page.locator("#source-heading")).to_have_text(citation["title"])
    expect(chat.page.locator("#source-warning")).to_be_hidden()
    chat.shot("desktop-source-panel-quote-highlighted")
    chat.page.keyboard.press("Escape")
    expect(chat.page.locator("#source-panel")).to_be_hidden()
    expect(answer.locator(".answer-body .chip").first).to_be_focused()


def test_next_and_previous_step_through_an_answers_citations(chat):
    answer = chat.ask("What regional vision do both reports say Japan and India are promoting?")
    chips = answer.locator(".answer-body .chip")
    assert chips.count() >= 2, "this question's answer cites two passages"
    expect(answer.locator(".sources li")).to_have_count(2)  # one line per article
    chips.first.click()
    position = chat.page.locator("#citation-position")
    expect(position).to_contain_text("Citation 1")
    expect(chat.page.locator("#citation-previous")).to_be_disabled()
    first_quote = chat.page.locator("mark.cited").inner_text()
    chat.page.click("#citation-next")
    expect(position).to_contain_text("Citation 2")
    expect(chat.page.locator("mark.cited")).not_to_have_text(first_quote)
    chat.page.click("#citation-previous")
    expect(chat.page.locator("mark.cited")).to_have_text(first_quote)


def test_an_unanswerable_question_is_shown_as_an_abstention(chat):
    answered = chat.ask(KNOWN_QUESTION)
    abstained = chat.ask(UNANSWERABLE)
    expect(abstained).to_have_class(re.compile(r"is-abstained"))
    expect(abstained).to_contain_text("Not in the sources")
    expect(abstained.locator(".chip").first).to_be_hidden()  # the closest evidence, collapsed
    style = "e => getComputedStyle(e).borderStyle + ' ' + getComputedStyle(e).backgroundColor"
    assert abstained.evaluate(style) != answered.evaluate(style), (
        "an abstention must look unlike an answer"
    )
    chat.shot("desktop-abstention")


def test_the_conversation_survives_a_reload(chat):
    chat.ask(KNOWN_QUESTION)
    chat.ask(UNANSWERABLE)
    chat.page.reload()
    turns = chat.page.locator(".turn")
    expect(turns).to_have_count(2)
    expect(turns.nth(0).locator(".question-text")).to_have_text(KNOWN_QUESTION)
    expect(turns.nth(1).locator(".answer")).to_have_class(re.compile(r"is-abstained"))
    turns.nth(0).locator(".answer-body .chip").first.click()
    expect(chat.page.locator("mark.cited")).to_be_visible()
    chat.shot("desktop-after-reload")
    chat.page.click("#new-chat")
    expect(turns).to_have_count(0)
    chat.page.reload()
    expect(chat.page.locator(".turn")).to_have_count(0)
    expect(chat.page.locator("#welcome")).to_be_visible()


def test_a_follow_up_shows_the_question_that_was_searched(chat):
    chat.ask(KNOWN_QUESTION)
    follow_up = chat.ask("and by when?")
    searched = chat.page.locator(".turn").nth(1).locator(".searched")
    expect(searched).to_contain_text("Indian AI professionals")
    expect(follow_up.locator(".answer-body")).to_contain_text("2030")
    chat.shot("desktop-follow-up-rewritten")


def test_enter_sends_and_shift_enter_adds_a_line(chat):
    box = chat.page.locator("#question")
    box.fill("first line")
    box.press("Shift+Enter")
    box.type("second line")
    assert box.input_value() == "first line\nsecond line"
    expect(chat.page.locator(".turn")).to_have_count(0)
    box.fill(KNOWN_QUESTION)
    box.press("Enter")
    expect(chat.page.locator(".turn")).to_have_count(1)
    expect(box).to_have_value("")


def test_the_keyboard_reaches_a_citation_and_returns_from_the_source(chat):
    answer = chat.ask(KNOWN_QUESTION)
    chip = answer.locator(".answer-body .chip").first
    chip.focus()
    expect(chip.locator(".tip")).to_be_visible()
    chat.page.keyboard.press("Enter")
    expect(chat.page.locator("#source-heading")).to_be_focused()
    chat.page.keyboard.press("Escape")
    expect(chip).to_be_focused()


def test_an_answer_is_copied_as_markdown_with_its_sources(browser, web_dossier, screenshots):
    with chat_page(
        browser, web_dossier, screenshots, permissions=["clipboard-read", "clipboard-write"]
    ) as chat:
        answer = chat.ask(KNOWN_QUESTION)
        answer.get_by_role("button", name="Copy as Markdown").click()
        expect(answer.locator(".copy-status")).to_have_text("Copied.")
        copied = chat.page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"**Question:** {KNOWN_QUESTION}")
    assert "**Sources**" in copied and re.search(
        r"\[1\] “.*500.*” \(India-Japan Strategic .+, date unknown", copied
    )


def test_an_uploaded_article_can_be_asked_about_then_deleted(chat, tmp_path):
    article = tmp_path / "valdora-tidal-power.txt"
    article.write_text(UPLOADED_ARTICLE)
    panel = chat.open_documents()
    expect(panel.locator(".document")).to_have_count(2)
    panel.locator("#file-input").set_input_files(article)
    expect(panel.locator("#upload-message")).to_contain_text("1 added", timeout=60_000)
    expect(panel.locator(".document")).to_have_count(3)
    expect(panel).to_contain_text("Valdora Opens a Tidal Power Station")
    expect(chat.page.locator("#status")).to_contain_text("3 articles")
    chat.shot("desktop-documents-after-upload")
    panel.locator("#documents-close").click()

    answer = chat.ask("How many homes will the Valdora tidal power station supply?")
    expect(answer.locator(".answer-body")).to_contain_text("40,000")
    expect(answer.locator(".sources")).to_contain_text("Valdora Opens a Tidal Power Station")

    panel = chat.open_documents()
    panel.get_by_role("button", name="Delete Valdora Opens a Tidal Power Station").click()
    confirm = chat.page.locator("#confirm-delete")
    expect(confirm).to_be_visible()
    chat.shot("desktop-delete-confirmation")
    confirm.get_by_role("button", name="Delete").click()
    expect(panel.locator(".document")).to_have_count(2)
    expect(panel.locator("#documents-message")).to_contain_text("Deleted")
    panel.locator("#documents-close").click()
    gone = chat.ask("How many homes will the Valdora tidal power station supply?")
    expect(gone).to_have_class(re.compile(r"is-abstained"))


def test_cancelling_a_delete_keeps_the_document(chat):
    panel = chat.open_documents()
    panel.locator(".document").first.get_by_role("button").click()
    chat.page.locator("#confirm-delete").get_by_role("button", name="Cancel").click()
    expect(chat.page.locator("#confirm-delete")).to_be_hidden()
    panel.locator(".document").first.get_by_role("button").click()
    chat.page.keyboard.press("Escape")
    expect(chat.page.locator("#confirm-delete")).to_be_hidden()
    expect(panel).to_be_visible()  # Escape closed the dialog, not the panel behind it
    expect(panel.locator(".document")).to_have_count(2)


def test_an_upload_that_holds_no_article_says_why(chat, tmp_path):
    empty = tmp_path / "notes.pdf"
    empty.write_bytes(b"%PDF-1.4")
    panel = chat.open_documents()
    panel.locator("#file-input").set_input_files(empty)
    message = panel.locator("#upload-message")
    expect(message).to_contain_text(
        "Nothing ingested: None of the uploaded files could be ingested"
    )
    expect(message).to_contain_text("unsupported file type '.pdf'")


def drop_file(page: Page, selector: str, name: str, text: str) -> None:
    """Drag and drop a file onto an element, as the browser does when a user drops one."""
    transfer = page.evaluate_handle(
        "([name, text]) => { const dt = new DataTransfer();"
        " dt.items.add(new File([text], name, {type: 'text/plain'})); return dt; }",
        [name, text],
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_an_article_holding_markup_shows_it_as_text_and_runs_nothing(chat):
    panel = chat.open_documents()
    drop_file(chat.page, "#drop-zone", "harbour-phishing.txt", XSS_ARTICLE)
    expect(panel.locator("#upload-message")).to_contain_text("1 added", timeout=60_000)
    expect(panel).to_contain_text(
        'Harbour Authority Warns of <script>alert("title")</script> Phishing Emails'
    )
    panel.locator("#documents-close").click()

    answer = chat.ask("What did the emails sent to the Korvath harbour authority staff hide?")
    expect(answer.locator(".answer-body")).to_contain_text("<img src=x onerror=alert(1)>")
    answer.locator(".answer-body .chip").first.click()
    expect(chat.page.locator("#source-heading")).to_have_text(re.compile(r"<script>alert"))
    expect(chat.page.locator("mark.cited")).to_contain_text("<img src=x onerror=alert(1)>")
    chat.shot("desktop-markup-shown-as-text")
    assert chat.page.locator("img[src=x], #source-text script, .conversation script").count() == 0
    assert chat.dialogs == [], "a script from an article ran"

    chat.open_documents().get_by_role("button", name=re.compile(r"^Delete Harbour")).click()
    chat.page.locator("#confirm-delete").get_by_role("button", name="Delete").click()
    expect(panel.locator(".document")).to_have_count(2)


def test_the_page_forbids_inline_scripts_and_other_origins(web_dossier):
    response = httpx.get(web_dossier.url + "/", timeout=30)
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    assert "unsafe-inline" not in policy and "http" not in policy
    assert '<script type="module" src="/static/js/app.js">' in response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), (
        "the page holds an inline script"
    )
    assert (
        httpx.get(web_dossier.url + "/static/js/app.js")
        .headers["content-type"]
        .startswith("text/javascript")
    )


def test_a_server_with_no_documents_yet_says_so_and_takes_an_upload(browser, tmp_path, screenshots):
    with serving(tmp_path / ".dossier") as empty, chat_page(browser, empty, screenshots) as chat:
        expect(chat.page.locator("#status")).to_contain_text("No articles yet")
        expect(chat.page.locator("#empty-corpus")).to_contain_text("dossier ingest")
        refused = chat.ask(KNOWN_QUESTION)  # not sent: the page knows nothing is loaded
        expect(refused.locator(".error")).to_contain_text("No articles yet")
        expect(refused.locator(".error")).to_contain_text("Upload articles under Documents")
        chat.shot("desktop-no-documents-yet")
        panel = chat.open_documents()
        expect(panel.locator("#documents-message")).to_contain_text("No documents yet")
        article = tmp_path / "valdora-tidal-power.txt"
        article.write_text(UPLOADED_ARTICLE)
        panel.locator("#file-input").set_input_files(article)
        expect(panel.locator("#upload-message")).to_contain_text("1 added", timeout=60_000)
        panel.locator("#documents-close").click()
        answer = chat.ask("How many homes will the Valdora tidal power station supply?")
        expect(answer.locator(".answer-body")).to_contain_text("40,000")


def test_an_unreachable_server_is_reported_in_words(chat):
    chat.page.route("**/v1/chat", lambda route: route.abort())
    answer = chat.ask(KNOWN_QUESTION)
    expect(answer).to_have_class(re.compile(r"is-error"))
    expect(answer.locator(".error")).to_contain_text("Server unreachable")
    expect(answer.locator(".error")).to_contain_text("dossier serve")
    chat.shot("desktop-server-unreachable")
    chat.page.unroute("**/v1/chat")
    answer.get_by_role("button", name="Try again").click()
    expect(chat.page.locator(".turn .answer").last).to_have_class(
        re.compile(r"is-done"), timeout=60_000
    )
    expect(chat.page.locator(".turn")).to_have_count(1)  # the failed attempt is replaced


def test_a_problem_from_the_server_is_shown_as_its_title_and_detail(chat):
    answer = chat.ask("x" * 5000)
    expect(answer).to_have_class(re.compile(r"is-error"))
    error = answer.locator(".error")
    expect(error).to_contain_text("Invalid question")
    expect(error).to_contain_text("the limit is")
    assert "{" not in error.inner_text(), "raw JSON shown"


def test_at_phone_width_everything_fits_and_the_source_covers_the_screen(
    browser, web_dossier, screenshots
):
    with chat_page(
        browser, web_dossier, screenshots, viewport=PHONE, is_mobile=True, has_touch=True
    ) as chat:
        answer = chat.ask(KNOWN_QUESTION)
        chat.ask(UNANSWERABLE)
        answer.scroll_into_view_if_needed()
        chat.shot("phone-answer-and-abstention")
        assert chat.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        answer.locator(".answer-body .chip").first.click()
        expect(chat.page.locator("mark.cited")).to_be_in_viewport()
        assert chat.page.locator("#source-panel").bounding_box()["width"] == PHONE["width"]
        chat.shot("phone-source-panel")
        chat.page.click("#source-close")
        chat.open_documents()
        chat.shot("phone-documents")


def test_the_dark_theme_follows_the_system(browser, web_dossier, screenshots):
    with chat_page(browser, web_dossier, screenshots, color_scheme="dark") as chat:
        chat.ask(KNOWN_QUESTION)
        background = chat.page.evaluate("getComputedStyle(document.body).backgroundColor")
        chat.shot("desktop-dark-theme")
    red, green, blue = map(int, re.findall(r"\d+", background)[:3])
    assert red + green + blue < 150, background


# The WCAG 2 contrast ratio of every visible piece of text against the background behind it.
CONTRAST_FAILURES = """() => {
  const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const rgba = (css) => (css.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (node) => {
    for (let e = node; e; e = e.parentElement) {
      const [r, g, b, a = 1] = rgba(getComputedStyle(e).backgroundColor);
      if (a > 0.5) return [r, g, b];
    }
    return [255, 255, 255];
  };
  const failures = [];
  for (const e of document.querySelectorAll("body *")) {
    const ownText = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!ownText || !e.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    const style = getComputedStyle(e);
    if (e.closest("button:disabled")) continue;  // WCAG exempts inactive controls
    const [a, b] = [luminance(rgba(style.color)), luminance(background(e))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) failures.push(`${e.tagName}.${e.className}: ${ratio.toFixed(2)} < ${needed}`);
  }
  return failures;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa(browser, llm_dossier, scripted_llm, screenshots, scheme):
    scripted_llm.script(
        Reply(f"{SUPPORTED} It will also build a base on the Moon [2].")
    )  # one flagged sentence
    with chat_page(browser, llm_dossier, screenshots, color_scheme=scheme) as chat:
        chat.ask(KNOWN_QUESTION)
        chat.ask(UNANSWERABLE)
        assert chat.page.evaluate(CONTRAST_FAILURES) == []
        chat.page.locator(".answer-body .chip").first.click()
        expect(chat.page.locator("mark.cited")).to_be_visible()
        assert chat.page.evaluate(CONTRAST_FAILURES) == []
        chat.open_documents()
        assert chat.page.evaluate(CONTRAST_FAILURES) == []


def test_every_control_has_a_name_a_person_can_hear(chat):
    chat.ask(KNOWN_QUESTION)
    chat.open_documents()
    unnamed = chat.page.evaluate(
        """() => [...document.querySelectorAll('button, input, textarea, a[href]')]
            .filter(e => !(e.getAttribute('aria-label') || e.labels?.length || e.textContent.trim()))
            .map(e => e.outerHTML)"""
    )
    assert unnamed == []


# -- with a language model: the answerer's name, unsupported sentences, streaming and stop ------


@pytest.fixture
def llm_chat(browser, llm_dossier, screenshots) -> Iterator[Chat]:
    with chat_page(browser, llm_dossier, screenshots) as chat:
        yield chat


def test_an_unsupported_sentence_is_marked_with_its_reason(llm_chat, scripted_llm):
    scripted_llm.script(Reply(f"{SUPPORTED} It will also build a base on the Moon [2]."))
    answer = llm_chat.ask(KNOWN_QUESTION)
    expect(answer.locator(".answer-meta")).to_contain_text("language model scripted")
    flagged = answer.locator(".sentence.unsupported")
    expect(flagged).to_have_count(1)
    expect(flagged).to_contain_text("Moon")
    expect(answer.locator(".sentence:not(.unsupported)")).to_contain_text("500")
    flag = flagged.locator(".flag")
    flag.hover()
    expect(flag.locator(".tip")).to_be_visible()
    expect(flag.locator(".tip")).not_to_be_empty()
    llm_chat.shot("desktop-llm-unsupported-sentence")
    flagged.get_by_role("button", name=re.compile(r"^Closest passage")).click()
    closest = llm_chat.page.locator("mark.cited")
    expect(closest).to_be_visible()
    expect(llm_chat.page.locator("#source-warning")).to_be_hidden()  # the quote is at its offsets


def test_sentences_left_out_of_the_answer_are_listed_apart(
    browser, cli_data_dir, tmp_path_factory, scripted_llm, screenshots
):
    env = {
        "DOSSIER_ANSWERER": "llm",
        "DOSSIER_LLM_BASE_URL": scripted_llm.url,
        "DOSSIER_LLM_MODEL": "scripted",
        "DOSSIER_LLM_RETRIES": "0",
        "DOSSIER_UNSUPPORTED_CLAIMS": "drop",
    }
    scripted_llm.script(Reply(f"{SUPPORTED} It will also build a base on the Moon [2]."))
    with (
        serving(
            copy_of_sample_index(cli_data_dir, tmp_path_factory, "web-drop"), **env
        ) as dropping,
        chat_page(browser, dropping, screenshots) as chat,
    ):
        answer = chat.ask(KNOWN_QUESTION)
        expect(answer.locator(".answer-body > p").first).not_to_contain_text("Moon")
        expect(answer.locator(".sentence.unsupported")).to_have_count(0)
        left_out = answer.locator("details.dropped")
        expect(left_out).to_contain_text("1 sentence of the model's answer left out")
        left_out.locator("summary").click()
        expect(left_out).to_contain_text("It will also build a base on the Moon")
        expect(left_out).to_contain_text("does not mention Moon")
        chat.shot("desktop-llm-unsupported-sentence-dropped")


def test_stop_ends_a_streaming_answer(llm_chat, scripted_llm):
    words = " ".join(f"word{n}" for n in range(200))
    scripted_llm.script(
        Reply(f"Japan will invite 500 professionals {words} [1].", token_delay=0.05)
    )
    page = llm_chat.page
    page.fill("#question", KNOWN_QUESTION)
    page.press("#question", "Enter")
    answer = page.locator(".turn .answer").last
    expect(answer.locator(".answer-body")).to_contain_text("word", timeout=30_000)
    expect(answer).to_have_class(re.compile(r"is-streaming"))
    llm_chat.shot("desktop-llm-streaming")
    page.click("#stop")
    expect(answer).to_have_class(re.compile(r"is-stopped"))
    expect(answer).to_contain_text("Stopped before the answer was complete")
    expect(page.locator("#send")).to_be_visible()
    saved = json.loads(page.evaluate("localStorage.getItem('dossier.chats.v2')"))
    current = next(chat for chat in saved["chats"] if chat["id"] == saved["current"])
    assert current["turns"][-1]["status"] == "stopped"
    scripted_llm.script(Reply(SUPPORTED))
    answer.get_by_role("button", name="Try again").click()
    expect(page.locator(".turn")).to_have_count(1)  # the stopped attempt is replaced
    expect(page.locator(".turn .answer").last).to_have_class(re.compile(r"is-done"), timeout=60_000)


# -- a server that wants an API key (DOSSIER_API_KEYS), and /docs offline -------------------------

API_KEY = "k-team-7d41c2a9"


@pytest.fixture(scope="module")
def keyed_dossier(cli_data_dir, tmp_path_factory) -> Iterator:
    """`dossier serve` that wants a key for every /v1 route."""
    data_dir = copy_of_sample_index(cli_data_dir, tmp_path_factory, "keyed")
    with serving(
        data_dir, DOSSIER_API_KEYS=f"k-other-0000,{API_KEY}", DOSSIER_AUTH_READS="true"
    ) as process:
        yield process


def test_the_chat_asks_for_the_key_once_and_answers_with_citations(
    browser, keyed_dossier, screenshots
):
    with chat_page(browser, keyed_dossier, screenshots, check_status=False) as chat:
        page = chat.page
        dialog = page.locator("#key-dialog")  # the corpus summary needs the key: asked at once
        expect(dialog).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator("#status")).to_contain_text("API key required")
        page.fill("#question", KNOWN_QUESTION)
        page.press("#question", "Enter")
        expect(dialog).to_be_visible()
        expect(page.locator("#key-input")).to_be_focused()
        expect(page.locator("#key-refused")).to_be_hidden()
        chat.shot("key-dialog")

        page.fill("#key-input", "not-the-key")
        page.press("#key-input", "Enter")
        expect(page.locator("#key-refused")).to_be_visible()  # a wrong key: asked again, saying so
        expect(page.locator("#key-input")).to_have_value("")
        chat.shot("key-dialog-wrong-key")

        page.fill("#key-input", API_KEY)
        page.click("#key-dialog button[type=submit]")
        expect(dialog).to_be_hidden()
        answer = page.locator(".turn").first.locator(".answer")
        expect(answer).to_have_class(re.compile(r"is-done"), timeout=60_000)
        expect(answer.locator(".answer-body")).to_contain_text("500")
        expect(answer.locator(".answer-body .chip").first).to_have_text(re.compile(r"^1"))
        chat.shot("answer-after-key")

        # Kept for this tab: after a reload, the documents panel opens without asking again.
        page.reload()
        panel = chat.open_documents()
        expect(panel.locator("#document-list li")).to_have_count(2)
        expect(dialog).to_be_hidden()
        assert page.evaluate("sessionStorage.getItem('dossier.apiKey')") == API_KEY
        assert page.evaluate("localStorage.getItem('dossier.apiKey')") is None


def test_cancelling_the_key_dialog_shows_the_refusal(browser, keyed_dossier, screenshots):
    with chat_page(browser, keyed_dossier, screenshots, check_status=False) as chat:
        page = chat.page
        expect(page.locator("#key-dialog")).to_be_visible()
        page.keyboard.press("Escape")  # asked on load, for the corpus summary
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
        expect(page.locator("button.authorize")).to_be_visible()  # the schema declares the keys
        page.goto(keyed_dossier.url + "/redoc")
        expect(page.get_by_text("/v1/ask").first).to_be_attached(timeout=30_000)
    finally:
        context.close()
    # ReDoc's sidebar names its maker with a logo from its CDN: the policy blocks it, nothing else.
    assert all("cdn.redoc.ly/redoc/logo-mini.svg" in url for url in elsewhere), elsewhere
    assert all("cdn.redoc.ly" in text for text in violations), violations


# -- the documents panel: search, sort, publisher and link -------------------------------------

NEWS_RECORDS = [
    {
        "doc_id": "kelmarsh-tidal-turbines",
        "title": "Kelmarsh Tests Tidal Turbines",
        "source": "Coastal Gazette",
        "author": "Mira Ólafsdóttir",
        "publish_date": "2026-02-10",
        "url": "https://coastal-gazette.example/kelmarsh-tidal",
        "text": "Engineers in Kelmarsh lowered two tidal turbines into the estuary on Monday.",
    },
    {
        "doc_id": "orrin-bay-ferry",
        "title": "Ferry Returns to Orrin Bay",
        "source": "Ámbar Noticias",
        "publish_date": "2026-03-01",
        "url": "http://ambar.example/orrin-ferry",
        "text": "The ferry to Orrin Bay sailed again on Sunday after a winter of repairs.",
    },
    {
        "doc_id": "brenn-tidal-festival",
        "title": "Brenn Holds a Tidal Festival",
        "source": "Brenn Weekly",
        "url": "javascript:alert(1)",
        "text": "Brenn held its first tidal festival, with boat races at the spring tide.",
    },
]
KELMARSH, ORRIN, BRENN = (record["title"] for record in NEWS_RECORDS)


@pytest.fixture
def news(web_dossier) -> Iterator[list[str]]:
    """Three made-up articles with distinct dates and publishers (one undated, one with an unsafe
    link), uploaded for one test; yields the ids to delete afterwards, which a test may add to."""
    upload = json.dumps(NEWS_RECORDS).encode()
    response = httpx.post(
        f"{web_dossier.url}/v1/documents",
        params={"wait": "true"},
        files=[("files", ("made-up-news.json", upload, "application/json"))],
        timeout=120,
    )
    assert response.status_code == 201, response.text
    ids = [record["doc_id"] for record in NEWS_RECORDS]
    yield ids
    for doc_id in ids:  # the shared server keeps its two sample articles for the other tests
        httpx.delete(f"{web_dossier.url}/v1/documents/{doc_id}", timeout=30)


def listed_titles(panel) -> list[str]:
    return panel.locator(".document .document-title").all_inner_texts()


def test_searching_the_documents_narrows_the_list_and_says_how_many(chat, news):
    panel = chat.open_documents()
    search = panel.get_by_label("Search documents")
    shown = panel.locator("#document-shown")
    expect(panel.locator(".document")).to_have_count(5)
    expect(shown).to_have_text("5 documents")
    search.fill("tidal")
    expect(shown).to_have_text("2 of 5 documents")
    assert sorted(listed_titles(panel)) == sorted([KELMARSH, BRENN])
    chat.shot("desktop-documents-search")
    for query, title in [
        ("AMBAR noticias", ORRIN),  # the publisher, without its accent
        ("olafsdottir", KELMARSH),  # the author
        ("orrin-bay", ORRIN),  # the id, though it is not shown
        ("ferry ORRIN", ORRIN),  # every word, in any order
    ]:
        search.fill(query)
        expect(shown).to_have_text("1 of 5 documents")
        assert listed_titles(panel) == [title], query

    search.fill("zeppelin")
    expect(shown).to_have_text("0 of 5 documents")
    expect(panel.locator(".document")).to_have_count(0)
    no_match = panel.locator("#document-no-match")
    expect(no_match).to_be_visible()
    expect(no_match).to_contain_text("No document matches “zeppelin”")
    chat.shot("desktop-documents-no-match")
    assert chat.page.evaluate(CONTRAST_FAILURES) == []
    no_match.get_by_role("button", name="Clear the search").click()
    expect(search).to_have_value("")
    expect(search).to_be_focused()
    expect(no_match).to_be_hidden()
    expect(panel.locator(".document")).to_have_count(5)

    search.press_sequentially(
        "brenn"
    )  # by keyboard: Escape empties the search first, then closes the panel
    expect(shown).to_have_text("1 of 5 documents")
    chat.page.keyboard.press("Escape")
    expect(search).to_have_value("")
    expect(panel).to_be_visible()
    expect(shown).to_have_text("5 documents")
    chat.page.keyboard.press("Escape")
    expect(panel).to_be_hidden()


def test_the_documents_sort_by_date_title_and_source(chat, news):
    panel = chat.open_documents()
    sort = panel.get_by_label("Sort by")
    expect(sort).to_have_value("newest")
    expect(panel.locator(".document")).to_have_count(5)

    def order(value: str) -> list[str]:
        sort.select_option(value)
        items = panel.locator(".document")
        dates = [
            item.locator("time").get_attribute("datetime") if item.locator("time").count() else None
            for item in items.all()
        ]
        dated = [date for date in dates if date]
        if value in ("newest", "oldest"):  # every document dated, in order, before the undated
            assert dates[: len(dated)] == sorted(dated, reverse=value == "newest"), dates
        return [title for title in listed_titles(panel) if title in (KELMARSH, ORRIN, BRENN)]

    assert order("newest") == [ORRIN, KELMARSH, BRENN]  # undated last
    assert order("oldest") == [KELMARSH, ORRIN, BRENN]  # undated last here too
    assert order("title") == [BRENN, ORRIN, KELMARSH]
    assert order("source") == [ORRIN, BRENN, KELMARSH]  # Ámbar with the A's
    assert listed_titles(panel)[:3] == [ORRIN, BRENN, KELMARSH]  # publisher unknown: after them
    sort.focus()  # the menu answers the keyboard too
    chat.page.keyboard.press("Home")
    expect(sort).to_have_value("newest")
    assert listed_titles(panel)[0] == ORRIN


def test_each_document_shows_its_publisher_and_link_but_not_its_id(chat, news, web_dossier):
    panel = chat.open_documents()
    expect(panel.locator(".document")).to_have_count(5)
    kelmarsh = panel.locator(".document", has_text=KELMARSH)
    expect(kelmarsh.locator(".document-byline")).to_have_text(
        "Coastal Gazette · by Mira Ólafsdóttir"
    )
    expect(kelmarsh.locator("time")).to_have_attribute("datetime", "2026-02-10")
    link = kelmarsh.get_by_role("link", name=re.compile(r"^Original article"))
    expect(link).to_have_attribute("href", "https://coastal-gazette.example/kelmarsh-tidal")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(kelmarsh).to_have_attribute("data-doc-id", "kelmarsh-tidal-turbines")
    orrin = panel.locator(".document", has_text=ORRIN)
    expect(orrin.locator(".document-byline")).to_have_text("Ámbar Noticias")
    expect(orrin.get_by_role("link")).to_have_attribute("href", "http://ambar.example/orrin-ferry")
    brenn = panel.locator(".document", has_text=BRENN)
    expect(brenn).to_contain_text("Date unknown")
    expect(brenn.locator("a")).to_have_count(0)  # a javascript: link is not a link to follow
    chat.shot("desktop-documents-publisher-and-link")
    assert chat.page.evaluate(CONTRAST_FAILURES) == []

    ids = [
        doc["doc_id"] for doc in httpx.get(f"{web_dossier.url}/v1/documents").json()["documents"]
    ]
    text = panel.inner_text()
    assert [doc_id for doc_id in ids if doc_id in text] == []
    kelmarsh.get_by_role("button", name=f"Delete {KELMARSH}").click()
    confirm = chat.page.locator("#confirm-delete")
    expect(confirm).to_contain_text(KELMARSH)
    assert "kelmarsh-tidal-turbines" not in confirm.inner_text()
    confirm.get_by_role("button", name="Cancel").click()


def test_the_documents_search_and_sort_stay_while_the_list_refreshes(chat, news, tmp_path):
    panel = chat.open_documents()
    expect(panel.locator(".document")).to_have_count(5)
    search, sort = panel.get_by_label("Search documents"), panel.get_by_label("Sort by")
    search.fill("tidal")
    sort.select_option("oldest")
    article = tmp_path / "tidal-tables.json"
    article.write_text(
        json.dumps(
            {
                "doc_id": "lowmoor-tidal-tables",
                "title": "Lowmoor Prints New Tidal Tables",
                "source": "Lowmoor Post",
                "publish_date": "2026-01-05",
                "text": "The harbour office in Lowmoor printed new tidal tables for the year.",
            }
        )
    )
    news.append("lowmoor-tidal-tables")
    panel.locator("#file-input").set_input_files(article)
    expect(panel.locator("#upload-message")).to_contain_text("1 added", timeout=60_000)
    expect(panel.locator("#document-shown")).to_have_text("3 of 6 documents")
    assert listed_titles(panel) == ["Lowmoor Prints New Tidal Tables", KELMARSH, BRENN]

    panel.get_by_role("button", name="Delete Lowmoor Prints New Tidal Tables").click()
    chat.page.locator("#confirm-delete").get_by_role("button", name="Delete").click()
    expect(panel.locator("#documents-message")).to_contain_text("Deleted")
    expect(panel.locator("#document-shown")).to_have_text("2 of 5 documents")
    expect(search).to_have_value("tidal")
    expect(sort).to_have_value("oldest")
    assert listed_titles(panel) == [KELMARSH, BRENN]


def test_the_documents_panel_fits_a_phone(browser, web_dossier, news, screenshots):
    with chat_page(
        browser, web_dossier, screenshots, viewport=PHONE, is_mobile=True, has_touch=True
    ) as chat:
        panel = chat.open_documents()
        expect(panel.locator(".document")).to_have_count(5)
        search = panel.get_by_label("Search documents")
        search.fill("tidal")
        expect(panel.locator("#document-shown")).to_have_text("2 of 5 documents")
        for control in (search, panel.get_by_label("Sort by")):
            box = control.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert chat.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert panel.evaluate("(e) => e.scrollWidth <= e.clientWidth")
        panel.locator(".document").first.scroll_into_view_if_needed()
        chat.shot("phone-documents-search")
