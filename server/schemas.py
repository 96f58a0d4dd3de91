"""Request and response bodies of the HTTP API (they are also its OpenAPI schema)."""

from pydantic import BaseModel, Field, field_validator


class AskRequest(BaseModel):
    question: str = Field(description="The question, in plain language.", examples=["What did Motegi brief Jaishankar on?"])
    top_k: int | None = Field(None, ge=1, le=50, description="Passages to retrieve; default from settings.")

    @field_validator("question")
    @classmethod
    def question_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        return value


class Citation(BaseModel):
    id: int = Field(description="The n of the `[n]` marker in the answer.")
    doc_id: str
    title: str
    url: str | None
    published_at: str | None = Field(description="ISO date the article was published, when known.")
    chunk_id: str = Field(description="The passage the quote was found in.")
    quote: str = Field(description="Exactly `text[start_char:end_char]` of the document's text.")
    start_char: int
    end_char: int
    score: float = Field(description="How strongly the quote answers the question (0 to 1).")


class AskResponse(BaseModel):
    answer: str = Field(description="The answer; each sentence ends with a `[n]` citation marker.")
    abstained: bool = Field(description="True when the sources do not answer the question.")
    citations: list[Citation]
    answerer: str = Field(description="What produced the answer: `extractive`, or an LLM's name.")
    timings_ms: dict[str, float]


class Passage(BaseModel):
    rank: int
    chunk_id: str
    doc_id: str
    title: str
    url: str | None
    published_at: str | None
    text: str = Field(description="Exactly `text[start_char:end_char]` of the document's text.")
    start_char: int
    end_char: int
    score: float = Field(description="Cosine similarity to the query.")


class SearchResponse(BaseModel):
    query: str
    passages: list[Passage]
    timings_ms: dict[str, float]


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    url: str | None
    published_at: str | None
    source: str | None
    author: str | None
    chunk_count: int
    char_count: int
    content_hash: str
    ingested_at: str


class DocumentDetail(DocumentSummary):
    text: str = Field(description="The cleaned text that citation offsets refer to.")


class DocumentList(BaseModel):
    count: int
    documents: list[DocumentSummary]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    documents: int
    passages: int
    embedding_model: str
