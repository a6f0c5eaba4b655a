"""Sentence splitting that keeps decimals, abbreviations, legal references and Chinese punctuation intact."""

from __future__ import annotations

import re

# Words that end in a period without ending the sentence. Lower-cased, without the final period.
ABBREVIATIONS = frozenset(
    """
    u.s u.k u.n e.g i.e etc vs cf sec secs para paras ch vol pp p
    dr mr mrs ms prof sr jr st inc co corp ltd llc dept gov govt jan feb mar apr jun jul aug
    sep sept oct nov dec a.m p.m approx est ref rev ed eds al
    """.split()
)

# Abbreviations that are also words ("No. The FAQ says..."): only a number after them makes them one,
# "No. 814", "FR Doc. 2025-23853" or an identifier with digits in it ("Docket No. USCIS-2025-0040").
BEFORE_NUMBER = frozenset("no nos art arts fig figs doc docs pub reg regs ex".split())
_NUMBER_AFTER = re.compile(r"\s*\(?[A-Za-z-]*\d")

_CJK_END = "。！？"
_CLOSERS = "\"'”’」』）)]"
# A Latin sentence end: terminator, optional closers, whitespace, then something that can open a sentence.
_LATIN_END = re.compile(r"[.!?][" + re.escape(_CLOSERS) + r"]*(?=\s+[\"“'‘(\[A-Z0-9\u4e00-\u9fff$])")
_CJK_END_RE = re.compile(r"[" + _CJK_END + r"][" + re.escape(_CLOSERS) + r"]*")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the period at `dot` closes an abbreviation or an initial rather than a sentence."""
    if text[dot] != ".":
        return False
    match = _WORD_BEFORE.search(text[:dot])
    if not match:
        return False
    word = match.group(1).lower().rstrip(".")
    glued = match.start() > 0 and (text[match.start() - 1].isalnum() or text[match.start() - 1] == "-")
    if len(word) == 1 and glued:
        return False  # the last letter of a code such as H-1B ends the sentence; it is not an initial
    if word in BEFORE_NUMBER:
        return bool(_NUMBER_AFTER.match(text, dot + 1))
    # Single capital letters are initials ("J. Smith") and dotted forms like "U.S" are abbreviations.
    return word in ABBREVIATIONS or len(word) == 1 or "." in word


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split text[start:end] into sentences, returned as (start, end) offsets without outer whitespace."""
    end = len(text) if end is None else end
    segment = text[start:end]
    cuts: set[int] = set()
    for match in _LATIN_END.finditer(segment):
        if not _is_abbreviation(segment, match.start()):
            cuts.add(match.end())
    for match in _CJK_END_RE.finditer(segment):
        cuts.add(match.end())
    spans: list[tuple[int, int]] = []
    previous = 0
    for cut in [*sorted(cuts), len(segment)]:
        piece = segment[previous:cut]
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + previous + lead, start + previous + lead + len(stripped)))
        previous = cut
    return spans


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, in order."""
    return [text[a:b] for a, b in sentence_spans(text)]
