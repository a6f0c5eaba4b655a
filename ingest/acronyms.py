"""Acronyms and the words they stand for: those a document spells out ("Canadian Language Benchmark (CLB)"), so a
unit that only writes "CLB" says what it stands for too, and one that only writes the words (or sits under a
heading that does) names the CLB; and whether a text spells out an acronym a question asks with."""

from __future__ import annotations

import re

_IN_BRACKETS = re.compile(r"[(（]([A-Z]{2,8})[)）]")
_WORD = re.compile(r"[A-Za-z][\w'’]*")
_HYPHENATED_WORD = re.compile(r"[A-Za-z][\w'-]*")
# Words an acronym may skip ("Invitation to Apply" is ITA, "Department of Labor" is DOL or DL).
_SMALL = frozenset("of and the for on to in a an at by with".split())
_LOOK_BACK = 160  # characters before the brackets: a spelled-out name stands right before its acronym


def defined_acronyms(text: str) -> dict[str, str]:
    """Each acronym the text writes in brackets right after the words whose initials spell it, with those
    words; the first such definition of an acronym counts. One the words before it do not spell (a name in
    another language, a code) is left out rather than guessed."""
    found: dict[str, str] = {}
    for match in _IN_BRACKETS.finditer(text):
        acronym = match.group(1)
        if acronym not in found:
            words = _WORD.findall(text[max(0, match.start() - _LOOK_BACK) : match.start()])
            if spelled := _spelled_by(acronym, words):
                found[acronym] = spelled
    return found


def _spelled_by(acronym: str, words: list[str]) -> str:
    """The shortest run of words ending the list whose initials spell the acronym, small words counted or
    skipped; "" when none does."""
    letters = acronym.lower()
    for n in range(len(letters), min(len(words), 2 * len(letters)) + 1):
        run = words[-n:]
        if run[0].lower() in _SMALL:
            continue
        every = "".join(w[0] for w in run).lower()
        content = "".join(w[0] for w in run if w.lower() not in _SMALL).lower()
        if letters in (every, content):
            return " ".join(run)
    return ""


def expansions_in(text: str, acronyms: dict[str, str]) -> str:
    """The acronyms a text writes without the words they stand for, and the words it writes without their
    acronym, each as "CLB: Canadian Language Benchmark"; "" when it writes neither."""
    said = []
    for acronym, words in acronyms.items():
        written = bool(re.search(rf"(?<![\w-]){acronym}(?![\w-])", text))
        spelled = bool(re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text, re.IGNORECASE))
        if written != spelled:
            said.append(f"{acronym}: {words}")
    return "; ".join(said)


def spells(acronym: str, text: str) -> bool:
    """Do consecutive words anywhere in the text (small words aside) spell the acronym, one initial each? The last
    word may give the last letters too ("notice of proposed rulemaking" spells NPRM); one word never does."""
    words = [w.lower() for w in _HYPHENATED_WORD.findall(text) if w.lower() not in _SMALL]
    letters = acronym.lower()
    for i in range(len(words)):
        for n in range(2, len(letters) + 1):  # n words: n - 1 initials, then the rest from the last word
            run = words[i : i + n]
            if len(run) == n and all(w[0] == c for w, c in zip(run, letters, strict=False)) \
                    and _in_order(letters[n - 1 :], run[-1]):
                return True
    return False


def _in_order(letters: str, word: str) -> bool:
    position = 0
    for letter in letters:
        position = word.find(letter, position) + 1
        if not position:
            return False
    return True
