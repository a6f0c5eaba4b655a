"""Deciding which units answer: the further units of an answer about one thing stay on that thing."""

from __future__ import annotations

import numpy as np

from kvisa.settings import AnswerTuning
from rag.decide import Decision, decide
from rag.question import analyse
from rag.retrieve import Evidence
from rag.score import FEATURES, Logistic, ScoredUnit, Scorer
from rag.types import Passage

SCORER = Scorer(Logistic({}, 0.0), Logistic({"best": 1.0}, 0.0), threshold=0.5)


def _scored(doc_id: str, text: str, score: float, coverage: float) -> ScoredUnit:
    passage = Passage(f"{doc_id}#0", doc_id, text, 1.0, title=doc_id, start=0, end=len(text))
    metadata = {"doc_id": doc_id, "start": 0, "end": len(text), "kind": "sentence"}
    evidence = Evidence(f"{doc_id}:0", text, metadata, passage, rank=0, terms=frozenset(text.lower().split()),
                        vector=np.zeros(0))
    features = dict.fromkeys(FEATURES, 0.0) | {"coverage": coverage, "attribute": 1.0, "typed": 1.0}
    return ScoredUnit(evidence, features, score)


def _answer(question: str, units: list[ScoredUnit]) -> Decision:
    return decide(analyse(question), units, SCORER, AnswerTuning())


CARE = _scored("uk-guide", "Care workers can no longer bring dependants.", 0.9, coverage=1.0)
PARTNERS = _scored("uk-guide", "A worker's partner and children can apply as dependants.", 0.8, coverage=0.6)
SPOUSES = _scored("jp-guide", "The spouse of a professional may work full time.", 0.85, coverage=0.3)


def test_an_answer_about_one_thing_skips_another_documents_sentence_that_speaks_of_less() -> None:
    decision = _answer("Can care workers bring dependants?", [CARE, SPOUSES, PARTNERS])
    assert decision.answered
    assert [u.text for u in decision.units] == [CARE.text, PARTNERS.text]


def test_an_answer_about_two_things_may_quote_two_documents() -> None:
    k_visa = _scored("k-guide", "The K visa needs no employer.", 0.9, coverage=0.5)
    h1b = _scored("h1b-guide", "An H-1B worker needs an employer to file a petition.", 0.85, coverage=0.4)
    decision = _answer("Does the K visa or the H-1B visa need an employer?", [k_visa, h1b])
    assert [u.text for u in decision.units] == [k_visa.text, h1b.text]
