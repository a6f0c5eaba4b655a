"""The Evaluation tab: run `kvisa eval` from the web app and read its runs (stored as the CLI stores them)."""

from __future__ import annotations

import json
import threading
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr

from eval.gold import GoldError
from eval.harness import EvalError, default_gold_files, load_gold_files, run_eval
from eval.runs import StoredRun, new_run_dir, previous_run, read_run
from ingest.pipeline import list_documents
from kvisa.settings import Settings
from rag.types import Answer, BackendUnavailable, Citation
from ui.cards import answer_html

# The rows of the summary table: what a maintainer compares between runs.
METRICS = ("answer_accuracy", "refusal_accuracy", "selective_precision", "citation_precision", "key_fact_recall",
           "false_refusal_rate", "hit_at_5", "mrr", "answer_words_p50", "latency_ms_p50", "latency_ms_p95")
ITEM_COLUMNS = ["id", "question", "pass", "answer", "cited documents", "latency ms"]
_RUNNING = threading.Lock()  # one evaluation at a time: it shares the index and the models with the chat


def bundled_gold() -> dict[str, Path]:
    return {p.name: p for p in default_gold_files()}


def item_passed(item: dict[str, Any]) -> bool:
    return bool(item["metrics"]["correct"]) if item["gold"]["answerable"] else bool(item["refused"])


def item_rows(items: list[dict[str, Any]], failures_only: bool) -> list[list[Any]]:
    return [[i["id"], i["question"], "✓" if item_passed(i) else "✗", " ".join(i["answer"].split())[:240],
             ", ".join(dict.fromkeys(c["doc_id"] for c in i["citations"])), i["latency_ms"]]
            for i in items if not (failures_only and item_passed(i))]


def summary_rows(run: StoredRun, previous: StoredRun | None, with_baseline: bool) -> tuple[list[str], list[list]]:
    """Metric, this run, the previous run of the same gold file, and (when asked) the baseline."""
    headers = ["metric", f"this run ({run.name})"]
    columns = [run.summary]
    if previous:
        headers.append(f"previous ({previous.name})")
        columns.append(previous.summary)
    if with_baseline and run.baseline:
        headers.append("baseline (LlamaIndex)")
        columns.append(run.baseline)
    return headers, [[m, *(c.get(m, "") for c in columns)] for m in METRICS]


def item_detail(item: dict[str, Any], titles: list[str]) -> str:
    """One item as the chat would show it: the answer with its source cards, then the gold."""
    citations = [Citation(c["n"], c["doc_id"], c["title"], c.get("section", ""), c["text"], c.get("source_url", ""))
                 for c in item["citations"]]
    answer = Answer(item["question"], item["answer"], citations, refused=item["refused"])
    gold = item["gold"]
    facts = ", ".join(gold["key_facts"]) or "—"
    verdict = "passed" if item_passed(item) else "failed"
    kind = "answerable" if gold["answerable"] else "not answerable"
    return (f'<div class="kv-eval-item"><p><b>{escape(item["id"])}</b> ({verdict}): {escape(item["question"])}</p>'
            f'{answer_html(answer, 0, titles)}<p><b>Gold</b> ({kind}): key facts: {escape(facts)}; '
            f'sources: {escape(", ".join(gold["sources"]) or "—")}</p></div>')


def gold_path(choice: str | None, upload: str | None) -> Path:
    """The uploaded file when there is one, else the chosen bundled file."""
    if upload:
        return Path(upload)
    files = bundled_gold()
    if not choice or choice not in files:
        raise gr.Error("choose a gold file or upload one")
    return files[choice]


def run_evaluation(settings: Settings, choice: str | None, upload: str | None, backend: str, top_k: int, split: str,
                   baseline: bool, progress: gr.Progress) -> tuple[Any, ...]:
    """Validate the gold file, run it with a progress bar, store the run, and show it."""
    path = gold_path(choice, upload)
    try:
        load_gold_files([path])
    except GoldError as exc:
        lines = "\n".join(f"- {p}" for p in exc.problems[:20])
        return (f"✗ the gold file has bad lines:\n{lines}", *_empty())
    if not _RUNNING.acquire(blocking=False):
        raise gr.Error("an evaluation is already running; wait for it to finish")
    try:
        out = new_run_dir(settings, [path])
        progress((0, 1), desc="questions")
        run_eval(path, out, settings, backend=backend, baseline=baseline, top_k=int(top_k), progress=False,
                 split=split, on_item=lambda done, total: progress((done, total), desc="questions", unit="q"))
    except (GoldError, EvalError, BackendUnavailable) as exc:
        return (f"✗ {exc}", *_empty())
    finally:
        _RUNNING.release()
    return show_run(settings, str(out), baseline, False)


