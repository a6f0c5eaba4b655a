"""Unit-level language signals the scorer and the decision use, on made-up sentences."""

from __future__ import annotations

import numpy as np
import pytest

from rag.question import analyse
from rag.retrieve import Evidence
from rag.score import Logistic, Ranking, Scorer, classes_of, features_of, score_units
from rag.terms import says_absent, tokenize
from rag.types import Passage


@pytest.mark.parametrize(("text", "absent"), [
    ("The notice does not specify the replacement fee.", True),
    ("No details are given on processing times.", True),
    ("No numeric age limit or age range.", True),
    ("The bylaw cannot say how many passes were sold.", True),
    ("该文件未说明费用。", True),
    ("The Green Card does not require proof of residence.", False),  # a fact, stated
    ("No. The council kept the fee at 18 euros.", False),  # an answer that begins with "No."
    ("No later than 30 days after the visit.", False),
    ("The fee is 45 euros a year.", False),
])
def test_a_text_that_says_what_it_does_not_say(text: str, absent: bool) -> None:
    assert says_absent(text) is absent


def test_a_heading_like_missing_says_absent() -> None:
    assert says_absent("Missing: the end of the answer about fees.")
    assert not says_absent("The missing pages were found in 2019.")


PERMIT = ("The work permit is valid for the length of the contract, at most five years. Top applicants may also "
          "ask for an R visa.\nThe R visa is for top talent. It is issued within ten days.")


def _sentence(text: str) -> Evidence:
    at = PERMIT.index(text)
    passage = Passage("permit#0", "permit", PERMIT, 1.0, title="Work permits", start=0, end=len(PERMIT))
    metadata = {"doc_id": "permit", "start": at, "end": at + len(text), "kind": "sentence"}
    return Evidence(f"permit:{at}", text, metadata, passage, rank=0)


def test_a_sentence_is_about_the_class_its_paragraph_named_before_it_not_after() -> None:
    # "It" refers back: the class named earlier in the paragraph is what the sentence is about.
    assert classes_of(_sentence("It is issued within ten days.")) == {"R"}
    # A class first named by the sentence after does not make the permit's validity a fact about that class.
    assert classes_of(_sentence("The work permit is valid for the length of the contract, at most five years.")) \
        == frozenset()


def _unit(text: str, start: int) -> Evidence:
    passage = Passage(f"guide#{start}", "guide", text, 1.0, title="guide", start=start, end=start + len(text))
    metadata = {"doc_id": "guide", "start": start, "end": start + len(text), "kind": "sentence"}
    return Evidence(f"guide:{start}", text, metadata, passage, rank=0, terms=frozenset(text.lower().split()),
                    vector=np.ones(2) / np.sqrt(2))


def test_a_fitted_ranking_orders_the_units_and_the_probability_stays_the_units_own() -> None:
    question = analyse("How much is the parking permit fee?")
    units = [_unit("The permit fee is 45 euros a year.", 0), _unit("Permits are issued by the town hall.", 40)]
    by_probability = Scorer(Logistic({"typed": 2.0}, -1.0), Logistic({"best": 1.0}, 0.0), 0.5)
    ranked = score_units(question, units, np.ones(2) / np.sqrt(2), lambda form: 1.0, by_probability, top_k=5)
    assert [u.text for u in ranked] == [units[0].text, units[1].text]
    # A ranking that (perversely) prefers untyped units reorders them, and each keeps its own probability.
    reversed_ = Scorer(by_probability.units, by_probability.answerability, 0.5, ranking=Ranking({"typed": -1.0}))
    reranked = score_units(question, units, np.ones(2) / np.sqrt(2), lambda form: 1.0, reversed_, top_k=5)
    assert [u.text for u in reranked] == [units[1].text, units[0].text]
    assert [u.score for u in reranked] == [ranked[1].score, ranked[0].score] and ranked[0].score > ranked[1].score


def _row(text: str, header: str) -> Evidence:
    passage = Passage("loans#0", "loans", f"{header}\n{text}", 1.0, title="Loans", start=0, end=len(header) + len(text))
    metadata = {"doc_id": "loans", "start": len(header) + 1, "end": len(header) + 1 + len(text),
                "kind": "table_row", "header": header}
    return Evidence("loans:1", text, metadata, passage, rank=0, terms=frozenset(tokenize(text)),
                    context_terms=frozenset(tokenize(header)), vector=np.ones(2) / np.sqrt(2))


def _features(question: str, evidence: Evidence) -> dict[str, float]:
    asked = analyse(question)
    weights = {t.text: 1.0 for t in asked.focus}
    return features_of(asked, evidence, np.ones(2) / np.sqrt(2), weights, top_k=5)[0]


def test_a_number_in_a_table_row_counts_what_the_row_names() -> None:
    header = "| Item | Loan period | Items at once |"
    assert _features("How many books can I borrow at once?", _row("| Books | 3 weeks | 20 |", header))["typed"] == 1.0
    # The same number does not count films in a row about books.
    assert _features("How many films can I borrow at once?", _row("| Books | 3 weeks | 20 |", header))["typed"] == 0.0


