"""The extractive backend: pick the evidence units that answer the question, cite them, or refuse."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.retrieve import Filters, HybridRetriever
from rag.terms import question_concepts, tokenize
from rag.types import Answer, Citation, Passage

# Calibrated on the whole dev gold set (eval/calibrate_refusal.py); see README, "Answering and refusing".
MIN_COVERAGE = 0.35  # share of the question's (idf-weighted) concepts the best evidence must contain
ABSENCE_MARGIN = 0.05  # a "the source does not say" unit wins when it covers this much more
LEXICAL_WEIGHT = 0.6  # weight of term coverage against embedding similarity when ranking units
ANSWER_TYPE_BONUS = 0.15  # for a unit holding the kind of answer asked for (a date for "when")
NAMED_DOCUMENT_BONUS = 0.3  # for units of the document the question names by its number
RANK_PENALTY = 0.02  # per rank of the unit's passage in the fused retrieval
CARRIED_WEIGHT = 0.5  # concepts carried over from the previous question in a conversation
CONTEXT_CREDIT = 0.5  # a concept found only in the unit's headings or title counts half
MAX_UNITS = 3
SECOND_UNIT_RATIO = 0.6  # a further unit must score at least this share of the best one
LIST_ITEMS = 4  # list items that follow a unit ending in a colon
SHORT_UNIT_WORDS = 8  # a shorter sentence is followed by the next one, to make sense
MAX_GAP = 8  # characters between two units of one passage ("\n- ", "** "); a heading is longer

Weights = dict[tuple[str, ...], float]  # question concept (a term and its alternatives) -> weight

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


# Not \b: in "增设K字签证" the K follows a Chinese character, which counts as a word character.
_VISA_CLASS = re.compile(r"(?<![A-Za-z0-9-])(?:H-1B|([A-Z]\d?)(?:\s*字)?\s*(?:visas?\b|签证))")


def visa_classes(text: str) -> frozenset[str]:
    """Visa classes a text names ("K visa", "K字签证", "H-1B", "B visas")."""
    return frozenset(m.group(1) or "H-1B" for m in _VISA_CLASS.finditer(text))


# What kind of answer a question asks for, and how to recognise it in a unit. Matching the expected
# type is a classic QA signal: "when" wants a date, "how many" wants a number.
_MONTHS = r"(January|February|March|April|May|June|July|August|September|October|November|December)"
_ANSWER_TYPES = {
    "date": (re.compile(r"^\s*(?:(?:and|so|then|but)\s+)?(when|what date|by when|until when)\b"
                        r"|什么时候|何时|哪天|哪一天|日期|哪年", re.I),
             re.compile(_MONTHS + r"\s+\d{1,2}|\d{4}年\d{1,2}月|\d{4}-\d{2}-\d{2}|\b(19|20)\d{2}\b")),
    "number": (re.compile(r"\b(how (many|much|long)|what (percentage|share|number|amount))\b|多少|几", re.I),
               re.compile(r"\d")),
}


def document_numbers(text: str) -> set[str]:
    """Numbers that name a document ("Proclamation 10973", "第814号"): three digits or more, not a year."""
    return {n for n in re.findall(r"\d{3,}", text) if not re.fullmatch(r"(19|20)\d\d", n)}


def expected_answer_type(question: str) -> str | None:
    return next((name for name, (asks, _) in _ANSWER_TYPES.items() if asks.search(question)), None)


@dataclass
class Evidence:
    """One evidence unit of a retrieved passage, scored against the question."""

    text: str
    metadata: dict[str, Any]
    vector: np.ndarray
    passage: Passage
    rank: int
    terms: frozenset[str]  # of the unit's own text
    context_terms: frozenset[str]  # of its table header, section path and document title
    similarity: float = 0.0
    coverage: float = 0.0
    score: float = 0.0

    @property
    def paragraph(self) -> str:
        """The line (paragraph or list item) of the passage that holds this unit."""
        text, offset = self.passage.text, max(0, self.metadata["start"] - self.passage.start)
        start, end = text.rfind("\n", 0, offset) + 1, text.find("\n", offset)
        return text[start : end if end >= 0 else len(text)]

    def conflicts_with(self, asked: frozenset[str]) -> bool:
        """True when the unit is about another visa class than the one asked about. A sentence that
        names none ("the fee increase aims ...") is about what its paragraph names."""
        named = visa_classes(self.text) or visa_classes(self.paragraph)
        return bool(asked and named and asked.isdisjoint(named))

    @property
    def is_absence(self) -> bool:
        return bool(_ABSENCE.search(self.text)) or "not stated" in self.metadata.get("section", "").lower()


def _covers(concept: tuple[str, ...], words: frozenset[str]) -> bool:
    return any(_matches(term, words) for term in concept)


def _matches(term: str, words: frozenset[str]) -> bool:
    """Exact match, or the same word stem ('effect' ~ 'effective', 'exempted' ~ 'exemptions')."""
    if term in words:
        return True
    if len(term) < 4 or any(ch.isdigit() for ch in term) or not term.isascii():
        return False
    return any(_shared_stem(term, word) for word in words)


def _shared_stem(a: str, b: str) -> bool:
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= max(4, 0.75 * min(len(a), len(b)))


class ExtractiveAnswerer:
    """Deterministic answers composed of the best-supported evidence units, each with its citation."""

    def __init__(self, retriever: HybridRetriever) -> None:
        self.retriever = retriever

    def answer(self, question: str, query: str, top_k: int, filters: Filters | None = None) -> Answer:
        started = time.perf_counter()
        passages, query_vector = self.retriever.retrieve(query, top_k, filters)
        retrieved_at = time.perf_counter()
        weights = self._term_weights(question, query)
        if query != question:
            # A follow-up retrieves with the earlier subject, but the new question says what to pick.
            query_vector = self.retriever.embedder.encode_query(question)
        evidence = self._score(self._evidence(passages), query_vector, weights, expected_answer_type(question))
        answer = self._compose(question, evidence, weights)
        answer.retrieved = passages
        answer.timings = {"retrieve": (retrieved_at - started) * 1000,
                          "answer": (time.perf_counter() - retrieved_at) * 1000}
        return answer

    def _term_weights(self, question: str, query: str | None = None) -> Weights:
        """Each concept of the question (a term and its glossary alternatives) weighted by its rarity.

        A follow-up's query also holds the previous question: its extra concepts count for less, so
        "And when does it take effect?" looks for a date of the earlier subject, not the earlier answer.
        """
        lexical = self.retriever.lexical
        own = question_concepts(question)
        weights = {alts: max(lexical.idf(t) for t in alts) for alts in own.values()}
        for term, alts in question_concepts(query or question).items():
            if term not in own:
                weights[alts] = CARRIED_WEIGHT * max(lexical.idf(t) for t in alts)
        return weights

    def _evidence(self, passages: list[Passage]) -> list[Evidence]:
        """Units of the retrieved passages; a unit shared by overlapping chunks is kept once, at its best rank."""
        by_chunk = {p.chunk_id: (rank, p) for rank, p in enumerate(passages)}
        units = sorted(self.retriever.store.units_of(list(by_chunk)), key=lambda u: by_chunk[u[2]["chunk_id"]][0])
        seen: set[tuple[str, int]] = set()
        out = []
        for _, text, meta, vector in units:
            if (meta["doc_id"], meta["start"]) in seen:
                continue
            seen.add((meta["doc_id"], meta["start"]))
            rank, passage = by_chunk[meta["chunk_id"]]
            context = f"{meta.get('header', '')} {meta.get('section', '')} {passage.title}"
            out.append(Evidence(text, meta, vector, passage, rank, frozenset(tokenize(text)),
                                frozenset(tokenize(context))))
        return out

    @staticmethod
    def _coverage(weights: Weights, item: Evidence) -> float:
        """Weighted share of the question's concepts found in the unit (half credit for its headings)."""
        total = sum(weights.values()) or 1.0
        found = 0.0
        for concept, weight in weights.items():
            if _covers(concept, item.terms):
                found += weight
            elif _covers(concept, item.context_terms):
                found += CONTEXT_CREDIT * weight
        return found / total

    def _score(self, evidence: list[Evidence], query_vector: np.ndarray, weights: Weights,
               answer_type: str | None = None) -> list[Evidence]:
        shape = _ANSWER_TYPES[answer_type][1] if answer_type else None
        identifiers = document_numbers(" ".join(c[0] for c in weights))
        for item in evidence:
            item.similarity = float(item.vector @ query_vector)
            item.coverage = self._coverage(weights, item)
            typed = ANSWER_TYPE_BONUS if shape is not None and shape.search(item.text) else 0.0
            named = NAMED_DOCUMENT_BONUS if identifiers & set(tokenize(item.passage.title)) else 0.0
            item.score = (item.similarity + LEXICAL_WEIGHT * item.coverage + typed + named
                          - RANK_PENALTY * item.rank)
        return sorted(evidence, key=lambda e: e.score, reverse=True)

    def _select(self, evidence: list[Evidence], weights: Weights) -> list[Evidence]:
        """The best unit, then units that add question terms the answer does not cover yet."""
        chosen = [evidence[0]]
        covered = {c for c in weights if _covers(c, evidence[0].terms)}
        for item in evidence[1:]:
            if len(chosen) == MAX_UNITS or item.score < SECOND_UNIT_RATIO * chosen[0].score:
                break
            new = {c for c in weights if c not in covered and _covers(c, item.terms)}
            gain = sum(weights[t] for t in new) / (sum(weights.values()) or 1.0)
            if gain >= 0.1 and not item.is_absence:
                chosen.append(item)
                covered |= new
        return sorted(chosen, key=lambda e: (e.rank, e.metadata.get("start", 0)))

    def _compose(self, question: str, evidence: list[Evidence], weights: Weights) -> Answer:
        zh = any("\u4e00" <= ch <= "\u9fff" for ch in question)
        if not evidence:
            return Answer(question, REFUSAL_ZH if zh else REFUSAL, refused=True)
        answers, absences = split_evidence(question, evidence)
        best_answer = max((e.coverage for e in answers), default=0.0)
        best_absence = max(absences, key=lambda e: e.coverage, default=None)
        absence_coverage = best_absence.coverage if best_absence else 0.0
        if should_refuse(best_answer, absence_coverage, MIN_COVERAGE, ABSENCE_MARGIN):
            return self._refuse(question, zh, [best_absence] if best_absence and absence_coverage > best_answer else [])
        lacking = _only_said_missing(weights, answers, absences)
        if lacking is not None:
            return self._refuse(question, zh, [lacking])
        chosen = self._with_continuations(self._select(answers, weights), evidence)
        answer = self._cite(question, chosen, refused=False)
        answer.confidence = min(1.0, best_answer)  # the question's share covered: the ranking risk-coverage needs
        return answer

    def _with_continuations(self, chosen: list[Evidence], evidence: list[Evidence]) -> list[Evidence]:
        """Complete units that only introduce their answer: "...three kinds of people:" takes its list items,
        and a sentence takes the next one of its paragraph when that one speaks to the question too."""
        out: list[Evidence] = []
        for item in chosen:
            out.append(item)
            following = self._following(item, evidence)
            if item.text.rstrip().endswith((":", "：")):
                out.extend(e for e in _next_lines(following, LIST_ITEMS) if e not in out and e not in chosen)
            elif following and following[0] not in chosen and following[0] not in out and (
                len(item.text.split()) < SHORT_UNIT_WORDS or not following[0].metadata.get("line_start", True)
            ) and not following[0].is_absence and following[0].coverage > 0:
                out.append(following[0])
        return out

    def _following(self, item: Evidence, evidence: list[Evidence]) -> list[Evidence]:
        """The units right after `item` in its document, reaching into the next chunk when a list runs on."""
        start = item.metadata["start"]
        after = [e for e in evidence if e.passage.doc_id == item.passage.doc_id and e.metadata["start"] > start]
        following = _contiguous(item, after)
        prefix, index = item.metadata["chunk_id"].rsplit(":", 1)
        successor = self.retriever.lexical.by_id.get(f"{prefix}:{int(index) + 1:04d}")
        if successor is not None and len(following) < LIST_ITEMS:
            known = {e.metadata["start"] for e in after}
            extra = self._evidence([self.retriever.passage_of(successor)])
            following = _contiguous(item, after + [e for e in extra if e.metadata["start"] not in known])
        return following

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


