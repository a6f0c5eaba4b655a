"""Each question style, end to end, on documents written here about a topic the visa corpus never touches:
a fictional city's library card (the Blue Card) and museum pass (the Green Card), ingested beside the corpus."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eval.metrics import fact_present, normalize
from ingest.loaders import load_path
from kvisa.settings import Settings
from rag.assistant import Assistant
from rag.terms import Glossary, glossary, use_glossary
from rag.types import Answer
from tests.conftest import CORPUS, make_settings

PASSES = """---
title: "Larkhaven cultural passes: the Blue Card and the Green Card"
language: en
---

# Larkhaven cultural passes

The City of Larkhaven offers two cultural passes: the Blue Card, a membership of the Larkhaven Public
Library, and the Green Card, a yearly pass to the city's four museums. The city council adopted the
current rules for both passes on 12 March 2024.

## Key facts

| | Blue Card | Green Card |
|---|---|---|
| Annual fee | 18 euros | 45 euros |
| Who can apply | residents of Larkhaven aged 12 or over | anyone aged 16 or over |
| Validity | two years | one year from the first museum visit |
| Where to apply | any library branch | online or at a museum ticket desk |

## The Blue Card

A Blue Card lets its holder borrow up to 15 books, films or games at a time. A lost Blue Card is replaced
for 4 euros.

To apply for a Blue Card, bring the following to any library branch:

- a photo identity document;
- proof of residence in Larkhaven, such as a utility bill or a tenancy agreement;
- a membership form signed by a parent if you are under 16.

Reading Hour means the first hour of opening on Sunday mornings, when the library branches are open
only to Blue Card holders and the reading rooms are kept silent.

## The Green Card

The Green Card does not require proof of residence. It admits its holder to the permanent collections
of all four city museums as often as they like, and gives a 20 percent discount on temporary exhibitions.

The council introduced the Green Card in 2019 because museum attendance had fallen by a third in the
previous ten years. It also wanted to give visitors from neighbouring towns one pass for all four
museums, and to spread visits more evenly over the week.
"""

# Hard-wrapped at 90 columns, as plain-text notices are: the maximum charge straddles a line break.
NOTICE = """Larkhaven Public Library: notice to Blue Card holders

From 1 September 2024 the Larkhaven Public Library changes its rules on renewals, holds
and late returns for everyone who borrows with a Blue Card. The library board approved the
changes in June, after a public consultation that drew more than 600 responses from
members.

Books and games are lent for three weeks and may be renewed twice, online or at any
branch, unless another member has placed a hold on them. Films are lent for one week and
cannot be renewed. A member may keep up to five holds at a time, and a held item waits at
the chosen branch for seven days before it passes to the next person in line.

Items returned after their due date are charged at 30 cents per item per day, up to a
maximum of 6 euros per item. Children's books are exempt from late charges. A member who
owes more than 10 euros cannot borrow again until the amount is paid, but may still use
the reading rooms and the public computers.
"""
STRADDLING = "up to a maximum of 6 euros per item"

PASSES_ZH = """---
title: "拉克港市文化卡简介"
language: zh
---

# 拉克港市文化卡简介

拉克港市为市民和游客提供两种文化卡。蓝卡是拉克港公共图书馆的借书证，年费18欧元，持卡人每次最多可借15件图书、影片或游戏。

绿卡是全市四座博物馆的通票，年费45欧元，凡年满16岁的人都可以申请，不需要提供居住证明。绿卡可以在网上或任何一座博物馆的售票处办理，自第一次参观之日起一年内有效。
"""

# Plain text whose paragraphs open with run-in headings ("Fees. ..."), and an amount in a currency named by its
# country's word ("Larkhaven dollars").
HARBOUR = """Larkhaven harbour mooring permits

A mooring permit lets a boat owner keep a boat at one of the three city marinas. Permits
are issued by the Larkhaven Harbour Office.

Fees. A summer permit costs 240 Larkhaven dollars and a full-year permit costs 610
Larkhaven dollars. Owners over 70 pay half.

Eligibility. Boat owners who live in Larkhaven or run a business there may apply.

Waiting list. Since 2021 new applicants join a waiting list. An applicant needs 30 points
to be offered a berth; points are given for each year spent on the list.

Guests. A permit holder may invite one guest boat for up to three nights a season.

Boats can also be kept ashore at the north marina over the winter. Owners pay 95 Larkhaven
dollars a month for this.

Berth classes. Berths come in two classes: a Class A berth takes boats up to 8 metres long,
and a Class B berth takes boats up to 12 metres long.

