"""Reading and cleaning articles: formats, scraped-page debris, metadata and bad input."""

import json
from pathlib import Path

from ingest.clean import clean
from ingest.load import RawArticle, Skipped, discover, load_path

from .support import SAMPLE_ARTICLES, SHARED


def load_one(path: Path):
    items = list(load_path(path))
    assert len(items) == 1, items
    return items[0]


def test_sample_article_metadata_and_debris():
    path = SAMPLE_ARTICLES / "india-japan-partnership-deepens-motegi-new-delhi-visit.txt"
    article = clean(load_one(path))
    assert article.title.startswith("India-Japan Strategic Partnership Deepens")
    assert article.author == "peeush srivastava"
    assert article.published_at is None  # "3 days ago" is not guessed
    assert "min read" not in article.text and "3 days ago" not in article.text
    assert "_edited.jpg" not in article.text
    assert not article.text.rstrip().endswith("Comments")
    assert article.text.startswith(article.title)  # the title stays: offsets count it
    assert "Motegi briefed Jaishankar" in article.text


def test_html_keeps_article_text_and_drops_scripts_and_navigation(tmp_path):
    page = tmp_path / "story.html"
    page.write_text(
        "<html><head><title>Site | Story</title>"
        '<meta property="og:title" content="Harbour reopens">'
        '<meta property="article:published_time" content="2026-01-19T08:00:00Z">'
        "<script>alert('x')</script></head><body><nav>Home | World</nav>"
        "<article><h1>Harbour reopens</h1><p>The <b>harbour</b> reopened on Monday.</p>"
        "<p>Ships returned.</p></article><footer>© Site</footer></body></html>"
    )
    article = clean(load_one(page))
    assert article.title == "Harbour reopens"
    assert article.published_at == "2026-01-19"
    assert "The harbour reopened on Monday." in article.text
    assert "alert" not in article.text and "Home" not in article.text and "©" not in article.text


def test_markdown_loses_its_markup(tmp_path):
    note = tmp_path / "brief.md"
    note.write_text(
        "# Port strike ends\n\nBy Jane Roe\n\nDockers voted to [return](http://x) **today**.\n"
    )
    article = clean(load_one(note))
    assert article.title == "Port strike ends"
    assert article.author == "Jane Roe"
    assert "Dockers voted to return today." in article.text


def test_markdown_reads_as_its_readers_see_it(tmp_path):
    note = tmp_path / "brief.md"
    note.write_text(
        "# Port strike ends\n\n"
        "Dockers voted to *return* on `Monday`, the union's\nchief said [in a note][1].\n\n"
        "- Cranes restart ![a crane](crane.png) at dawn.\n\n"
        "```\nshift 1: 06:00\n```\n\n"
        "[1]: https://example.com/note\n"
    )
    text = clean(load_one(note)).text
    # A sentence wrapped over two lines stays one line: a line break would end it.
    assert "Dockers voted to return on Monday, the union's chief said in a note." in text
    assert "Cranes restart" in text and "at dawn." in text
    assert "shift 1: 06:00" in text
    for markup in ("*", "`", "[", "](", "https://example.com", "crane.png", "- Cranes"):
        assert markup not in text, markup


def test_jsonl_records_keep_their_ids_and_fields(tmp_path):
    records = tmp_path / "wire.jsonl"
    lines = [
        {
            "doc_id": "w1",
            "title": "",
            "text": "New York CNN —\n\nA storm hit the coast.",
            "publish_date": "2022/06/12",
            "url": "https://example.com/a",
            "source": "gcs",
        },
        {"doc_id": "w2", "title": "Markets rally", "text": "Stocks rose.", "author": "Ann Lee"},
    ]
    records.write_text(
        "\n".join(json.dumps(line) for line in lines) + '\nnot json\n{"doc_id": "w3"}\n'
    )
    items = list(load_path(records))
    articles = [clean(item) for item in items if isinstance(item, RawArticle)]
    skipped = [item for item in items if isinstance(item, Skipped)]
    assert [a.doc_id for a in articles] == ["w1", "w2"]
    assert articles[0].published_at == "2022-06-12"
    assert articles[0].url == "https://example.com/a"
    assert articles[0].title == "A storm hit the coast."  # not the dateline
    assert articles[1].title == "Markets rally" and articles[1].author == "Ann Lee"
    assert [s.reason for s in skipped] == ["not valid JSON (Expecting value)", "record has no text"]
    assert skipped[0].path.endswith("wire.jsonl:3")


def test_bad_files_are_skipped_with_a_reason(tmp_path):
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait".encode("latin-1"))
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4")
    reasons = {}
    for item in discover([tmp_path, tmp_path / "missing.txt"]):
        results = [item] if isinstance(item, Skipped) else list(load_path(item))
        for result in results:
            assert isinstance(result, Skipped)
            reasons[Path(result.path).name] = result.reason
    assert reasons["empty.txt"] == "empty file"
    assert reasons["image.txt"] == "binary file, not text"
    assert reasons["latin1.txt"].startswith("not valid UTF-8 text")
    assert reasons["report.pdf"].startswith("unsupported file type '.pdf'")
    assert reasons["missing.txt"] == "no such file or folder"


def test_realtimeqa_records_load_with_their_ids(tmp_path):
    corpus = SHARED / "datasets" / "realtimeqa" / "corpus.jsonl"
    with corpus.open(encoding="utf-8") as handle:
        head = [next(handle) for _ in range(5)]
    sample = tmp_path / "rtqa-head.jsonl"
    sample.write_text("".join(head), encoding="utf-8")
    articles = [clean(item) for item in load_path(sample)]
    assert [a.doc_id for a in articles] == ["d00000", "d00001", "d00002", "d00003", "d00004"]
    assert articles[0].published_at == "2022-06-12"
    assert all(a.title and a.text for a in articles)
