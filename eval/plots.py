"""PNG plots of an evaluation (matplotlib, Agg): metrics per system, latency, accuracy by document, language
and question style, and the risk–coverage curve."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display, no GUI toolkit, safe in threads and CI

import matplotlib.pyplot as plt

RATE_METRICS = (
    "answer_accuracy", "key_fact_recall", "refusal_accuracy", "false_refusal_rate", "citation_precision",
    "citation_recall", "supported_sentence_rate", "hit_at_5", "mrr", "token_f1", "selective_precision",
)
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")


def _grouped_bars(ax: Any, labels: Sequence[str], runs: Sequence[tuple[str, Sequence[float | None]]]) -> None:
    """Horizontal bars, one group per label and one bar per run; a missing value is drawn as nothing."""
    height = 0.8 / max(1, len(runs))
    for r, (name, values) in enumerate(runs):
        ys = [i + (r - (len(runs) - 1) / 2) * height for i in range(len(labels))]
        ax.barh(ys, [v or 0.0 for v in values], height=height, label=name, color=COLORS[r % len(COLORS)])
        for y, v in zip(ys, values, strict=True):
            ax.text((v or 0.0) + 0.01, y, "n/a" if v is None else f"{v:.2f}", va="center", fontsize=7)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.12)
    ax.legend(loc="best", fontsize=8)


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_metrics(runs: Sequence[dict[str, Any]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 5.5))
    _grouped_bars(ax, RATE_METRICS, [(r["name"], [r["summary"][m] for m in RATE_METRICS]) for r in runs])
    ax.set_title("Summary metrics per system\n(higher is better, except false_refusal_rate)", fontsize=10)
    return _save(fig, path)


def plot_latency(runs: Sequence[dict[str, Any]], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 4))
    for r, run in enumerate(runs):
        values = [item["latency_ms"] for item in run["items"]]
        color = COLORS[r % len(COLORS)]
        ax.hist(values, bins=20, alpha=0.55, color=color,
                label=f"{run['name']}: p50 {run['summary']['latency_ms_p50']:.0f} ms, "
                      f"p95 {run['summary']['latency_ms_p95']:.0f} ms")
        ax.axvline(run["summary"]["latency_ms_p50"], color=color, linestyle="--", linewidth=1)
    ax.set_xlabel("latency per question (ms)")
    ax.set_ylabel("questions")
    ax.set_title("Latency distribution")
    ax.legend(fontsize=8)
    return _save(fig, path)


def correct_by(run: dict[str, Any], key: str) -> dict[str, tuple[float, int]]:
    """Share of correct items (and their count) per group: key is "source" or "language".
    An item with several gold sources counts once for each of them; unanswerable items have none."""
    groups: dict[str, list[bool]] = defaultdict(list)
    for item in run["items"]:
        names = item["gold"]["sources"] if key == "source" else [item["language"]]
        for name in names:
            groups[name].append(item["metrics"]["correct"])
    return {name: (sum(flags) / len(flags), len(flags)) for name, flags in sorted(groups.items())}


def plot_accuracy_by(runs: Sequence[dict[str, Any]], key: str, path: Path) -> Path:
    per_run = [correct_by(run, key) for run in runs]
    names = sorted({n for groups in per_run for n in groups})
    counts = {n: next(g[n][1] for g in per_run if n in g) for n in names}
    labels = [f"{n} (n={counts[n]})" for n in names]
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.5 * max(2, len(names)) * max(1, len(runs)) / 1.5))
    _grouped_bars(ax, labels, [(run["name"], [g.get(n, (None, 0))[0] for n in names])
                               for run, g in zip(runs, per_run, strict=True)])
    if key == "source":
        title = "Answerable items answered correctly, by gold source document"
    else:
        title = "Items handled correctly (right answer, or refusal when not answerable), by question language"
    ax.set_title(title, fontsize=10, loc="right")
    return _save(fig, path)


def plot_by_style(run: dict[str, Any], path: Path) -> Path:
    """One group of bars per question style: answerable items answered right, unanswerable items refused."""
    groups = run["by_style"]
    labels = [f"{style} ({g['n_answerable']}+{g['n_unanswerable']})" for style, g in groups.items()]
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.6 * max(2, len(labels))))
    _grouped_bars(ax, labels, [
        ("answerable: answered correctly", [g["answer_accuracy"] for g in groups.values()]),
        ("unanswerable: refused", [g["refusal_accuracy"] for g in groups.values()]),
    ])
    ax.set_title(f"{run['name']}: accuracy by question style\n(style (answerable+unanswerable items); "
                 "n/a: no such items)", fontsize=10)
    return _save(fig, path)


def plot_risk_coverage(runs: Sequence[dict[str, Any]], path: Path) -> Path:
    """Accuracy of the answers given against the share of items answered, as the confidence threshold falls."""
    fig, ax = plt.subplots(figsize=(7, 5))
    for r, run in enumerate(runs):
        curve = run["risk_coverage"]
        if not curve:
            continue  # refused everything: no answer, no point
        xs = [0.0] + [p["coverage"] for p in curve]
        ys = [curve[0]["accuracy"]] + [p["accuracy"] for p in curve]
        auc = run["risk_coverage_auc"]
        color = COLORS[r % len(COLORS)]
        # "pre": the accuracy of a point holds over the coverage its answers add, as the area counts it
        ax.step(xs, ys, where="pre", color=color,
                label=f"{run['name']} (area {auc:.3f}, answers {curve[-1]['coverage']:.0%})")
        ax.plot(xs[1:], ys[1:], ".", color=color)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("coverage: share of items answered (confidence ≥ threshold, refusals never)")
    ax.set_ylabel("accuracy of the answers given")
    ax.set_title("Risk–coverage: answering only above a confidence threshold", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return _save(fig, path)


def write_plots(runs: Sequence[dict[str, Any]], folder: Path) -> dict[str, Path]:
    """All plots of the runs as PNG files in `folder`; returns {name: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "metrics": plot_metrics(runs, folder / "metrics_by_system.png"),
        "latency": plot_latency(runs, folder / "latency.png"),
        "by_document": plot_accuracy_by(runs, "source", folder / "accuracy_by_document.png"),
        "by_language": plot_accuracy_by(runs, "language", folder / "accuracy_by_language.png"),
        "by_style": plot_by_style(runs[0], folder / "by_style.png"),
        "risk_coverage": plot_risk_coverage(runs, folder / "risk_coverage.png"),
    }
