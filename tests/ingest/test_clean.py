"""Cleaning: Unicode and whitespace normalisation, and a general rule that drops advertising lines."""

from __future__ import annotations

from ingest.clean import clean_text, is_advertising, normalise
from ingest.loaders import split_front_matter
from kvisa.settings import PROJECT_ROOT

POLICY = """Eligibility for the new visa
The State Council adopted the decision on 16 July 2025, and it takes effect on 1 October 2025.
Applicants must be young foreign graduates in science, technology, engineering or mathematics.
The Ministry of Foreign Affairs said leading universities and research institutions will host many holders.
Graduates of the leading universities are the preferred applicants, officials said.
Officials said the category should attract world-class researchers.
A spokesman predicted that world-class scientists from abroad would come.
Holders do not need an invitation from a Chinese employer or institution."""

# Made-up sales copy for a product that has nothing to do with visas.
CLOUD_AD = ("SkyVault Backup delivers award-winning cloud backup solutions trusted by 20,000 small "
            "businesses; start your free trial today.")
PRINTER_AD = "Order today: PrintMax laser toner cartridges at 30% off, free shipping on every order."


def _with_line_inserted(text: str, line: str, after: int) -> str:
    lines = text.split("\n")
    return "\n".join([*lines[: after + 1], line, *lines[after + 1 :]])


def test_a_promotional_line_for_another_product_is_dropped_from_a_policy_text() -> None:
    cleaned = clean_text(_with_line_inserted(POLICY, CLOUD_AD, after=2))
    assert "SkyVault" not in cleaned and "backup" not in cleaned
    assert cleaned == clean_text(POLICY)  # every other line is kept as it was


def test_sentences_that_use_sales_words_in_passing_are_kept() -> None:
    cleaned = clean_text(POLICY)
    assert cleaned == POLICY
    assert "leading universities" in cleaned and "preferred applicants" in cleaned
    assert "world-class researchers" in cleaned


def test_an_advertisement_inserted_into_a_real_corpus_document_is_dropped() -> None:
    _, body = split_front_matter((PROJECT_ROOT / "corpus" / "us-h1b-program-basics.md").read_text("utf-8"))
    lines = body.split("\n")
    middle = len(lines) // 2
    cleaned = clean_text(_with_line_inserted(_with_line_inserted(body, PRINTER_AD, middle), CLOUD_AD, 5))
    assert "PrintMax" not in cleaned and "SkyVault" not in cleaned
    assert cleaned == clean_text(body)


def test_the_rule_judges_a_line_against_the_rest_of_the_document() -> None:
    # The same sales words about the document's own subject are not an advertisement of something else.
    on_topic = "The H-1B employer must file a petition; cap-exempt employers are not guaranteed a slot."
    assert not is_advertising(on_topic, "An H-1B employer must file a petition before the cap season.")
    assert is_advertising(CLOUD_AD, POLICY)


def test_the_article_loses_both_industrial_monitor_lines_and_keeps_its_text() -> None:
    raw = (PROJECT_ROOT / "corpus" / "k-visa-article.txt").read_text("utf-8")
    cleaned = clean_text(raw)
    assert "Industrial Monitor Direct" in raw
    assert "Industrial Monitor" not in cleaned and "iecex" not in cleaned.lower()
    assert "without requiring employer sponsorship" in cleaned


def test_normalise_unifies_unicode_and_whitespace() -> None:
    raw = "Cafe\u0301\u00a0visa\r\nfee\t\t is  $100,000.\u200b\r\n\r\n\r\n\r\nNext\x07 line  "
    assert normalise(raw) == "Caf\u00e9 visa\nfee is $100,000.\n\nNext line"


def test_page_furniture_lines_go_but_long_sentences_starting_alike_stay() -> None:
    text = "\n".join([
        "The registration period opens in March.",
        "Subscribe to our newsletter",
        "Sign up for the H-1B registration through a USCIS online account; each employer must register "
        "every beneficiary separately before the deadline.",
        "Copyright 2025 Example News. All rights reserved.",
        "Copyright protection does not extend to works of the US government, so the text of the "
        "proclamation may be reproduced freely.",
        "Share this article",
    ])
    kept = clean_text(text).split("\n")
    assert [line.split()[0] for line in kept] == ["The", "Sign", "Copyright"]
    assert kept[2].startswith("Copyright protection")


def test_a_references_heading_stays_so_its_section_keeps_its_boundary() -> None:
    markdown = "## Fees\nThe fee is $100,000.\n## References\n- White House FAQ, 2025.\n## Sources\nUSCIS."
    assert clean_text(markdown) == markdown
    plain = "Fees\nThe fee is $100,000 for new petitions.\nReferences:\nWhite House FAQ, September 2025.\nShare this"
    assert clean_text(plain).split("\n") == plain.split("\n")[:4]  # the label stays, the furniture goes
