"""The `dossier` command: one clear line on every user error. In process through click's runner
(with the session's model); the installed command as a real process once, end to end."""

import json

import pytest

from .llm_servers import Reply
from .support import (
    SAMPLE_ARTICLES,
    cli_env,
    copy_of_sample_index,
    free_port,
    invoke_cli,
    run_cli,
    serving,
)


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_ask_prints_the_answer_and_its_citations(cli_data_dir):
    result = invoke_cli(
        "ask",
        "How many Indian AI professionals will Japan invite by 2030?",
        env=cli_env(cli_data_dir),
    )
    assert result.returncode == 0, result.stderr
    assert "500 highly skilled Indian AI professionals" in result.stdout
    assert "[1] India-Japan Strategic Partnership" in result.stdout
    assert "chars " in result.stdout


def test_ask_prints_the_short_answer_and_why_it_abstains(cli_data_dir):
    result = invoke_cli(
        "ask",
        "How many Indian AI professionals will Japan invite by 2030?",
        env=cli_env(cli_data_dir),
    )
    assert result.stdout.startswith("Answer: 500 [1]")
    result = invoke_cli(
        "ask",
        "What did the third G2G economic security dialogue decide?",
        env=cli_env(cli_data_dir),
    )
    assert result.returncode == 0, result.stderr
    assert "Why: The closest evidence mentions the second, not the third." in result.stdout
    assert "Closest evidence [1]" in result.stdout


def test_ask_json_prints_the_api_response(cli_data_dir):
    result = invoke_cli(
        "ask",
        "--json",
        "When will 2027 be celebrated as an anniversary?",
        env=cli_env(cli_data_dir),
    )
    body = json.loads(result.stdout)
    assert {"answer", "abstained", "citations", "timings_ms"} <= set(body)


def test_documents_lists_the_articles(cli_data_dir):
    result = invoke_cli("documents", env=cli_env(cli_data_dir))
    assert result.returncode == 0
    assert "india-japan-relations-china-indo-pacific-assertiveness" in result.stdout
    assert result.stdout.strip().endswith("2 documents")


def test_ingest_is_idempotent_from_the_command_line(cli_data_dir):
    result = invoke_cli("ingest", str(SAMPLE_ARTICLES), env=cli_env(cli_data_dir))
    assert result.returncode == 0
    assert "0 added, 0 updated, 2 unchanged, 0 removed, 0 skipped" in result.stdout


def test_user_errors_are_one_line(tmp_path, cli_data_dir):
    assert_one_line_error(invoke_cli("ask", "  ", env=cli_env(cli_data_dir)), "question is empty")
    assert_one_line_error(
        invoke_cli("ask", "Who?", env=cli_env(tmp_path / "none")), "dossier ingest"
    )
    assert_one_line_error(
        invoke_cli("ask", "Who?", "--url", "http://127.0.0.1:9", env=cli_env(tmp_path)),
        "Cannot reach Dossier",
    )
    assert_one_line_error(
        invoke_cli("documents", env=cli_env(tmp_path, DOSSIER_TOP_K="zero")), "DOSSIER_", "top_k"
    )


def test_ingest_of_nothing_usable_fails_with_reasons(tmp_path):
    (tmp_path / "blank.txt").write_text("")
    result = invoke_cli(
        "ingest",
        str(tmp_path / "blank.txt"),
        str(tmp_path / "missing"),
        env=cli_env(tmp_path / "d"),
    )
    assert result.returncode == 1
    assert "blank.txt: empty file" in result.stderr
    assert "missing: no such file or folder" in result.stderr
    assert "Nothing could be ingested" in result.stderr
    assert "Traceback" not in result.stderr


def test_ask_through_a_running_server(server):
    result = invoke_cli(
        "ask",
        "--url",
        server.url,
        "What did Motegi brief Jaishankar on?",
        env=cli_env(server.log.parent),
    )
    assert result.returncode == 0, result.stderr
    assert "regional security environment" in result.stdout


def test_ask_with_an_llm_prints_the_unsupported_sentences_and_the_answerer(
    cli_data_dir, scripted_llm
):
    scripted_llm.script(
        Reply("Japan will invite 500 highly skilled Indian AI professionals to Mumbai by 2030 [1].")
    )
    env = cli_env(
        cli_data_dir,
        DOSSIER_ANSWERER="llm",
        DOSSIER_LLM_BASE_URL=scripted_llm.url,
        DOSSIER_LLM_MODEL="scripted",
    )
    result = invoke_cli("ask", "How many Indian AI professionals will Japan invite?", env=env)
    assert result.returncode == 0, result.stderr
    assert (
        "Not supported: “Japan will invite 500 highly skilled Indian AI professionals to Mumbai by 2030 [1].” "
        "[1] does not mention Mumbai." in result.stdout
    )
    assert result.stdout.rstrip().endswith("(llm:scripted)")


def test_ask_with_a_failing_llm_says_the_answer_is_the_fallback(cli_data_dir):
    env = cli_env(
        cli_data_dir,
        DOSSIER_ANSWERER="llm",
        DOSSIER_LLM_BASE_URL=f"http://127.0.0.1:{free_port()}/v1",
        DOSSIER_LLM_RETRIES="0",
    )
    result = invoke_cli("ask", "How many Indian AI professionals will Japan invite?", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "(The language model failed, so this is the extractive answer: The language model endpoint failed "
        "(connection failed)"
    )
    assert "500 highly skilled" in result.stdout and result.stdout.rstrip().endswith("(extractive)")


@pytest.mark.slow
def test_ask_and_documents_send_the_key_a_server_requires(cli_data_dir, tmp_path_factory):
    data_dir = copy_of_sample_index(cli_data_dir, tmp_path_factory, "keyed")
    with serving(data_dir, DOSSIER_API_KEYS="s3cret-key", DOSSIER_AUTH_READS="true") as server:
        refused = invoke_cli(
            "ask",
            "--url",
            server.url,
            "What did Motegi brief Jaishankar on?",
            env=cli_env(data_dir),
        )
        assert refused.returncode == 1
        assert (
            refused.stderr.strip().startswith("Error: 401:") and "Traceback" not in refused.stderr
        )

        env = cli_env(data_dir, DOSSIER_API_KEY="s3cret-key")
        asked = invoke_cli(
            "ask", "--url", server.url, "What did Motegi brief Jaishankar on?", env=env
        )
        assert asked.returncode == 0, asked.stderr
        assert "regional security environment" in asked.stdout
        listed = invoke_cli(
            "documents", "--url", server.url, "--api-key", "s3cret-key", env=cli_env(data_dir)
        )
        assert listed.returncode == 0 and "2 documents" in listed.stdout


@pytest.mark.slow
def test_the_installed_command_ingests_and_answers_end_to_end(tmp_path):
    """The real `dossier` executable, each command a process loading its own model."""
    env = cli_env(tmp_path / ".dossier")
    ingested = run_cli("ingest", str(SAMPLE_ARTICLES), env=env)
    assert ingested.returncode == 0, ingested.stderr
    assert "2 added, 0 updated, 0 unchanged, 0 removed, 0 skipped" in ingested.stdout
    asked = run_cli("ask", "How many Indian AI professionals will Japan invite by 2030?", env=env)
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith("Answer: 500 [1]")
    assert "500 highly skilled Indian AI professionals" in asked.stdout
    assert "Traceback" not in ingested.stderr + asked.stderr
