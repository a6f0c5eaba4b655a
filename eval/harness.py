"""The evaluation harness behind `kvisa eval`: ask every gold question as `kvisa ask` would, score, report.

A run takes one or more gold files (default: every eval/gold_*.jsonl), keeps one split of their items, adds
to the index the documents of eval/docs/ that the items cite but the index lacks, then answers and scores.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.breakdown import breakdowns
from eval.gold import GoldError, GoldItem, load_gold, split_for
from eval.metrics import ItemScore, SupportFn, embedding_support, score_item, summarize
from kvisa.settings import PROJECT_ROOT, Settings, get_settings
from rag.types import Answer

AskFn = Callable[[str], Answer]
ProgressFn = Callable[[int, int], None]  # (questions done, questions in all)
GoldArg = Path | str | Sequence[Path | str] | None

EVAL_DIR = PROJECT_ROOT / "eval"
DOCS_DIR = EVAL_DIR / "docs"  # documents gold items may cite that are not part of corpus/
DOC_SUFFIXES = (".md", ".txt")
SPLIT_CHOICES = ("train", "test", "all")


class EvalError(RuntimeError):
    """An evaluation that cannot run (empty index, unavailable backend); the message is one line."""


def default_gold_files() -> list[Path]:
    """Every gold file of the project: eval/gold_*.jsonl, sorted by name."""
    return sorted(EVAL_DIR.glob("gold_*.jsonl"))


def gold_paths(gold: GoldArg) -> list[Path]:
    """The gold argument of run_eval as a list of paths: one path, several, or None for the defaults."""
    if gold is None or (not isinstance(gold, str | Path) and not gold):
        paths = default_gold_files()
        if not paths:
            raise EvalError(f"no gold files (gold_*.jsonl) in {EVAL_DIR}; pass one with --gold")
        return paths
    return [Path(gold)] if isinstance(gold, str | Path) else [Path(g) for g in gold]


def _item_lines(path: Path) -> list[int]:
    """Line numbers of a valid gold file's items, in order (load_gold skips blank lines only)."""
    text = path.read_text(encoding="utf-8-sig")
    return [number for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def load_gold_files(paths: Sequence[Path]) -> list[GoldItem]:
    """The items of several gold files, in file order. Ids must be unique across the files, as results and
    reports are keyed by id; every repeat is reported as `FILE:LINE`."""
    out: list[GoldItem] = []
    first: dict[str, str] = {}
    problems: list[str] = []
    for path in paths:
        items = load_gold(path)
        for item, line in zip(items, _item_lines(path), strict=True):
            if item.id in first:
                problems.append(f'{path}:{line}: duplicate id "{item.id}" (first at {first[item.id]})')
                continue
            first[item.id] = f"{path}:{line}"
            out.append(item)
    if problems:
        more = f" (and {len(problems) - 1} more bad lines)" if len(problems) > 1 else ""
        raise GoldError(problems[0] + more, problems)
    return out


def item_split(item: GoldItem) -> str:
    """The split recorded in the gold file, else the fixed rule's."""
    return item.split or split_for(item.id)


def select_split(items: Sequence[GoldItem], split: str) -> list[GoldItem]:
    """The items of one split ("train", "test"), or all of them ("all")."""
    if split not in SPLIT_CHOICES:
        raise EvalError(f"unknown split {split!r}; use {', '.join(SPLIT_CHOICES)}")
    return [i for i in items if split == "all" or item_split(i) == split]


def item_record(item: GoldItem, answer: Answer, latency_ms: float, score: ItemScore) -> dict[str, Any]:
    """One results.json item: the gold id, the `kvisa ask --json` fields, the gold, metrics and latency."""
    record: dict[str, Any] = {"id": item.id, **answer.to_json()}
    record["latency_ms"] = round(latency_ms, 1)
    record["language"] = item.language
    record["style"] = item.style  # "" when the gold file does not label styles
    record["split"] = item_split(item)
    record["gold"] = {"answer": item.answer, "key_facts": list(item.key_facts), "sources": list(item.sources),
                      "answerable": item.answerable}
    record["metrics"] = score.to_json()
    return record


def run_items(name: str, items: Sequence[GoldItem], ask: AskFn, supports: SupportFn,
              progress: bool = True, on_item: ProgressFn | None = None) -> dict[str, Any]:
    """Ask every item with a progress bar (and `on_item(done, total)` after each, for the web app); return
    {"name", "summary", "items"} of this system."""
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
        if on_item:
            on_item(len(records), len(items))
    summary = summarize(items, answers, scores, [r["latency_ms"] for r in records])
    return {"name": name, "summary": summary, **breakdowns(records), "items": records}


def _indexed_documents(settings: Settings) -> set[str]:
    from ingest.pipeline import list_documents

    return {e.doc_id for e in list_documents(settings)}


def gold_document_files(items: Sequence[GoldItem], indexed: set[str], docs_dir: Path) -> list[Path]:
    """Files of docs_dir (NAME.md or NAME.txt, NAME being the doc_id) of documents the items cite that the
    index lacks. Nothing else in the folder is touched."""
    missing = {s for item in items for s in item.sources} - indexed
    if not missing or not docs_dir.is_dir():
        return []
    return sorted(p for p in docs_dir.iterdir()
                  if p.is_file() and p.suffix.lower() in DOC_SUFFIXES and p.stem in missing)


def add_gold_documents(items: Sequence[GoldItem], settings: Settings, docs_dir: Path | str | None,
                       progress: bool = True) -> tuple[list[str], list[str]]:
    """Ingest the gold_document_files of the items (with their NAME.meta.yaml sidecars, read by the loader).
    Returns (doc_ids added, one line per file that failed); says what it added on stderr."""
    if docs_dir is None:
        return [], []
    files = gold_document_files(items, _indexed_documents(settings), Path(docs_dir))
    if not files:
        return [], []
    from ingest.pipeline import ingest_sources

    report = ingest_sources([str(p) for p in files], settings, progress=progress)
    added = sorted(report.added + report.updated)
    if added:
        print(f"kvisa: added to the index for the gold items, from {docs_dir}: {', '.join(added)}", file=sys.stderr)
    return added, [f"could not add a gold document: {line}" for line in report.errors]


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


def _system(run: dict[str, Any]) -> dict[str, Any]:
    """A run as results.json holds it: everything but its display name."""
    return {k: v for k, v in run.items() if k != "name"}


def run_eval(gold: GoldArg, out: Path | str, settings: Settings | None = None, *, backend: str | None = None,
             baseline: bool = False, top_k: int | None = None, progress: bool = True, split: str = "all",
             docs_dir: Path | str | None = DOCS_DIR, on_item: ProgressFn | None = None) -> dict[str, Any]:
    """Evaluate kvisa (and optionally the naive baseline) on the `split` items of one or more gold files
    (None: every eval/gold_*.jsonl); write DIR/results.json, DIR/report.md and DIR/plots/*.png.
    Documents the items cite that are missing from the index are first ingested from docs_dir when it
    holds them (None: never). Returns the results.json object."""
    from eval.report import write_report
    from rag.assistant import get_assistant

    settings = settings or get_settings()
    paths = gold_paths(gold)
    items = select_split(load_gold_files(paths), split)
    if not items:
        raise EvalError(f"no gold items in the {split} split of {', '.join(map(str, paths))}")
    out = Path(out)
    if not _indexed_documents(settings):
        raise EvalError("the index is empty; run 'kvisa ingest' first")
    backend = backend or settings.backend
    top_k = top_k or settings.top_k
    _check_backend(settings, backend)  # before changing the index, so a run that cannot answer changes nothing
    docs_added, warnings = add_gold_documents(items, settings, docs_dir, progress)
    indexed = _indexed_documents(settings)
    unknown = sorted({s for i in items for s in i.sources} - indexed)
    if unknown:
        warnings.append(f"gold sources not in the index (never retrieved or cited): {', '.join(unknown)}")
    started = time.perf_counter()
    assistant = get_assistant(settings)
    supports = embedding_support(assistant.embedder)
    runs = [run_items(f"kvisa ({backend})", items,
                      lambda q: assistant.ask(q, backend=backend, top_k=top_k), supports, progress, on_item)]
    if baseline:
        from eval.baseline import NaiveBaseline

        naive = NaiveBaseline(settings)
        runs.append(run_items("baseline (LlamaIndex)", items, lambda q: naive.ask(q, top_k=top_k), supports, progress,
                              on_item))
    results: dict[str, Any] = _system(runs[0])
    if baseline:
        results["baseline"] = _system(runs[1])
    results["run"] = {
        "gold": [str(p) for p in paths], "split": split,
        "docs_dir": None if docs_dir is None else str(docs_dir), "docs_added": docs_added,
        "backend": backend, "top_k": top_k, "documents_indexed": len(indexed),
        "systems": [r["name"] for r in runs], "warnings": warnings,
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - started, 1),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    write_report(runs, results["run"], out)
    return results
