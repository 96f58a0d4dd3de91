"""The support check every answerer shares: meaning, key terms and numbers of a claim vs a source."""

import json

import pytest

from ingest.pipeline import Ingestor
from ingest.store import Store
from server.engine.service import IndexHandle
from server.engine.support import SupportCheck

from .support import settings_for

SOURCE = "Japan would invite 500 highly skilled Indian AI professionals by 2030, Motegi said."


def check(embedder, claim: str) -> float:
    sentence_vector = embedder.embed_passages([SOURCE])[0]
    return SupportCheck(claim, embedder.embed_query(claim)).score(SOURCE, sentence_vector)


def test_a_faithful_claim_is_supported_and_a_changed_number_is_not(embedder):
    faithful = check(embedder, "Japan will invite 500 Indian AI professionals by 2030.")
    wrong_number = check(embedder, "Japan will invite 5,000 Indian AI professionals by 2030.")
    unrelated = check(embedder, "The Delhi Metro opened a new line to the airport.")
    assert faithful.score > 0.6 and faithful.missing_numbers == ()
    assert wrong_number.missing_numbers == ("5000",) and wrong_number.score < faithful.score * 0.85
    assert unrelated.score < 0.3


def test_every_citation_carries_its_support(service):
    result = service.ask("How many highly skilled Indian AI professionals will Japan invite?")
    assert result.citations and all(0 < c.support <= 1 for c in result.citations)
    assert result.citations[0].support == result.evidence_score


@pytest.fixture(scope="module")
def dated_service(tmp_path_factory, embedder):
    """Two reports of the same figure, a year apart."""
    folder = tmp_path_factory.mktemp("dated")
    records = [
        {
            "doc_id": "acme-2024",
            "title": "Acme results",
            "publish_date": "2024-03-01",
            "text": "Acme Corporation reported annual profits of 5 million dollars, its chief executive said on Friday.",
        },
        {
            "doc_id": "acme-2025",
            "title": "Acme results",
            "publish_date": "2025-03-01",
            "text": "Acme Corporation reported annual profits of 7 million dollars, its chief executive said on Friday.",
        },
    ]
    (folder / "acme.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    settings = settings_for(folder / "data")
    Ingestor(settings, embedder, Store.connect(settings.store)).run([folder / "acme.jsonl"])
    service = IndexHandle(settings, embedder).service()
    yield service
    service.store.close()


def test_latest_questions_prefer_the_newer_article(dated_service):
    result = dated_service.ask("What were the latest annual profits Acme Corporation reported?")
    assert not result.abstained and result.citations[0].doc_id == "acme-2025"
    assert result.citations[0].published_at == "2025-03-01"
