"""The question path of `kvisa ask` loads no torch: ingest leaves an ONNX export keyed by the model's sha256, and
an index without one gets it from its first question."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.embedding import bundled_model_dir, weights_sha256
from ingest.query_encoder import onnx_path
from tests.ingest.test_cli_ingest import TINY_DOCS, run_kvisa, write_docs

HEAVY = ("sentence_transformers", "transformers", "torch", "sklearn", "gradio", "llama_index")
# `kvisa ask` in this very process, then the heavy packages it imported, as the last line.
ASK_THEN_LIST_IMPORTS = f"""
import json, sys
from kvisa.cli import app
app(["ask", sys.argv[1]], standalone_mode=False)
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({list(HEAVY)!r}))))
"""


def ask_listing_imports(home: Path, question: str) -> tuple[str, list[str], str]:
    """(answer text, heavy packages imported, stderr) of one `kvisa ask` in a new process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KVISA_")}
    env.update({"KVISA_HOME": str(home), "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"})
    result = subprocess.run([sys.executable, "-c", ASK_THEN_LIST_IMPORTS, question], env=env, cwd=home.parent,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    *answer, imported = result.stdout.strip().splitlines()
    return "\n".join(answer), json.loads(imported), result.stderr


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A KVISA_HOME where `kvisa ingest` indexed three tiny documents."""
    root = tmp_path_factory.mktemp("cold")
    result = run_kvisa(root / "home", "ingest", str(write_docs(root / "docs", TINY_DOCS)))
    assert result.returncode == 0, result.stderr
    return root / "home"


def onnx_file(home: Path) -> Path:
    return onnx_path(home, weights_sha256(bundled_model_dir()))


def test_ingest_leaves_the_onnx_export_keyed_by_the_weights_sha256(home: Path) -> None:
    assert onnx_file(home).is_file()
    assert onnx_file(home).parent.name == weights_sha256(bundled_model_dir())[:16]


@pytest.mark.parametrize("question", ["What is the H-1B fee?", "K字签证发给什么人？"])
def test_the_question_path_imports_no_torch(home: Path, question: str) -> None:
    answer, imported, _ = ask_listing_imports(home, question)
    assert "[1]" in answer
    assert imported == []


def test_an_index_without_the_export_gets_it_from_its_first_question(home: Path, tmp_path: Path) -> None:
    old = tmp_path / "home"
    shutil.copytree(home, old)
    shutil.rmtree(old / "models")  # as an index ingested before the export existed
    answer, imported, stderr = ask_listing_imports(old, "What is the H-1B fee?")
    assert "$100,000" in answer
    assert "preparing the fast query encoder" in stderr
    assert "torch" in imported  # this once: the export needs the model
    assert onnx_file(old).is_file()
    answer_again, imported, stderr = ask_listing_imports(old, "What is the H-1B fee?")
    assert answer_again == answer
    assert imported == [] and "preparing" not in stderr
