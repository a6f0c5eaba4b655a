"""`kvisa ask` on a comparison question: the answer's table as aligned text columns, and in --json.

The assistant is replaced by one returning a hand-built Answer, so no index is needed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kvisa.cli import app, wrap_cell
from rag.types import Answer, Citation, ComparisonTable, TableCell, TableRow

K_FEE = "The K visa application fee is set by the consular post; the decree states no separate surcharge."
H1B_FEE = ("A new H-1B petition must be accompanied by an additional payment of $100,000 under the "
           "proclamation of September 19, 2025.")


def comparison() -> Answer:
    citations = [
        Citation(n=1, doc_id="k-visa-explained", title="K visa explained", section="Sponsorship",
                 text="No employer or inviting entity is required.", source_url="https://www.gov.cn/k"),
        Citation(n=2, doc_id="h1b-basics", title="H-1B basics", section="Employers",
                 text="An employer must file the petition."),
        Citation(n=3, doc_id="proclamation-10973", title="Proclamation 10973", section="Sec. 1", text=H1B_FEE),
        Citation(n=4, doc_id="k-visa-decree", title="Decree 814", section="Fees", text=K_FEE),
    ]
    table = ComparisonTable(columns=["aspect", "K visa", "H-1B"], rows=[
        TableRow("sponsorship", [TableCell("No employer or inviting entity is required.", 1),
                                 TableCell("An employer must file the petition.", 2)]),
        TableRow("fees", [TableCell(K_FEE, 4), TableCell(H1B_FEE, 3)]),
        TableRow("annual cap", [TableCell("not stated"), TableCell("not stated")]),
    ])
    return Answer(question="How do the K visa and H-1B differ on sponsorship and fees?",
                  text="They differ on both: only the H-1B needs an employer, and only it carries the "
                       "$100,000 payment [1][3].", citations=citations, table=table, confidence=0.8125)


@pytest.fixture
def kvisa_ask(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Run `kvisa ask ...` in process, answered by a stub assistant with the hand-built comparison."""
    class Assistant:
        def ask(self, question: str, **options) -> Answer:
            return comparison()

    monkeypatch.setenv("KVISA_HOME", str(tmp_path))
    monkeypatch.setattr("ingest.pipeline.list_documents", lambda settings: ["one document"])
    monkeypatch.setattr("rag.assistant.get_assistant", lambda settings: Assistant())

    def run(*args: str) -> str:
        result = CliRunner().invoke(app, ["ask", comparison().question, *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    return run


def column_texts(table: str) -> list[str]:
    """The text of each column of a plain-text table, read top to bottom (wrapped lines joined)."""
    lines = table.splitlines()
    bars = [i for i, ch in enumerate(lines[0]) if ch == "|"]
    edges = zip([-1, *bars], [*bars, None], strict=True)
    return [" ".join(" ".join(line[a + 1:b] for line in lines[2:]).split()) for a, b in edges]


def test_ask_prints_the_lead_then_the_table_then_the_sources(kvisa_ask) -> None:
    lead, table, sources = kvisa_ask().rstrip("\n").split("\n\n")
    assert lead == comparison().text
    assert sources.startswith("Sources:\n[1] K visa explained — Sponsorship\n    https://www.gov.cn/k\n[2] H-1B")

    lines = table.splitlines()
    assert [name.strip() for name in lines[0].split("|")] == ["aspect", "K visa", "H-1B"]
    assert re.fullmatch(r"-+-\+-+-\+-+", lines[1])
    # aligned: every line has its column separators where the header has them; cells wrap at 40 columns
    bars = tuple(m.start() for m in re.finditer(r"\|", lines[0]))
    assert all(tuple(m.start() for m in re.finditer(r"\|", line)) == bars for line in lines[2:])
    assert bars[1] - bars[0] - 3 <= 40 and all(len(line) - bars[1] - 2 <= 40 for line in lines)
    assert len(lines) > 2 + 3  # the long fee cells took more than one line
    # every cell is there, in its column, ending with the marker of the source it rests on
    aspects, k_visa, h1b = column_texts(table)
    assert aspects == "sponsorship fees annual cap"
    assert k_visa == f"No employer or inviting entity is required. [1] {K_FEE} [4] not stated"
    assert h1b == f"An employer must file the petition. [2] {H1B_FEE} [3] not stated"


def test_ask_json_carries_the_table_and_the_confidence(kvisa_ask) -> None:
    data = json.loads(kvisa_ask("--json"))
    assert data["answer"] == comparison().text
    assert data["confidence"] == 0.8125
    assert data["table"]["columns"] == ["aspect", "K visa", "H-1B"]
    assert data["table"]["rows"][1] == {"aspect": "fees", "cells": [{"text": K_FEE, "n": 4},
                                                                    {"text": H1B_FEE, "n": 3}]}
    assert data["table"]["rows"][2]["cells"][0] == {"text": "not stated", "n": None}


def test_long_cells_wrap_at_spaces_and_chinese_cells_between_characters() -> None:
    assert wrap_cell("The fee is $100,000 per new petition [3]", 16) == [
        "The fee is", "$100,000 per new", "petition [3]"]
    # 16 terminal columns hold 8 Chinese characters
    assert wrap_cell("K字签证不要求境内雇主或邀请单位出具邀请函。[1]", 16) == [
        "K字签证不要求境", "内雇主或邀请单位", "出具邀请函。[1]"]
    assert wrap_cell("https://www.federalregister.gov/documents/2025", 20)[0] == "https://www.federalr"
