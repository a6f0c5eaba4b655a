"""Fit the answerer's scorer on the gold `train` split only, and write the artifact rag/scorer.json.

Usage: .venv/bin/python eval/train_scorer.py [--target-precision P] [--out rag/scorer.json]

Two logistic models, fitted in turn:
1. units: does an evidence unit hold the answer? A candidate unit of an answerable train item is a
   positive when it states one of the item's key facts and comes from one of its sources; unanswerable
   items give only negatives.
2. answerability: is the answer built on the best eligible unit right? Fitted on question-level
   features, with the label "answered with every key fact" (never, for an unanswerable item).
The refusal threshold is the out-of-fold equal-error point on train: the share of reachable right answers
kept equals the share of unanswerable questions refused (or, with --target-precision, the lowest threshold
reaching that selective precision). Test items are never read.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.gold import GoldItem, load_gold
from eval.metrics import fact_present
from kvisa.settings import PROJECT_ROOT, Settings
from rag.compose import compose, render
from rag.question import analyse
from rag.score import ANSWERABILITY_FEATURES, FEATURES, Logistic, Ranking, Scorer

EVAL = PROJECT_ROOT / "eval"
FOLDS = 5


def train_items() -> tuple[list[GoldItem], list[str]]:
    files = sorted(EVAL.glob("gold_*.jsonl"))
    items = [i for f in files for i in load_gold(f) if (i.split or "train") == "train"]
    return items, [str(f.relative_to(PROJECT_ROOT)) for f in files]


def ingest(settings: Settings) -> None:
    from ingest.pipeline import ingest_sources

    docs = [str(p) for p in sorted((EVAL / "docs").glob("*")) if p.suffix in (".md", ".txt")]
    report = ingest_sources([str(PROJECT_ROOT / "corpus"), *docs], settings, progress=False)
    assert report.ok, report.errors


# Gradient boosting (HistGradientBoostingClassifier, five depth/leaf/rate settings) and a logistic model over
# pairwise feature products were tried on the same unit rows (stop 20): out-of-fold unit AUC 0.901-0.905 and
# 0.876-0.896 against 0.914, and no better order or answerability. With ~300 questions the linear model wins.
def fit(X: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(X, y)


def logistic(model, names: tuple[str, ...]) -> Logistic:
    return Logistic({n: round(float(w), 4) for n, w in zip(names, model.coef_[0], strict=True)},
                    round(float(model.intercept_[0]), 4))


def out_of_fold(groups: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """Each group's probabilities from a model fitted without that group's fold (a group is one question)."""
    fold_of = np.arange(len(groups)) % FOLDS
    out: list[np.ndarray] = [np.zeros(0)] * len(groups)
    for fold in range(FOLDS):
        kept = [g for g, f in zip(groups, fold_of, strict=True) if f != fold]
        model = fit(np.vstack([X for X, _ in kept]), np.concatenate([y for _, y in kept]))
        for i in np.where(fold_of == fold)[0]:
            out[i] = model.predict_proba(groups[i][0])[:, 1]
    return out


def unit_rows(items: list[GoldItem], answerer, top_k: int) -> list[tuple[GoldItem, np.ndarray, np.ndarray]]:
    """Per item with candidates: the units' features and whether each holds a key fact of a gold source."""
    rows = []
    for item in items:
        question = analyse(item.question)
        # In a fixed order, not the shipped scorer's: a refit must not depend on the artifact it replaces.
        units = sorted(answerer.candidates(question, answerer.retriever.evidence(item.question, top_k), top_k),
                       key=lambda u: u.evidence.unit_id)
        if not units:
            continue
        y = [int(item.answerable and u.evidence.passage.doc_id in item.sources
                 and any(fact_present(f, render(answerer.complete(u.evidence))) for f in item.key_facts))
             for u in units]
        rows.append((item, np.array([[u.features[f] for f in FEATURES] for u in units]), np.array(y)))
    return rows


def unit_model(rows: list[tuple[GoldItem, np.ndarray, np.ndarray]]) -> Logistic:
    return logistic(fit(np.vstack([X for _, X, _ in rows]), np.concatenate([y for _, _, y in rows])), FEATURES)


RANKING_L2 = 10.0  # out-of-fold top-1 on train: 0.727 at 0.1 and 1, 0.739 at 3, 10 and 30


