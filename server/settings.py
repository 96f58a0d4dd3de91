"""The server's configuration, and `Settings`: every section Dossier reads, in one object.

Build one `Settings` at an entry point (the CLI, `create_app`, the eval harness) and pass it
on; ingest takes it as the `IngestSettings` it extends.
"""

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from ingest.settings import CommaList, IngestSettings, section_config
from server.engine.settings import AnsweringSettings, LLMSettings, RetrievalSettings


class ServerSettings(BaseSettings):
    model_config = section_config()

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
        description="Upload jobs remembered for `GET /v1/jobs/{id}` (the newest), each also kept "
        "in `DATA_DIR/jobs/` so that every worker of `--workers N` answers for every job.",
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
        "logger, message, request_id) for log collectors. Both mask credentials: URL user info, "
        "secret query values, `Authorization` and api-key values, and the LLM API key.",
    )

    api_keys: SecretStr = Field(
        SecretStr(""),
        description="API keys, comma-separated, or `@/path/to/file` with one key per line. Set, every write "
        "(upload, deletion) needs one, sent as `Authorization: Bearer KEY` or `X-API-Key: KEY`. "
        "In a file, `#` starts a comment; an unreadable file stops `dossier serve`. "
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


class Settings(IngestSettings):
    """Everything Dossier can be configured with; build one at the entry point and pass it on."""

    model_config = section_config()

    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answering: AnsweringSettings = Field(default_factory=AnsweringSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