def _empty() -> tuple[Any, ...]:
    return None, [], None, "", ""


def show_run(settings: Settings, folder: str, with_baseline: bool, failures_only: bool) -> tuple[Any, ...]:
    """Status line, summary table, plots, item table, detail (cleared), and the run's folder."""
    run = read_run(Path(folder))
    if run is None:
        return ("✗ that run has no results.json", *_empty())
    headers, rows = summary_rows(run, previous_run(settings, run), with_baseline)
    plots = sorted(str(p) for p in (run.folder / "plots").glob("*.png"))
    items = _items(run)
    status = (f"✓ {run.summary['n_items']} questions of {'+'.join(run.gold)} ({run.split}, {run.backend}); "
              f"stored in `{run.folder}`")
    return (status, {"headers": headers, "data": rows}, plots,
            {"headers": ITEM_COLUMNS, "data": item_rows(items, failures_only)}, "", str(run.folder))


def _items(run: StoredRun) -> list[dict[str, Any]]:
    return json.loads((run.folder / "results.json").read_text(encoding="utf-8"))["items"]


def build_evaluation_tab(settings: Settings, backends: list[str]) -> None:
    """The tab's components and events; call inside a `gr.Tab` of the app."""
    gr.Markdown("Score kvisa on gold Q&A pairs (the format is in `eval/GOLD_FORMAT.md`). Runs are stored under "
                "`KVISA_HOME/evals/`, where `kvisa eval --list` finds them too.")
    with gr.Row():
        choice = gr.Dropdown(label="Bundled gold file", choices=list(bundled_gold()), value="gold_dev.jsonl",
                             elem_id="kv-eval-gold")
        upload = gr.File(label="…or upload one (JSON lines)", file_types=[".jsonl", ".json", ".txt"],
                         type="filepath", elem_id="kv-eval-upload", height=120)
    with gr.Row():
        backend = gr.Dropdown(label="Backend", choices=backends, value=backends[0], elem_id="kv-eval-backend")
        top_k = gr.Slider(1, 30, value=settings.top_k, step=1, label="Passages (top-k)")
        split = gr.Radio(["all", "train", "test"], value="all", label="Split")
        baseline = gr.Checkbox(label="Compare with the LlamaIndex baseline", elem_id="kv-eval-baseline")
    start = gr.Button("Run evaluation", variant="primary", elem_id="kv-eval-run")
    status = gr.Markdown(elem_id="kv-eval-status")
    summary = gr.Dataframe(label="Summary", interactive=False, elem_id="kv-eval-summary")
    plots = gr.Gallery(label="Plots", columns=3, height="auto", elem_id="kv-eval-plots")
    failures_only = gr.Checkbox(label="Failures only", elem_id="kv-eval-failures")
    items = gr.Dataframe(label="Questions (click a row for the full answer)", interactive=False, wrap=True,
                         elem_id="kv-eval-items", column_widths=["9%", "30%", "5%", "36%", "13%", "7%"])
    detail = gr.HTML(elem_id="kv-eval-detail")
    folder = gr.State("")

    outputs = [status, summary, plots, items, detail, folder]
    start.click(lambda c, u, b, k, s, base, progress=gr.Progress(): run_evaluation(settings, c, u, b, k, s, base,
                                                                                   progress),
                [choice, upload, backend, top_k, split, baseline], outputs, api_name="run_eval",
                concurrency_id="evaluation", concurrency_limit=2, show_progress="full")
    failures_only.change(lambda f, only, base: show_run(settings, f, base, only)[3] if f else None,
                         [folder, failures_only, baseline], items, api_name=False)

    def select(f: str, only: bool, event: gr.SelectData) -> str:
        run = read_run(Path(f)) if f else None
        shown = [i for i in _items(run) if not (only and item_passed(i))] if run else []
        row = event.index[0] if isinstance(event.index, list | tuple) else event.index
        titles = [e.title for e in list_documents(settings)]  # what a refusal says the index covers
        return item_detail(shown[row], titles) if 0 <= row < len(shown) else ""

    items.select(select, [folder, failures_only], detail, api_name=False)
