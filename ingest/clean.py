"""Cleaning: Unicode and whitespace normalisation, and removal of boilerplate and advertising lines."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from ingest.guard import neutralise_markers

# Phrases of sales copy. A line is an advertisement when it reads like sales copy *and* is about
# something the rest of the document never mentions; neither signal alone is enough, because news
# and policy texts quote "preferred" or "leading" in passing.
PROMO_CUES = (
    r"market[- ]leading", r"world[- ]class", r"best[- ]in[- ]class",
    r"state[- ]of[- ]the[- ]art", r"cutting[- ]edge", r"leading (?:provider|supplier|manufacturer)",
    r"preferred (?:supplier|solution|choice|partner|provider|vendor)", r"trusted by", r"recommended by",
    r"(?:delivers|offers|provides) [\w\s,-]{0,40}solutions", r"solutions? (?:designed|equipped|built)",
    r"the #?1 ", r"unbeatable", r"award[- ]winning", r"guaranteed", r"certified (?:pc|solutions|products)",
)
# Calls to buy or click. Only these make a single cue enough: news quotes "world-class" or
# "guaranteed" in passing, but a policy text does not tell its reader to order today.
CALL_TO_ACTION_CUES = (
    r"buy now", r"order (?:now|today)", r"shop (?:now|today)", r"free (?:trial|shipping|quote)",
    r"try (?:it )?(?:free|today|now)", r"sign up (?:now|today)", r"limited[- ]time", r"% off",
    r"discount", r"sponsored", r"advertisement", r"promo(?:tion)? code", r"call (?:us )?(?:now|today)",
    r"visit (?:our|us)", r"contact (?:our|us) (?:today|now)",
)
_CALL_TO_ACTION_RE = re.compile("|".join(CALL_TO_ACTION_CUES), re.IGNORECASE)
_PROMO_RE = re.compile("|".join(PROMO_CUES + CALL_TO_ACTION_CUES), re.IGNORECASE)

# Whole lines that are page furniture rather than content.
_BOILERPLATE_RE = re.compile(
    r"^(?:advertisement|sponsored( content)?|share (this|on)\b.*|subscribe\b.*|sign up for\b.*"
    r"|follow us\b.*|read more:?|all rights reserved\.?|copyright\b.*|©.*|click here\b.*"
    r"|cookie(s)? (policy|settings)\b.*)$",
    re.IGNORECASE,
)
# Labels that open a section of their own (often furniture, like a reference list). The line stays:
# deleting it would glue the section's text onto the section before.
_SECTION_LABEL_RE = re.compile(
    r"^(?:references|sources?|related(?: articles| stories| links| reading)?|further reading|see also"
    r"|bibliography|参考文献|参考资料|资料来源|来源|相关阅读|延伸阅读)\s*[:：]?$",
    re.IGNORECASE,
)
_FURNITURE_MAX_WORDS = 12
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s")
_WORD_RE = re.compile(r"[a-z][a-z-]{3,}")
_STOP = frozenset("this that with from have will their them they than into also been were which".split())


def _bare(line: str) -> str:
    """A line without Markdown heading, quote and emphasis marks around it."""
    return line.strip("*_#> ").strip()


def is_section_label(line: str) -> bool:
    """True for a line that only names a section, such as "References:" or "## Sources"."""
    return bool(_SECTION_LABEL_RE.match(_bare(line)))


def normalise(text: str) -> str:
    """NFC-normalise, unify newlines, drop control characters and trailing spaces, squeeze blank lines."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("\u00a0", " ").replace("\u200b", "").replace("\ufeff", "")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD_RE.findall(text.lower()) if w not in _STOP}


def promo_score(line: str) -> int:
    """How many distinct sales-copy cues a line contains."""
    return len({m.group(0).lower() for m in _PROMO_RE.finditer(line)})


def is_advertising(line: str, rest_of_document: str) -> bool:
    """True for a line that sells something the rest of the document is not about."""
    cues = promo_score(line)
    if cues == 0:
        return False
    words = _content_words(line)
    if not words:
        return False
    shared = len(words & _content_words(rest_of_document)) / len(words)
    # Two or more cues with little shared vocabulary, or one call to action with almost none.
    return (cues >= 2 and shared < 0.5) or (bool(_CALL_TO_ACTION_RE.search(line)) and shared < 0.25)


def remove_boilerplate(text: str) -> str:
    """Drop advertising and page-furniture lines; keep everything else byte for byte."""
    lines = text.split("\n")
    # Judge each line against the plain content only, so two ads cannot vouch for each other.
    plain = "\n".join(line for line in lines if promo_score(line) == 0)
    kept: list[str] = []
    for line in lines:
        # Page furniture is short; a long sentence that happens to start "Sign up for..." is content.
        # A Markdown heading stays whatever it says: it is the boundary of the section below it.
        if (len(line.split()) <= _FURNITURE_MAX_WORDS and not _MARKDOWN_HEADING.match(line)
                and _BOILERPLATE_RE.match(_bare(line))):
            continue
        if line.strip() and not line.lstrip().startswith(("#", "|")) and is_advertising(line, plain):
            continue
        kept.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def clean_text(text: str, rebuild: Callable[[str], str] | None = None) -> str:
    """The full cleaning step applied to every loaded document.

    `rebuild` joins the lines of a paragraph; it runs before furniture is dropped, so a wrapped line
    that happens to start like furniture ("Copyright law...") is judged as part of its paragraph.
    """
    text = normalise(text)
    return neutralise_markers(remove_boilerplate(rebuild(text) if rebuild else text))
