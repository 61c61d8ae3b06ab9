"""The LLM seam: an OpenAI-compatible chat model (through LlamaIndex's OpenAILike), chosen by name.

Everything that can go wrong talking to the server surfaces as one of three `LlmError`s, so the
caller can show a notice and fall back to the extractive answer instead of crashing.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from typing import Protocol

from .errors import ConfigError, IpqaError, MissingExtraError
from .settings import Settings

EXTRACTIVE = "extractive"


class LlmError(IpqaError):
    """The LLM could not produce a usable reply."""


class LlmNotConfigured(LlmError):
    """An LLM engine was asked for but `IPQA_LLM_URL` is not set."""


class LlmUnavailable(LlmError):
    """Connection refused, DNS failure, or an HTTP error status."""


class LlmTimeout(LlmError):
    """No response (or no next token) within `IPQA_LLM_TIMEOUT`."""


class LlmMalformed(LlmError):
    """The server answered, but not with a chat completion we can read."""


class ChatModel(Protocol):
    """What the answer pipeline needs from a model: a reply, whole or token by token."""

    name: str
    url: str

    def complete(self, system: str, user: str) -> str:
        """The whole reply."""
        ...

    def stream(self, system: str, user: str) -> Iterator[str]:
        """The reply in pieces as they arrive."""
        ...


class OpenAICompatible:
    """Any server speaking the OpenAI chat-completions API (Ollama, vLLM, llama.cpp server, OpenAI)."""

    name = "openai"

    def __init__(self, settings: Settings) -> None:
        try:
            import llama_index.llms.openai_like  # noqa: F401  (checked here: a missing extra is one line, not a traceback mid-answer)
        except ImportError:
            raise MissingExtraError("IPQA_LLM=openai", "llm", "llama-index-llms-openai-like") from None
        if not settings.llm_url:
            raise LlmNotConfigured("IPQA_LLM=openai needs IPQA_LLM_URL, e.g. http://127.0.0.1:11434/v1")
        self.url = settings.llm_url.rstrip("/")
        self.model_name = settings.llm_model
        self.timeout = settings.llm_timeout
        self.max_tokens = settings.llm_max_tokens
        # A key must be sent (the client insists), but local servers ignore it; never read OPENAI_API_KEY.
        self.api_key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"

    @cached_property
    def _llm(self):  # type: ignore[no-untyped-def]
        from llama_index.llms.openai_like import OpenAILike

        return OpenAILike(
            model=self.model_name,
            api_base=self.url,
            api_key=self.api_key,
            is_chat_model=True,
            temperature=0.0,
            max_tokens=self.max_tokens,
            timeout=self.timeout,
            max_retries=0,  # the extractive answer is the retry
        )

    @staticmethod
    def _messages(system: str, user: str) -> list:  # type: ignore[type-arg]
        from llama_index.core.llms import ChatMessage

        return [ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)]

    def complete(self, system: str, user: str) -> str:
        """The whole reply (empty replies are malformed)."""
        with _translated_errors(self):
            response = self._llm.chat(self._messages(system, user))
            text = response.message.content
        if not isinstance(text, str) or not text.strip():
            raise LlmMalformed("empty reply")
        return text

    def stream(self, system: str, user: str) -> Iterator[str]:
        """Pieces of the reply as the server sends them (server-sent events)."""
        with _translated_errors(self):
            for chunk in self._llm.stream_chat(self._messages(system, user)):
                if chunk.delta:
                    yield chunk.delta


class _translated_errors:
    """Map openai/httpx/parsing exceptions onto the `LlmError` tree."""

    def __init__(self, model: OpenAICompatible) -> None:
        self.model = model

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:  # type: ignore[no-untyped-def]
        if exc is None or isinstance(exc, LlmError | GeneratorExit):
            return False
        import httpx
        import openai

        if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException):
            raise LlmTimeout(f"no reply within {self.model.timeout:g} s") from exc
        if isinstance(exc, openai.APIStatusError):
            raise LlmUnavailable(f"HTTP {exc.status_code}: {_short(exc.message)}") from exc
        if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
            raise LlmUnavailable(_short(str(exc.__cause__ or exc))) from exc
        if isinstance(exc, openai.APIResponseValidationError | ValueError | KeyError | IndexError | TypeError | AttributeError):
            # JSON that is not a chat completion, a stream line that is not JSON, choices missing, ...
            raise LlmMalformed(_short(f"{type(exc).__name__}: {exc}")) from exc
        return False


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


ENGINES: dict[str, type[OpenAICompatible] | None] = {EXTRACTIVE: None, "openai": OpenAICompatible}


def check_engine(engine: str) -> str:
    """The engine name if known, else a ConfigError listing the known ones."""
    if engine not in ENGINES:
        raise ConfigError(f"Unknown answer engine '{engine}' — use one of: {', '.join(ENGINES)}.")
    return engine


def make_llm(engine: str, settings: Settings) -> ChatModel | None:
    """The chat model for an engine name (None for the extractive engine)."""
    factory = ENGINES[check_engine(engine)]
    return factory(settings) if factory else None
