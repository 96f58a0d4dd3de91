"""The evaluation harness: its dataset, its metrics, and runs in process and over HTTP."""

import json
import math

import pytest

from eval.clients import HttpEvalClient, InProcessClient
from eval.datasets import load_dataset, load_realtimeqa, load_scifact
from eval.metrics import answer_checks, ndcg_at, ranked_documents, recall_at
from eval.run import evaluate, summarise
from eval.text import contains, normalise
from ingest.clean import clean
from ingest.load import discover, load_path

from .support import ROOT, SAMPLE_ARTICLES, SHARED, cli_env, invoke_cli

SAMPLE_FACTS = ROOT / "eval" / "datasets" / "sample-facts.jsonl"


def test_sample_facts_cover_what_the_issue_asks():
    rows = [json.loads(line) for line in SAMPLE_FACTS.read_text().splitlines()]
    assert len(rows) >= 60 and len({r["id"] for r in rows}) == len(rows)
    types = {r["type"] for r in rows}
    assert types == {"factoid", "list", "multi-doc", "unanswerable"}
    assert sum(not r["answerable"] for r in rows) >= 10
    for row in rows:
        assert row["answerable"] == (row["type"] != "unanswerable")
        assert bool(row["answers"]) == row["answerable"]


def test_every_evidence_string_occurs_in_its_documents():
    texts = {
        clean(raw).doc_id: clean(raw).text
        for path in discover([SAMPLE_ARTICLES])
        for raw in load_path(path)
    }
    for row in map(json.loads, SAMPLE_FACTS.read_text().splitlines()):
        assert set(row["docs"]) <= set(texts), row["id"]
        for evidence in row["evidence"]:
            assert any(evidence in texts[doc] for doc in row["docs"]), (row["id"], evidence)


def test_normalisation_follows_the_dataset_definition():
    assert normalise("  “Squid  Game”!\n") == "squid game"
    assert normalise("ＦＯＩＰ—Indo-Pacific") == "foip indo pacific"
    assert contains("The answer is 500 professionals.", "500")
    assert not contains("It cost 1500 yen.", "500")