def test_a_unit_labelled_with_what_is_asked() -> None:
    labelled = _unit("Effective date: 1 May 2024.", 0)
    labelled.terms = frozenset(tokenize(labelled.text))
    assert _features("What is the effective date of the rules?", labelled)["label"] == 1.0
    assert _features("What is the fee for a permit?", labelled)["label"] == 0.0
    plain = _unit("The rules apply from 1 May 2024.", 0)
    assert _features("What is the effective date of the rules?", plain)["label"] == 0.0


def _sentence_of(text: str, title: str = "guide") -> Evidence:
    unit = _unit(text, 0)
    unit.terms = frozenset(tokenize(text))
    unit.context_terms = frozenset(tokenize(title))
    return unit


def test_who_is_answered_by_a_person_the_question_does_not_already_name() -> None:
    # "applicants" repeats "apply": a sentence about applicants does not say who can apply.
    assert _features("Who can apply for the harbour pass?",
                     _sentence_of("The form makes the process simpler for applicants."))["typed"] == 0.0
    assert _features("Who can apply for the harbour pass?",
                     _sentence_of("The harbour pass is for boat owners living in the county."))["typed"] == 1.0
    # The same in Chinese: 申请人 repeats 申请.
    assert _features("谁可以申请港口通行证？", _sentence_of("新表格方便申请人办理。"))["typed"] == 0.0
    assert _features("谁可以申请港口通行证？", _sentence_of("港口通行证发给本县的渔民。"))["typed"] == 1.0



def test_a_unit_that_defines_the_asked_term_is_told_apart_from_other_typed_matches() -> None:
    defining = _sentence_of("The Blue Card is a membership of the city library.")
    assert _features("What is the Blue Card?", defining)["defines"] == 1.0
    mentioning = _sentence_of("Holders of a Blue Card may borrow 15 items.")
    assert _features("What is the Blue Card?", mentioning)["defines"] == 0.0
    # A date for "when" is a typed match, not a definition.
    dated = _sentence_of("The Blue Card was introduced on 1 May 2019.")
    assert _features("When was the Blue Card introduced?", dated)["typed"] == 1.0
    assert _features("When was the Blue Card introduced?", dated)["defines"] == 0.0


def _in_paragraph(paragraph: str, sentence: str) -> Evidence:
    """A sentence of a one-paragraph passage, as retrieval hands it to scoring."""
    at = paragraph.index(sentence)
    passage = Passage("faq#0", "faq", paragraph, 1.0, title="Locker rules", start=0, end=len(paragraph))
    metadata = {"doc_id": "faq", "start": at, "end": at + len(sentence), "kind": "sentence", "line_start": at == 0}
    return Evidence(f"faq:{at}", sentence, metadata, passage, rank=0, terms=frozenset(tokenize(sentence)),
                    vector=np.ones(2) / np.sqrt(2))


def test_the_sentence_after_a_why_question_the_document_asks_gives_the_reason() -> None:
    paragraph = ("Lockers may not be used overnight. Why? Cleaners empty every locker at closing time. "
                 "Lockers cost 2 euros.")
    question = "Why can't I leave things in a locker overnight?"
    assert _features(question, _in_paragraph(paragraph, "Cleaners empty every locker at closing time."))["typed"] == 1.0
    # The sentence after the answer is no reason, nor is a sentence with no question before it.
    assert _features(question, _in_paragraph(paragraph, "Lockers cost 2 euros."))["typed"] == 0.0
    assert _features(question, _in_paragraph(paragraph, "Lockers may not be used overnight."))["typed"] == 0.0


def test_a_table_row_is_about_the_classes_its_columns_are_headed_by() -> None:
    row = _row("| Visa fee | US$60 | US$90 |", "| Item | E-7-T (work visa) | F-2-T (residence visa) |")
    assert classes_of(row) == {"E-7-T", "F-2-T"}
    assert _features("What is the F-2-T visa fee?", row)["class_conflict"] == 0.0
    assert _features("What is the D-2 visa fee?", row)["class_conflict"] == 1.0


def test_the_other_side_of_a_border_conflicts_with_the_asked_side() -> None:
    outside = _sentence_of("A permit applied for from outside the country costs 120 euros.")
    assert _features("What does a permit cost when applied for from inside the country?", outside)[
        "class_conflict"] == 1.0
    assert _features("What does a permit cost when applied for from outside the country?", outside)[
        "class_conflict"] == 0.0
    both = _sentence_of("A permit costs 120 euros outside the country and 90 euros inside it.")
    assert _features("What does a permit cost inside the country?", both)["class_conflict"] == 0.0
    assert _features("在境内申请许可要多少钱？", _sentence_of("在境外申请的许可收费120欧元。"))["class_conflict"] == 1.0
    # For a yes/no question the other side may be the answer: "Can I apply from inside?" "... only from outside."
    only_outside = _sentence_of("A permit can only be applied for from outside the country.")
    assert _features("Can I apply for a permit from inside the country?", only_outside)["class_conflict"] == 0.0


def test_another_labelled_category_conflicts_with_the_asked_one() -> None:
    classes = _sentence_of("A Class A permit costs 40 euros and a Class B permit 60 euros.")
    assert _features("What does a Class C permit cost?", classes)["class_conflict"] == 1.0
    assert _features("What does a Class B permit cost?", classes)["class_conflict"] == 0.0