Lists. The Harbour Office keeps a priority list for berths: rescue boats, ferries and fishing
boats. Owners of boats on the Harbour Watch List may not renew their permits.
"""

# A table whose rows are the things a question compares.
LOANS = """# Larkhaven library loans

| Item | Loan period | Items at once |
|---|---|---|
| Books | 3 weeks | 15 |
| Films | 1 week | 5 |
"""

DOCUMENTS = {"larkhaven-cultural-passes.md": PASSES, "larkhaven-library-notice.txt": NOTICE,
             "larkhaven-passes-zh.md": PASSES_ZH, "larkhaven-harbour-permits.txt": HARBOUR,
             "larkhaven-library-loans.md": LOANS}
OURS = {Path(name).stem for name in DOCUMENTS}


# Known weaknesses of today's answerer (issue 11 is open): strict xfails, so a fix shows up as a failure
# to be turned into a plain test.
KNOWN_WEAKNESS = "issue 11: the extractive answerer does not handle this style yet"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict[str, str]]:
    """Our documents ingested with the real corpus into a fresh KVISA_HOME, and their cleaned texts."""
    from ingest.pipeline import ingest_sources

    folder = tmp_path_factory.mktemp("larkhaven")
    for name, text in DOCUMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    assert not any(STRADDLING in line for line in NOTICE.splitlines())  # the premise of the hard-wrap test
    settings = make_settings(tmp_path_factory.mktemp("styles-home"))
    report = ingest_sources([str(CORPUS), str(folder)], settings, progress=False)
    assert report.ok, report.errors
    texts = {}
    for name in DOCUMENTS:
        doc = load_path(folder / name, settings)
        texts[doc.doc_id] = doc.text
    assert set(texts) == OURS
    return settings, texts


@pytest.fixture(scope="module")
def assistant(written: tuple[Settings, dict[str, str]]) -> Assistant:
    return Assistant(written[0])


@pytest.fixture(scope="module")
def texts(written: tuple[Settings, dict[str, str]]) -> dict[str, str]:
    return written[1]


def check(answer: Answer, texts: dict[str, str], *facts: str) -> None:
    """Answered, with every fact, from one of our documents, and every marker and quote real."""
    assert not answer.refused, answer.text
    for fact in facts:
        assert fact_present(fact, answer.full_text), f"{fact!r} missing from: {answer.full_text}"
    assert {c.doc_id for c in answer.citations} & OURS, answer.full_text
    check_citations(answer, texts)


def check_citations(answer: Answer, texts: dict[str, str]) -> None:
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.full_text)}
    assert markers == {c.n for c in answer.citations}, answer.full_text
    for citation in answer.citations:
        assert citation.quote in citation.text
        if citation.doc_id in texts:  # our documents: the offsets point at the quoted words
            text = texts[citation.doc_id]
            assert text[citation.quote_start : citation.quote_end] == citation.quote


def test_factoid_date(assistant: Assistant, texts: dict[str, str]) -> None:
    answer = assistant.ask("When did the Larkhaven council adopt the current cultural pass rules?")
    check(answer, texts, "12 March 2024")


def test_factoid_amount(assistant: Assistant, texts: dict[str, str]) -> None:
    answer = assistant.ask("How much does it cost to replace a lost Blue Card?")
    check(answer, texts, "4 euros")


def test_vague_short_question(assistant: Assistant, texts: dict[str, str]) -> None:
    check(assistant.ask("Blue Card fee?"), texts, "18 euros")


def test_yes_no_question_leads_with_no_when_the_source_negates_it(assistant: Assistant, texts: dict[str, str]) -> None:
    answer = assistant.ask("Does the Green Card require proof of residence?")
    check(answer, texts, "The Green Card does not require proof of residence")
    assert answer.text.startswith("No"), answer.text


def test_why_question(assistant: Assistant, texts: dict[str, str]) -> None:
    answer = assistant.ask("Why did Larkhaven introduce the Green Card?")
    check(answer, texts, "museum attendance had fallen by a third")


def test_definition(assistant: Assistant, texts: dict[str, str]) -> None:
    answer = assistant.ask("What does Reading Hour mean?")
    check(answer, texts, "the first hour of opening on Sunday mornings")


def test_list_question_gets_every_item(assistant: Assistant, texts: dict[str, str]) -> None:
    answer = assistant.ask("What documents do I need to apply for a Blue Card?")
    check(answer, texts, "a photo identity document", "proof of residence in Larkhaven",
          "a membership form signed by a parent")


def test_two_part_question_answers_each_part(assistant: Assistant, texts: dict[str, str]) -> None:
    answer = assistant.ask("How much does the Green Card cost and who can apply for it?")
    check(answer, texts, "45 euros", "anyone aged 16 or over")


@pytest.mark.parametrize("question", ["拉克港的绿卡在哪里办理？", "拉克港的綠卡在哪裡辦理？"])  # either script
def test_chinese_question_about_a_chinese_document(assistant: Assistant, texts: dict[str, str], question: str) -> None:
    answer = assistant.ask(question)
    check(answer, texts, "在网上或任何一座博物馆的售票处办理")
    assert "larkhaven-passes-zh" in {c.doc_id for c in answer.citations}


def test_a_chinese_question_reaches_an_english_document_through_the_general_dictionary(
        assistant: Assistant) -> None:
    # No glossary entry translates 逾期 (overdue), 罚款 (fine) or 物品 (items): CC-CEDICT does, for any topic.
    question = "逾期归还的物品每天罚款多少？"
    late_charge = "30 cents per item per day"
    assert late_charge in assistant.ask(question).text  # the answer, or the closest passage of a refusal
    kept = glossary()
    try:
        use_glossary(Glossary(kept.translations, general=False))
        assert late_charge not in assistant.ask(question).text
    finally:
        use_glossary(kept)


def test_a_fact_across_a_hard_line_break(assistant: Assistant, texts: dict[str, str]) -> None:
    answer = assistant.ask("What is the maximum late charge per item at the Larkhaven library?")
    check(answer, texts, STRADDLING)
    assert "larkhaven-library-notice" in {c.doc_id for c in answer.citations}


def _in_passage(cell: str, passage: str) -> bool:
    """Is the cell's text in the passage? A table row is rendered "label: value" (two columns) or
    "label — Column: value; Column: value", which no passage holds verbatim (and the citation's quote
    is only the first unit cited from that passage, not necessarily this cell's): then each piece of
    the rendering must be a cell of one Markdown row of the passage."""
    if normalize(cell) in normalize(passage):
        return True
    if " — " in cell:
        label, rest = cell.split(" — ", 1)
        values = [pair.split(": ", 1)[-1] for pair in rest.split("; ")]
    else:
        label, _, value = cell.partition(": ")
        values = [value]
    rows = [[normalize(c) for c in line.strip().strip("|").split("|")] for line in passage.splitlines()
            if line.strip().startswith("|")]
    return any(row[0] == normalize(label) and {normalize(v) for v in values} <= set(row[1:]) for row in rows)


def test_a_table_row_that_sets_the_subjects_side_by_side_gives_one_cell_each(assistant: Assistant,
                                                                              texts: dict[str, str]) -> None:
    answer = assistant.ask("How do the Blue Card and the Green Card compare on fees?")
    assert answer.table is not None, answer.full_text
    assert answer.table.columns == ["aspect", "Blue Card", "Green Card"]
    (row,) = answer.table.rows
    assert [c.text for c in row.cells] == ["18 euros", "45 euros"]
    by_n = {c.n: c for c in answer.citations}
    assert all(c.n is not None and c.text in by_n[c.n].text for c in row.cells)
    check(answer, texts, "18 euros", "45 euros")


def test_comparison_table_cites_each_cell(assistant: Assistant, texts: dict[str, str]) -> None:
    question = "What is the difference between the Blue Card and the Green Card on fees and eligibility?"
    answer = assistant.ask(question)
    assert not answer.refused, answer.text
    assert answer.table is not None, answer.text
    assert answer.table.columns == ["aspect", "Blue Card", "Green Card"]
    assert [row.aspect for row in answer.table.rows] == ["fees", "eligibility"], answer.full_text
    by_n = {c.n: c for c in answer.citations}
    for row in answer.table.rows:
        assert len(row.cells) == 2, row
        for cell in row.cells:
            if cell.n is None:
                assert cell.text == "not stated", row
            else:
                assert _in_passage(cell.text, by_n[cell.n].text), f"{cell.text!r} not in [{cell.n}]"
    check(answer, texts, "18 euros", "45 euros")


def test_a_comparison_written_with_vs_gets_the_row_its_question_names(assistant: Assistant,
                                                                      texts: dict[str, str]) -> None:
    # Two rows speak of applying ("Where to apply", "Who can apply"): the one the question names is chosen.
    answer = assistant.ask("Blue Card vs Green Card: who can apply?")
    assert answer.table is not None, answer.full_text
    (row,) = answer.table.rows
    assert [c.text for c in row.cells] == ["residents of Larkhaven aged 12 or over", "anyone aged 16 or over"]
    check_citations(answer, texts)


def test_a_comparison_with_a_side_the_documents_never_mention_is_refused(assistant: Assistant,
                                                                         texts: dict[str, str]) -> None:
    # The pass rules' adoption date is there; nothing is said of a zoning plan, so nothing can be set in order.
    answer = assistant.ask("Which was adopted first, the pass rules or the Larkhaven zoning plan?")
    assert answer.refused, answer.text
    assert "12 March 2024" in answer.text  # the closest passage shown is the side the documents do cover
    check_citations(answer, texts)


def test_an_amount_in_a_currency_named_by_its_country(assistant: Assistant, texts: dict[str, str]) -> None:
    check(assistant.ask("How much does a summer mooring permit cost in Larkhaven?"), texts, "240 Larkhaven dollars")


def test_a_paragraph_under_a_run_in_heading_is_about_that_heading(assistant: Assistant, texts: dict[str, str]) -> None:
    # "An applicant needs 30 points" names no waiting list: its paragraph's run-in heading does.
    answer = assistant.ask("How many points does an applicant on the mooring waiting list need?")
    check(answer, texts, "30 points")
    assert "larkhaven-harbour-permits" in {c.doc_id for c in answer.citations}


def test_a_fact_whose_subject_only_the_sentence_before_names(assistant: Assistant, texts: dict[str, str]) -> None:
    answer = assistant.ask("How much do owners pay to keep a boat ashore over the winter?")
    check(answer, texts, "95 Larkhaven dollars a month")
    assert "kept ashore at the north marina" in answer.text  # quoted with the sentence that says what it is for


def test_who_can_apply_is_answered_by_who_may_not_by_a_sentence_about_applicants(assistant: Assistant,
                                                                                  texts: dict[str, str]) -> None:
    # "new applicants join a waiting list" repeats the question's own word; it does not say who may apply.
    answer = assistant.ask("Who can apply for a mooring permit?")
    check(answer, texts, "boat owners who live in Larkhaven")
    assert "waiting list" not in answer.text, answer.text


def test_a_number_in_a_table_row_counts_what_the_row_names(assistant: Assistant, texts: dict[str, str]) -> None:
    check(assistant.ask("How many films can a Larkhaven library member borrow at once?"), texts, "5")


@pytest.mark.parametrize("question", [
    "How do the loan periods for books and films differ at the Larkhaven library?",
    "How do the loan periods for books differ from those for films?",  # "those for" stands in for the aspect
])
def test_a_comparison_of_two_rows_of_a_table(assistant: Assistant, texts: dict[str, str], question: str) -> None:
    answer = assistant.ask(question)
    assert answer.table is not None, answer.full_text
    assert answer.table.columns == ["aspect", "books", "films"], answer.table.columns
    (row,) = answer.table.rows
    by_n = {c.n: c for c in answer.citations}
    assert all(c.n is not None and _in_passage(c.text, by_n[c.n].text) for c in row.cells), row
    check(answer, texts, "3 weeks", "1 week")


def test_a_labelled_category_is_answered_for_itself(assistant: Assistant, texts: dict[str, str]) -> None:
    check(assistant.ask("What is the maximum boat length for a Class B berth?"), texts, "12 metres")


def test_what_a_named_list_holds_is_answered_with_its_entries(assistant: Assistant, texts: dict[str, str]) -> None:
    check(assistant.ask("Which boats are on the priority list?"), texts, "rescue boats", "ferries", "fishing boats")


NEAR_MISSES = ["How long does Blue Card processing take?", "What salary do Blue Card librarians earn?",
               "How many Green Cards were issued last year?", "What is the replacement fee for a lost Green Card?",
               # The page's own topic words are in every sentence; the noun asked for ("名额", "押金") is in none.
               "绿卡每年发放多少名额？", "蓝卡的押金是多少？",
               "Why are children's books exempt from late charges?",  # the library states no reason
               "What is the maximum boat length for a Class C berth?",  # only classes A and B exist
               "Which boats are on the Harbour Watch List?"]  # named, its entries never given


@pytest.mark.parametrize("question", NEAR_MISSES)
def test_what_the_documents_do_not_say_is_refused(assistant: Assistant, texts: dict[str, str],
                                                  question: str) -> None:
    answer = assistant.ask(question)
    assert answer.refused, answer.text
    assert answer.text.startswith(("The corpus does not answer this question.", "语料库中没有")), answer.text
    check_citations(answer, texts)
