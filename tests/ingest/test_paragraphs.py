"""Paragraph rebuilding: hard-wrapped English and Chinese come out as whole sentences, structure stays."""

from __future__ import annotations

from ingest.chunking import split_sections
from ingest.clean import clean_text
from ingest.documents import Document
from ingest.paragraphs import (
    LINES,
    MARKDOWN,
    MARKUP_KEY,
    join_lines,
    rebuild_markdown,
    rebuild_plain,
    wrap_width,
)
from kvisa.settings import PROJECT_ROOT

# Wrapped at 80 columns the way an editor does it: sentences and facts run across line ends.
WRAPPED_EN = """\
The K visa

China launched the K visa for young foreign science and technology talent on
October 1, 2025. The State Council adopted the decision on 16 July 2025, and
Premier Li Qiang signed Decree No. 814 on 7 August 2025. Applicants do not need
an invitation from a domestic employer or institution, which sets the K visa
apart from the work visa.

Who can apply
Applicants must meet the conditions set by the competent authorities. They are
young graduates of well-known universities or research institutions, or young
professionals engaged in teaching or research in science and technology.

Holders may:
- take part in exchanges in education, science, culture and technology, and in
  related entrepreneurial and business activities;
- stay longer than holders of other ordinary visas.

| Item | Rule |
|---|---|
| Employer invitation | Not required |
| Effective date | 1 October 2025 |
"""
# Chinese wrapped at 38 characters has no spaces at the line ends: joining must not add any.
WRAPPED_ZH = """\
K字签证说明

国务院总理李强于2025年8月7日签署第814号国务院令，公布《国务院关于修改〈中华
人民共和国外国人入境出境管理条例〉的决定》，自2025年10月1日起施行。决定在普通
签证类别中增设K字签证，发给入境的外国青年科技人才。申请人不需要境内雇主或者单
位出具邀请函，入境后可以从事教育、科技、文化等交流合作活动。

申请条件
申请人应当符合中国政府有关主管部门规定的条件和要求，并提交相应的证明材料。具体
条件包括年龄、教育背景和工作经历等，由主管部门另行规定。
"""


def sections_of(raw: str, markup: str = LINES, rebuild=rebuild_plain) -> tuple[str, dict[str, list]]:
    """The cleaned text of `raw` and its units by section name, the way ingest reads a .txt (or .md)."""
    text = clean_text(raw, rebuild)
    doc = Document(doc_id="notes", text=text, title="Notes", source="notes.txt", metadata={MARKUP_KEY: markup})
    sections = {s.name: s.units for s in split_sections(doc)}
    for units in sections.values():
        for unit in units:
            assert text[unit.start : unit.end] == unit.text  # offsets stay exact in the rebuilt text
    return text, sections


def test_a_sentence_broken_across_lines_comes_out_as_one_unit() -> None:
    _, sections = sections_of(WRAPPED_EN)
    texts = [u.text for u in sections["The K visa"]]
    assert texts == [
        "China launched the K visa for young foreign science and technology talent on October 1, 2025.",
        "The State Council adopted the decision on 16 July 2025, and Premier Li Qiang signed Decree No. 814 "
        "on 7 August 2025.",
        "Applicants do not need an invitation from a domestic employer or institution, which sets the K visa "
        "apart from the work visa.",
    ]
    assert [u.line_start for u in sections["The K visa"]] == [True, False, False]  # one paragraph


def test_a_fact_straddling_a_line_break_is_inside_one_unit() -> None:
    _, sections = sections_of(WRAPPED_EN)
    units = [u.text for units in sections.values() for u in units]
    # "on\nOctober 1, 2025" and "need\nan invitation" were cut by the wrap.
    assert [u for u in units if "talent on October 1, 2025" in u]
    assert [u for u in units if "do not need an invitation from a domestic employer" in u]


def test_list_items_and_table_rows_stay_separate_and_headings_start_sections() -> None:
    text, sections = sections_of(WRAPPED_EN)
    assert list(sections) == ["The K visa", "Who can apply"]
    who = sections["Who can apply"]
    assert [(u.text, u.kind, u.line_start) for u in who[2:]] == [
        ("Holders may:", "sentence", True),
        ("take part in exchanges in education, science, culture and technology, and in related entrepreneurial "
         "and business activities;", "sentence", True),
        ("stay longer than holders of other ordinary visas.", "sentence", True),
        ("| Employer invitation | Not required |", "table_row", True),
        ("| Effective date | 1 October 2025 |", "table_row", True),
    ]
    assert who[-1].header == "| Item | Rule |"
    assert "| Item | Rule |\n|---|---|\n| Employer invitation | Not required |" in text


def test_hard_wrapped_chinese_joins_without_spaces() -> None:
    text, sections = sections_of(WRAPPED_ZH)
    assert list(sections) == ["K字签证说明", "申请条件"]
    assert [u.text for u in sections["K字签证说明"]] == [
        "国务院总理李强于2025年8月7日签署第814号国务院令，公布《国务院关于修改〈中华人民共和国外国人入境出境管理条例〉"
        "的决定》，自2025年10月1日起施行。",
        "决定在普通签证类别中增设K字签证，发给入境的外国青年科技人才。",
        "申请人不需要境内雇主或者单位出具邀请函，入境后可以从事教育、科技、文化等交流合作活动。",
    ]
    assert " " not in text.replace("K字签证说明", "")


