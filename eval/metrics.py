"""Evaluation metrics: key-fact matching, per-item scores of an Answer against a GoldItem, and the summary."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from eval.gold import GoldItem
from rag.types import Answer, Citation
from rag.verify import answer_sentences, citation_numbers, is_absence, strip_markers

SUMMARY_KEYS = (
    "n_items", "n_answerable", "n_unanswerable",
    "answer_accuracy", "key_fact_recall", "refusal_accuracy", "false_refusal_rate",
    "citation_precision", "citation_recall", "supported_sentence_rate",
    "hit_at_5", "mrr", "token_f1", "latency_ms_p50", "latency_ms_p95",
    # Added later, after the first 15 so older results.json files keep their columns in order.
    "selective_precision", "answer_words_p50",
)
SHORT_FACT = 3  # facts this short (after normalising) must match a whole token: "Z", "X1", "12"

_CJK = "\u3400-\u9fff\uf900-\ufaff"
_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−"), "-")
_QUOTES = {ord("‘"): "'", ord("’"): "'", ord("“"): '"', ord("”"): '"'}
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_PERCENT = re.compile(r"\s*(?:\bper\s*cent\b|\bpercent\b|%)")
_SPACE_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}_]+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_WORD_CHAR = re.compile(r"[^\W_]")
CJK_CHARS_PER_WORD = 2  # a Chinese word is about two characters, so a Chinese answer's length compares with English
_STOPWORDS = frozenset({"a", "an", "the"})  # as in the SQuAD answer F1


def normalize(text: str) -> str:
    """Case, Unicode (NFKC), dashes and quotes, whitespace, thousands separators and percent folded."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_DASHES).translate(_QUOTES)
    text = _THOUSANDS.sub("", text)
    text = _PERCENT.sub("%", text)
    text = re.sub(r"\s+", " ", text).strip()
    return _SPACE_NEAR_CJK.sub("", text)


def _bounded(text: str, start: int, end: int, fact: str) -> bool:
    """True when text[start:end] (equal to `fact`) is not a piece of a longer number or short word."""
    before, after = text[start - 1] if start else "", text[end] if end < len(text) else ""
    if fact[0].isdigit() and (before.isdigit() or (before == "." and start > 1 and text[start - 2].isdigit())):
        return False
    if fact[-1].isdigit() and (after.isdigit() or (after == "." and text[end + 1:end + 2].isdigit())):
        return False
    if len(fact) <= SHORT_FACT:
        latin = re.compile(rf"[^\W{_CJK}_]")
        if latin.match(fact[0]) and latin.match(before or " "):
            return False
        if latin.match(fact[-1]) and latin.match(after or " "):
            return False
    return True


def fact_present(fact: str, text: str) -> bool:
    """Is the key fact stated in the text? Numbers never match inside longer numbers ("12" vs "2012"),
    and short facts only as whole tokens ("Z" is not in "Zhang")."""
    fact, text = normalize(fact), normalize(text)
    if not fact:
        return True
    start = text.find(fact)
    while start >= 0:
        if _bounded(text, start, start + len(fact), fact):
            return True
        start = text.find(fact, start + 1)
    return False


def tokens(text: str) -> list[str]:
    """Chinese by character, other scripts by word; punctuation and English articles dropped."""
    return [t for t in _TOKEN.findall(normalize(strip_markers(text))) if t not in _STOPWORDS]


def token_f1(prediction: str, reference: str) -> float:
    pred, ref = tokens(prediction), tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def answer_words(text: str) -> float:
    """The length of an answer's prose in words: whitespace-separated tokens holding a letter or digit, plus
    Chinese characters at CJK_CHARS_PER_WORD a word. Citation markers and Markdown table lines (a comparison
    table's rows) are not prose and are left out."""
    prose = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("|"))
    prose = strip_markers(prose)
    latin = sum(1 for t in _CJK_CHAR.sub(" ", prose).split() if _WORD_CHAR.search(t))
    return latin + len(_CJK_CHAR.findall(prose)) / CJK_CHARS_PER_WORD


def ranked_documents(answer: Answer) -> list[str]:
    """Documents of the retrieved chunks in rank order, each kept at its first rank."""
    return list(dict.fromkeys(p.doc_id for p in answer.retrieved))


def reciprocal_rank(ranked: Sequence[str], sources: Iterable[str]) -> float:
    gold = set(sources)
    return next((1.0 / rank for rank, doc in enumerate(ranked, start=1) if doc in gold), 0.0)


def cited_sentences(answer: Answer) -> list[tuple[str, list[int]]]:
    """Each answer sentence that states something, without markers, with the citation numbers that cover it.
    A marker covers its own sentence and the unmarked sentences just before it ("A. B [1]." cites [1]
    for both); sentences after the last marker cite nothing. Sentences saying the sources do not answer
    assert no fact and are left out."""
    out: list[tuple[str, list[int]]] = []
    pending: list[str] = []
    for sentence in answer_sentences(answer.text):
        numbers = citation_numbers(sentence)
        plain = strip_markers(sentence)
        if _TOKEN.search(plain) and not is_absence(plain):
            pending.append(plain)
        if numbers:
            out.extend((p, numbers) for p in pending)
            pending = []
    return out + [(p, []) for p in pending]


SupportFn = Callable[[str, Citation], bool]


def sentence_support(answer: Answer, supports: SupportFn) -> tuple[int, int]:
    """(supported, total) sentences of a given answer: a sentence counts as supported when one of the
    passages it cites supports it; a sentence citing nothing is unsupported."""
    if answer.refused:
        return 0, 0  # a refusal asserts nothing about the corpus that needs support
    by_number = {c.n: c for c in answer.citations}
    pairs = cited_sentences(answer)
    supported = sum(
        1 for sentence, numbers in pairs
        if any(n in by_number and supports(sentence, by_number[n]) for n in numbers)
    )
    return supported, len(pairs)


