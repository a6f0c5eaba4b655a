"""Acronyms a document spells out: a unit that only writes the acronym also says what it stands for."""

from __future__ import annotations

from ingest.acronyms import defined_acronyms, expansions_in, spells

GUIDE = """The Harbour Mooring Authority (HMA) issues permits. Owners must pass the Boat Safety Check (BSC)
before a permit starts. A Notice to Mariners (NTM) is posted weekly. The fee is set by the Stadshaven (SHV)
board. Permits are listed in the city register (see BSC rules)."""


def test_an_acronym_in_brackets_after_the_words_that_spell_it_is_defined() -> None:
    assert defined_acronyms(GUIDE) == {
        "HMA": "Harbour Mooring Authority",
        "BSC": "Boat Safety Check",
        "NTM": "Notice to Mariners",  # a small word may count ("to") or be skipped
    }  # "SHV" is spelled by nothing before it: a name in another language is not guessed


def test_a_unit_that_writes_only_the_acronym_says_what_it_stands_for() -> None:
    acronyms = defined_acronyms(GUIDE)
    assert expansions_in("Every boat needs a BSC sticker.", acronyms) == "BSC: Boat Safety Check"
    assert expansions_in("The Boat Safety Check (BSC) takes an hour.", acronyms) == ""  # spelled out already
    assert expansions_in("BSCs and HMA offices", acronyms) == "HMA: Harbour Mooring Authority"  # whole words only



def test_a_unit_that_spells_out_what_an_acronym_stands_for_names_the_acronym() -> None:
    acronyms = defined_acronyms(GUIDE)
    assert expansions_in("Every boat needs a boat safety check each spring.", acronyms) == "BSC: Boat Safety Check"


def test_a_text_spells_an_acronym_with_consecutive_initials_anywhere_in_it() -> None:
    assert spells("HSP", "A holder of Highly Skilled Professional status may stay five years.")
    assert spells("NPRM", "The notice of proposed rulemaking was published in July.")  # last letters from one word
    assert not spells("HSP", "Highly paid staff may apply.")  # "paid" does not start with s, "staff" with p
    assert not spells("RIN", "Regulation text follows.")  # one word never spells an acronym
