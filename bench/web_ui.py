"""The web chat as a user meets it: `python bench/web_ui.py [--url URL] [--questions N] [--repeat R]`.

Drives Debian's Chromium (Playwright, headless) against a running `dossier serve` (for example
`make run`, the sample corpus) and measures, after one warm-up pass:

- what the page weighs (bytes of HTML, CSS, JavaScript and icon, uncompressed) and how long it
  takes to load (navigation start to the load event);
- each question of the sample facts, from pressing Enter to the first citation chip and to the
  finished answer (Playwright's round trips included, a few milliseconds);
- a small article uploaded through the Documents panel, from choosing the file to the ingest
  summary on screen; the article is deleted again afterwards.

Prints and writes bench/results/web_ui.json (medians and 95th percentiles, in milliseconds).
Run it on an otherwise idle machine.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect, sync_playwright
from stages import stage_percentiles, write_result

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "eval" / "datasets" / "sample-facts.jsonl"
CHROMIUM = "/usr/bin/chromium"
ARTICLE = """Valdora Opens a Tidal Power Station {n}
Published: 2026-03-04
The town of Valdora opened its first tidal power station on Tuesday.
The station's twelve turbines will supply electricity to 40,000 homes, the mayor, Ilse Brandt, said.
"""


def page_load(page: Page, url: str) -> tuple[float, int]:
    """Milliseconds to the load event, and the bytes of the page and every file it loaded."""
    page.goto(url)
    expect(page.locator("#status")).not_to_be_empty()
    timing = page.evaluate("""() => ({
        ms: performance.getEntriesByType("navigation")[0].loadEventEnd,
        files: performance.getEntriesByType("resource").map((e) => e.name).filter((n) => n.includes("/static/")),
    })""")
    weight = sum(len(httpx.get(file, timeout=30).content) for file in [url, *timing["files"]])
    return timing["ms"], weight


def ask(page: Page, question: str) -> tuple[float, float]:
    answer = page.locator(".answer").nth(page.locator(".answer").count())
    page.fill("#question", question)
    started = time.perf_counter()
    page.press("#question", "Enter")
    answer.locator(".chip, .abstention").first.wait_for(timeout=120_000)
    first = (time.perf_counter() - started) * 1000
    expect(answer).not_to_have_class("answer is-streaming", timeout=120_000)
    return first, (time.perf_counter() - started) * 1000


def upload(page: Page, url: str, number: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        article = Path(folder) / f"bench-valdora-{number}.txt"
        article.write_text(ARTICLE.format(n=number))
        page.click("#open-documents")
        started = time.perf_counter()
        page.locator("#file-input").set_input_files(article)
        expect(page.locator("#upload-message")).to_contain_text("1 added", timeout=120_000)
        elapsed = (time.perf_counter() - started) * 1000
        page.click("#documents-close")
    httpx.delete(f"{url}/v1/documents/bench-valdora-{number}", timeout=60).raise_for_status()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in FACTS.read_text().splitlines()][
        : args.questions
    ]
    laps: dict[str, list[float]] = {
        "page_load": [],
        "first_chip": [],
        "answer_done": [],
        "upload_to_indexed": [],
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page_load(page, args.url + "/")
        for question in questions:  # warm-up
            ask(page, question)
        for round_number in range(args.repeat):
            ms, weight = page_load(page, args.url + "/")
            laps["page_load"].append(ms)
            page.click("#new-chat")
            for question in questions:
                first, done = ask(page, question)
                laps["first_chip"].append(first)
                laps["answer_done"].append(done)
            laps["upload_to_indexed"].append(upload(page, args.url, round_number))
        browser.close()
    result = {
        "url": args.url,
        "questions": len(questions),
        "repeat": args.repeat,
        "page_bytes": weight,
        "ms": stage_percentiles(laps),
    }
    write_result("web_ui", result)


if __name__ == "__main__":
    main()
