"""One writer at a time: concurrent `dossier ingest` runs on one data directory, and the lock's limits."""

import json
import subprocess

import pytest

from ingest import index
from ingest.store import Store
from ingest.writelock import WriteLock
from server.engine.service import IndexHandle

from .support import DOSSIER, SAMPLE_ARTICLES, cli_env, invoke_cli, run_cli, settings_for
from .test_cli import assert_one_line_error

EXTRA = {
    "valdora.txt": "Valdora Opens a Tidal Power Station\nThe town of Valdora opened its first tidal power "
    "station on Tuesday. Its twelve turbines will supply electricity to 40,000 homes.\n",
    "orlen.txt": "Orlen Bridge Reopens\nThe Orlen bridge reopened after two years of repairs. "
    "It carries 18,000 vehicles a day, the city said.\n",
}
RECORDS = [
    {
        "doc_id": "kestrel-survey",
        "title": "Kestrel numbers rise",
        "text": "A survey counted 312 kestrel pairs. That is the highest count since 1990.",
    },
    {
        "doc_id": "harbour-fees",
        "title": "Harbour fees cut",
        "text": "The port cut its harbour fees by 8 percent. Shipping firms welcomed the decision.",
    },
]


@pytest.fixture
def more_articles(tmp_path):
    folder = tmp_path / "more"
    folder.mkdir()
    for name, text in EXTRA.items():
        (folder / name).write_text(text)
    (folder / "records.jsonl").write_text(
        "\n".join(json.dumps(record) for record in RECORDS) + "\n"
    )
    return folder


def ingest_process(data_dir, *paths) -> subprocess.Popen:
    return subprocess.Popen(
        [str(DOSSIER), "ingest", *map(str, paths)],
        env=cli_env(data_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_two_concurrent_ingests_leave_a_whole_index_that_answers(tmp_path, more_articles, embedder):
    data_dir = tmp_path / ".dossier"
    first = ingest_process(data_dir, SAMPLE_ARTICLES, more_articles)
    second = ingest_process(data_dir, more_articles, SAMPLE_ARTICLES)
    for process in (first, second):
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr

    settings = settings_for(data_dir)
    store = Store.connect(settings.store)
    store.open_for_write(store.stored_spec())
    records = store.list_documents()
    ids = [record.doc_id for record in records]
    assert len(ids) == len(set(ids)) == 2 + len(EXTRA) + len(RECORDS)
    passages = store.passage_rows(with_text=False)
    sentence_ids = set(store._sentences.get(include=[])["ids"])
    by_doc = {record.doc_id: record for record in records}
    for metadata in passages["metadatas"]:
        record = by_doc[metadata[index.DOC_ID]]
        assert metadata[index.CONTENT_HASH] == record.content_hash
        for number in range(metadata[index.FIRST_SENTENCE], metadata[index.END_SENTENCE]):
            assert index.sentence_id(record.doc_id, number) in sentence_ids
    assert sum(record.chunk_count for record in records) == len(passages["ids"])
    store.close()

    answer = (
        IndexHandle(settings, embedder)
        .service()
        .ask("How many Indian AI professionals will Japan invite?")
    )
    assert "500" in answer.answer and not answer.abstained


def test_ingest_no_wait_fails_in_one_line_while_another_writes(tmp_path):
    data_dir = tmp_path / ".dossier"
    with WriteLock(settings_for(data_dir).store).held():
        result = invoke_cli("ingest", "--no-wait", str(SAMPLE_ARTICLES), env=cli_env(data_dir))
    assert_one_line_error(result, "Another ingest is writing to .dossier")


def test_ingest_gives_up_after_the_write_lock_timeout(tmp_path):
    data_dir = tmp_path / ".dossier"
    with WriteLock(settings_for(data_dir).store).held():
        result = invoke_cli(
            "ingest", str(SAMPLE_ARTICLES), env=cli_env(data_dir, DOSSIER_WRITE_LOCK_TIMEOUT="0.5")
        )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[0] == "Another ingest is writing to .dossier; waiting…"
    assert "for more than 0.5 s (DOSSIER_WRITE_LOCK_TIMEOUT)" in lines[-1] and len(lines) == 2
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_rebuild_under_a_running_server_is_a_503_never_a_500_or_a_wrong_answer(
    tmp_path, embedder
):
    from fastapi.testclient import TestClient

    from server.api.app import create_app

    settings = settings_for(tmp_path / "data")
    # A process of its own: run here, the command would leave its Chroma client open, and the
    # app's reopen after the rebuild would share that client's stale cache instead of a fresh one.
    assert (
        run_cli("ingest", str(SAMPLE_ARTICLES), env=cli_env(settings.store.data_dir)).returncode
        == 0
    )
    question = {"question": "How many Indian AI professionals will Japan invite?"}
    with TestClient(create_app(settings, embedder)) as client:
        assert "500" in client.post("/v1/ask", json=question).json()["answer"]
        rebuild = subprocess.Popen(
            [str(DOSSIER), "ingest", "--rebuild", str(SAMPLE_ARTICLES)],
            env=cli_env(settings.store.data_dir),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        seen = []
        while rebuild.poll() is None:
            response = client.post("/v1/ask", json=question)
            seen.append(response.status_code)
            if response.status_code == 200:
                assert "500" in response.json()["answer"], (
                    response.json()
                )  # never from half an index
            else:
                assert response.status_code == 503, response.text
                assert response.headers["content-type"] == "application/problem+json"
                assert response.json()["type"] in (
                    "/problems/index-rebuilding",
                    "/problems/index-changed",
                )
                assert response.headers["retry-after"]
        assert rebuild.returncode == 0, rebuild.stderr.read()
        assert 503 in seen  # the rebuild was seen, and refused
        after = client.post("/v1/ask", json=question)
        assert after.status_code == 200 and "500" in after.json()["answer"]
        assert client.get("/readyz").json()["documents"] == 2
