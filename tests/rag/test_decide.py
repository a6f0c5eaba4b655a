"""Deciding which units answer: an answer about one thing quotes its document, and shows others apart."""

from __future__ import annotations

import numpy as np

from kvisa.settings import AnswerTuning
from rag.compose import compose
from rag.decide import Decision, decide
from rag.question import analyse
from rag.retrieve import Evidence
from rag.score import FEATURES, Logistic, ScoredUnit, Scorer
from rag.types import Passage

SCORER = Scorer(Logistic({}, 0.0), Logistic({"best": 1.0}, 0.0), threshold=0.5)


def _scored(doc_id: str, text: str, score: float, coverage: float, start: int = 0, language: str = "en") -> ScoredUnit:
    passage = Passage(f"{doc_id}#0", doc_id, text, 1.0, title=doc_id, start=start, end=start + len(text),
                      language=language)
    metadata = {"doc_id": doc_id, "start": start, "end": start + len(text), "kind": "sentence"}
    evidence = Evidence(f"{doc_id}:{start}", text, metadata, passage, rank=0, terms=frozenset(text.lower().split()),
                        vector=np.zeros(0))
    features = dict.fromkeys(FEATURES, 0.0) | {"coverage": coverage, "attribute": 1.0, "typed": 1.0}
    return ScoredUnit(evidence, features, score)


def _answer(question: str, units: list[ScoredUnit]) -> Decision:
    return decide(analyse(question), units, SCORER, AnswerTuning())


CARE = _scored("uk-guide", "Care workers can no longer bring dependants.", 0.9, coverage=1.0)
PARTNERS = _scored("uk-guide", "A worker's partner and children can apply as dependants.", 0.8, coverage=0.6,
                   start=50)
SPOUSES = _scored("jp-guide", "The spouse of a professional may work full time.", 0.85, coverage=0.3)


def test_an_answer_about_one_thing_shows_another_documents_sentence_apart() -> None:
    decision = _answer("Can care workers bring dependants?", [CARE, SPOUSES, PARTNERS])
    assert decision.answered
    assert [u.text for u in decision.units] == [CARE.text, PARTNERS.text]
    assert [u.text for u in decision.aside] == [SPOUSES.text]


def test_the_answer_names_the_other_document_it_quotes_apart() -> None:
    decision = _answer("Can care workers bring dependants?", [CARE, SPOUSES, PARTNERS])
    answer = compose(decision.question, [decision], lambda unit, n: [], list_items=8, max_words=60)
    assert answer.text == ("No. Care workers can no longer bring dependants. A worker's partner and children can apply "
                           "as dependants [1]. Also, from “jp-guide”: The spouse of a professional may work full "
                           "time [2].")
    assert [c.doc_id for c in answer.citations] == ["uk-guide", "jp-guide"]


def test_an_answer_about_two_things_may_quote_two_documents() -> None:
    k_visa = _scored("k-guide", "The K visa needs no employer.", 0.9, coverage=0.5)
    h1b = _scored("h1b-guide", "An H-1B worker needs an employer to file a petition.", 0.85, coverage=0.4)
    decision = _answer("Does the K visa or the H-1B visa need an employer?", [k_visa, h1b])
    assert [u.text for u in decision.units] == [k_visa.text, h1b.text] and not decision.aside


def test_units_in_ranking_order_still_keep_only_those_scoring_near_the_first() -> None:
    # A fitted ranking may put a unit with a lower probability first; a later unit that scores well against
    # it still joins the answer, one far below it does not.
    first = _scored("uk-guide", "Care workers can no longer bring dependants.", 0.6, coverage=1.0)
    weak = _scored("uk-guide", "Dependants are explained below.", 0.1, coverage=0.2, start=50)
    strong = _scored("uk-guide", "A worker's partner and children can apply as dependants.", 0.7, coverage=0.6,
                     start=90)
    decision = _answer("Can care workers bring dependants?", [first, weak, strong])
    assert [u.text for u in decision.units] == [first.text, strong.text]


def test_a_unit_in_the_questions_language_leads_when_it_scores_nearly_as_well() -> None:
    english = _scored("pass-guide", "The Green Card costs 45 euros a year.", 0.9, coverage=1.0)
    chinese = _scored("pass-guide-zh", "绿卡年费45欧元。", 0.85, coverage=1.0, language="zh")
    decision = _answer("绿卡的年费是多少？", [english, chinese])
    assert [u.text for u in decision.units] == [chinese.text] and [u.text for u in decision.aside] == [english.text]
    # Far behind the best, it does not lead (nor join).
    weak = _scored("pass-guide-zh", "绿卡年费45欧元。", 0.5, coverage=1.0, language="zh")
    assert [u.text for u in _answer("绿卡的年费是多少？", [english, weak]).units] == [english.text]
