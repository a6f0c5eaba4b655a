"""Calibrate the extractive refusal thresholds on a whole gold file (never on single questions).

Usage: KVISA_HOME=... python eval/calibrate_refusal.py [eval/gold_dev.jsonl]
For every item it records the best evidence coverage of an answering unit and of a "the source does
not say" unit, then sweeps both thresholds and prints answer and refusal accuracy for each pair.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kvisa.settings import get_settings
from rag import extractive
from rag.assistant import get_assistant
from rag.extractive import expected_answer_type, should_refuse, split_evidence


def features(gold_path: Path) -> list[dict]:
    assistant = get_assistant(get_settings())
    answerer = assistant.extractive
    extractive.MIN_COVERAGE, extractive.ABSENCE_MARGIN = 0.0, 1.0  # never refuse: we want the answer text
    rows = []
    for line in gold_path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        forced = answerer.answer(item["question"], item["question"], top_k=get_settings().top_k)
        passages, vector = assistant.retriever.retrieve(item["question"], get_settings().top_k)
        weights = answerer._term_weights(item["question"])
        answer_type = expected_answer_type(item["question"])
        evidence = answerer._score(answerer._evidence(passages), vector, weights, answer_type)
        answers, absences = split_evidence(item["question"], evidence)
        rows.append({
            "id": item["id"], "answerable": item["answerable"], "facts": item["key_facts"],
            "answer_cov": max((e.coverage for e in answers), default=0.0),
            "absence_cov": max((e.coverage for e in absences), default=0.0),
            "text": forced.text,
        })
    return rows


def main() -> None:
    from eval.metrics import fact_present  # the same key-fact matching as the harness

    gold = Path(sys.argv[1] if len(sys.argv) > 1 else "eval/gold_dev.jsonl")
    rows = features(gold)
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    print("min_cov margin  answer_acc  refusal_acc  (answer_acc counts facts present and not refused)")
    for min_cov in (0.25, 0.3, 0.35, 0.4, 0.45, 0.5):
        for margin in (-0.1, -0.05, 0.0, 0.05, 0.1):
            ok = sum(1 for r in answerable if not should_refuse(r["answer_cov"], r["absence_cov"], min_cov, margin)
                     and all(fact_present(f, r["text"]) for f in r["facts"]))
            refused = sum(1 for r in unanswerable if should_refuse(r["answer_cov"], r["absence_cov"], min_cov, margin))
            refusal = refused / max(1, len(unanswerable))
            print(f"{min_cov:7.2f} {margin:6.2f}  {ok / len(answerable):10.3f}  {refusal:11.3f}")
    for r in rows:
        print(f"{r['id']:>10} answerable={r['answerable']!s:5} answer_cov={r['answer_cov']:.2f} "
              f"absence_cov={r['absence_cov']:.2f}")


if __name__ == "__main__":
    main()
