"""Metrics computed from the per-item records of results.json: accuracy by question style and by language,
and the risk–coverage curve of the answerer's confidence.

They read records (the dicts `eval.harness.item_record` writes), not Answers, so they can be recomputed from
any results.json, including older ones without styles (grouped as "unlabelled").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from eval.gold import STYLES

UNLABELLED = "unlabelled"  # the style group of items whose gold file gives no style
GROUP_KEYS = ("n", "n_answerable", "n_unanswerable", "accuracy", "answer_accuracy", "refusal_accuracy")

Record = dict[str, Any]


def _rate(flags: Sequence[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def group_scores(records: Iterable[Record]) -> dict[str, Any]:
    """GROUP_KEYS of some items. accuracy counts every item (an answerable one is right with all key facts
    and no refusal, an unanswerable one when refused); the two others split it by answerability."""
    answerable, unanswerable = [], []
    for record in records:
        (answerable if record["gold"]["answerable"] else unanswerable).append(bool(record["metrics"]["correct"]))
    return {"n": len(answerable) + len(unanswerable), "n_answerable": len(answerable),
            "n_unanswerable": len(unanswerable), "accuracy": _rate(answerable + unanswerable),
            "answer_accuracy": _rate(answerable), "refusal_accuracy": _rate(unanswerable)}


def scores_by(records: Iterable[Record], key: Callable[[Record], str],
              order: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """group_scores per value of key(record); groups named in `order` first, in that order, then the rest sorted."""
    groups: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        groups[key(record)].append(record)
    names = [n for n in order if n in groups] + sorted(n for n in groups if n not in order)
    return {name: group_scores(groups[name]) for name in names}


def style_of(record: Record) -> str:
    return record.get("style") or UNLABELLED


def by_style(records: Iterable[Record]) -> dict[str, dict[str, Any]]:
    """Scores per question style, in the order of eval.gold.STYLES, unlabelled items last."""
    return scores_by(records, style_of, (*STYLES, UNLABELLED))


def by_language(records: Iterable[Record]) -> dict[str, dict[str, Any]]:
    """Scores per question language (en, zh)."""
    return scores_by(records, lambda r: r["language"], ("en", "zh"))


def risk_coverage(records: Sequence[Record]) -> list[dict[str, float]]:
    """The curve of answering only when confident: one point per distinct confidence t of the answers given,
    highest first. coverage: share of all items answered with confidence >= t; accuracy: share of those
    answers that are right (an answerable item with every key fact). Refused items are never answered, so
    the last point's coverage is the share kvisa answers and its accuracy the selective precision."""
    total = len(records)
    answered = sorted((r for r in records if not r["refused"]), key=lambda r: -float(r.get("confidence") or 0.0))
    curve: list[dict[str, float]] = []
    right = 0
    for rank, record in enumerate(answered, start=1):
        right += bool(record["metrics"]["correct"])  # an answered unanswerable item is never correct
        threshold = float(record.get("confidence") or 0.0)
        if rank < len(answered) and float(answered[rank].get("confidence") or 0.0) == threshold:
            continue  # items with equal confidence are answered or withheld together: one point for all
        curve.append({"threshold": round(threshold, 4), "coverage": round(rank / total, 4),
                      "accuracy": round(right / rank, 4)})
    return curve


def area_under_curve(curve: Sequence[dict[str, float]]) -> float | None:
    """Area under accuracy over coverage, from coverage 0: each point's accuracy times the coverage it adds
    (a step curve, as the answers of a threshold arrive together). Its best value is the final coverage
    (every answer right); None when nothing was answered."""
    if not curve:
        return None
    area, previous = 0.0, 0.0
    for point in curve:
        area += point["accuracy"] * (point["coverage"] - previous)
        previous = point["coverage"]
    return round(area, 4)


def breakdowns(records: Sequence[Record]) -> dict[str, Any]:
    """Everything of this module for one system's records, keyed as in results.json."""
    curve = risk_coverage(records)
    return {"by_style": by_style(records), "by_language": by_language(records),
            "risk_coverage": curve, "risk_coverage_auc": area_under_curve(curve)}
