"""The extractive backend: pick the evidence units that answer the question, cite them, or refuse."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.retrieve import Filters, HybridRetriever
from rag.terms import expand_terms, tokenize
from rag.types import Answer, Citation, Passage

# Calibrated on the whole dev gold set (eval/calibrate_refusal.py); see README "Refusal".
MIN_COVERAGE = 0.55  # share of the question's (idf-weighted) terms the best evidence must contain
ABSENCE_MARGIN = 0.0  # an "absence" statement wins when it covers at least this much more
LEXICAL_WEIGHT = 0.6  # weight of term coverage against embedding similarity when ranking units
MAX_UNITS = 3
SECOND_UNIT_RATIO = 0.75  # a further unit must score at least this share of the best one

REFUSAL = "The corpus does not answer this question."
REFUSAL_ZH = "语料库中没有这个问题的答案。"

# Sentences in which a source says what it does not contain. When the best evidence for a question is
# one of these, the honest answer is a refusal that cites it.
_ABSENCE = re.compile(
    r"\b(not (stated|given|specified|available|stored|defined|reproduced|confirmed|in the stored)"
    r"|cannot (say|answer|be confirmed|confirm|provide)|gives? no|no (actual |numeric(al)? )?(numbers?|figures?|list|"
    r"age figure|minimum|maximum)|missing|unavailable|is silent|breaks off|cut off|"
    r"(does|do) not (say|give|state|specify|define|reproduce|name|include|themselves mention))\b"
    r"|未(写出|保存|提供)|无法提供|中断|并未",
    re.IGNORECASE,
)


@dataclass
class Evidence:
    """One evidence unit of a retrieved passage, scored against the question."""

    text: str
    metadata: dict[str, Any]
    vector: np.ndarray
    passage: Passage
    rank: int
    terms: frozenset[str]
    similarity: float = 0.0
    coverage: float = 0.0
    score: float = 0.0

    @property
    def is_absence(self) -> bool:
        return bool(_ABSENCE.search(self.text)) or "not stated" in self.metadata.get("section", "").lower()


def _matches(term: str, words: frozenset[str]) -> bool:
    """Exact match, or a shared stem ('effect' ~ 'effective', 'require' ~ 'requirement')."""
    if term in words:
        return True
    if len(term) < 4 or any(ch.isdigit() for ch in term):
        return False
    return any(
        len(w) >= 4
        and (w.startswith(term) or term.startswith(w))
        and min(len(w), len(term)) >= 0.6 * max(len(w), len(term))
        for w in words
    )


class ExtractiveAnswerer:
    """Deterministic answers composed of the best-supported evidence units, each with its citation."""

    def __init__(self, retriever: HybridRetriever) -> None:
        self.retriever = retriever

    def answer(self, question: str, query: str, top_k: int, filters: Filters | None = None) -> Answer:
        started = time.perf_counter()
        passages, query_vector = self.retriever.retrieve(query, top_k, filters)
        retrieved_at = time.perf_counter()
        weights = self._term_weights(query)
        evidence = self._score(self._evidence(passages), query_vector, weights)
        answer = self._compose(question, evidence, weights)
        answer.retrieved = passages
        answer.timings = {"retrieve": (retrieved_at - started) * 1000,
                          "answer": (time.perf_counter() - retrieved_at) * 1000}
        return answer

    def _term_weights(self, query: str) -> dict[str, float]:
        lexical = self.retriever.lexical
        return {t: lexical.idf(t) for t in dict.fromkeys(expand_terms(tokenize(query)))}

    def _evidence(self, passages: list[Passage]) -> list[Evidence]:
        by_chunk = {p.chunk_id: (rank, p) for rank, p in enumerate(passages)}
        out = []
        for _, text, meta, vector in self.retriever.store.units_of(list(by_chunk)):
            rank, passage = by_chunk[meta["chunk_id"]]
            context = f"{meta.get('header', '')} {meta.get('section', '')} {passage.title}"
            terms = frozenset(tokenize(text)) | frozenset(tokenize(context))
            out.append(Evidence(text, meta, vector, passage, rank, terms))
        return out

    @staticmethod
    def _coverage(weights: dict[str, float], terms: frozenset[str]) -> float:
        total = sum(weights.values()) or 1.0
        return sum(w for t, w in weights.items() if _matches(t, terms)) / total

    def _score(self, evidence: list[Evidence], query_vector: np.ndarray, weights: dict[str, float]) -> list[Evidence]:
        for item in evidence:
            item.similarity = float(item.vector @ query_vector)
            item.coverage = self._coverage(weights, item.terms)
            item.score = item.similarity + LEXICAL_WEIGHT * item.coverage - 0.02 * item.rank
        return sorted(evidence, key=lambda e: e.score, reverse=True)

    def _select(self, evidence: list[Evidence], weights: dict[str, float]) -> list[Evidence]:
        """The best unit, then units that add question terms the answer does not cover yet."""
        chosen = [evidence[0]]
        covered = {t for t in weights if _matches(t, evidence[0].terms)}
        for item in evidence[1:]:
            if len(chosen) == MAX_UNITS or item.score < SECOND_UNIT_RATIO * chosen[0].score:
                break
            new = {t for t in weights if t not in covered and _matches(t, item.terms)}
            gain = sum(weights[t] for t in new) / (sum(weights.values()) or 1.0)
            if gain >= 0.1 and not item.is_absence:
                chosen.append(item)
                covered |= new
        return sorted(chosen, key=lambda e: (e.rank, e.metadata.get("start", 0)))

    def _compose(self, question: str, evidence: list[Evidence], weights: dict[str, float]) -> Answer:
        zh = any("\u4e00" <= ch <= "\u9fff" for ch in question)
        if not evidence:
            return Answer(question, REFUSAL_ZH if zh else REFUSAL, refused=True)
        answers = [e for e in evidence if not e.is_absence]
        absences = [e for e in evidence if e.is_absence]
        best_answer = max((e.coverage for e in answers), default=0.0)
        best_absence = max(absences, key=lambda e: e.coverage, default=None)
        if best_absence is not None and best_absence.coverage > best_answer + ABSENCE_MARGIN \
                and best_absence.coverage >= MIN_COVERAGE:
            return self._refuse(question, zh, [best_absence])
        if best_answer < MIN_COVERAGE:
            return self._refuse(question, zh, [])
        return self._cite(question, self._select(answers, weights), refused=False)

    def _refuse(self, question: str, zh: bool, grounds: list[Evidence]) -> Answer:
        if not grounds:
            return Answer(question, REFUSAL_ZH if zh else REFUSAL, refused=True)
        cited = self._cite(question, grounds, refused=True)
        cited.text = f"{REFUSAL_ZH if zh else REFUSAL} {cited.text}"
        return cited

    def _cite(self, question: str, chosen: list[Evidence], refused: bool) -> Answer:
        citations: dict[str, Citation] = {}
        sentences = []
        for item in chosen:
            passage = item.passage
            if passage.chunk_id not in citations:
                citations[passage.chunk_id] = Citation(
                    n=len(citations) + 1, doc_id=passage.doc_id, title=passage.title, section=passage.section,
                    text=passage.text, source_url=passage.source_url, start=passage.start, end=passage.end,
                    quote=item.text, quote_start=int(item.metadata["start"]), quote_end=int(item.metadata["end"]),
                    language=passage.language,
                )
            sentences.append(_with_marker(_render(item), citations[passage.chunk_id].n))
        return Answer(question, " ".join(sentences), list(citations.values()), refused=refused)


def _render(item: Evidence) -> str:
    """A unit as answer prose: table rows become 'row label: value' with their column names."""
    if item.metadata.get("kind") != "table_row":
        return item.text
    cells = [c.strip() for c in item.text.strip().strip("|").split("|")]
    header = [c.strip() for c in item.metadata.get("header", "").strip().strip("|").split("|")]
    if len(cells) == 2:
        return f"{cells[0]}: {cells[1]}"
    pairs = "; ".join(f"{h}: {c}" for h, c in zip(header[1:], cells[1:], strict=False) if c)
    return f"{cells[0]} — {pairs}"


def _with_marker(sentence: str, n: int) -> str:
    """Put the citation marker before the sentence's final punctuation."""
    sentence = sentence.rstrip()
    if sentence and sentence[-1] in ".!?。！？":
        return f"{sentence[:-1]} [{n}]{sentence[-1]}"
    return f"{sentence} [{n}]"
