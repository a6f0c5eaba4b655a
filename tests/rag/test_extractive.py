"""The extractive backend on the real corpus: gold answers with citations, honest refusals, follow-ups."""

from __future__ import annotations

import json
import re

import pytest

from eval.metrics import fact_present
from kvisa.settings import Settings
from rag.assistant import Assistant, get_assistant
from rag.types import Answer, Turn
from tests.conftest import GOLD_DEV, corpus_text

GOLD = {item["id"]: item for item in map(json.loads, GOLD_DEV.read_text(encoding="utf-8").splitlines())}
# A dozen answerable items across all eight documents and both languages.
# The answerer before issue 11 was tuned on these dev items; the fitted one (train split only) misses three of
# them. Strict xfails keep them in view; the regression gate on the test split is what measures quality.
_REGRESSED = pytest.mark.xfail(strict=True, reason="issue 11: missed since the answerer is fitted on train only")
ANSWERABLE = ["dev-002",
              # The refit of stop 23 ranks a sibling sentence without the study's name above the one with it.
              pytest.param("dev-004", marks=_REGRESSED),
              "dev-010",
              "dev-011",  # yes/no: missed until the refit of 2026-11-30
              "dev-016",  # answered again since the refit of stop 23
              pytest.param("dev-020", marks=_REGRESSED),  # list items shown by their labels: "DOD", not its expansion
              "dev-022", "dev-023", "dev-025", "dev-030", "dev-038",
              pytest.param("dev-039", marks=_REGRESSED)]  # cross-document date question refused
UNANSWERABLE = ["dev-042", "dev-044", "dev-047"]


@pytest.fixture(scope="module")
def assistant(corpus_settings: Settings) -> Assistant:
    return get_assistant(corpus_settings)


def assert_citations_are_real(answer: Answer) -> None:
    """Every [n] refers to a citation, and every cited passage and quote is really in its document."""
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.n for c in answer.citations}
    for citation in answer.citations:
        text = corpus_text(citation.doc_id)
        assert text[citation.start : citation.end] == citation.text
        assert text[citation.quote_start : citation.quote_end] == citation.quote
        assert citation.quote in citation.text


@pytest.mark.parametrize("gold_id", ANSWERABLE)
def test_gold_questions_get_their_key_facts_with_a_gold_citation(assistant: Assistant, gold_id: str) -> None:
    gold = GOLD[gold_id]
    answer = assistant.ask(gold["question"])
    assert not answer.refused, answer.text
    assert all(fact_present(fact, answer.text) for fact in gold["key_facts"]), answer.text
    assert {c.doc_id for c in answer.citations} & set(gold["sources"])
    assert_citations_are_real(answer)


@pytest.mark.parametrize("gold_id", UNANSWERABLE)
def test_unanswerable_questions_are_refused_plainly(assistant: Assistant, gold_id: str) -> None:
    answer = assistant.ask(GOLD[gold_id]["question"])
    assert answer.refused
    assert answer.text.startswith("The corpus does not answer this question.")
    assert_citations_are_real(answer)  # a refusal may cite the passage that says what the source lacks


def test_a_fee_the_corpus_never_states_is_refused_although_the_k_visa_is_everywhere(assistant: Assistant) -> None:
    answer = assistant.ask("What is the K visa fee?")
    assert answer.refused
    assert "$100,000" not in answer.text  # the H-1B fee is not the K visa's


def test_a_chinese_question_gets_a_chinese_answer_and_refusal(assistant: Assistant) -> None:
    answer = assistant.ask("K字签证发给什么人？")
    assert "外国青年科技人才" in answer.text and not answer.refused
    refused = assistant.ask(GOLD["dev-048"]["question"])
    assert refused.refused and refused.text.startswith("语料库中没有")


@_REGRESSED
def test_a_question_spanning_documents_cites_each_of_them(assistant: Assistant) -> None:
    gold = GOLD["dev-039"]
    answer = assistant.ask(gold["question"])
    assert fact_present("October 1, 2025", answer.text)
    assert len({c.doc_id for c in answer.citations}) >= 2


