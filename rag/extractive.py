"""The extractive backend: analyse, retrieve, score, decide, compose — an answer quoted from the corpus."""

from __future__ import annotations

import time
from dataclasses import replace

from kvisa.settings import Settings
from rag.compare import compare
from rag.compose import completed, compose, compose_table
from rag.decide import Decision, decide
from rag.question import Question, analyse, with_context
from rag.retrieve import Evidence, Filters, HybridRetriever, Retrieved, with_sentence_before
from rag.score import ScoredUnit, Scorer, score_units
from rag.shapes import REQUIRED_SHAPES, has_shape
from rag.types import Answer


class ExtractiveAnswerer:
    """Deterministic answers made of the corpus's own sentences, each with its citation, or a plain refusal."""

    def __init__(self, retriever: HybridRetriever, settings: Settings) -> None:
        self.retriever = retriever
        self.tuning = settings.answering
        self.scorer = Scorer.load(self.tuning.scorer_path)

    def answer(self, question: str, query: str, top_k: int, filters: Filters | None = None) -> Answer:
        """Answer `question`; `query` is what to retrieve with (a follow-up carries the earlier subject)."""
        started = time.perf_counter()
        analysed = analyse(question) if query == question else with_context(analyse(question), query)
        retrieved = self.retriever.evidence(query, top_k, filters, unit_query=question)
        retrieved_at = time.perf_counter()
        answer = None
        if analysed.answer_type == "comparison":
            rows = compare(analysed, lambda q: self._find(analysed, q, retrieved, top_k, filters))
            if rows:  # every cell is a unit about its subject that speaks of the aspect (rag/compare.py)
                answer = compose_table(analysed, rows)
        if answer is None:
            parts = analysed.parts or (analysed,)
            decisions = []
            for part in parts:
                # Each part of a two-part question is retrieved on its own: a passage that answers the second
                # part ranks low for the whole question, and its rank would count against it.
                pool = retrieved if len(parts) == 1 else self.retriever.evidence(part.search_text, top_k, filters)
                decisions.append(self.decide(part, pool, top_k))
            if analysed.answer_type == "comparison" and not all(d.answered for d in decisions):
                # One side alone compares nothing: the question is refused, the closest passage shown.
                decisions = [replace(d, answered=False) for d in decisions]
            answer = compose(analysed, decisions, self.read_on, self.tuning.list_items, self.tuning.max_words)
        # Cited passages found through the unit index count as retrieved, after the ranked ones.
        ranked = {p.chunk_id for p in retrieved.passages}
        answer.retrieved = retrieved.passages + [p for p in answer.retrieved if p.chunk_id not in ranked]
        answer.timings = {"retrieve": (retrieved_at - started) * 1000,
                          "answer": (time.perf_counter() - retrieved_at) * 1000}
        return answer

    def candidates(self, question: Question, retrieved: Retrieved, top_k: int) -> list[ScoredUnit]:
        """Every candidate unit scored for the question, best first (also what the scorer is trained on). A
        unit that states the kind of thing asked for is a candidate with the sentence before it, too."""
        units = retrieved.units
        if question.answer_type in REQUIRED_SHAPES:
            units = units + [joined for u in units if has_shape(question.answer_type, u.text)
                             and (joined := with_sentence_before(u)) is not None]
        return score_units(question, units, retrieved.query_vector, self.retriever.lexical.idf,
                           self.scorer, top_k, self.complete)

    def decide(self, question: Question, retrieved: Retrieved, top_k: int) -> Decision:
        """Score the candidates for one question (or part) and decide whether and how to answer it."""
        return decide(question, self.candidates(question, retrieved, top_k), self.scorer, self.tuning)

    def _find(self, question: Question, query: str, retrieved: Retrieved, top_k: int,
              filters: Filters | None) -> list[ScoredUnit]:
        """Units for one cell of a comparison table: BM25 over the unit index, scored for the question."""
        units = self.retriever.lexical_units(query, self.tuning.unit_candidates, filters)
        return score_units(question, units, retrieved.query_vector, self.retriever.lexical.idf, self.scorer, top_k,
                           self.complete)

    def complete(self, unit: Evidence) -> Evidence:
        """The unit as an answer would quote it (a list's introduction with its items)."""
        return completed(unit, self.read_on, self.tuning.list_items, self.tuning.max_words)

    def read_on(self, unit: Evidence, n: int) -> list[Evidence]:
        following = self.retriever.lexical.following(unit, n, self.tuning.max_gap)
        return [self.retriever.evidence_of(u) for u in following]
