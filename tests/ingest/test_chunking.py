"""Structure-aware chunking: headings become section paths, table rows keep their header, Chinese splits at 。."""

from __future__ import annotations

from itertools import pairwise

import pytest

from ingest.chunking import HARD_TOKEN_LIMIT, Chunker, split_sections
from ingest.documents import Document
from ingest.embedding import Embedder, get_embedder
from ingest.loaders import parse_bytes
from kvisa.settings import BUNDLED_MODEL

VISA_CODES = ["F", "L", "M", "Q1", "Q2", "S1", "S2", "X1", "X2", "Z", "C", "D", "G", "J1", "J2", "R", "K"]
TABLE_ROWS = "\n".join(f"| {code} | Ordinary visa {code}, issued for purpose number {i} of Article 6 |"
                       for i, code in enumerate(VISA_CODES))
GUIDE = f"""# Visa guide

Visas are issued by the consulates. This guide lists them.

## Eligibility

### Age limits

Applicants must be young. They must hold a bachelor's degree or higher.

### Documents

Applicants submit proof of their degree.

## Categories

| Code | Purpose |
|---|---|
{TABLE_ROWS}
"""
CHINESE = ("K字签证自2025年10月1日起施行。持证人可从事教育、科技、文化交流活动。"
           "申请人不需要境内雇主或者单位邀请。申请人需要满足年龄、教育背景和工作经历等条件。") * 6


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder(BUNDLED_MODEL)


def chunk(embedder: Embedder, text: str, max_tokens: int = 200, title: str = "Visa guide") -> list:
    doc = Document(doc_id="guide", text=text, title=title, source="guide.md")
    return Chunker(embedder.count_tokens, max_tokens, overlap=1).run(doc)


def test_headings_become_sections_with_their_full_path(embedder: Embedder) -> None:
    chunks = chunk(embedder, GUIDE)
    sections = [c.section for c in chunks]
    # The single top-level title is the document title, so it is not repeated in every path.
    assert sections[:3] == ["", "Eligibility > Age limits", "Eligibility > Documents"]
    assert set(sections[3:]) == {"Categories"}
    age = chunks[1]
    assert age.text == "Applicants must be young. They must hold a bachelor's degree or higher."
    assert age.embed_text.startswith("Visa guide\nEligibility > Age limits\n")


def test_a_chunk_never_spans_two_sections(embedder: Embedder) -> None:
    doc = Document(doc_id="guide", text=GUIDE, title="Visa guide", source="guide.md")
    for section in split_sections(doc):
        spans = [(u.start, u.end) for u in section.units]
        assert spans == sorted(spans)
    for c in chunk(embedder, GUIDE):
        assert "##" not in c.text


def test_table_rows_keep_their_header_in_the_embedded_text(embedder: Embedder) -> None:
    table_chunks = [c for c in chunk(embedder, GUIDE, max_tokens=80) if c.section == "Categories"]
    assert len(table_chunks) >= 3  # the table is long enough to be cut
    for c in table_chunks:
        assert c.text.startswith("| ") and "| Code | Purpose |" not in c.text
        assert c.embed_text.startswith("Visa guide\nCategories\n| Code | Purpose |\n")
        for unit in c.units:
            assert unit.kind == "table_row"
            code = unit.text.split("|")[1].strip()
            assert unit.context.startswith(f"Categories: Code: {code}; Purpose: Ordinary visa {code}")


def test_chinese_text_is_cut_at_chinese_sentence_ends(embedder: Embedder) -> None:
    chunks = chunk(embedder, CHINESE, max_tokens=64, title="K字签证")
    assert len(chunks) > 3
    for c in chunks:
        assert c.text[-1] in "。！？", c.text
        assert all(u.text[-1] == "。" for u in c.units)


def test_chunks_fit_the_window_and_their_offsets_point_into_the_text(embedder: Embedder) -> None:
    long_sentence = "The employer must pay the fee " + "and file the petition " * 150 + "before entry."
    text = GUIDE + "\n## Long\n\n" + long_sentence + "\n\n## 中文\n\n" + CHINESE
    doc_chunks = chunk(embedder, text, max_tokens=HARD_TOKEN_LIMIT)
    counts = embedder.count_tokens([c.embed_text for c in doc_chunks])
    assert max(counts) <= HARD_TOKEN_LIMIT
    assert len([c for c in doc_chunks if c.section == "Long"]) >= 2  # one overlong sentence was cut
    for c in doc_chunks:
        assert text[c.start : c.end] == c.text
        for unit in c.units:
            assert text[unit.start : unit.end] == unit.text


