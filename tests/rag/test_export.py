"""Exporting answers: Markdown that keeps markers, tables and sources; JSON with quotes and links."""

from __future__ import annotations

from rag.export import answer_json, answer_markdown, conversation_json, conversation_markdown, first_url
from rag.types import Answer, Citation, ComparisonTable, TableCell, TableRow


def _answer(question: str, text: str, *citations: Citation, table: ComparisonTable | None = None) -> Answer:
    return Answer(question, text, list(citations), table=table)


FEE = Citation(1, "fees", "Fees | notice", "Section 2", "The fee is 45 euros.", "see https://example.org/fees.",
               quote="The fee is 45 euros.")
AGE = Citation(2, "rules", "Rules", "", "Anyone aged 16 or over may apply.", quote="Anyone aged 16 or over may apply.")


def test_an_answer_in_markdown_keeps_its_markers_then_lists_linked_quoted_sources() -> None:
    text = answer_markdown(_answer("How much?", "The fee is 45 euros [1].", FEE))
    assert text.startswith("The fee is 45 euros [1].")
    assert "- [1] [Fees | notice](https://example.org/fees) — Section 2\n  > The fee is 45 euros." in text


def test_a_comparison_table_becomes_a_markdown_table_with_a_marker_per_cell() -> None:
    table = ComparisonTable(["aspect", "Blue Card", "Green Card"],
                            [TableRow("fee", [TableCell("18 | euros", 1), TableCell("not stated")])])
    text = answer_markdown(_answer("Compare", "Compared:", FEE, table=table))
    assert "| aspect | Blue Card | Green Card |\n|---|---|---|\n| fee | 18 \\| euros [1] | not stated |" in text


def test_a_two_turn_conversation_holds_both_answers_and_every_source() -> None:
    turns = [_answer("How much?", "45 euros [1].", FEE), _answer("Who can apply?", "Anyone aged 16 [1].", AGE)]
    text = conversation_markdown(turns)
    assert text.index("## Q1: How much?") < text.index("## Q2: Who can apply?")
    assert "> The fee is 45 euros." in text and "> Anyone aged 16 or over may apply." in text
    data = conversation_json(turns)
    assert [t["citations"][0]["quote"] for t in data["turns"]] == [FEE.quote, AGE.quote]
    assert answer_json(turns[0])["citations"][0]["url"] == "https://example.org/fees"


def test_first_url_skips_notes_around_it() -> None:
    assert first_url("archived copy: https://a.example/x.html; original gone") == "https://a.example/x.html"
    assert first_url("no link here") == ""
