"""A citation keeps every span that cites its passage (issue 12, item 4), in the Answer, its JSON and Markdown."""

from __future__ import annotations

import json
from pathlib import Path

from rag.compose import Citations
from rag.export import answer_from_json, answer_json, answer_markdown
from rag.retrieve import Evidence
from rag.types import Answer, Citation, Passage, Quote
from tests.conftest import make_settings

TABLE = "| Item | Detail |\n|---|---|\n| Date signed | March 3, 2031 |\n| Effective | April 1, 2031 |\n"
# A small document of our own, so that nothing here depends on the corpus's wording.
HARBOR = """---
title: Harbor Lane parking permit notice
doc_id: harbor-lane-permit
language: en
jurisdiction: US
---

# Harbor Lane parking permit notice

## Key dates

| Item | Detail |
|---|---|
| Date signed | March 3, 2031 |
| Effective | April 1, 2031 |
| Expires | March 31, 2032 |
| Issued by | The Harbor Lane residents' council |

## Rules

Residents must display the permit on the windshield. Visitors may park for two hours without a permit.
"""
PASSAGE = Passage("notice#0", "notice", "Some rules apply.\n\n" + TABLE, 1.0, title="Notice", start=0,
                  end=18 + len(TABLE))


def _row(text: str) -> Evidence:
    at = PASSAGE.text.index(text)
    metadata = {"doc_id": "notice", "start": at, "end": at + len(text), "kind": "table_row",
                "header": "| Item | Detail |"}
    return Evidence(f"notice:{at}", text, metadata, PASSAGE, rank=0)


def test_two_units_of_one_passage_make_one_citation_with_both_quotes() -> None:
    citations = Citations()
    signed, effective = _row("| Date signed | March 3, 2031 |"), _row("| Effective | April 1, 2031 |")
    assert citations.number(signed) == citations.number(effective) == citations.number(signed) == 1
    [citation] = citations.all
    assert [q.text for q in citation.quotes] == [signed.text, effective.text]  # each once, in order of use
    assert [q.header for q in citation.quotes] == ["| Item | Detail |"] * 2
    assert (citation.quote, citation.quote_start) == (signed.text, signed.start)  # `quote` is still the first


def test_a_citation_made_with_only_quote_has_it_as_its_one_span() -> None:
    citation = Citation(1, "d", "T", "", "A. B.", quote="A.", quote_start=0, quote_end=2)
    assert citation.quotes == [Quote("A.", 0, 2)]
    citation.add_quote(Quote("B.", 3, 5))
    citation.add_quote(Quote("A.", 0, 2))
    assert [q.text for q in citation.quotes] == ["A.", "B."] and citation.quote == "A."


def _answer() -> Answer:
    citation = Citation(1, "notice", "Notice", "Key dates", PASSAGE.text, "https://example.org/n",
                        quote="Some rules apply.")
    citation.add_quote(Quote("| Effective | April 1, 2031 |", 0, 0, "| Item | Detail |"))
    return Answer("When?", "Some rules apply. Effective: April 1, 2031 [1].", [citation])


def test_json_keeps_quote_and_adds_every_quote_and_reads_back() -> None:
    data = json.loads(json.dumps(answer_json(_answer())))
    cited = data["citations"][0]
    assert cited["quote"] == "Some rules apply."
    assert [q["text"] for q in cited["quotes"]] == ["Some rules apply.", "| Effective | April 1, 2031 |"]
    assert _answer().to_json()["citations"][0]["quotes"] == cited["quotes"]  # `kvisa ask --json` too
    again = answer_from_json(data)
    assert again.citations[0].quotes == _answer().citations[0].quotes
    older = {**data, "citations": [{k: v for k, v in cited.items() if k != "quotes"}]}  # JSON from before
    assert [q.text for q in answer_from_json(older).citations[0].quotes] == ["Some rules apply."]


def test_markdown_quotes_every_span_and_a_table_row_under_its_header() -> None:
    text = answer_markdown(_answer())
    assert ("  > Some rules apply.\n  >\n  > | Item | Detail |\n  > |---|---|\n  > | Effective | April 1, 2031 |"
            in text), text


def test_an_answer_citing_two_rows_of_one_table_keeps_both(tmp_path: Path) -> None:
    from ingest.pipeline import ingest_sources
    from rag.assistant import get_assistant
    from rag.compose import compose
    from rag.decide import Decision
    from rag.question import analyse
    from rag.score import ScoredUnit

    doc = tmp_path / "permit.md"
    doc.write_text(HARBOR, encoding="utf-8")
    settings = make_settings(tmp_path / "home")
    assert ingest_sources([str(doc)], settings, progress=False).ok
    answerer = get_assistant(settings).extractive
    # The two rows as stored, each answering one part (whether the scorer answers is not what is tested here).
    rows = {u.text: u for u in answerer.retriever.lexical_units("date signed effective", 10)}
    question = analyse("When was the Harbor Lane permit notice signed and when does it take effect?")
    answering = ("| Date signed | March 3, 2031 |", "| Effective | April 1, 2031 |")
    decisions = [Decision(part, True, [ScoredUnit(rows[row], {}, 0.9)], confidence=0.9)
                 for part, row in zip(question.parts, answering, strict=True)]
    answer = compose(question, decisions, answerer.read_on, list_items=8, max_words=60)
    [citation] = [c for c in answer.citations if any("Date signed" in q.text for q in c.quotes)]
    texts = [q.text for q in citation.quotes]
    assert "| Date signed | March 3, 2031 |" in texts and "| Effective | April 1, 2031 |" in texts, texts
    assert all(q.header == "| Item | Detail |" for q in citation.quotes)