def ranking_model(rows: list[tuple[GoldItem, np.ndarray, np.ndarray]]) -> Ranking:
    """Weights under which, within each question, the units holding the answer come first: the softmax over a
    question's units is fitted to put its mass on them (questions with none teach nothing here)."""
    from scipy.optimize import minimize

    everything = np.vstack([X for _, X, _ in rows])
    mean, scale = everything.mean(axis=0), everything.std(axis=0) + 1e-9
    groups = [((X - mean) / scale, y / y.sum()) for _, X, y in rows if y.any()]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, gradient = RANKING_L2 * (w @ w) / 2, RANKING_L2 * w
        for X, target in groups:
            z = X @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            total -= float(target @ np.log(p + 1e-12))
            gradient = gradient - X.T @ (target - p)
        return total, gradient

    w = minimize(loss, np.zeros(everything.shape[1]), jac=True, method="L-BFGS-B").x
    return Ranking({n: round(float(v), 4) for n, v in zip(FEATURES, w / scale, strict=True)})


def top_one(rows: list[tuple[GoldItem, np.ndarray, np.ndarray]], fitter) -> float:
    """Out-of-fold share of questions with a right unit whose first unit, by the fitted model, is right."""
    fold_of = {item.id: i % FOLDS for i, (item, _, _) in enumerate(rows)}
    hits = []
    for fold in range(FOLDS):
        model = fitter([r for r in rows if fold_of[r[0].id] != fold])
        hits += [y[int(np.argmax([model(dict(zip(FEATURES, x, strict=True))) for x in X]))]
                 for item, X, y in rows if fold_of[item.id] == fold and y.any()]
    return round(float(np.mean(hits)), 4)


def held_out_questions(items: list[GoldItem], units: list[tuple[GoldItem, np.ndarray, np.ndarray]], answerer,
                       top_k: int, ranked: bool) -> list[tuple[GoldItem, dict, bool]]:
    """Question rows in which each item's units are scored (and, when `ranked`, ordered) by models fitted without
    that item's fold. Scores of questions the unit model was fitted on run high; calibrating on them would set
    the refusal threshold too high for questions nobody has seen."""
    fold_of = {item.id: i % FOLDS for i, item in enumerate(items)}
    rows = []
    for fold in range(FOLDS):
        kept = [r for r in units if fold_of[r[0].id] != fold]
        answerer.scorer = Scorer(unit_model(kept), Logistic({}, 0.0), 0.0,
                                 ranking=ranking_model(kept) if ranked else None)
        rows.extend(question_rows([i for i in items if fold_of[i.id] == fold], answerer, top_k))
    return rows


def question_rows(items: list[GoldItem], answerer, top_k: int) -> list[tuple[GoldItem, dict, bool]]:
    """Per single-part question that has an eligible unit: its answerability features and whether the
    answer composed on it states every key fact. Comparisons and two-part questions are left out: their
    confidence combines several decisions."""
    rows = []
    tuning = answerer.tuning
    for item in items:
        question = analyse(item.question)
        if question.parts or question.answer_type == "comparison":
            continue
        decision = answerer.decide(question, answerer.retriever.evidence(item.question, top_k), top_k)
        if not decision.answered:  # with threshold 0, only when no unit holds the answer's type and focus
            continue
        answer = compose(question, [decision], answerer.read_on, tuning.list_items, tuning.max_words)
        right = item.answerable and all(fact_present(f, answer.full_text) for f in item.key_facts)
        rows.append((item, decision.features, right))
    return rows


