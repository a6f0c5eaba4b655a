"""The generative answer flow: rewrite a follow-up, retrieve, prompt the LLM, stream, verify, cite."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Protocol

from ingest.embedding import Embedder
from kvisa.settings import Settings
from rag.extractive import ExtractiveAnswerer
from rag.followup import is_follow_up
from rag.llm import BackendError, ChatModel, backend_problem, load_chat_model
from rag.prompts import (
    ANSWER_PROMPT,
    HISTORY_TURN_TEMPLATE,
    PASSAGE_TEMPLATE,
    REWRITE_PROMPT,
    REWRITE_SYSTEM_PROMPT,
    SYSTEM_PROMPT,
)
from rag.retrieve import HybridRetriever
from rag.terms import tokenize
from rag.types import Answer, BackendUnavailable, Citation, Passage, Turn
from rag.verify import CheckedSentence, Verified, verify


class Parts(Protocol):
    """What the generative flow needs of the Assistant (a protocol, so neither module imports the other)."""

    settings: Settings
    retriever: HybridRetriever
    embedder: Embedder
    extractive: ExtractiveAnswerer

HISTORY_TURNS = 3  # earlier turns shown to the rewriter
HISTORY_ANSWER_CHARS = 300
MAX_REWRITE_CHARS = 300
PROMPT_BYTES_PER_TOKEN = 3  # conservative: English averages ~4 bytes a token, Chinese 3 bytes a character
_PREFIX = re.compile(r"^\s*(?:rewritten(?: standalone)? question|standalone question|question)\s*:\s*", re.I)


def backend_available(name: str, settings: Settings) -> bool:
    """True when the backend is installed and configured (the model is not loaded here)."""
    return backend_problem(name, settings) is None


def rewrite_question(llm: ChatModel, question: str, history: list[Turn]) -> str:
    """A standalone version of a follow-up question, written by the LLM; key terms carried over if unusable."""
    turns = "\n".join(HISTORY_TURN_TEMPLATE.format(question=t.question, answer=t.answer[:HISTORY_ANSWER_CHARS])
                      for t in history[-HISTORY_TURNS:])
    output = llm.complete([("system", REWRITE_SYSTEM_PROMPT),
                           ("user", REWRITE_PROMPT.format(history=turns, question=question))])
    candidate = _clean_rewrite(output)
    return candidate if usable_rewrite(candidate, question, history) else carry_subject(question, history)


def _clean_rewrite(output: str) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return _PREFIX.sub("", lines[0]).strip(" \"'“”") if lines else ""


def usable_rewrite(candidate: str, question: str, history: list[Turn]) -> bool:
    """A rewrite keeps the question's own terms and, for a follow-up, names the earlier subject."""
    if not candidate or len(candidate) > MAX_REWRITE_CHARS:
        return False
    terms = set(tokenize(candidate))
    own = set(tokenize(question))
    if own and not own & terms:
        return False
    if history and is_follow_up(question):
        return bool((set(tokenize(history[-1].question)) - own) & terms)
    return True


def carry_subject(question: str, history: list[Turn]) -> str:
    """The fallback rewrite: the question plus the key terms of the previous question it does not repeat."""
    if not history:
        return question
    own = set(tokenize(question))
    carried = [t for t in dict.fromkeys(tokenize(history[-1].question)) if t not in own]
    return f"{question} {' '.join(carried)}".strip()


def fit_passages(passages: list[Passage], settings: Settings) -> list[Passage]:
    """The best-ranked passages whose prompt leaves room for the answer in the LLM's context."""
    budget = (settings.llm_context - settings.llm_max_tokens) * PROMPT_BYTES_PER_TOKEN
    budget -= len(SYSTEM_PROMPT.encode()) + len(ANSWER_PROMPT.encode()) + 400  # the question and markers
    shown, used = [], 0
    for passage in passages:
        size = len(_format_passage(len(shown) + 1, passage).encode())
        if shown and used + size > budget:
            break
        shown.append(passage)
        used += size
    return shown


def _format_passage(n: int, passage: Passage) -> str:
    return PASSAGE_TEMPLATE.format(n=n, title=passage.title, section=passage.section or passage.title,
                                   text=passage.prompt_text.strip())


