"""Sentence splitting: decimals, abbreviations and legal references stay whole; Chinese splits at 。！？."""

from __future__ import annotations

from ingest.sentences import sentence_spans, split_sentences


def test_decimals_do_not_end_a_sentence() -> None:
    text = "The fee is $2.5 million per petition. About 44.5 percent of registrations were selected."
    assert split_sentences(text) == [
        "The fee is $2.5 million per petition.",
        "About 44.5 percent of registrations were selected.",
    ]


def test_abbreviations_do_not_end_a_sentence() -> None:
    text = ("The U.S. government issued Proclamation No. 10973 under Sec. 212 of the Act. "
            "Dr. Li of the Ministry disagreed. The rule took effect on Sept. 21.")
    assert split_sentences(text) == [
        "The U.S. government issued Proclamation No. 10973 under Sec. 212 of the Act.",
        "Dr. Li of the Ministry disagreed.",
        "The rule took effect on Sept. 21.",
    ]


def test_a_sentence_ending_in_a_visa_code_ends_there() -> None:
    text = ("Talent mobility grew through programs like the H-1B. According to research, it helped. "
            "J. Smith disagreed. The new category is Q2. Holders may stay.")
    assert split_sentences(text) == [
        "Talent mobility grew through programs like the H-1B.",
        "According to research, it helped.",
        "J. Smith disagreed.",
        "The new category is Q2.",
        "Holders may stay.",
    ]


def test_legal_references_stay_in_their_sentence() -> None:
    text = ("Entry is restricted under section 212(f) of the INA, 8 U.S.C. 1182(f). "
            "The definition is in 8 CFR 214.2(h)(4)(ii). Both apply.")
    assert split_sentences(text) == [
        "Entry is restricted under section 212(f) of the INA, 8 U.S.C. 1182(f).",
        "The definition is in 8 CFR 214.2(h)(4)(ii).",
        "Both apply.",
    ]


def test_chinese_text_splits_at_chinese_sentence_ends() -> None:
    text = "K字签证自2025年10月1日起施行。申请人需要国内单位邀请吗？不需要！持证人可从事教育、科技等交流活动。"
    assert split_sentences(text) == [
        "K字签证自2025年10月1日起施行。",
        "申请人需要国内单位邀请吗？",
        "不需要！",
        "持证人可从事教育、科技等交流活动。",
    ]


def test_question_and_exclamation_marks_and_quotes_end_sentences() -> None:
    text = 'Who pays the fee? The employer does! He said: "The fee is new." Then he left.'
    assert split_sentences(text) == ["Who pays the fee?", "The employer does!", 'He said: "The fee is new."',
                                     "Then he left."]


def test_spans_are_offsets_into_the_given_text() -> None:
    text = "  Intro.\n\nThe U.S. fee is $100,000.  It applies to new petitions.  "
    spans = sentence_spans(text, 2)
    assert [text[a:b] for a, b in spans] == ["Intro.", "The U.S. fee is $100,000.", "It applies to new petitions."]
    assert spans[0] == (2, 8)


def test_no_is_an_abbreviation_only_before_a_number() -> None:
    text = ("Does the K visa need an employer's invitation? No. The FAQ says it does not. "
            "Decree No. 814 was signed in August. No. 814 took effect in October. "
            "Comments cite Docket No. USCIS-2025-0040 on the portal.")
    assert split_sentences(text) == [
        "Does the K visa need an employer's invitation?",
        "No.",
        "The FAQ says it does not.",
        "Decree No. 814 was signed in August.",
        "No. 814 took effect in October.",
        "Comments cite Docket No. USCIS-2025-0040 on the portal.",
    ]


def test_document_and_publication_references_before_a_number_stay_whole() -> None:
    text = "FR Doc. 2025-23853 was filed on December 29. See the doc. Pub. 12 is the guide."
    assert split_sentences(text) == ["FR Doc. 2025-23853 was filed on December 29.", "See the doc.",
                                     "Pub. 12 is the guide."]
