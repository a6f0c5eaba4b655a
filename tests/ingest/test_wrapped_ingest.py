"""Hard-wrapped .txt, .md and PDF text ingested into a real Chroma index: every stored unit is a whole sentence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.chunking import split_sections
from ingest.loaders import load_path
from ingest.pipeline import ingest_sources
from ingest.store import open_store
from kvisa.settings import Settings
from tests.ingest.test_loaders import make_pdf

# A user's notes, hard-wrapped at 78 columns; sentences and dates run across line ends.
NOTES_TXT = """\
H-1B payment notes

President Trump signed the proclamation "Restriction on Entry of Certain
Nonimmigrant Workers" on September 19, 2025. It requires a $100,000 payment
with every new H-1B petition filed after 12:01 a.m. eastern daylight time on
September 21, 2025. The payment is owed once, when the petition is submitted.

What it does not change
The proclamation does not apply to visas that were already issued, and it does
not change the fees that go with renewals. Current visa holders may still
travel in and out of the United States. The Secretary of Homeland Security may
grant exceptions in the national interest.
"""
# The same kind of notes in Markdown, with a wrapped list item, a wrapped quote and a table.
NOTES_MD = """\
---
title: K visa notes
jurisdiction: PRC
---

# K visa notes

## The decision

The State Council adopted the decision at its 63rd executive meeting on July
16, 2025. Premier Li Qiang signed State Council Decree No. 814 on August 7,
2025, and the decision took effect on October 1, 2025.

> The K visa is issued to young foreign science and technology talent who
> enter China.

## Requirements

- Applicants must meet the conditions and requirements set by the competent
  authorities of the Chinese government.
- Applicants must submit the matching supporting documents with their
  application.

| Item | Rule |
|---|---|
| Employer invitation | Not required |
"""
# Chinese notes saved as GBK, as Windows Notepad long saved "ANSI" text, wrapped at 30 characters mid-word.
NOTES_ZH = """\
K字签证笔记

国务院总理李强于2025年8月7日签署第814号国务院令，公布关于修改《中华人民共
和国外国人入境出境管理条例》的决定，自2025年10月1日起施行。K字签证发给入境
的外国青年科技人才。

申请要求

申请人应当符合中国政府有关主管部门规定的条件和要求，并提交相应的证明材料。
"""
SENTENCE_END = re.compile(r"[.!?。！？][\"”)]*$")


@pytest.fixture
def wrapped_index(tmp_path: Path, tmp_settings: Settings) -> dict[str, list[tuple[str, dict]]]:
    """doc_id -> (text, metadata) of its stored evidence units, in document order."""
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "h1b-notes.txt").write_text(NOTES_TXT, encoding="utf-8")
    (folder / "k-visa-notes.md").write_text(NOTES_MD, encoding="utf-8")
    (folder / "zh-notes.txt").write_bytes(NOTES_ZH.encode("gbk"))
    report = ingest_sources([str(folder)], tmp_settings, progress=False)
    assert report.ok and sorted(report.added) == ["h1b-notes", "k-visa-notes", "zh-notes"], report.errors
    got = open_store(tmp_settings).units.get(include=["documents", "metadatas"])
    units: dict[str, dict[int, tuple[str, dict]]] = {}
    for text, meta in zip(got["documents"], got["metadatas"], strict=True):
        units.setdefault(meta["doc_id"], {})[meta["start"]] = (text, meta)  # overlapping chunks repeat a unit
    return {doc_id: [by_start[s] for s in sorted(by_start)] for doc_id, by_start in units.items()}


def test_every_stored_unit_of_a_wrapped_text_is_a_whole_sentence(wrapped_index: dict) -> None:
    texts = [text for text, meta in wrapped_index["h1b-notes"] if meta["kind"] == "sentence"]
    assert all(SENTENCE_END.search(t) and t[0].isupper() for t in texts), texts
    assert ('President Trump signed the proclamation "Restriction on Entry of Certain Nonimmigrant Workers" '
            "on September 19, 2025.") in texts
    assert ("It requires a $100,000 payment with every new H-1B petition filed after 12:01 a.m. eastern daylight "
            "time on September 21, 2025.") in texts
    assert not [t for t in texts if "\n" in t]


def test_a_wrapped_chinese_text_saved_as_gbk_is_read_in_whole_sentences(wrapped_index: dict) -> None:
    texts = [text for text, meta in wrapped_index["zh-notes"] if meta["kind"] == "sentence"]
    assert ("国务院总理李强于2025年8月7日签署第814号国务院令，公布关于修改《中华人民共和国外国人入境出境管理条例》"
            "的决定，自2025年10月1日起施行。") in texts
    assert "K字签证发给入境的外国青年科技人才。" in texts
    assert all(t.endswith("。") and "\n" not in t and " " not in t for t in texts), texts


def test_wrapped_markdown_units_are_whole_sentences_items_and_rows(wrapped_index: dict,
                                                                   tmp_settings: Settings) -> None:
    units = wrapped_index["k-visa-notes"]
    texts = [text for text, _ in units]
    assert "Premier Li Qiang signed State Council Decree No. 814 on August 7, 2025, and the decision took effect " \
           "on October 1, 2025." in texts
    assert "The K visa is issued to young foreign science and technology talent who enter China." in texts
    assert ("Applicants must meet the conditions and requirements set by the competent authorities of the Chinese "
            "government.") in texts
    rows = [(text, meta["header"]) for text, meta in units if meta["kind"] == "table_row"]
    assert rows == [("| Employer invitation | Not required |", "| Item | Rule |")]
    assert all(SENTENCE_END.search(t) for t, meta in units if meta["kind"] == "sentence")


def test_stored_offsets_point_into_the_rebuilt_text(wrapped_index: dict, tmp_path: Path,
                                                    tmp_settings: Settings) -> None:
    for doc_id, name in (("h1b-notes", "h1b-notes.txt"), ("k-visa-notes", "k-visa-notes.md")):
        doc = load_path(tmp_path / "notes" / name, tmp_settings)
        for text, meta in wrapped_index[doc_id]:
            assert doc.text[meta["start"] : meta["end"]] == text
    sections = {c.metadata["section"] for c in open_store(tmp_settings).all_chunks()
                if c.metadata["doc_id"] == "h1b-notes"}
    # The first line is the document's title, so the text under it has no section name of its own.
    assert sections == {"", "What it does not change"}


def test_the_lines_of_a_pdf_page_are_joined_and_page_starts_stay_exact(tmp_path: Path,
                                                                       tmp_settings: Settings) -> None:
    first_page = ["Payment rules", *NOTES_TXT.split("\n\n")[1].split("\n")]
    pdf = make_pdf(tmp_path / "payment.pdf", [first_page, ["Exceptions", "The Secretary may grant exceptions."]])
    doc = load_path(pdf, tmp_settings)
    sections = {s.name: [u.text for u in s.units] for s in split_sections(doc)}
    assert ("It requires a $100,000 payment with every new H-1B petition filed after 12:01 a.m. eastern daylight "
            "time on September 21, 2025.") in sections[""]  # under the title line
    assert sections["Exceptions"] == ["The Secretary may grant exceptions."]
    assert doc.text[doc.page_starts[1] :].startswith("Exceptions")
