"""The evaluation harness behind `kvisa eval`: ask every gold question as `kvisa ask` would, score, report."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.gold import GoldItem, load_gold
from eval.metrics import ItemScore, SupportFn, embedding_support, score_item, summarize
from kvisa.settings import Settings, get_settings
from rag.types import Answer

AskFn = Callable[[str], Answer]


class EvalError(RuntimeError):
    """An evaluation that cannot run (empty index, unavailable backend); the message is one line."""


def item_record(item: GoldItem, answer: Answer, latency_ms: float, score: ItemScore) -> dict[str, Any]:
    """One results.json item: the gold id, the `kvisa ask --json` fields, the gold, metrics and latency."""
    record: dict[str, Any] = {"id": item.id, **answer.to_json()}
    record["latency_ms"] = round(latency_ms, 1)
    record["language"] = item.language
    record["gold"] = {"answer": item.answer, "key_facts": list(item.key_facts), "sources": list(item.sources),
                      "answerable": item.answerable}
    record["metrics"] = score.to_json()
    return record


def run_items(name: str, items: Sequence[GoldItem], ask: AskFn, supports: SupportFn,
              progress: bool = True) -> dict[str, Any]:
    """Ask every item with a progress bar; return {"name", "summary", "items"} of this system."""
    answers: list[Answer] = []
    scores: list[ItemScore] = []
    records: list[dict[str, Any]] = []
    if items:
        ask(items[0].question)  # warm-up, not timed: models and indexes load lazily on the first question
    for item in tqdm(items, desc=f"eval {name}", unit="q", file=sys.stderr, disable=not progress):
        started = time.perf_counter()
        answer = ask(item.question)
        latency_ms = (time.perf_counter() - started) * 1000  # wall clock, as the user waits for it
        answers.append(answer)
        scores.append(score_item(item, answer, supports))
        records.append(item_record(item, answer, latency_ms, scores[-1]))
    summary = summarize(items, answers, scores, [r["latency_ms"] for r in records])
    return {"name": name, "summary": summary, "items": records}


def _indexed_documents(settings: Settings) -> set[str]:
    from ingest.pipeline import list_documents

    doc_ids = {e.doc_id for e in list_documents(settings)}
    if not doc_ids:
        raise EvalError("the index is empty; run 'kvisa ingest' first")
    return doc_ids


def _check_backend(settings: Settings, backend: str) -> None:
    """Fail before the first question, with the backend's own one-line reason, when it cannot answer."""
    if backend == "extractive":
        return
    try:
        from rag.llm import backend_problem
    except ImportError as exc:
        raise EvalError(f"backend {backend!r} is not available: {exc}") from exc
    problem = backend_problem(backend, settings)
    if problem:
        raise EvalError(problem)


def run_eval(gold: Path | str, out: Path | str, settings: Settings | None = None, *, backend: str | None = None,
             baseline: bool = False, top_k: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Evaluate kvisa (and optionally the naive baseline) on a gold file; write DIR/results.json,
    DIR/report.md and DIR/plots/*.png. Returns the results.json object."""
    from eval.report import write_report
    from rag.assistant import get_assistant

    settings = settings or get_settings()
    items = load_gold(gold)
    out = Path(out)
    indexed = _indexed_documents(settings)
    backend = backend or settings.backend
    top_k = top_k or settings.top_k
    unknown = sorted({s for i in items for s in i.sources} - indexed)
    warnings = [f"gold sources not in the index (never retrieved or cited): {', '.join(unknown)}"] if unknown else []
    _check_backend(settings, backend)
    started = time.perf_counter()
    assistant = get_assistant(settings)
    supports = embedding_support(assistant.embedder)
    runs = [run_items(f"kvisa ({backend})", items,
                      lambda q: assistant.ask(q, backend=backend, top_k=top_k), supports, progress)]
    if baseline:
        from eval.baseline import NaiveBaseline

        naive = NaiveBaseline(settings)
        runs.append(run_items("baseline (LlamaIndex)", items, lambda q: naive.ask(q, top_k=top_k), supports, progress))
    results: dict[str, Any] = {"summary": runs[0]["summary"], "items": runs[0]["items"]}
    if baseline:
        results["baseline"] = {"summary": runs[1]["summary"], "items": runs[1]["items"]}
    results["run"] = {
        "gold": str(gold), "backend": backend, "top_k": top_k, "documents_indexed": len(indexed),
        "systems": [r["name"] for r in runs], "warnings": warnings,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - started, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    write_report(runs, results["run"], out)
    return results
