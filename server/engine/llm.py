"""The language model: any OpenAI-compatible chat endpoint, through llama-index's `OpenAILike`.

Failures of every kind (refused connection, timeout, error status, a body that is not a chat
completion, an empty answer) become one of two Dossier errors naming the kind of failure, so the
answerer can fall back to the extractive answer, or return 502/504 in strict mode. What the
endpoint said, and its URL, go to the log only, with credentials masked: an endpoint may echo
the `Authorization` header, and the URL may hold a password.
"""

import logging
from collections.abc import AsyncIterator, Sequence
from urllib.parse import urlsplit

import anyio
import openai
from llama_index.core.llms import ChatMessage
from llama_index.llms.openai.utils import to_openai_message_dicts
from llama_index.llms.openai_like import OpenAILike

from server.engine.errors import LLMFailedError, LLMTimeoutError
from server.engine.settings import LLMSettings
from server.logs import mask_secrets, redacted_url, register_secret, request_id

logger = logging.getLogger(__name__)


class LLMClient:
    """Sends chat messages to the configured endpoint; one instance per process."""

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self.name = f"llm:{settings.llm_model}"
        register_secret(settings.llm_api_key.get_secret_value())
        register_secret(urlsplit(settings.llm_base_url).password)
        credentials = {
            "base_url": settings.llm_base_url,
            "api_key": settings.llm_api_key.get_secret_value(),
            "timeout": settings.llm_timeout,
            "max_retries": settings.llm_retries,  # the openai client's own backoff
        }
        self.async_client = openai.AsyncOpenAI(**credentials)
        self.llm = OpenAILike(
            model=settings.llm_model,
            api_base=settings.llm_base_url,
            is_chat_model=True,
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
            timeout=settings.llm_timeout,
            max_retries=0,  # retries happen in the clients below, not a second time around them
            openai_client=openai.OpenAI(**credentials),
            async_openai_client=self.async_client,
        )

    def complete(self, messages: Sequence[ChatMessage]) -> str:
        try:
            response = self.llm.chat(messages)
        except Exception as exc:
            raise self.failure(exc) from exc
        return self.checked(response.message.content)

    async def acomplete(self, messages: Sequence[ChatMessage]) -> str:
        try:
            response = await self.llm.achat(messages)
        except Exception as exc:
            raise self.failure(exc) from exc
        return self.checked(response.message.content)

    async def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[str]:
        """The answer's text as it is produced. Closing this generator closes the HTTP stream.

        Not through `OpenAILike.astream_chat`: closing its generator leaves the HTTP response
        open until the garbage collector runs (measured: the endpoint kept generating), and a
        client that went away must stop the generation. The openai stream closes at once.
        """
        produced = False
        stream = None
        try:
            stream = await self.async_client.chat.completions.create(
                model=self.settings.llm_model,
                messages=to_openai_message_dicts(messages),
                temperature=self.settings.llm_temperature,
                max_tokens=self.settings.llm_max_tokens,
                stream=True,
            )
            async for chunk in stream:
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    produced = True
                    yield delta
        except Exception as exc:  # every failure becomes one of two errors
            raise self.failure(exc) from exc
        finally:
            if stream is not None:
                with anyio.CancelScope(shield=True):  # even when cancelled by a client's disconnect
                    await stream.close()
        if not produced:
            raise self.empty_answer()

    def checked(self, content: str | None) -> str:
        if not content or not content.strip():
            raise self.empty_answer()
        return content

    def empty_answer(self) -> LLMFailedError:
        where = redacted_url(self.settings.llm_base_url)
        return LLMFailedError(
            "empty answer",
            f"The language model at {where} returned an empty answer.",
            request_id.get(),
        )

    def failure(self, exc: Exception) -> LLMFailedError:
        """The kind of failure for API clients; the endpoint's words, masked, for the log."""
        where = redacted_url(self.settings.llm_base_url)
        error, kind = LLMFailedError, "bad response: not a chat completion"
        if isinstance(exc, openai.APITimeoutError):
            error, kind = LLMTimeoutError, f"timeout after {self.settings.llm_timeout:g} s"
            cause = f"The language model at {where} did not answer within {self.settings.llm_timeout:g} s."
        elif isinstance(exc, openai.APIConnectionError):
            kind = "connection failed"
            cause = f"Cannot reach the language model at {where}: {exc.__cause__ or exc}."
        elif isinstance(exc, openai.APIStatusError):
            kind = f"HTTP {exc.status_code}"
            cause = (
                f"The language model at {where} answered with HTTP {exc.status_code}: {exc.message}"
            )
        else:
            cause = (
                f"The language model at {where} returned something that is not a chat completion "
                f"({type(exc).__name__}: {exc})."
            )
        return error(kind, mask_secrets(cause), request_id.get())