@dataclass
class ItemScore:
    """The metrics of one gold item's answer. None means "does not apply to this item"."""

    correct: bool  # answerable: every key fact and not refused; unanswerable: refused
    key_fact_recall: float | None = None
    facts_missing: list[str] = field(default_factory=list)
    citation_precision: float | None = None
    citation_recall: float | None = None
    n_citations: int = 0
    n_citations_on_source: int = 0
    supported_sentences: int = 0
    answer_sentences: int = 0
    hit_at_5: float | None = None
    reciprocal_rank: float | None = None
    token_f1: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


def score_item(item: GoldItem, answer: Answer, supports: SupportFn) -> ItemScore:
    """Score one answer against its gold item."""
    supported, total = sentence_support(answer, supports)
    if not item.answerable:
        return ItemScore(correct=answer.refused, supported_sentences=supported, answer_sentences=total)
    missing = [f for f in item.key_facts if not fact_present(f, strip_markers(answer.full_text))]
    recall = 1 - len(missing) / len(item.key_facts)
    cited_docs = [c.doc_id for c in answer.citations]
    on_source = sum(1 for d in cited_docs if d in item.sources)
    ranked = ranked_documents(answer)
    return ItemScore(
        correct=not answer.refused and not missing,
        key_fact_recall=recall,
        facts_missing=missing,
        citation_precision=on_source / len(cited_docs) if cited_docs else None,
        citation_recall=len(set(cited_docs) & set(item.sources)) / len(set(item.sources)),
        n_citations=len(cited_docs),
        n_citations_on_source=on_source,
        supported_sentences=supported,
        answer_sentences=total,
        hit_at_5=float(any(d in item.sources for d in ranked[:5])),
        reciprocal_rank=reciprocal_rank(ranked, item.sources),
        token_f1=token_f1(answer.text, item.answer),
    )


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(items: Sequence[GoldItem], answers: Sequence[Answer], scores: Sequence[ItemScore],
              latencies_ms: Sequence[float]) -> dict[str, Any]:
    """The summary with exactly SUMMARY_KEYS. Rates are in 0..1; a rate with no items to count is None."""
    answerable = [(i, a, s) for i, a, s in zip(items, answers, scores, strict=True) if i.answerable]
    unanswerable = [(i, a, s) for i, a, s in zip(items, answers, scores, strict=True) if not i.answerable]
    summary: dict[str, Any] = {
        "n_items": len(items),
        "n_answerable": len(answerable),
        "n_unanswerable": len(unanswerable),
        "answer_accuracy": _mean(float(s.correct) for _, _, s in answerable),
        "key_fact_recall": _mean(s.key_fact_recall or 0.0 for _, _, s in answerable),
        "refusal_accuracy": _mean(float(a.refused) for _, a, _ in unanswerable),
        "false_refusal_rate": _mean(float(a.refused) for _, a, _ in answerable),
        "citation_precision": _ratio(sum(s.n_citations_on_source for _, _, s in answerable),
                                     sum(s.n_citations for _, _, s in answerable)),
        "citation_recall": _mean(s.citation_recall or 0.0 for _, _, s in answerable),
        "supported_sentence_rate": _ratio(sum(s.supported_sentences for s in scores),
                                          sum(s.answer_sentences for s in scores)),
        "hit_at_5": _mean(s.hit_at_5 or 0.0 for _, _, s in answerable),
        "mrr": _mean(s.reciprocal_rank or 0.0 for _, _, s in answerable),
        "token_f1": _mean(s.token_f1 or 0.0 for _, _, s in answerable),
        "latency_ms_p50": percentile(latencies_ms, 50),
        "latency_ms_p95": percentile(latencies_ms, 95),
        # Of the answers given (not refused), the share that are right: what a user who gets an answer can trust.
        "selective_precision": _ratio(sum(s.correct for a, s in zip(answers, scores, strict=True) if not a.refused),
                                      sum(not a.refused for a in answers)),
        # Refusals are a fixed sentence or two; the median over answers given is what tracks verbosity.
        "answer_words_p50": percentile([answer_words(a.text) for a in answers if not a.refused], 50),
    }
    assert tuple(summary) == SUMMARY_KEYS
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in summary.items()}


class CachingEmbedder:
    """An embedder that encodes each distinct text once: a passage is compared with every sentence citing
    it, and the baseline cites whole long chunks, so re-encoding their sentences would dominate the run."""

    def __init__(self, embedder: Any, max_entries: int = 50_000) -> None:
        self.embedder = embedder
        self.max_entries = max_entries
        self.vectors: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        if len(self.vectors) + len(missing) > self.max_entries:
            self.vectors.clear()
            missing = list(dict.fromkeys(texts))
        if missing:
            self.vectors.update(zip(missing, self.embedder.encode(missing), strict=True))
        return np.stack([self.vectors[t] for t in texts])

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def embedding_support(embedder: Any) -> SupportFn:
    """The supports(sentence, citation) test of rag.verify, bound to an embedder."""
    from rag.verify import SUPPORT_THRESHOLD, support_score

    cached = CachingEmbedder(embedder)

    def supports(sentence: str, citation: Citation) -> bool:
        context = f"{citation.title}\n{citation.section}"  # as rag.verify vouches for a cited passage
        return support_score(sentence, citation.text, cached, context) >= SUPPORT_THRESHOLD

    return supports
