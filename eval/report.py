"""report.md of an evaluation: the summary table (systems side by side), accuracy by question style and by
language, the risk–coverage curve, the plots, the worst items."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.metrics import SUMMARY_KEYS
from eval.plots import write_plots

WORST_ITEMS = 10
ANSWER_CHARS = 700
CURVE_ROWS = 15  # a longer risk–coverage curve is thinned in the report (results.json holds every point)

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
    "selective_precision": "answers given (not refused) that are right: an answerable item with every key fact",
    "answer_words_p50": "median length of the answers given, in words (Chinese: 2 characters a word; "
                        "citation markers and table rows not counted)",
}
GROUP_COLUMNS = ("accuracy", "answer_accuracy", "refusal_accuracy")


def fmt(key: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if key.startswith("n_"):
        return str(value)
    if key.startswith("latency"):
        return f"{value:.0f}"
    if key.endswith("words_p50"):
        return f"{value:.1f}"
    return f"{value:.3f}"


def summary_table(runs: Sequence[dict[str, Any]]) -> list[str]:
    lines = ["| metric | " + " | ".join(r["name"] for r in runs) + " | meaning |",
             "|---|" + "---:|" * len(runs) + "---|"]
    for key in SUMMARY_KEYS:
        cells = " | ".join(fmt(key, r["summary"][key]) for r in runs)
        lines.append(f"| {key} | {cells} | {METRIC_MEANING.get(key, '')} |")
    return lines


def group_table(runs: Sequence[dict[str, Any]], key: str, label: str) -> list[str]:
    """Accuracy per group (key "by_style" or "by_language") of the first system; the others' accuracy beside."""
    main, others = runs[0], runs[1:]
    lines = [f"| {label} | items | answerable | unanswerable | " + " | ".join(GROUP_COLUMNS)
             + "".join(f" | accuracy: {r['name']}" for r in others) + " |",
             "|---|" + "---:|" * (3 + len(GROUP_COLUMNS) + len(others))]
    for name, g in main[key].items():
        cells = [str(g["n"]), str(g["n_answerable"]), str(g["n_unanswerable"])]
        cells += [fmt(c, g[c]) for c in GROUP_COLUMNS]
        cells += [fmt("accuracy", r[key].get(name, {}).get("accuracy")) for r in others]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _thinned(curve: Sequence[dict[str, float]], rows: int = CURVE_ROWS) -> list[dict[str, float]]:
    """At most `rows` points spread evenly over the curve, always with its last point."""
    if len(curve) <= rows:
        return list(curve)
    picks = {round(i * (len(curve) - 1) / (rows - 1)) for i in range(rows)}
    return [curve[i] for i in sorted(picks)]


def risk_coverage_section(runs: Sequence[dict[str, Any]]) -> list[str]:
    lines = ["## Risk–coverage", "",
             "Answers ordered by the answerer's confidence, highest first (refusals are never answered): "
             "answering only at confidence ≥ threshold answers the share *coverage* of all items, with "
             "*accuracy* the share of those answers that are right. The area under accuracy over coverage "
             "(a step curve from coverage 0) is at most the final coverage, reached when every answer is right.",
             ""]
    for run in runs:
        curve = run["risk_coverage"]
        final = f"{curve[-1]['coverage']:.3f}" if curve else "0"
        lines.append(f"- {run['name']}: area {fmt('area', run['risk_coverage_auc'])} (best possible {final}); "
                     f"{len(curve)} distinct confidence thresholds")
    main = runs[0]["risk_coverage"]
    if main:
        shown = _thinned(main)
        note = f" ({len(shown)} of {len(main)} points; all in results.json)" if len(shown) < len(main) else ""
        lines += ["", f"{runs[0]['name']}{note}:", "", "| threshold | coverage | accuracy |", "|---:|---:|---:|"]
        lines += [f"| {p['threshold']:.3f} | {p['coverage']:.3f} | {p['accuracy']:.3f} |" for p in shown]
    return [*lines, ""]


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
    gold = run_info["gold"] if isinstance(run_info["gold"], list) else [run_info["gold"]]
    lines = [
        "# kvisa evaluation report", "",
        f"- gold files: {', '.join(f'`{g}`' for g in gold)}; split: {run_info.get('split', 'all')} "
        f"({summary['n_items']} items: {summary['n_answerable']} answerable, "
        f"{summary['n_unanswerable']} not answerable)",
        f"- backend: {run_info['backend']}; top_k: {run_info['top_k']}; documents in the index: "
        f"{run_info['documents_indexed']}; finished {run_info['finished']} in {run_info['duration_s']} s",
    ]
    for run in runs:
        produced = Counter(item["backend"] for item in run["items"])
        if len(produced) > 1:  # e.g. a generative backend whose unverified answers fell back to extractive
            lines.append(f"- answers of {run['name']} by the backend that produced them: "
                         + ", ".join(f"{name} {count}" for name, count in produced.most_common()))
    if run_info.get("docs_added"):
        lines.append(f"- added to the index for this run, from `{run_info['docs_dir']}`: "
                     f"{', '.join(run_info['docs_added'])}")
    lines += [f"- warning: {w}" for w in run_info["warnings"]]
    lines += ["", "## Summary", "", *summary_table(runs), ""]
    if len(runs) > 1:
        lines += ["The baseline is a default LlamaIndex `VectorStoreIndex` (default chunking, dense-only top-k "
                  "retrieval, same embedding model) over the same files; its answer is the top chunk, cited. "
                  "That chunk is long (LlamaIndex's default is 1,024 tokens), so key facts often appear "
                  "somewhere in it: token_f1 and the answers below show how much text a reader must search. "
                  "With few documents, hit_at_5 is near 1 for any retriever; mrr separates them better.", ""]
    lines += ["## By question style", "", *group_table(runs, "by_style", "style"), "",
              "accuracy counts every item of the style (answerable: every key fact and no refusal; unanswerable: "
              "refused); answer_accuracy and refusal_accuracy split it by answerability.", "",
              "## By language", "", *group_table(runs, "by_language", "language"), ""]
    lines += risk_coverage_section(runs)
    titles = {"metrics": "Metrics per system", "latency": "Latency distribution",
              "by_document": "Accuracy by source document", "by_language": "Accuracy by language",
              "by_style": "Accuracy by question style", "risk_coverage": "Risk–coverage curve"}
    lines += ["## Plots", ""]
    for key, path in plots.items():
        lines += [f"### {titles[key]}", "", f"![{titles[key]}](plots/{path.name})", ""]
    lines += worst_items(runs)
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report
