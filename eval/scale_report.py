"""eval/bench_scale.py's record: runs merged into scale.json by (size, mode), a Markdown table and a PNG plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, as eval/plots.py

import matplotlib.pyplot as plt

from eval.plots import COLORS

TARGETS = {"warm_p50_ms": 100, "warm_p95_ms": 250, "question_rss_mb": 2048, "add_without_embed_s": 5,
           "ingest_ratio": 0.9}
NOTES = [
    "ingest_texts_per_s: chunks and evidence units embedded per wall second of the whole ingest (load, chunk, "
    "embed, store, save the lexical index); ingest_ratio divides it by plain SentenceTransformer.encode's rate "
    "on the first plain_subset_texts of the same texts, in the same run; ingest_cpu_ratio does the same per CPU "
    "second of the process, which other work on a shared machine disturbs less. Both compare rates measured "
    "minutes apart under changing load; the encoder share (encode_s / ingest_s, both inside the one ingest) "
    "bounds the ratio the same pipeline could reach with an encoder as fast as plain encode.",
    "vectors_reused: the run replayed vectors an earlier embedding of the same texts saved (checked by digest: "
    "the other store mode's, or with --replay-all an earlier run's) instead of embedding again; its ingest rate "
    "then measures everything but the encoder, and it has no ratio.",
    "vectors: encoded (the model embedded every text), replayed (as above) or synthetic (--synthetic-vectors: a "
    "unit-length random vector per text, seeded by its sha256, stored instead of its embedding). A synthetic run "
    "measures storage, the HNSW and lexical indexes, RSS, disk, warm retrieval and answering at that size, and "
    "adding a notice outside its embedding (the add and the query side still use the real encoders); it does not "
    "measure the encoder, so it has no ratio, and its ingest rate is everything else (encode_s is the time spent "
    "making stand-ins). Its recall is not meaningful: dense retrieval ranks random document vectors, and only "
    "the lexical side finds passages. Random vectors have no clusters, unlike real embeddings: a Chroma query for "
    "30 neighbours among 49k of them took about 20% longer than among as many real ones (README, At scale); "
    "latency from them is not a measurement of real vectors at that size. Synthetic runs sit beside real ones.",
    "warm_p50_ms / warm_p95_ms: Assistant.ask (retrieve + extractive answer) in a process that has answered "
    "before; question_rss_mb: that process's peak RSS (VmHWM) before it loads sentence-transformers for the add.",
    "add_s: ingest of one more notice by that process (its embedding time is add_embed_s); add_next_question_ms: "
    "the question after it, which takes the new notice into the lexical index.",
    "cold_ask_median_s: `kvisa ask` in a new process, median of the timed runs after one untimed run.",
    "index_disk_mb: the Chroma store (embedded folder or the server's --path) and the saved lexical index; "
    "home_disk_mb adds the rest of KVISA_HOME (the ONNX query encoder, ~90 MB).",
]


def merge(path: Path, result: dict[str, Any], machine: dict[str, Any]) -> dict[str, Any]:
    """scale.json with `result` in place of any earlier run of the same size and mode (and synthetic or not)."""
    record = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    runs = [r for r in record.get("runs", []) if _key(r) != _key(result)]
    runs = sorted([*runs, result], key=_key)
    return {"machine": machine, "targets_at_100k": TARGETS, "notes": NOTES, "runs": runs}


def _vectors(run: dict[str, Any]) -> str:
    return run.get("vectors") or ("replayed" if run.get("vectors_reused") else "encoded")


def _key(run: dict[str, Any]) -> tuple[int, str, bool]:
    return run["size"], run["mode"], _vectors(run) == "synthetic"


def _row(run: dict[str, Any]) -> list[str]:
    vectors = _vectors(run)
    ratio = (f"{vectors} vectors" if vectors != "encoded"
             else f"{run['ingest_ratio']:.2f} ({run['ingest_cpu_ratio']:.2f} per CPU-s)")
    share = vectors if vectors != "encoded" else f"{run['encode_s'] / run['ingest_s']:.0%}"
    recall = f"{run['recall_at_k']:.2f}" + (" (not meaningful: synthetic vectors)" if vectors == "synthetic" else "")
    store = run["mode"] + (" (**synthetic vectors**)" if vectors == "synthetic" else "")
    return [f"{run['chunks']:,}", store, f"{run['units']:,}", f"{run['ingest_texts_per_s']:.1f}", ratio, share,
            f"{run['warm_p50_ms']:.0f} / {run['warm_p95_ms']:.0f}", recall,
            f"{run['cold_ask_median_s']:.1f}", f"{run['question_rss_mb']:.0f}", f"{run['index_disk_mb']:.0f}",
            f"{run['add_s']:.1f} ({run['add_embed_s']:.1f} embedding)", f"{run['add_next_question_ms']:.0f}",
            f"{run['load_average_1min'][0]:.1f}–{run['load_average_1min'][1]:.1f}"]


def markdown(record: dict[str, Any]) -> str:
    head = ["chunks", "store", "units", "ingest texts/s", "ingest ratio", "encoder share", "warm p50 / p95 ms",
            "recall@k", "cold ask s", "RSS MB", "index disk MB", "add one notice s", "next question ms", "load avg"]
    lines = ["# Scale benchmark (eval/bench_scale.py)", "",
             f"Machine: {record['machine']['cpus']} cores, Python {record['machine']['python']}. "
             f"Targets at 100k chunks: {json.dumps(record['targets_at_100k'])}.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_row(run)) + " |" for run in record["runs"]]
    return "\n".join([*lines, "", *(f"- {note}" for note in record["notes"]), ""])


def plot(record: dict[str, Any], path: Path) -> Path:
    """Warm latency (p50, p95) and question-process RSS against chunk count, one line per store mode."""
    fig, (latency, rss) = plt.subplots(1, 2, figsize=(10, 4))
    for i, mode in enumerate(sorted({r["mode"] for r in record["runs"]})):
        runs = [r for r in record["runs"] if r["mode"] == mode and _vectors(r) != "synthetic"]
        xs = [r["chunks"] for r in runs]
        latency.plot(xs, [r["warm_p50_ms"] for r in runs], "o-", color=COLORS[i], label=f"{mode} p50")
        latency.plot(xs, [r["warm_p95_ms"] for r in runs], "s--", color=COLORS[i], label=f"{mode} p95")
        rss.plot(xs, [r["question_rss_mb"] for r in runs], "o-", color=COLORS[i], label=mode)
        synthetic = [r for r in record["runs"] if r["mode"] == mode and _vectors(r) == "synthetic"]  # rings, apart
        for ax, keys in ((latency, ("warm_p50_ms", "warm_p95_ms")), (rss, ("question_rss_mb",))) if synthetic else ():
            for key in keys:
                ax.plot([r["chunks"] for r in synthetic], [r[key] for r in synthetic], "o", markersize=11,
                        markerfacecolor="none", color=COLORS[i],
                        label=f"{mode}: synthetic vectors" if key == keys[0] else "_nolegend_")
    for ax, title, unit in ((latency, "Warm question latency", "ms"), (rss, "Question process peak RSS", "MB")):
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
        ax.set_xlabel("chunks in the index")
        ax.set_ylabel(unit)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write(record: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scale.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    (folder / "scale.md").write_text(markdown(record), encoding="utf-8")
    plot(record, folder / "scale.png")
