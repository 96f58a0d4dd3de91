"""Dossier's records: the request and response bodies of the HTTP API (its OpenAPI schema), the
events of the chat stream, and the CLI's `--json` output. Each is declared once, here; the engine's
internal dataclasses (a retrieved `Passage`, an `AskResult` with its passages) are turned into
these by `model_validate(..., from_attributes=True)`, which checks them on the way out."""

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator

from server.engine.filters import SearchFilters


def encodable(value: str) -> str:
    """Text must be valid Unicode: a lone surrogate (JSON's `"\\udfff"`) cannot be embedded or stored."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"the text is not valid Unicode (a lone surrogate {value[exc.start]!a} at character {exc.start})"
        ) from None
    return value


# Every text a client sends is this type, so that bad text is a 422 naming the field.
CleanText = Annotated[str, AfterValidator(encodable)]


class Filters(BaseModel):
    """What the answer may come from; every filter given must hold."""

    doc_ids: list[CleanText] = Field(
        default_factory=list, description="Only these documents (at most DOSSIER_MAX_FILTER_IDS)."
    )
    source: CleanText | None = Field(
        None, description="Only articles from this source (exact match)."
    )
    published_from: date | None = Field(
        None, description="Only articles published on or after this date."
    )
    published_to: date | None = Field(
        None, description="Only articles published on or before this date."
    )

    @model_validator(mode="after")
    def range_in_order(self) -> "Filters":
        if self.published_from and self.published_to and self.published_from > self.published_to:
            raise ValueError("published_from is after published_to")
        return self

    def to_search_filters(self) -> SearchFilters:
        return SearchFilters(
            tuple(self.doc_ids), self.source or None, self.published_from, self.published_to
        )


class AskRequest(BaseModel):
    question: CleanText = Field(
        description="The question, in plain language.",
        examples=["What did Motegi brief Jaishankar on?"],
    )
    top_k: int | None = Field(
        None, ge=1, le=50, description="Passages to retrieve; default from settings."
    )
    filters: Filters = Field(
        default_factory=Filters,
        description="Restrict the sources; articles without a known date never match a date range.",
    )

    @field_validator("question")
    @classmethod
    def question_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        return value


class ArticleRef(BaseModel):
    """The article a quote, passage or source comes from, as every record names it."""

    doc_id: str
    title: str
    url: str | None
    published_at: str | None = Field(description="ISO date the article was published, when known.")


class Citation(ArticleRef):
    id: int = Field(description="The n of the `[n]` marker in the answer.")
    chunk_id: str = Field(description="The passage the quote was found in.")
    quote: str = Field(description="Exactly `text[start_char:end_char]` of the document's text.")
    start_char: int
    end_char: int
    support: float = Field(
        description="How well the quote answers the question, 0 to 1: meaning and key terms, cut for "
        "numbers of the question it lacks (the support check). Answers need at least the "
        "abstention threshold."
    )


class ShortAnswer(BaseModel):
    text: str = Field(
        description="Exactly `text[start_char:end_char]` of the cited document's text."
    )
    citation_id: int = Field(description="The citation whose quote holds it.")
    start_char: int
    end_char: int


class CheckedSentence(BaseModel):
    text: str = Field(description="The sentence as the answer shows it, markers included.")
    citations: list[int] = Field(description="The `[n]` it cites that name a source.")
    supported: bool = Field(
        description="Whether a sentence of a cited source backs it (the support check)."
    )
    support: float = Field(description="Support of its best quote, 0 to 1; 1 for a verbatim quote.")
    reason: str | None = Field(description="Why it is not supported, in one or two sentences.")
    quote: Citation | None = Field(
        description="The sentence of the cited sources that backs it best."
    )


class AskResponse(BaseModel):
    question: str = Field(description="The question that was searched.")
    answer: str = Field(description="The answer; each sentence ends with a `[n]` citation marker.")
    abstained: bool = Field(description="True when the sources do not answer the question.")
    answerer: str = Field(description="What produced the answer: `extractive`, or `llm:<model>`.")
    fallback: str | None = Field(
        description="Set when the LLM's answer was replaced by the extractive one: why (the kind of "
        "failure and the request id; the endpoint's own error is only in the server log)."
    )
    citations: list[Citation]
    sentences: list[CheckedSentence] = Field(
        description="Each sentence of the answer with its verdict."
    )
    unsupported: list[CheckedSentence] = Field(
        description="The sentences no cited source backs (shown flagged, or dropped from `answer` when "
        "DOSSIER_UNSUPPORTED_CLAIMS=drop)."
    )
    invalid_markers: list[int] = Field(
        description="`[n]` markers the LLM wrote that name no source; removed."
    )
    evidence_score: float = Field(
        description="Probability, from the learned scorer, that the best premise-backed sentence answers the "
        "question; below the abstention threshold the answer abstains."
    )
    abstention_reason: str | None = Field(
        None,
        description="When it abstains: why, in one sentence (the element of the question the sources do not "
        'back, e.g. "The sources do not mention Mumbai."). `citations` then holds the closest evidence.',
    )
    short_answer: ShortAnswer | None = Field(
        None,
        description="For a one-fact question (who, which, when, how many, how long, where): the span of "
        "the cited sentence that answers it.",
    )
    timings_ms: dict[str, float]


class Message(BaseModel):
    """One message of a conversation, in OpenAI's shape."""

    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str | list[dict] | None = Field(
        None, description='Text, or OpenAI content parts (`{"type": "text", "text": ...}`).'
    )

    @field_validator("content")
    @classmethod
    def content_encodable(cls, value: str | list[dict] | None) -> str | list[dict] | None:
        for text in texts_in(value):
            encodable(text)
        return value

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(
                str(part.get("text", "")) for part in self.content if part.get("type") == "text"
            )
        return self.content or ""