def test_consecutive_chunks_of_a_section_overlap_by_one_unit(embedder: Embedder) -> None:
    table_chunks = [c for c in chunk(embedder, GUIDE, max_tokens=80) if c.section == "Categories"]
    for before, after in pairwise(table_chunks):
        assert after.units[0].text == before.units[-1].text
    covered = [u.text for c in table_chunks for u in c.units]
    assert len(set(covered)) == len(VISA_CODES)  # every row is in some chunk


def test_a_references_label_in_a_plain_text_starts_a_section_of_its_own() -> None:
    text = ("H-1B notes\nThe proclamation was signed in September 2025.\nFees\n"
            "The H-1B payment is $100,000 for each new petition.\nReferences:\n"
            "White House, H-1B FAQ, September 21, 2025.\n")
    doc = parse_bytes(text.encode(), ".txt", "fees.txt", "fees.txt", "fees", {})
    sections = {s.name: [u.text for u in s.units] for s in split_sections(doc)}
    assert sections == {
        "": ["The proclamation was signed in September 2025."],  # the title line is the document's title
        "Fees": ["The H-1B payment is $100,000 for each new petition."],
        "References": ["White House, H-1B FAQ, September 21, 2025."],
    }


def test_a_sources_heading_in_markdown_keeps_its_section() -> None:
    text = "# Notes\n\n## Fees\n\nThe fee is new.\n\n## Sources\n\n- Proclamation 10973.\n"
    doc = parse_bytes(text.encode(), ".md", "notes.md", "notes.md", "notes", {})
    assert [(s.name, [u.text for u in s.units]) for s in split_sections(doc)] == [
        ("Fees", ["The fee is new."]), ("Sources", ["Proclamation 10973."]),
    ]


def test_a_run_in_heading_heads_its_paragraph_and_stays_in_its_first_sentence() -> None:
    # Plain-text summaries often open a paragraph with a word and a period ("Salary. ..."): alone it says
    # nothing; it names what the paragraph's sentences are about, as a heading would.
    text = ("Harbour permit summary\n\nThe permit lets an owner keep a boat in the harbour. It is issued\n"
            "by the Harbour Office.\n\nFees. A summer permit costs 240 dollars. It must be paid in\n"
            "advance.\n\nNo. The office does not sell weekly permits.\n\nPermits are not transferable.\n")
    doc = parse_bytes(text.encode(), ".txt", "permit.txt", "permit.txt", "permit", {})
    assert [(s.name, [u.text for u in s.units]) for s in split_sections(doc)] == [
        ("", ["The permit lets an owner keep a boat in the harbour.", "It is issued by the Harbour Office."]),
        ("Fees", ["Fees. A summer permit costs 240 dollars.", "It must be paid in advance."]),
        # An answer word is a sentence of its own, and the paragraph after a run-in one is back under the title.
        ("", ["No.", "The office does not sell weekly permits.", "Permits are not transferable."]),
    ]


def test_a_plain_text_title_followed_by_a_short_heading_is_not_evidence() -> None:
    text = "停车证办理须知\n\n一、适用范围\n本须知适用于老城区居民。\n\n二、收费标准\n每年收费300元。\n"
    doc = parse_bytes(text.encode(), ".txt", "park.txt", "park.txt", "park", {})
    assert doc.title == "停车证办理须知"
    assert [(s.name, [u.text for u in s.units]) for s in split_sections(doc)] == [
        ("一、适用范围", ["本须知适用于老城区居民。"]), ("二、收费标准", ["每年收费300元。"])]
    # A text of one sentence is titled by it, and still says it.
    one = parse_bytes(b"The harbour fee is 40 dollars a night.\n", ".txt", "fee.txt", "fee.txt", "fee", {})
    assert [u.text for s in split_sections(one) for u in s.units] == ["The harbour fee is 40 dollars a night."]


def test_a_unit_that_writes_only_an_acronym_carries_what_it_stands_for(embedder: Embedder) -> None:
    text = "# Permits\n\nOwners must pass the Boat Safety Check (BSC) first.\n\nA BSC costs 40 euros.\n"
    units = [u for c in chunk(embedder, text) for u in c.units]
    cost = next(u for u in units if u.text.startswith("A BSC"))
    assert cost.expands == "BSC: Boat Safety Check"
    assert "Boat Safety Check" in cost.context  # embedded with it: the unit is about a safety check
    assert next(u for u in units if u.text.startswith("Owners")).expands == ""



def test_units_under_a_heading_that_spells_out_an_acronym_name_it_in_their_context(embedder: Embedder) -> None:
    text = ("# Harbour rules\n\n## Boat Safety Check\n\nThe Boat Safety Check (BSC) is run by the harbour.\n\n"
            "It takes an hour and costs 40 euros.\n")
    units = [u for c in chunk(embedder, text, title="Harbour rules") for u in c.units]
    cost = next(u for u in units if u.text.startswith("It takes"))
    assert cost.headings_expand == "BSC: Boat Safety Check" and cost.expands == ""
