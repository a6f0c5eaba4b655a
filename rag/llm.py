"""The LLM backends: a local GGUF through LlamaIndex's LlamaCPP, or any OpenAI-compatible chat server."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from kvisa.settings import Settings
from rag.prompts import IM_END, IM_START

OPENAI_TIMEOUT_S = 120.0  # a small CPU server can take a minute for a long prompt
OPENAI_RETRIES = 1
LLM_BACKENDS = ("llamacpp", "openai")


class BackendError(RuntimeError):
    """The backend cannot answer; the message is one line saying why."""


class ChatModel(Protocol):
    """What the answer flow needs from a backend: streamed and whole chat completions."""

    name: str

    def stream(self, messages: Sequence[tuple[str, str]]) -> Iterator[str]: ...

    def complete(self, messages: Sequence[tuple[str, str]]) -> str: ...


def chatml(messages: Sequence[Any]) -> str:
    """ChatML prompt for LlamaIndex ChatMessages, ending with an open assistant turn."""
    parts = [f"{IM_START}{_role(m)}\n{m.content or ''}{IM_END}\n" for m in messages]
    return "".join(parts) + f"{IM_START}assistant\n"


def chatml_completion(completion: str) -> str:
    """ChatML prompt for a bare completion: one user turn."""
    return f"{IM_START}user\n{completion}{IM_END}\n{IM_START}assistant\n"


def _role(message: Any) -> str:
    role = message.role
    return str(getattr(role, "value", role))


def backend_problem(name: str, settings: Settings) -> str | None:
    """Why the backend cannot be used with these settings, in one line; None when it can."""
    if name == "llamacpp":
        if importlib.util.find_spec("llama_cpp") is None:
            return "the llamacpp backend needs llama-cpp-python: pip install '.[llm]'"
        if importlib.util.find_spec("llama_index.llms.llama_cpp") is None:
            return "the llamacpp backend needs llama-index-llms-llama-cpp: pip install '.[llm]'"
        if settings.llm_model_path is None:
            return "the llamacpp backend needs a local GGUF file: set KVISA_LLM_MODEL_PATH"
        if not Path(settings.llm_model_path).is_file():
            return f"the GGUF file {settings.llm_model_path} does not exist (kvisa never downloads models)"
        return None
    if name == "openai":
        if not settings.openai_base_url:
            return "the openai backend needs a server: set KVISA_OPENAI_BASE_URL, e.g. http://127.0.0.1:8080/v1"
        if importlib.util.find_spec("llama_index.llms.openai_like") is None:
            return "the openai backend needs llama-index-llms-openai-like"
        return None
    return f"unknown backend {name!r}: choose extractive, llamacpp or openai"


class LlamaIndexChat:
    """A LlamaIndex LLM behind the ChatModel interface; one generation at a time per loaded model."""

    def __init__(self, name: str, llm: Any, lock: AbstractContextManager, where: str) -> None:
        self.name = name
        self.llm = llm
        self.lock = lock
        self.where = where

    @staticmethod
    def _messages(messages: Sequence[tuple[str, str]]) -> list[Any]:
        from llama_index.core.llms import ChatMessage

        return [ChatMessage(role=role, content=content) for role, content in messages]

    def stream(self, messages: Sequence[tuple[str, str]]) -> Iterator[str]:
        with self.lock:
            started = False
            try:
                for chunk in self.llm.stream_chat(self._messages(messages)):
                    started = True
                    if chunk.delta:
                        yield chunk.delta
            except Exception as exc:  # connection and server errors arrive as library-specific types
                if started:
                    raise
                raise BackendError(f"the {self.name} backend at {self.where} failed: {_first_line(exc)}") from exc

    def complete(self, messages: Sequence[tuple[str, str]]) -> str:
        return "".join(self.stream(messages))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


@lru_cache(maxsize=2)
def _llamacpp(model_path: str, context: int, max_tokens: int) -> LlamaIndexChat:
    """Load a GGUF once per process: loading costs seconds and memory."""
    from llama_index.llms.llama_cpp import LlamaCPP

    llm = LlamaCPP(
        model_path=model_path,
        temperature=0.0,
        max_new_tokens=max_tokens,
        context_window=context,
        # Stop at the end of the assistant turn even if the GGUF's end-of-sequence token differs.
        generate_kwargs={"stop": [IM_END, IM_START]},
        messages_to_prompt=chatml,
        completion_to_prompt=chatml_completion,
        verbose=False,
    )
    return LlamaIndexChat("llamacpp", llm, threading.Lock(), model_path)


@lru_cache(maxsize=4)
def _openai(base_url: str, model: str, api_key: str, context: int, max_tokens: int) -> LlamaIndexChat:
    from llama_index.llms.openai_like import OpenAILike

    llm = OpenAILike(
        api_base=base_url,
        model=model,
        api_key=api_key,
        is_chat_model=True,
        temperature=0.0,
        max_tokens=max_tokens,
        context_window=context,
        timeout=OPENAI_TIMEOUT_S,
        max_retries=OPENAI_RETRIES,
    )
    # A server schedules concurrent requests itself, so no lock here.
    return LlamaIndexChat("openai", llm, nullcontext(), base_url)


def load_chat_model(name: str, settings: Settings) -> LlamaIndexChat:
    """The configured backend, loaded (and cached) on first use. Raises BackendError when unusable."""
    problem = backend_problem(name, settings)
    if problem:
        raise BackendError(problem)
    if name == "llamacpp":
        path = str(Path(settings.llm_model_path).resolve())
        try:
            return _llamacpp(path, settings.llm_context, settings.llm_max_tokens)
        except (ValueError, RuntimeError) as exc:  # llama.cpp rejects files that are not valid GGUF
            raise BackendError(f"cannot load {path}: {_first_line(exc)}") from exc
    return _openai(settings.openai_base_url, settings.openai_model, settings.openai_api_key,
                   settings.llm_context, settings.llm_max_tokens)
