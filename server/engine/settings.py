"""The query engine's configuration: retrieval, answering and the LLM (`DOSSIER_*` variables)."""

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from ingest.settings import section_config


class RetrievalSettings(BaseSettings):
    model_config = section_config()

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
    model_config = section_config()

    min_answer_probability: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Abstain when the best premise-backed sentence's probability of answering (the "
        "learned scorer, server/engine/models/answer_scorer.json) is below this. Default: the threshold "
        "chosen on the development split and stored with the scorer (docs/evaluation.md).",
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

    model_config = section_config()

    answerer: Literal["extractive", "llm"] = Field(
        "extractive",
        description="`extractive`: answers quote the best sentences of the articles; `llm`: a "
        "language model writes the answer from the retrieved passages and every sentence it "
        "writes is checked against the passage it cites.",
    )
    llm_base_url: str = Field(
        "http://127.0.0.1:8080/v1",
        description="Base URL of an OpenAI-compatible API (llama.cpp, Ollama's /v1, vLLM, OpenAI). "
        "Logged without its user info or secret query values. A `user:password@` in it is sent "
        "as Basic authentication, which replaces DOSSIER_LLM_API_KEY's Bearer header: use one "
        "or the other.",
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
        1,
        ge=0,
        le=10,
        description="Retries, with backoff, after a refused connection, a timeout or a 5xx.",
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