# It passed until stop 16 only because its refusal's closest passage held the date: it is refused, with the
# right unit first but under the refusal threshold.
@pytest.mark.xfail(strict=True, reason="issue 11: the follow-up is refused, its answer just under the threshold")
def test_follow_up_question_carries_the_subject_of_the_previous_turn(assistant: Assistant) -> None:
    first = "What does the DHS weighted selection rule for H-1B registrations do?"
    history = [Turn(first, assistant.ask(first).text)]
    answer = assistant.ask("And when does it take effect?", history=history)
    assert not answer.refused, answer.text
    assert fact_present("February 27, 2026", answer.text)
    assert {c.doc_id for c in answer.citations} == {"us-h1b-weighted-selection-rule"}


def test_streaming_yields_text_then_the_answer_with_timings(assistant: Assistant) -> None:
    pieces = list(assistant.stream(GOLD["dev-010"]["question"]))
    assert isinstance(pieces[-1], Answer) and all(isinstance(p, str) for p in pieces[:-1])
    assert "".join(pieces[:-1]) == pieces[-1].text
    assert {"retrieve", "answer", "total"} <= set(pieces[-1].timings)


def test_signals_read_from_the_question() -> None:
    from rag.names import document_numbers, visa_classes
    from rag.question import analyse, answer_type

    assert document_numbers("Under Proclamation 10973 of 2025, and 国务院令第814号?") == {"10973", "814"}
    assert document_numbers("Is the $100,000 payment due?") == frozenset()  # money is not a document number
    assert visa_classes("增设K字签证后，L字签证排第几项？") == {"K", "L"}
    assert visa_classes("the US H-1B or China's K visa, and B visas") == {"H-1B", "K", "B"}
    assert visa_classes("EB-5, L-1A, F-1, O-1, H-4 and X1 visas") == {"EB-5", "L-1A", "F-1", "O-1", "H-4", "X1"}
    assert visa_classes("A visa holder may stay") == frozenset()  # "a visa" names no class A
    assert visa_classes("the F-2-T and E-7-4 visas, F-1-style rules") == {"F-2-T", "E-7-4", "F-1"}  # a second suffix
    assert visa_classes("Form I-20 and Form I-765") == frozenset()  # forms, not classes
    assert visa_classes("the H1B lottery, an H1-B cap, a K-visa") == {"H-1B", "K"}  # however the dash is written
    assert answer_type("And when does it take effect?") == "date"
    assert answer_type("How many H-1B approvals did it get?") == "count"
    assert answer_type("How long does processing take?") == "duration"
    assert answer_type("What salary is required?") == "money"
    assert answer_type("Who signed it?") == "person"
    assert answer_type("Does the K visa require an employer?") == "yes_no"
    assert answer_type("Why was the rule issued?") == "reason"
    assert answer_type("What does specialty occupation mean?") == "definition"
    assert answer_type("How do the K visa and the H-1B differ on fees?") == "comparison"
    two = analyse("When was the decree signed and when does it take effect?")
    assert [p.answer_type for p in two.parts] == ["date", "date"]
    assert analyse("What is the K visa application fee?").attribute.text == "fee"


def test_the_difference_between_the_two_programs_is_a_table_with_a_citation_per_cell(assistant: Assistant) -> None:
    from tests.rag.test_question_styles import _in_passage

    answer = assistant.ask("What is the difference between the K visa and the H-1B visa?")
    assert not answer.refused, answer.text
    assert answer.table is not None, answer.text
    assert answer.table.columns == ["aspect", "K visa", "H-1B"]
    by_n = {c.n: c for c in answer.citations}
    complete = [row for row in answer.table.rows if all(cell.n for cell in row.cells)]
    assert complete, answer.full_text  # at least one aspect the corpus covers for both programs
    for row in answer.table.rows:
        for cell in row.cells:
            if cell.n is None:
                assert cell.text == "not stated", row
            else:
                assert _in_passage(cell.text, by_n[cell.n].text), f"{cell.text!r} not in [{cell.n}]"
    for citation in answer.citations:
        assert corpus_text(citation.doc_id)[citation.start : citation.end] == citation.text