def split_evidence(question: str, evidence: list[Evidence]) -> tuple[list[Evidence], list[Evidence]]:
    """The units about the visa class asked for, split into answering units and "not stated" units."""
    asked = visa_classes(question)
    relevant = [e for e in evidence if not e.conflicts_with(asked)]
    return [e for e in relevant if not e.is_absence], [e for e in relevant if e.is_absence]


def _key_concepts(weights: Weights) -> Weights:
    """The concepts that weigh at least the average: what the question is really about."""
    if not weights:
        return {}
    mean = sum(weights.values()) / len(weights)
    return {c: w for c, w in weights.items() if w >= mean}


def _only_said_missing(weights: Weights, answers: list[Evidence], absences: list[Evidence]) -> Evidence | None:
    """An absence unit naming a key concept of the question that no answering unit mentions.

    "What is the K visa fee?": the only evidence that says "fee" is "no visa fee ... in figures".
    """
    mentioned = {c for c in weights for e in answers if _covers(c, e.terms)}
    key = set(_key_concepts(weights))
    for unit in sorted(absences, key=lambda e: e.score, reverse=True):
        if any(_covers(c, unit.terms) for c in key - mentioned):
            return unit
    return None


def should_refuse(answer_coverage: float, absence_coverage: float, min_coverage: float, margin: float) -> bool:
    """Refuse when no unit covers enough of the question, or a "the source does not say" unit covers more."""
    if absence_coverage >= min_coverage and absence_coverage > answer_coverage + margin:
        return True
    return answer_coverage < min_coverage


def _contiguous(item: Evidence, units: list[Evidence]) -> list[Evidence]:
    """The run of units that follows `item` without a gap (only a line break or a list marker between)."""
    run, end = [], item.metadata["end"]
    for unit in sorted(units, key=lambda e: e.metadata["start"]):
        if unit.metadata["start"] <= end:
            continue
        if unit.metadata["start"] - end > MAX_GAP:
            break
        run.append(unit)
        end = unit.metadata["end"]
    return run


def _next_lines(units: list[Evidence], lines: int) -> list[Evidence]:
    """The units of the next `lines` lines (a list item may hold several sentences)."""
    out: list[Evidence] = []
    for unit in units:
        if unit.metadata.get("line_start", True):
            lines -= 1
            if lines < 0:
                break
        out.append(unit)
    return out


def _render(item: Evidence) -> str:
    """A unit as answer prose: table rows become 'row label: value' with their column names."""
    if item.metadata.get("kind") != "table_row":
        return re.sub(r"\*\*|__", "", item.text).strip()
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
