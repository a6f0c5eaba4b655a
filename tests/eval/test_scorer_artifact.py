"""The fitted scorer: its artifact matches the code's features, was fitted on train, and its threshold rule."""

from __future__ import annotations

import json

import numpy as np

from eval.gold import GoldItem
from eval.train_scorer import choose_threshold, ranking_model, top_one
from kvisa.settings import Settings
from rag.score import ANSWERABILITY_FEATURES, FEATURES, Scorer


def test_the_shipped_artifact_was_fitted_on_train_for_these_features() -> None:
    path = Settings().answering.scorer_path
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["trained_on"]["split"] == "train"
    assert data["units"]["features"] == list(FEATURES)
    assert data["answerability"]["features"] == list(ANSWERABILITY_FEATURES)
    assert 0.0 < data["threshold"] < 1.0
    assert data["cross_validation"]["folds"] >= 2 and 0.5 < data["cross_validation"]["unit_auc"] <= 1.0
    scorer = Scorer.load(path)
    assert set(scorer.units.weights) == set(FEATURES)


def _item(answerable: bool, n: int) -> GoldItem:
    return GoldItem(f"q{n}", "?", "a" if answerable else "", ("f",) if answerable else (), ("d",) if answerable else (),
                    answerable)


def test_the_threshold_balances_answering_and_refusing_unless_a_precision_is_asked() -> None:
    # Two answerable items answered right at high confidence, one answered wrong, two unanswerable at low.
    rows = [(_item(True, 1), {}, True), (_item(True, 2), {}, True), (_item(True, 3), {}, False),
            (_item(False, 4), {}, False), (_item(False, 5), {}, False)]
    confidence = np.array([0.9, 0.8, 0.5, 0.3, 0.2])
    threshold, report = choose_threshold(rows, confidence, target=0.0)
    assert 0.3 < threshold <= 0.8  # answers the two right ones, refuses both unanswerable
    assert report["chosen"]["refusal_accuracy"] == 1.0 and report["chosen"]["answer_accuracy"] == round(2 / 3, 4)
    strict, precise = choose_threshold(rows, confidence, target=1.0)
    assert threshold < strict <= 0.8  # the lowest threshold at which every answer given is right
    assert precise["chosen"]["selective_precision"] == 1.0


def test_the_ranking_puts_each_questions_right_unit_first() -> None:
    # Each question's right unit is the one most similar *within its question*; the similarity level of
    # the questions differs, which the ranking, fitted question by question, does not mind.
    rng = np.random.default_rng(0)
    rows = []
    for n in range(100):
        level = rng.uniform(0.0, 0.5)
        similarity = level + rng.uniform(0.0, 0.3, size=6)
        right = int(np.argmax(similarity))
        X = np.zeros((6, len(FEATURES)))
        X[:, FEATURES.index("similarity")] = similarity
        X[:, FEATURES.index("coverage")] = rng.uniform(0.0, 1.0, size=6)  # noise
        y = np.zeros(6, dtype=int)
        y[right] = 1
        rows.append((_item(True, n), X, y))
    assert top_one(rows, lambda r: ranking_model(r).key) >= 0.95
    weights = ranking_model(rows).weights
    assert weights["similarity"] > 10 * abs(weights["coverage"])


def test_the_shipped_artifact_ranks_with_the_codes_features() -> None:
    data = json.loads(Settings().answering.scorer_path.read_text(encoding="utf-8"))
    assert data["units"]["features"] == list(FEATURES)
    by_order = data["cross_validation"]["answerability_auc_by_order"]
    # The ranking ships exactly when, out of fold, it tells right answers from wrong ones at least as well.
    assert ("ranking" in data) is (by_order["ranking"] >= by_order["probability"])
    if "ranking" in data:
        assert data["ranking"]["features"] == list(FEATURES)