def texts_in(value: object) -> list[str]:
    """Every string inside a JSON value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (*texts_in(key), *texts_in(item))]
    if isinstance(value, list):
        return [text for item in value for text in texts_in(item)]
    return []


class ChatRequest(BaseModel):
    messages: list[Message] = Field(
        min_length=1,
        description="The conversation so far; it ends with the user's question (at most "
        "DOSSIER_MAX_CHAT_MESSAGES messages and DOSSIER_MAX_CHAT_CHARS characters).",
    )
    stream: bool = Field(False, description="Stream Server-Sent Events instead of one JSON body.")
    top_k: int | None = Field(
        None, ge=1, le=50, description="Passages to retrieve; default from settings."
    )
    filters: Filters = Field(default_factory=Filters)


class ChatResponse(AskResponse):
    original_question: str = Field(description="The last user message, as asked.")
    rewritten: bool = Field(description="Whether the question was rewritten to stand alone.")


class SearchHit(ArticleRef):
    rank: int
    chunk_id: str
    text: str = Field(description="Exactly `text[start_char:end_char]` of the document's text.")
    start_char: int
    end_char: int
    score: float = Field(description="Fused rank score (reciprocal rank fusion): higher is better.")
    dense_score: float | None = Field(
        description="Cosine similarity to the query, when embedding search found it."
    )
    sparse_score: float | None = Field(description="BM25 score, when keyword search found it.")


class SearchResponse(BaseModel):
    query: str
    passages: list[SearchHit]
    timings_ms: dict[str, float]


class StreamedQuestion(BaseModel):
    """The chat stream's `question` event: what was searched."""

    question: str = Field(description="The question searched, rewritten to stand alone if needed.")
    original: str = Field(description="The last user message, as asked.")
    rewritten: bool


class Source(ArticleRef):
    """What a `[n]` marker of the streamed text refers to."""

    id: int = Field(description="The n of the `[n]` markers that cite it.")
    chunk_id: str
    text: str = Field(description="Exactly `text[start_char:end_char]` of the document's text.")
    start_char: int
    end_char: int


class StreamedSources(BaseModel):
    """The chat stream's `sources` event."""

    answerer: str
    sources: list[Source]


class StreamedDelta(BaseModel):
    """The chat stream's `delta` event: a piece of the answer's text, markers as written."""

    text: str


class HistoryEvent(BaseModel):
    action: Literal["added", "updated", "replaced"] = Field(
        description="`replaced`: by a document of another origin (an upload sent with replace=true, or a folder)."
    )
    route: str = Field(description="How: `cli ingest` or `upload`.")
    at: str = Field(description="When, ISO 8601 (UTC).")
    by: str = Field(
        description="Who: the API key's fingerprint, `anonymous`, or the user who ran the command."
    )


