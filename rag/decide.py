"""Deciding: answer a question (or one part of it) with these units, or say the corpus does not answer it."""

from __future__ import annotations

from dataclasses import dataclass, field

from kvisa.settings import AnswerTuning
from rag.names import visa_classes
from rag.question import Question
from rag.score import ScoredUnit, Scorer, answerability_features
from rag.shapes import REQUIRED_SHAPES
from rag.terms import covers, tokenize

# A further unit joins the answer when it scores at least this share of the best one (fitted on train: 0.6
# and 0.8 tie, 0.9 loses right answers; requiring it to add question terms lost more).
SECOND_UNIT_SHARE = 0.8


@dataclass
class Decision:
    """The outcome for one question or part: the units to answer with, or the closest unit and why not."""

    question: Question
    answered: bool
    units: list[ScoredUnit] = field(default_factory=list)  # answer units, or [closest] when not answered
    reason: str = ""  # why it is not answered, in words a user understands
    confidence: float = 0.0
    features: dict[str, float] = field(default_factory=dict)  # the answerability features (for training)
    aside: list[ScoredUnit] = field(default_factory=list)  # other documents' units, shown apart from the answer


def holds_answer(question: Question, unit: ScoredUnit) -> bool:
    """A unit can answer only when it holds the kind of thing asked for, about the thing asked.

    "How long does processing take?" needs a duration in a unit that speaks of processing; a topical
    sentence without a duration, or a duration of something else, is not an answer; nor is a sentence
    saying the source does not give it, nor, for "What is X?", one that mentions X without defining it.
    """
    if unit.features["class_conflict"] or unit.features["absent"]:  # "the notice does not give the fee"
        return False
    if not unit.evidence.terms:  # a connective standing alone ("and"), nothing to say
        return False
    if (question.answer_type in REQUIRED_SHAPES or question.defined or question.members) and not unit.typed:
        return False
    if question.answer_type != "comparison" and question.subjects and not mentions(question.subjects[0], unit):
        return False  # one side of a comparison: the unit must be about that side's subject
    return unit.holds_focus


def mentions(subject: str, unit: ScoredUnit) -> bool:
    """Does the unit, with its section and title, name at least half the words of the subject? (A visa class is
    checked by the class conflict instead.) "The bylaw was posted on ..." is about "the city parking bylaw";
    "The council adopted the pass rules" is not about "the city zoning plan"."""
    words = tokenize(subject)
    if not words or visa_classes(subject):
        return True
    known = unit.evidence.terms | unit.evidence.context_terms
    return 2 * sum(covers((w,), known) for w in words) >= len(words)


def _why_not(question: Question, relevant: list[ScoredUnit]) -> str:
    thing = f"the {question.attribute.text}" if question.attribute else "what is asked"
    kind = question.answer_type
    if kind in REQUIRED_SHAPES and not any(u.typed and u.holds_focus for u in relevant):
        return f"no passage states a {kind.replace('_', ' ')} for {thing}"
    return f"no passage speaks to {thing} closely enough"


def decide(question: Question, scored: list[ScoredUnit], scorer: Scorer, tuning: AnswerTuning) -> Decision:
    """Answer with the best units that hold the answer's type and focus, when the calibrated answerability
    of the best of them reaches the threshold; otherwise say why not, with the closest unit."""
    relevant = [u for u in scored if not u.features["class_conflict"]]
    if not relevant:
        return Decision(question, False, [], "nothing in the corpus is about the visa class asked about")
    eligible = [u for u in relevant if holds_answer(question, u)]
    features = answerability_features(eligible[0].score if eligible else 0.0)
    confidence = scorer.answerability.probability(features) if eligible else 0.0
    if not eligible or confidence < scorer.threshold:
        closest = eligible[0] if eligible else relevant[0]
        return Decision(question, False, [closest], _why_not(question, relevant), confidence, features)
    chosen, aside = _select(question, _own_language_first(question, eligible), tuning)
    return Decision(question, True, chosen, "", confidence, features, aside)


def _own_language_first(question: Question, eligible: list[ScoredUnit]) -> list[ScoredUnit]:
    """A unit in the question's language that scores nearly as well as the best leads the answer: a Chinese
    question is answered from a Chinese page when one says as much (the other stays, after it)."""
    best = eligible[0]
    if best.evidence.passage.language == question.language:
        return eligible
    own = next((u for u in eligible[1:] if u.evidence.passage.language == question.language
                and u.score >= SECOND_UNIT_SHARE * best.score), None)
    return eligible if own is None else [own, *(u for u in eligible if u is not own)]


def _select(question: Question, eligible: list[ScoredUnit],
            tuning: AnswerTuning) -> tuple[list[ScoredUnit], list[ScoredUnit]]:
    """The best unit, then the next ones that score nearly as well, within the answer's word budget; for a
    question about one thing, those from other documents apart."""
    best = eligible[0]
    chosen, aside = [best], []
    # A question about two things ("the K visa and the H-1B") may need two documents. For one about a single
    # thing, another document's sentence is often about something else that shares a word with it, and
    # sometimes holds a fact the answer needs (dropping such sentences lost key facts on unseen questions):
    # it is shown apart, under its document's title.
    single = question.answer_type != "comparison" and len(question.visa_classes) + len(question.named) < 2
    words = len(best.text.split())
    for unit in eligible[1:]:
        if len(chosen) + len(aside) == tuning.max_units:
            break
        if unit.score < SECOND_UNIT_SHARE * best.score:  # units come in ranking order, not probability order
            continue
        if any(_overlap(unit, other) for other in chosen + aside):  # a unit read with its sentence before, say
            continue
        size = len(unit.text.split())
        if words + size > tuning.max_words:
            continue
        words += size
        other = unit.evidence.passage.doc_id != best.evidence.passage.doc_id
        (aside if single and other else chosen).append(unit)
    return chosen, aside


def _overlap(a: ScoredUnit, b: ScoredUnit) -> bool:
    """Do two units quote some of the same text?"""
    x, y = a.evidence, b.evidence
    return x.passage.doc_id == y.passage.doc_id and x.start < y.end and y.start < x.end
