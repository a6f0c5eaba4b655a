"""Results by question style and language, and the risk–coverage curve, computed from hand-made item records."""

from __future__ import annotations

from typing import Any

import pytest

from eval.breakdown import area_under_curve, breakdowns, by_language, by_style, risk_coverage


def record(correct: bool, *, answerable: bool = True, refused: bool = False, confidence: float = 0.0,
           style: str = "", language: str = "en") -> dict[str, Any]:
    """The fields of a results.json item that the breakdowns read."""
    return {"gold": {"answerable": answerable}, "metrics": {"correct": correct}, "refused": refused,
            "confidence": confidence, "style": style, "language": language}


RECORDS = [
    record(True, confidence=0.9, style="factoid"),
    record(False, confidence=0.8, style="why"),  # answered, a key fact missing
    record(True, confidence=0.8, style="factoid", language="zh"),
    record(False, answerable=False, confidence=0.5, style="factoid"),  # answered what it should have refused
    record(True, answerable=False, refused=True, confidence=0.95),  # a right refusal: never "answered"
]


def test_risk_coverage_orders_answers_by_confidence_and_ignores_refusals() -> None:
    curve = risk_coverage(RECORDS)
    assert curve == [
        {"threshold": 0.9, "coverage": 0.2, "accuracy": 1.0},
        {"threshold": 0.8, "coverage": 0.6, "accuracy": 0.6667},  # the two 0.8 answers come in together
        {"threshold": 0.5, "coverage": 0.8, "accuracy": 0.5},
    ]
    # 1.0 over the first 0.2 of coverage, 2/3 over the next 0.4, 1/2 over the last 0.2
    assert area_under_curve(curve) == pytest.approx(0.2 + 0.6667 * 0.4 + 0.5 * 0.2, abs=1e-4)


def test_a_curve_without_answers_is_empty() -> None:
    assert risk_coverage([record(True, answerable=False, refused=True)]) == []
    assert area_under_curve([]) is None


def test_every_answer_right_reaches_the_best_area() -> None:
    curve = risk_coverage([record(True, confidence=c) for c in (0.3, 0.7)] + [record(False, refused=True)])
    assert [p["accuracy"] for p in curve] == [1.0, 1.0]
    assert area_under_curve(curve) == pytest.approx(curve[-1]["coverage"], abs=1e-4)


def test_accuracy_by_style_counts_answers_and_refusals() -> None:
    styles = by_style(RECORDS)
    assert list(styles) == ["factoid", "why", "unlabelled"]  # the order of eval.gold.STYLES, unlabelled last
    assert styles["factoid"] == {"n": 3, "n_answerable": 2, "n_unanswerable": 1, "accuracy": 0.6667,
                                 "answer_accuracy": 1.0, "refusal_accuracy": 0.0}
    assert styles["why"]["accuracy"] == 0.0 and styles["why"]["refusal_accuracy"] is None
    assert styles["unlabelled"] == {"n": 1, "n_answerable": 0, "n_unanswerable": 1, "accuracy": 1.0,
                                    "answer_accuracy": None, "refusal_accuracy": 1.0}


def test_accuracy_by_language() -> None:
    languages = by_language(RECORDS)
    assert list(languages) == ["en", "zh"]
    assert (languages["en"]["n"], languages["en"]["accuracy"]) == (4, 0.5)
    assert languages["zh"]["answer_accuracy"] == 1.0


def test_breakdowns_has_the_results_json_keys() -> None:
    assert list(breakdowns(RECORDS)) == ["by_style", "by_language", "risk_coverage", "risk_coverage_auc"]