class DocumentSummary(ArticleRef):
    source: str | None
    author: str | None
    chunk_count: int
    char_count: int
    content_hash: str
    ingested_at: str
    origin: Literal["folder", "upload"] = Field(
        description="`folder`: ingested from a folder by `dossier ingest` (an upload may not replace it, nor "
        "a deletion remove it, without replace=true); `upload`: uploaded through the API."
    )
    origin_folder: str | None = Field(
        None,
        description="For `folder`: the folder it was ingested from (relative to the server's folder).",
    )
    history: list[HistoryEvent] = Field(
        default_factory=list, description="How it came to be, oldest first."
    )


class DocumentDetail(DocumentSummary):
    text: str = Field(description="The cleaned text that citation offsets refer to.")


class DocumentList(BaseModel):
    count: int
    documents: list[DocumentSummary]


class SkippedFile(BaseModel):
    file: str = Field(description="The file (and record, for JSON) as uploaded.")
    reason: str


class IngestSummary(BaseModel):
    summary: str = Field(
        description="One line: how many added, updated, unchanged, removed and skipped."
    )
    added: list[str] = Field(description="Ids of documents new to the index.")
    updated: list[str] = Field(description="Ids of documents whose text changed.")
    unchanged: list[str] = Field(
        description="Ids of documents already in the index with this text."
    )
    skipped: list[SkippedFile] = Field(description="What could not be ingested, and why.")
    documents: list[DocumentSummary] = Field(
        description="The documents the upload holds, as now indexed."
    )
    seconds: float


class DeletedDocument(BaseModel):
    deleted: DocumentSummary


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str


class JobState(BaseModel):
    id: str
    state: Literal["queued", "running", "succeeded", "failed"]
    created_at: str
    finished_at: str | None
    files: list[str] = Field(description="The file names as uploaded.")
    result: IngestSummary | None = Field(description="When it succeeded: what it ingested.")
    error: Problem | None = Field(description="When it failed: why, as problem details.")


class JobAccepted(BaseModel):
    job: JobState


def document_summary(
    record, model: type[DocumentSummary] = DocumentSummary, **extra
) -> DocumentSummary:
    """The API's view of a stored DocumentRecord: no server path, only a folder it came from."""
    folder = None
    if record.origin == "folder":
        parent, here = Path(record.source_path).parent, Path.cwd()
        # Relative to the server's folder, unless that is the root (systemd's default), where a
        # "relative" path would be the absolute one: then the folder's name alone.
        inside = parent.is_relative_to(here) and here != Path(here.anchor)
        folder = str(parent.relative_to(here)) if inside else parent.name
    return model(**asdict(record), origin_folder=folder, **extra)


def ingest_summary(report, records) -> IngestSummary:
    return IngestSummary(
        summary=report.summary(),
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=[SkippedFile(file=s.path, reason=s.reason) for s in report.skipped],
        documents=[document_summary(record) for record in records],
        seconds=round(report.seconds, 3),
    )


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    documents: int
    passages: int
    embedding_model: str


class SourceCount(BaseModel):
    name: str = Field(description="The publisher, as the articles' metadata names it.")
    documents: int = Field(description="Articles from it.")


class SuggestedQuestion(BaseModel):
    question: str = Field(description="A question the ingested articles answer, with a citation.")
    doc_id: str = Field(description="The article it was built from.")
    title: str = Field(description="That article's title.")


class Suggestions(BaseModel):
    documents: int = Field(description="Articles in the index.")
    passages: int = Field(description="Passages they were split into for retrieval.")
    sources: list[SourceCount] = Field(
        description="Each named source, most articles first, then by name; articles without one "
        "are not listed."
    )
    published_from: date | None = Field(
        description="The earliest publication date among the articles, when any is known."
    )
    published_to: date | None = Field(description="The latest publication date, when any is known.")
    undated: int = Field(description="Articles without a known publication date.")
    questions: list[SuggestedQuestion] = Field(
        default_factory=list,
        description="Questions built from the newest articles' titles and sentences (no LLM), each "
        "checked to be answered with a citation; at most `limit`.",
    )
