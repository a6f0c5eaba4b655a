"""report.md of an evaluation: the summary table (systems side by side), the plots, the worst items."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.metrics import SUMMARY_KEYS
from eval.plots import write_plots

WORST_ITEMS = 10
ANSWER_CHARS = 700

METRIC_MEANING = {
    "answer_accuracy": "answerable items with every key fact and not refused",
    "key_fact_recall": "mean share of key facts stated (answerable items)",
    "refusal_accuracy": "unanswerable items refused",
    "false_refusal_rate": "answerable items refused (lower is better)",
    "citation_precision": "citations on answerable items that name a gold source",
    "citation_recall": "mean share of an item's gold sources cited",
    "supported_sentence_rate": "answer sentences supported by a passage they cite",
    "hit_at_5": "answerable items with a gold source among the first 5 retrieved documents",
    "mrr": "mean reciprocal rank of the first gold source document",
    "token_f1": "token F1 against the reference answer (Chinese by character)",
    "latency_ms_p50": "median wall-clock latency per question in ms (after one warm-up question)",
    "latency_ms_p95": "95th percentile latency in milliseconds",
}


def fmt(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if key.startswith("n_"):
        return str(value)
    if key.startswith("latency"):
        return f"{value:.0f}"
    return f"{value:.3f}"


def summary_table(runs: Sequence[dict[str, Any]]) -> list[str]:
    lines = ["| metric | " + " | ".join(r["name"] for r in runs) + " | meaning |",
             "|---|" + "---:|" * len(runs) + "---|"]
    for key in SUMMARY_KEYS:
        cells = " | ".join(fmt(key, r["summary"][key]) for r in runs)
        lines.append(f"| {key} | {cells} | {METRIC_MEANING.get(key, '')} |")
    return lines


def badness(record: dict[str, Any]) -> tuple:
    """Sort key, worst first: wrong before right, then fewer key facts, then lower token F1."""
    m = record["metrics"]
    return (m["correct"], m["key_fact_recall"] if m["key_fact_recall"] is not None else 1.0,
            m["token_f1"] if m["token_f1"] is not None else 1.0, record["id"])


def _quote(text: str) -> str:
    text = " ".join(text.split())
    text = text if len(text) <= ANSWER_CHARS else text[:ANSWER_CHARS].rsplit(" ", 1)[0] + " …"
    return "> " + (text or "(empty)")


def worst_items(runs: Sequence[dict[str, Any]]) -> list[str]:
    main = runs[0]
    others = [{r["id"]: r for r in run["items"]} for run in runs[1:]]
    lines = [f"## Worst {WORST_ITEMS} items of {main['name']}", ""]
    for record in sorted(main["items"], key=badness)[:WORST_ITEMS]:
        m, gold = record["metrics"], record["gold"]
        lines += [f"### {record['id']}: {record['question']}", ""]
        expected = gold["answer"] if gold["answerable"] else "(not answerable from the corpus: should refuse)"
        lines.append(f"- expected: {expected}")
        if gold["answerable"]:
            lines.append(f"- key facts: {', '.join(gold['key_facts'])}; missing: "
                         f"{', '.join(m['facts_missing']) or 'none'}; gold sources: {', '.join(gold['sources'])}")
        cited = ", ".join(f"[{c['n']}] {c['doc_id']}" for c in record["citations"]) or "none"
        lines.append(f"- correct: {m['correct']}; refused: {record['refused']}; cited: {cited}; "
                     f"token F1: {fmt('f1', m['token_f1'])}; latency: {record['latency_ms']:.0f} ms")
        lines += ["", f"{main['name']}:", "", _quote(record["answer"]), ""]
        for run, by_id in zip(runs[1:], others, strict=True):
            other = by_id.get(record["id"])
            if other:
                lines += [f"{run['name']} (correct: {other['metrics']['correct']}):", "",
                          _quote(other["answer"]), ""]
    return lines


def write_report(runs: Sequence[dict[str, Any]], run_info: dict[str, Any], out: Path) -> Path:
    """Write DIR/plots/*.png and DIR/report.md linking them; returns the report path."""
    plots = write_plots(runs, out / "plots")
    summary = runs[0]["summary"]
    lines = [
        "# kvisa evaluation report", "",
        f"- gold file: `{run_info['gold']}` ({summary['n_items']} items: {summary['n_answerable']} answerable, "
        f"{summary['n_unanswerable']} not answerable)",
        f"- backend: {run_info['backend']}; top_k: {run_info['top_k']}; documents in the index: "
        f"{run_info['documents_indexed']}; finished {run_info['finished']} in {run_info['duration_s']} s",
    ]
    for run in runs:
        produced = Counter(item["backend"] for item in run["items"])
        if len(produced) > 1:  # e.g. a generative backend whose unverified answers fell back to extractive
            lines.append(f"- answers of {run['name']} by the backend that produced them: "
                         + ", ".join(f"{name} {count}" for name, count in produced.most_common()))
    lines += [f"- warning: {w}" for w in run_info["warnings"]]
    lines += ["", "## Summary", "", *summary_table(runs), ""]
    if len(runs) > 1:
        lines += ["The baseline is a default LlamaIndex `VectorStoreIndex` (default chunking, dense-only top-k "
                  "retrieval, same embedding model) over the same files; its answer is the top chunk, cited. "
                  "That chunk is long (LlamaIndex's default is 1,024 tokens), so key facts often appear "
                  "somewhere in it: token_f1 and the answers below show how much text a reader must search. "
                  "With few documents, hit_at_5 is near 1 for any retriever; mrr separates them better.", ""]
    titles = {"metrics": "Metrics per system", "latency": "Latency distribution",
              "by_document": "Accuracy by source document", "by_language": "Accuracy by language"}
    lines += ["## Plots", ""]
    for key, path in plots.items():
        lines += [f"### {titles[key]}", "", f"![{titles[key]}](plots/{path.name})", ""]
    lines += worst_items(runs)
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report