def test_hard_wrapped_markdown_joins_soft_breaks_in_paragraphs_lists_and_quotes() -> None:
    raw = (
        "# Notes\n\nThe H-1B program lets US employers employ foreign workers in specialty\n"
        "occupations. Proclamation No. 10973 added a $100,000 payment for new petitions\nfiled after "
        "September 21, 2025.\n\n> The Secretary may exempt individual aliens, all aliens working for a\n"
        "> company, or all aliens working in an industry.\n\n1. Petitions filed before the effective date are "
        "not covered by the\n   proclamation.\n2. Renewals owe nothing.\n   - Visa holders may still travel in "
        "and out of the United\n     States.\n"
    )
    text, sections = sections_of(raw, MARKDOWN, rebuild_markdown)
    assert [(u.text, u.line_start) for u in sections[""]] == [
        ("The H-1B program lets US employers employ foreign workers in specialty occupations.", True),
        ("Proclamation No. 10973 added a $100,000 payment for new petitions filed after September 21, 2025.", False),
        ("The Secretary may exempt individual aliens, all aliens working for a company, or all aliens working in "
         "an industry.", True),
        ("Petitions filed before the effective date are not covered by the proclamation.", True),
        ("Renewals owe nothing.", True),
        ("Visa holders may still travel in and out of the United States.", True),
    ]
    assert "> company" not in text  # the quote's continuation marker went with its line break


def test_markdown_setext_headings_and_hard_breaks() -> None:
    raw = "Fees\n====\n\nThe fee is new.\\\nIt applies to new petitions.\n\nExceptions\n---\n\nNone are listed.\n"
    text, sections = sections_of(raw, MARKDOWN, rebuild_markdown)
    assert "new.\\\nIt applies" in text  # a hard break is the author's own line end: kept
    assert {name: [u.text for u in units] for name, units in sections.items()} == {
        "": ["The fee is new.\\", "It applies to new petitions."],
        "Exceptions": ["None are listed."],
    }


def test_a_text_with_one_paragraph_a_line_is_not_rewrapped() -> None:
    raw = (PROJECT_ROOT / "corpus" / "k-visa-article.txt").read_text("utf-8")
    assert wrap_width(raw.split("\n")) is None
    cleaned = clean_text(raw, rebuild_plain)
    assert cleaned.split("\n") == clean_text(raw).split("\n")  # every paragraph and heading keeps its line
    _, sections = sections_of(raw)
    assert "A Strategic Opening in the Global Talent War" in sections
    assert "Balancing Openness and Self-Reliance" in sections


def test_short_lines_of_a_list_or_an_address_are_not_joined() -> None:
    lines = "Consular Section\nEmbassy of China\n3505 International Place NW\nWashington, DC 20008"
    assert rebuild_plain(lines) == lines


def test_a_full_stop_at_a_wrapped_line_end_does_not_end_the_paragraph() -> None:
    raw = ("The applicant files the petition with the service center that covers the job.\n"
           "The center sends a receipt notice within a few weeks, and the employer keeps a\n"
           "copy with the public access file that the Department of Labor rules require for\n"
           "every worker. A decision follows once the lottery is over and the file is full.\n")
    assert rebuild_plain(raw.strip()).count("\n") == 0


def test_a_number_that_wrapped_to_a_line_start_is_not_a_list_item() -> None:
    raw = ("The Immigration and Nationality Act defines the terms it uses in its section\n"
           "101. The annual cap on new H-1B visas is set in section 214, and the exemption\n"
           "for holders of a master's degree or higher from a university in the United\n"
           "States adds twenty thousand more visas to the regular cap every fiscal year.\n")
    assert rebuild_plain(raw.strip()).count("\n") == 0


def test_join_lines_by_language() -> None:
    assert join_lines("young foreign science and", "technology talent") == "young foreign science and technology talent"
    assert join_lines("发给入境的外国青年", "科技人才。") == "发给入境的外国青年科技人才。"
    assert join_lines("a well-", "known university") == "a well-known university"
    assert join_lines("the H-1B", "program") == "the H-1B program"
    # A number inside Chinese text takes no space either side: "自2024年" / "1月1日" is one date.
    assert join_lines("核发，自2024年", "1月1日起实行。") == "核发，自2024年1月1日起实行。"
    assert join_lines("每年收费300", "元。") == "每年收费300元。"


def test_a_chinese_line_wrapped_before_a_number_under_numbered_headings() -> None:
    # Numbered Chinese headings ("一、适用范围") are short lines: the paragraphs under them are still wrapped,
    # and a wrap between "2024年" and "1月1日" must not end a sentence there.
    raw = ("停车证办理须知\n\n一、适用范围\n"
           "本须知适用于在老城区居住的居民申请路边停车证。停车证由市交通运输局核发，自2024年\n"
           "1月1日起实行。\n\n二、收费标准\n"
           "第一张停车证每年收费300元，第二张停车证每年收费600元。七十岁以上老人免收费用。\n")
    _, sections = sections_of(raw)
    assert [u.text for u in sections["一、适用范围"]] == [
        "本须知适用于在老城区居住的居民申请路边停车证。", "停车证由市交通运输局核发，自2024年1月1日起实行。"]