def choose_threshold(rows: list[tuple[GoldItem, dict, bool]], probabilities: np.ndarray,
                     target: float) -> tuple[float, dict]:
    """The lowest threshold reaching the target selective precision (when one is set), else the equal-error
    point between keeping right answers and refusing unanswerable questions."""
    answerable = sum(item.answerable for item, _, _ in rows) or 1
    unanswerable = (len(rows) - answerable) or 1
    curve = []
    # Every distinct out-of-fold probability is a candidate: answerability sits in a narrow band, which a
    # fixed grid would cut too coarsely.
    for t in np.unique(np.round(np.concatenate([[0.0], probabilities]), 4)):
        answered = probabilities >= t
        right = sum(r for (_, _, r), a in zip(rows, answered, strict=True) if a)
        refused_right = sum(1 for (item, _, _), a in zip(rows, answered, strict=True) if not a and not item.answerable)
        curve.append({"threshold": float(t), "coverage": round(float(answered.mean()), 4),
                      "selective_precision": round(right / answered.sum(), 4) if answered.any() else 1.0,
                      "answer_accuracy": round(right / answerable, 4),
                      "refusal_accuracy": round(refused_right / unanswerable, 4)})
    meeting = [c for c in curve if target and c["selective_precision"] >= target and c["answer_accuracy"] > 0]
    reachable = max(c["answer_accuracy"] for c in curve) or 1.0
    # The equal-error point: the share of reachable right answers kept equals the share of unanswerable
    # questions refused. (Balanced accuracy is nearly flat over a wide range here, so its maximum wanders.)
    chosen = meeting[0] if meeting else max(curve, key=lambda c: min(c["answer_accuracy"] / reachable,
                                                                     c["refusal_accuracy"]))
    return chosen["threshold"], {"chosen": chosen, "curve": curve[:: max(1, len(curve) // 20)]}


def answerability_out_of_fold(questions: list[tuple[GoldItem, dict, bool]]):
    """The question rows, their answerability features and labels, out-of-fold probabilities, and their AUC."""
    from sklearn.metrics import roc_auc_score

    X = np.array([[f[n] for n in ANSWERABILITY_FEATURES] for _, f, _ in questions])
    y = np.array([int(r) for _, _, r in questions])
    oof = np.concatenate(out_of_fold([(X[i : i + 1], y[i : i + 1]) for i in range(len(y))]))
    return questions, X, y, oof, float(roc_auc_score(y, oof))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-precision", type=float, default=0.0,
                        help="refuse below the lowest answerability reaching this selective precision on train; "
                             "0 (default): the equal-error point")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "rag" / "scorer.json")
    parser.add_argument("--home", type=Path, default=None,
                        help="an index to reuse; the corpus and eval/docs documents it lacks are added first "
                             "(default: ingest into a temporary one)")
    args = parser.parse_args()
    from sklearn.metrics import roc_auc_score

    from rag.assistant import Assistant

    items, files = train_items()
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(home=args.home or Path(scratch), corpus_dir=PROJECT_ROOT / "corpus")
        # Always: an index lacking a gold item's document would train on a question whose answer is missing
        # (what is already there and unchanged is skipped).
        ingest(settings)
        answerer = Assistant(settings).extractive
        units = unit_rows(items, answerer, settings.top_k)
        groups = [(X, y) for _, X, y in units]
        unit_auc = roc_auc_score(np.concatenate([y for _, y in groups]), np.concatenate(out_of_fold(groups)))
        units_fitted, ranking = unit_model(units), ranking_model(units)
        first = {"by_probability": top_one(units, lambda rows: unit_model(rows).probability),
                 "by_ranking": top_one(units, lambda rows: ranking_model(rows).key)}
        # The ranking ships when, out of fold, the answers it leads to are told right from wrong at least as
        # well as those the probability's order leads to (putting a right unit first is not all that counts).
        by_order = {ranked: answerability_out_of_fold(held_out_questions(items, units, answerer, settings.top_k,
                                                                           ranked))
                    for ranked in (True, False)}
    ranked = by_order[True][-1] >= by_order[False][-1]
    questions, X, y, oof, answerability_auc = by_order[ranked]
    threshold, calibration = choose_threshold(questions, oof, args.target_precision)
    answer_model = logistic(fit(X, y), ANSWERABILITY_FEATURES)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=PROJECT_ROOT).stdout.strip()
    artifact = {
        "version": 2,
        "units": {"features": list(FEATURES), "weights": units_fitted.weights, "bias": units_fitted.bias},
        "answerability": {"features": list(ANSWERABILITY_FEATURES), "weights": answer_model.weights,
                          "bias": answer_model.bias},
        "threshold": threshold,
        "trained_on": {"gold_files": files, "split": "train", "items": len(items),
                       "unit_rows": int(sum(len(y) for _, _, y in units)), "questions": len(questions),
                       "commit": commit, "date": datetime.now(UTC).date().isoformat()},
        "cross_validation": {"folds": FOLDS, "unit_auc": round(float(unit_auc), 4), "top_one": first,
                             "answerability_auc": round(answerability_auc, 4),
                             "answerability_auc_by_order": {"ranking": round(by_order[True][-1], 4),
                                                            "probability": round(by_order[False][-1], 4)},
                             "target_precision": args.target_precision, **calibration},
    }
    if ranked:
        artifact["ranking"] = {"features": list(FEATURES), "weights": ranking.weights, "l2": RANKING_L2}
    args.out.write_text(json.dumps(artifact, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: artifact[k] for k in ("units", "answerability", "threshold")}, indent=1))
    print(json.dumps(artifact["cross_validation"]["chosen"]), f"unit AUC {unit_auc:.3f}",
          f"answerability AUC {artifact['cross_validation']['answerability_auc']:.3f}", f"top one {first}",
          f"-> {args.out}")


if __name__ == "__main__":
    main()