def answer_messages(question: str, passages: list[Passage]) -> list[tuple[str, str]]:
    """System and user messages: the instructions, then the passages numbered [1]..[n] and the question."""
    listed = "\n\n".join(_format_passage(n, p) for n, p in enumerate(passages, start=1))
    return [("system", SYSTEM_PROMPT), ("user", ANSWER_PROMPT.format(passages=listed, question=question))]


def generate_answer(assistant: Parts, question: str, history: list[Turn], backend: str, top_k: int,
                    filters, llm: ChatModel | None = None) -> Iterator[str | Answer]:
    """Yield the LLM's tokens as they come, then the verified Answer (or the extractive one if none survives).

    `llm` replaces the configured backend (used to plant a known text when testing the fallback).
    """
    timings: dict[str, float] = {}
    clock = started = time.perf_counter()
    try:
        llm = llm or load_chat_model(backend, assistant.settings)
        query = question
        if history:
            query = rewrite_question(llm, question, history)
            timings["rewrite"], clock = _lap(clock)
        passages, _ = assistant.retriever.retrieve(query, top_k=top_k, filters=filters)
        timings["retrieve"], clock = _lap(clock)
        shown = fit_passages(passages, assistant.settings)
        pieces: list[str] = []
        for piece in llm.stream(answer_messages(query, shown)) if shown else ():
            pieces.append(piece)
            yield piece
    except BackendError as exc:
        raise BackendUnavailable(str(exc)) from exc
    timings["generate"], clock = _lap(clock)
    verified = verify("".join(pieces), shown, assistant.embedder)
    timings["verify"], clock = _lap(clock)
    answer = build_answer(question, verified, shown, backend)
    if answer is None:  # its retrieved passages are its own: those ranked, then any it cites from the unit index
        answer = assistant.extractive.answer(question, query, top_k=top_k, filters=filters)
        why = (f"nothing in the {backend} answer was supported by the passages it cites" if shown
               else "no passage was retrieved to prompt the model with")
        answer.notes = [*answer.notes, *verified.notes, f"{why}, so this is the extractive answer"]
        timings["extractive"], clock = _lap(clock)
        timings.update({k: v for k, v in answer.timings.items() if k not in timings})
    else:
        answer.retrieved = passages
    answer.timings = {**answer.timings, **timings, "total": (time.perf_counter() - started) * 1000}
    yield answer


def _lap(since: float) -> tuple[float, float]:
    now = time.perf_counter()
    return (now - since) * 1000, now


def build_answer(question: str, verified: Verified, passages: list[Passage], backend: str) -> Answer | None:
    """The Answer made of the kept sentences, citations renumbered 1..m in order of first use; None if empty."""
    kept = verified.kept
    if not verified.supported and not verified.refused:
        return None
    renumber: dict[int, int] = {}
    citations: list[Citation] = []
    sentences = []
    for sentence in kept:
        for n in sentence.supported:
            if n not in renumber:
                renumber[n] = len(renumber) + 1
                citations.append(_citation(renumber[n], passages[n - 1], sentence.quotes[n]))
            else:  # a passage cited again by a later sentence: its span is highlighted too
                for quote in _citation(n, passages[n - 1], sentence.quotes[n]).quotes:
                    citations[renumber[n] - 1].add_quote(quote)
        sentences.append(_with_markers(sentence, renumber))
    return Answer(question, " ".join(sentences), citations, refused=verified.refused, backend=backend,
                  notes=list(verified.notes))


def _citation(n: int, passage: Passage, quote: str) -> Citation:
    at = passage.text.find(quote)
    quote_start = passage.start + at if at >= 0 else 0
    return Citation(n=n, doc_id=passage.doc_id, title=passage.title, section=passage.section, text=passage.text,
                    source_url=passage.source_url, start=passage.start, end=passage.end, quote=quote,
                    quote_start=quote_start, quote_end=quote_start + len(quote) if at >= 0 else 0,
                    language=passage.language)


def _with_markers(sentence: CheckedSentence, renumber: dict[int, int]) -> str:
    """The sentence with its supporting citations, markers before the final punctuation."""
    markers = "".join(f"[{renumber[n]}]" for n in sentence.supported)
    text = sentence.text.rstrip()
    if not markers:
        return text
    if text and text[-1] in ".!?。！？":
        return f"{text[:-1]} {markers}{text[-1]}"
    return f"{text} {markers}"