def test_ndcg_matches_a_hand_computed_case():
    relevance = {"a": 1, "b": 1, "c": 2}
    ranking = ["x", "c", "a", "y", "b"]
    dcg = 2 / math.log2(3) + 1 / math.log2(4) + 1 / math.log2(6)
    idcg = 2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at(ranking, relevance, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at(ranking, relevance, 2) == pytest.approx(
        (2 / math.log2(3)) / (2 + 1 / math.log2(3))
    )
    assert recall_at(ranking, relevance, 3) == pytest.approx(2 / 3)
    assert ranked_documents([{"doc_id": "a"}, {"doc_id": "b"}, {"doc_id": "a"}]) == ["a", "b"]


def test_external_datasets_load_in_their_own_formats():
    rtqa = load_realtimeqa(
        SHARED / "datasets/realtimeqa/questions-dev.jsonl",
        SHARED / "datasets/realtimeqa/corpus.jsonl",
    )
    assert len(rtqa.questions) == 329 and sum(bool(q.docs) for q in rtqa.questions) == 103
    scifact = load_scifact(SHARED / "datasets/beir-scifact")
    assert len(scifact.questions) == 300 and sum(len(q.relevance) for q in scifact.questions) == 339
    first = next(scifact.corpus_records)
    assert first["text"].startswith(first["title"])
    assert load_dataset(SHARED / "datasets/realtimeqa").kind == "realtimeqa"


@pytest.mark.slow
def test_the_harness_gives_the_same_figures_in_process_and_over_http(service, server):
    dataset = load_dataset(SAMPLE_FACTS)
    dataset.questions = dataset.questions[::5]
    local = summarise(evaluate(dataset, InProcessClient(service), 5))
    remote = summarise(evaluate(dataset, HttpEvalClient(server.url), 5))
    for summary in (local, remote):
        for scores in [summary["overall"], *summary["by_type"].values()]:
            scores.pop("latency_p50_ms"), scores.pop("latency_p95_ms")
    assert local == remote
    assert local["overall"]["exact_citations"] == 1.0


@pytest.mark.slow
def test_sample_facts_meet_the_quality_gates(tmp_path):
    """The CI gate: a regression below today's levels fails the build (docs/evaluation.md)."""
    result = invoke_cli(
        "eval",
        str(SAMPLE_FACTS),
        "--out",
        str(tmp_path),
        "--name",
        "gate",
        # today's levels less one question's worth (docs/evaluation.md, The sample facts)
        "--min",
        "fact_accuracy=0.79",
        "--min",
        "citation_precision=0.82",
        "--min",
        "exact_citations=1.0",
        "--min",
        "hit=1.0",
        "--min",
        "abstained_unanswerable=0.56",
        "--max",
        "false_abstention=0.041",
        env=cli_env(tmp_path / "data"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    run = tmp_path / "gate"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["overall"]["questions"] == len(SAMPLE_FACTS.read_text().splitlines())
    assert len((run / "results.jsonl").read_text().splitlines()) == summary["overall"]["questions"]
    report = (run / "report.html").read_text()
    assert "<svg" in report and "<style>" in report
    assert "src=" not in report and "<link" not in report  # self-contained: nothing to fetch

    compared = invoke_cli("eval", "compare", str(run), str(run), env=cli_env(tmp_path / "data"))
    assert (
        compared.returncode == 0
        and "fact_accuracy" in compared.stdout
        and "+0.000" in compared.stdout
    )


def test_gates_fail_when_a_metric_falls_short():
    import click

    from eval.cli import check_gates

    check_gates(
        {"fact_accuracy": 0.9, "false_abstention": 0.0},
        {"fact_accuracy": 0.9},
        {"false_abstention": 0.0},
    )
    with pytest.raises(click.ClickException, match="fact_accuracy 0.800 < 0.9"):
        check_gates({"fact_accuracy": 0.8}, {"fact_accuracy": 0.9}, {})
    with pytest.raises(click.ClickException, match="missing_metric"):
        check_gates({}, {"missing_metric": 0.1}, {})


def test_the_threshold_minimises_wrong_answers_plus_false_abstentions():
    from eval.calibrate import Outcome, choose_threshold, curves, rates

    outcomes = [
        Outcome("a", "1", 0.70, True, True),
        Outcome("a", "2", 0.55, True, True),
        Outcome("a", "3", 0.45, True, False),  # answered wrongly at any threshold it passes
        Outcome("a", "4", 0.40, False, False),
        Outcome("a", "5", 0.30, False, False),
    ]
    chosen = choose_threshold(curves(outcomes))
    assert 0.40 < chosen <= 0.45  # above every unanswerable question, below every answerable one
    at = rates(outcomes, chosen)
    assert (
        at["wrong_answers"] == 0.2
        and at["false_abstentions"] == 0
        and at["abstained_unanswerable"] == 1
    )


def test_calibration_writes_its_curve(tmp_path):
    facts = tmp_path / "facts.jsonl"
    rows = [
        {
            "id": "f1",
            "question": "How many highly skilled Indian AI professionals will Japan invite?",
            "answers": [["500"]],
            "evidence": [],
            "docs": [],
            "type": "factoid",
            "answerable": True,
        },
        {
            "id": "u1",
            "question": "What is the boiling point of mercury?",
            "answers": [],
            "evidence": [],
            "docs": [],
            "type": "unanswerable",
            "answerable": False,
        },
    ]
    facts.write_text("\n".join(json.dumps(row) for row in rows))
    result = invoke_cli(
        "eval",
        "calibrate",
        str(facts),
        "--out",
        str(tmp_path / "cal"),
        env=cli_env(tmp_path / "data"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    calibration = json.loads((tmp_path / "cal" / "calibration.json").read_text())
    assert {o["id"] for o in calibration["outcomes"]} == {"f1", "u1"}
    assert "<polyline" in (tmp_path / "cal" / "report.html").read_text()
    assert f"threshold {calibration['threshold']}" in result.stdout


def test_answer_checks_count_the_supported_sentences_and_fallbacks():
    sentences = [{"supported": True}, {"supported": False}]
    checked = answer_checks({"abstained": False, "sentences": sentences, "fallback": None})
    assert checked == {"supported_sentences": 0.5, "fallback": False}
    assert answer_checks({"abstained": True, "sentences": [], "fallback": "timed out"}) == {
        "supported_sentences": None,
        "fallback": True,
    }
    assert answer_checks({"abstained": False, "answer": "naive"}) == {
        "supported_sentences": None,
        "fallback": None,
    }


def test_every_written_claim_names_an_answerable_fact_with_evidence():
    facts = {q.id: q for q in load_dataset(SAMPLE_FACTS).questions}
    claims = [json.loads(line) for line in SAMPLE_FACTS.with_name("sample-claims.jsonl").open()]
    assert len(claims) == 42 and {c["supported"] for c in claims} == {True, False}
    for claim in claims:
        assert facts[claim["fact"]].answerable and facts[claim["fact"]].evidence, claim["id"]


def test_the_html_report_escapes_questions_and_shows_the_run_metrics(service, tmp_path):
    from bs4 import BeautifulSoup

    from eval.datasets import Dataset, Question
    from eval.report import LABELS, format_value, write_run

    hostile = "Did <script>alert(1)</script> & co. sign the accord?"
    dataset = Dataset(
        name="tiny",
        kind="facts",
        questions=[
            Question("h1", hostile, answers=[["a fact no article holds"]]),
            Question(
                "f1",
                "How many highly skilled Indian AI professionals will Japan invite?",
                answers=[["500"]],
            ),
        ],
        corpus=SAMPLE_ARTICLES,
    )
    rows = evaluate(dataset, InProcessClient(service), 5)
    summary = {
        "name": "tiny & <b>small</b>",
        "dataset": "tiny.jsonl",
        "system": "dossier",
        "top_k": 5,
        "created_at": "2026-01-19T10:30:00+00:00",
        **summarise(rows),
    }
    write_run(tmp_path, summary, rows)
    report = (tmp_path / "report.html").read_text()
    page = BeautifulSoup(report, "html.parser")

    assert "<script>alert(1)</script>" not in report and "<b>small</b>" not in report
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co." in report
    assert len(page.find_all("script")) == 1  # the report's own filter script, nothing injected
    assert hostile in page.find("summary").text
    assert page.h1.text == "Dossier evaluation: tiny & <b>small</b>"

    metrics = {
        cells[0].text: [cell.text for cell in cells[1:]]
        for cells in (tr.find_all("td") for tr in page.table.tbody.find_all("tr"))
    }
    for metric, value in summary["overall"].items():
        assert metrics[LABELS.get(metric, metric)][0] == format_value(value), metric
    assert metrics["questions"][0] == "2"


def test_the_calibration_report_escapes_dataset_names():
    from bs4 import BeautifulSoup

    from eval.calibrate import Outcome, choose_threshold, curves, render_html

    hostile = "news <b>& co"
    by_dataset = curves(
        [Outcome(hostile, "1", 0.6, True, True), Outcome("b", "2", 0.3, False, False)]
    )
    report = render_html(by_dataset, choose_threshold(by_dataset))
    page = BeautifulSoup(report, "html.parser")

    assert "<b>&" not in report and "news &lt;b&gt;&amp; co" in report
    assert page.find("td").text == hostile
    assert [title.text for title in page.find_all("title")][1:3] == [
        f"{hostile} · wrong answers",
        f"{hostile} · false abstentions",
    ]
