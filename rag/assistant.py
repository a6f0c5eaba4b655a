"""The Assistant: the one public way to ask kvisa a question (used by the CLI, the web chat and eval)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from functools import lru_cache

from ingest.embedding import Embedder, get_embedder
from ingest.query_encoder import get_query_encoder
from kvisa.settings import Settings
from rag.dictionary import use_cache as use_dictionary_cache
from rag.extractive import ExtractiveAnswerer
from rag.followup import contextualize
from rag.jieba_cache import load_jieba
from rag.retrieve import Filters, HybridRetriever
from rag.terms import Glossary, glossed, use_glossary
from rag.types import Answer, BackendUnavailable, Turn

__all__ = ["Assistant", "BackendUnavailable", "Filters", "get_assistant"]


class Assistant:
    """Retrieve, answer, cite. `ask` returns an Answer; `stream` yields text pieces, then the Answer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        load_jieba(settings.home / "cache")  # before anything cuts Chinese text
        use_dictionary_cache(settings.home / "cache")
        use_glossary(Glossary.load(settings.glossary_path, general=settings.general_dictionary))
        # Questions need only query vectors (ONNX, no torch); `embedder` is the full model, loaded on first use.
        self.retriever = HybridRetriever(settings, get_query_encoder(settings))
        self.extractive = ExtractiveAnswerer(self.retriever, settings)
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Build what the first question needs before it comes: the lexical index, the encoder's first run and
        the general dictionary (for the first Chinese question)."""
        _ = self.retriever.lexical
        self.retriever.embedder.encode_query("warm-up")
        glossed("热身")

    @property
    def embedder(self) -> Embedder:
        """sentence-transformers, for what encodes many texts: LLM answer checks and eval's support metric."""
        return get_embedder(self.settings.embed_model, self.settings.embed_batch_size)

    def available_backends(self) -> list[str]:
        """Backends that can answer right now with the current settings."""
        from rag.generative import backend_available

        return ["extractive"] + [b for b in ("llamacpp", "openai") if backend_available(b, self.settings)]

    def ask(self, question: str, *, history: list[Turn] | None = None, backend: str | None = None,
            top_k: int | None = None, filters: Filters | None = None) -> Answer:
        answer = None
        for piece in self.stream(question, history=history, backend=backend, top_k=top_k, filters=filters):
            if isinstance(piece, Answer):
                answer = piece
        assert answer is not None
        return answer

    def stream(self, question: str, *, history: list[Turn] | None = None, backend: str | None = None,
               top_k: int | None = None, filters: Filters | None = None) -> Iterator[str | Answer]:
        """Yield answer text as it is produced, then the final (verified) Answer."""
        started = time.perf_counter()
        backend = backend or self.settings.backend
        top_k = top_k or self.settings.top_k
        question = question.strip()
        if backend == "extractive":
            query = contextualize(question, history or [])
            answer = self.extractive.answer(question, query, top_k=top_k, filters=filters)
            answer.timings["total"] = (time.perf_counter() - started) * 1000
            yield answer.text
            yield answer
            return
        from rag.generative import generate_answer

        for piece in generate_answer(self, question, history or [], backend, top_k, filters):
            if isinstance(piece, Answer):
                piece.timings["total"] = (time.perf_counter() - started) * 1000
            yield piece


@lru_cache(maxsize=4)
def _cached(settings_json: str) -> Assistant:
    return Assistant(Settings.model_validate_json(settings_json))


def get_assistant(settings: Settings) -> Assistant:
    """One Assistant per distinct settings in a process (the model and indexes load once)."""
    return _cached(settings.model_dump_json())
