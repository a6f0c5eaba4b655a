"""eval/bench_scale.py cannot rot: a deterministic corpus with answers in place, and a tiny run writes its files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from eval import scale_corpus, scale_report
from eval.bench_scale import synthetic_vectors
from kvisa.settings import PROJECT_ROOT


def test_the_synthetic_corpus_is_deterministic_and_every_answer_is_in_its_notice() -> None:
    notices = scale_corpus.generate(40, seed=3)
    assert [n.text for n in notices] == [n.text for n in scale_corpus.generate(40, seed=3)]
    assert notices[-1].text == scale_corpus.generate(1, seed=3, start=39)[0].text
    assert len({n.program for n in notices}) == len(notices)  # a question names exactly one notice
    for notice in notices:
        assert notice.text.startswith("# ") and notice.text.count("\n## Article ") == len(notice.facts)
        for fact in notice.facts:
            assert fact.sentence in notice.text and fact.answer.split()[0] in fact.sentence
            assert notice.program in fact.question
    asked = scale_corpus.questions(notices, 10)
    assert len(asked) == 10 and len({doc_id for doc_id, _, _ in asked}) == 10


def _tiny_run(out: Path, *options: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVISA_")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    done = subprocess.run([sys.executable, str(PROJECT_ROOT / "eval" / "bench_scale.py"), "--sizes", "12",
                           "--modes", "embedded", "--questions", "2", "--cold-runs", "0", "--out", str(out), *options],
                          env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    [run] = json.loads((out / "scale.json").read_text(encoding="utf-8"))["runs"]
    return run


def test_a_tiny_run_writes_the_json_the_table_and_the_plot(tmp_path: Path) -> None:
    run = _tiny_run(tmp_path)
    assert run["size"] == 12 and run["mode"] == "embedded" and run["chunks"] >= 12 and run["units"] > run["chunks"]
    assert run["texts"] == run["chunks"] + run["units"] and run["ingest_cpu_ratio"] > 0 and not run["vectors_reused"]
    assert run["vectors"] == "encoded"
    assert 0 <= run["recall_at_k"] <= 1 and 0 < run["warm_p50_ms"] <= run["warm_p95_ms"]
    assert run["question_rss_mb"] > 0 and run["index_disk_mb"] > 0 and run["add_ok"] and run["add_found"]
    assert run["add_embed_s"] > 0 and run["add_s"] >= run["add_without_embed_s"]
    table = (tmp_path / "scale.md").read_text(encoding="utf-8").splitlines()
    rows = [line for line in table if line.startswith("| ")]
    assert len(rows) == 2 and rows[1].split(" | ")[1] == "embedded"
    assert (tmp_path / "scale.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_replay_all_measures_an_index_again_from_an_earlier_runs_vectors(tmp_path: Path) -> None:
    first = _tiny_run(tmp_path / "first", "--work", str(tmp_path / "work1"), "--reuse-from", "12")
    shutil.copytree(tmp_path / "work1" / "vectors-12", tmp_path / "work2" / "vectors-12")
    again = _tiny_run(tmp_path / "again", "--work", str(tmp_path / "work2"), "--reuse-from", "12", "--replay-all")
    assert not first["vectors_reused"] and again["vectors_reused"] and again["ingest_ratio"] is None
    assert (again["chunks"], again["units"], again["recall_at_k"]) == (first["chunks"], first["units"],
                                                                       first["recall_at_k"])


def test_synthetic_vectors_are_unit_length_and_depend_on_the_text_alone() -> None:
    texts = ["The application fee is 120 credits.", "A decision takes 30 working days.", ""]
    vectors = synthetic_vectors(texts, 384)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-6)
    assert np.array_equal(synthetic_vectors(texts[1:2], 384)[0], vectors[1])  # whatever batch it comes in
    assert abs(float(vectors[0] @ vectors[1])) < 0.3  # unrelated texts: near-orthogonal random directions


def test_a_synthetic_vectors_run_is_marked_as_such(tmp_path: Path) -> None:
    run = _tiny_run(tmp_path, "--synthetic-vectors")
    assert run["vectors"] == "synthetic" and run["ingest_ratio"] is None and run["plain_texts_per_s"] is None
    assert run["texts"] == run["chunks"] + run["units"] and run["add_ok"] and run["add_embed_s"] > 0
    [row] = [line for line in (tmp_path / "scale.md").read_text(encoding="utf-8").splitlines()
             if line.startswith("| ") and "embedded" in line]
    assert "synthetic vectors" in row.split(" | ")[1] and "not meaningful" in row


def test_a_synthetic_run_sits_beside_the_real_run_of_its_size(tmp_path: Path) -> None:
    path = tmp_path / "scale.json"
    real = {"size": 10, "mode": "embedded", "vectors": "encoded"}
    path.write_text(json.dumps(scale_report.merge(path, real, {})), encoding="utf-8")
    merged = scale_report.merge(path, {"size": 10, "mode": "embedded", "vectors": "synthetic"}, {})
    assert [r["vectors"] for r in merged["runs"]] == ["encoded", "synthetic"]
    path.write_text(json.dumps(merged), encoding="utf-8")
    again = scale_report.merge(path, {"size": 10, "mode": "embedded", "vectors": "replayed"}, {})
    assert [r["vectors"] for r in again["runs"]] == ["replayed", "synthetic"]  # replayed replaces encoded
