"""What a question's words name: visa classes, document numbers, identifiers, capitalised names, and the
subjects and aspects of a comparison."""

from __future__ import annotations

import re
from functools import lru_cache

from rag.terms import tokenize

# Visa classes: a capital letter with an optional digit or letter suffix, or a dashed code (H-1B, L-1A, EB-5,
# F-1, O-1, H-4), followed by "visa" or 签证, or a dashed code standing alone. "A visa holder" names no class.
# A class may have one descriptive word before "visa" ("an L tourist visa", "the X1 study visa").
# "H-1B", "EB-5", and classes with a further suffix ("F-2-T", "E-7-4"), not forms ("I-20"); or a letter class named
# as a visa
_VISA_CLASS = re.compile(r"(?<![A-Za-z0-9-])(?:([A-Z]{1,2}-\d[A-Z]?(?:-(?:\d{1,2}|[A-Z]))*)"
                         r"(?![A-Za-z0-9]|-[A-Z0-9])|([A-Z][A-Z0-9]?)(?:\s*字)?"
                         r"(?:\s+[a-z]{3,})?(?:\s*|-)(?:visas?\b|签证))")
# The same code written without its dash, or with it moved ("H1B", "H1-B"): read as "H-1B"
_UNDASHED_CLASS = re.compile(r"(?<![A-Za-z0-9-])([A-Z]{1,2})(\d)-?([A-Z])(?![A-Za-z0-9])")
_ARTICLE_VISA = re.compile(r"(?<![A-Za-z0-9-])A(?:\s+[a-z]{3,})?\s+visas?\b")
_DOCUMENT_NUMBER = re.compile(r"(?<![$\d.,])\d{3,}(?![\d,]*\s*(?:%|percent|dollars|美元|元))")


def visa_classes(text: str) -> frozenset[str]:
    """Visa classes a text names ("Z visa", "Z字签证", "H-1B", "B visas", "EB-5"), not "a visa"."""
    found = {f"{m.group(1)}-{m.group(2)}{m.group(3)}" for m in _UNDASHED_CLASS.finditer(text)}
    for match in _VISA_CLASS.finditer(text):
        if match.group(2) and _ARTICLE_VISA.match(text, match.start()):
            continue
        found.add(match.group(1) or match.group(2))
    return frozenset(found)


def document_numbers(text: str) -> frozenset[str]:
    """Numbers that name a document ("Proclamation 10973", "第814号"): three digits or more, not a year or money."""
    numbers = set()
    for match in _DOCUMENT_NUMBER.finditer(text):
        before = text[max(0, match.start() - 2) : match.start()]
        if "$" in before or re.fullmatch(r"(19|20)\d\d", match.group(0)):
            continue
        numbers.add(match.group(0))
    return frozenset(numbers)


# "Which came out first, A or B?", "A和B，哪个签署得更早？": which of two things came first, told by their dates.
_WHICH = re.compile(r"^\s*which\b|哪个|哪一个|哪份|哪项", re.IGNORECASE)
_ORDER = re.compile(r"\b(?:first|earlier|earliest|later|latest|sooner|more recent(?:ly)?|older|newer)\b"
                    r"|更早|更晚|较早|较晚|最早|先", re.IGNORECASE)
# What says "which came first" rather than what happened: taken out of each side's question.
ORDER_WORDS = re.compile(rf"{_WHICH.pattern}|{_ORDER.pattern}|得(?=更|较|最)", re.IGNORECASE)
_EITHER = (re.compile(r"(?:[,:]|\bbetween)\s*(?:the\s+)?(.+?)\s+(?:or|and)\s+(?:the\s+)?(.+?)[?？\s]*$", re.IGNORECASE),
           re.compile(r"^(.+?)(?:和|与|还是|跟)(.+?)[，,：:]\s*哪"))


@lru_cache(maxsize=1024)  # one question is read for its answer type and again for its parts
def order_subjects(text: str) -> tuple[str, ...]:
    """The two things a "which came first" question sets in order; empty for any other question."""
    if not (_WHICH.search(text) and _ORDER.search(text)):
        return ()
    match = next((m for pattern in _EITHER if (m := pattern.search(text))), None)
    return tuple(s.strip(" ?？,，") for s in match.groups()) if match else ()


# "What do A and B each require?", "A和B分别是什么？": one question asked of each of two things.
_EACH = (re.compile(r"\b(?:do|does|did|is|are|was|were|will|would|can|could|must)\s+(?:the\s+)?(.+?)\s+and\s+"
                    r"(?:the\s+)?(.+?)\s+each\b", re.IGNORECASE),
         re.compile(r"([^，,；;：:]+?)(?:和|与|及|跟)([^，,；;：:]+?)(?:各自|分别)"))


@lru_cache(maxsize=1024)  # one question is read for its answer type and again for its parts
def each_subjects(text: str) -> tuple[str, ...]:
    """The two things a question asks the same thing of ("A and B each"); empty for any other question."""
    match = next((m for pattern in _EACH if (m := pattern.search(text))), None)
    return tuple(s.strip(" ?？,，") for s in match.groups()) if match else ()


@lru_cache(maxsize=1024)  # one question is read for its answer type and again for its parts
def comparison_subjects(text: str) -> tuple[str, ...]:
    """What a comparison compares: the two things set in order or asked of each, named visa classes, else the
    phrases on either side of and/vs/from (an aspect written before the first of them left out)."""
    return _shared_aspect(_raw_subjects(text))[1]


def _raw_subjects(text: str) -> tuple[str, ...]:
    if named := order_subjects(text) or each_subjects(text):
        return named
    classes = sorted(visa_classes(text), key=text.find)
    if len(classes) >= 2:
        return tuple(classes)
    match = re.search(r"(?:between|compare)\s+(?:the\s+)?(.+?)\s+(?:and|with|to|vs\.?|versus)\s+(?:the\s+)?(.+?)"
                      r"(?:\s+(?:on|in|regarding|when it comes to)\b|[?？]|$)", text, re.IGNORECASE)
    match = match or re.search(r"^\s*(?:the\s+)?([^:?？,，]+?)\s+(?:vs\.?|versus)\s+(?:the\s+)?([^:?？,，]+?)"
                               r"(?:\s*[:?？,，]|\s+(?:on|in terms of|regarding|when it comes to)\s|$)", text,
                               re.IGNORECASE)
    match = match or re.search(r"how (?:do|does|did)\s+(?:the\s+)?(.+?)\s+and\s+(?:the\s+)?(.+?)\s+(?:differ|compare)",
                               text, re.IGNORECASE)
    match = match or re.search(r"(?:how (?:does|do|is|are)\s+)(?:the\s+)?(.+?)\s+(?:differ|compare)\s+(?:from|with|"
                               r"to)\s+(?:the\s+)?(.+?)(?:\s+(?:on|in|regarding)\b|[?？]|$)", text, re.IGNORECASE)
    match = match or re.search(r"(.+?)(?:和|与|跟|同)(.+?)(?:有什么|在|的)?(?:区别|不同|差异|相比|比较|异同)", text)
    if not match:
        return tuple(classes)
    return tuple(s.strip(" ?？,，") for s in match.groups())


# "the loan periods for books and DVDs", "What is the loan period on books vs DVDs?": what is compared ("loan
# period") stands before the first subject only, after any question words.
_ASPECT_BEFORE = re.compile(r"^(?:(?:what|which)(?:'s|\s+(?:is|are|was|were))\s+)?(?:the\s+)?(.+?)\s+(?:for|of|on|"
                            r"under)\s+(?:the\s+)?(.+)$", re.IGNORECASE)


# "the fees for A differ from those for B": the second subject stands in for the aspect with a pronoun.
_STANDS_IN = re.compile(r"^(?:those|that|the ones?)\s+(?:for|of)\s+(?:the\s+)?(.+)$", re.IGNORECASE)


def _shared_aspect(subjects: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The aspect that two subjects share when it is written before the first of them ("the fees for A and B",
    "the fees for A ... those for B"), and the subjects without it; ("", subjects) otherwise."""
    match = _ASPECT_BEFORE.match(subjects[0]) if len(subjects) == 2 else None
    if not match:
        return "", subjects
    if stands_in := _STANDS_IN.match(subjects[1]):
        return match.group(1), (match.group(2), stands_in.group(1))
    if re.search(r"\s(?:for|of)\s", f" {subjects[1]} ", re.IGNORECASE):
        return "", subjects
    return match.group(1), (match.group(2), subjects[1])


def comparison_aspects(text: str) -> tuple[str, ...]:
    """The aspects a comparison names ("on sponsorship and fees"); empty when it names none."""
    # "... allowance on Flex versus Business": what follows "on" holds the subjects, not an aspect
    match = re.search(r"\b(?:on|in terms of|regarding|when it comes to|with respect to)\s+(?!.*\b(?:vs|versus)\b)"
                      r"(.+?)[?？]*$", text, re.IGNORECASE)
    match = match or re.search(r"在(.+?)(?:方面|上)(?:有什么|有何|的)?(?:区别|不同|差异)", text)
    if not match:
        aspect = _shared_aspect(_raw_subjects(text))[0]
        return (aspect,) if aspect else ()
    pieces = re.split(r",\s*|\s+and\s+|\s+or\s+|、|和|与|及", match.group(1))
    return tuple(re.sub(r"^(?:the|its|their)\s+", "", p.strip(), flags=re.IGNORECASE) for p in pieces if tokenize(p))


_NAME = re.compile(r"\b(?:[A-Z][a-z]+\s+){1,5}[A-Z][a-z]+\b")
_LEADING = re.compile(r"^(?:The|A|An|This|That|These|Those|Its|Their|Our|Your|Does|Do|Is|Are|What|Which|When|How|"
                      r"Who|Why|Where|Can|Will|Under|In|For|On|At|By|From|After|Before)\s+")


def named_things(text: str) -> frozenset[str]:
    """Capitalised names of two or more words ("Green Card", "Highly Skilled Professional"): evidence about a
    sibling with the same last word ("Blue Card") does not answer a question about this one."""
    names = set()
    for match in _NAME.finditer(text):
        name = match.group(0)
        while _LEADING.match(name):
            name = _LEADING.sub("", name, count=1)
        if " " in name:
            names.add(name)
    return frozenset(names)


def names_conflict(asked: frozenset[str], named: frozenset[str]) -> bool:
    """True when a text names a sibling of an asked name but not the name: "Blue Card" for "Green Card",
    "Highly Skilled Professional" for "Skilled Worker". A longer form of the name ("Judge Ann Lee" for
    "Ann Lee") is the same thing, not a sibling."""
    return any(a not in named and any(_siblings(a, n) for n in named) for a in asked)


def _siblings(a: str, b: str) -> bool:
    words_a, words_b = set(a.split()), set(b.split())
    return bool(words_a & words_b) and not (words_a <= words_b or words_b <= words_a)


# A labelled category: "Category A", "Tier 1", "Level 7", "A类", "3级". English and Chinese words for the same kind
# of label are read as one ("Class A" is "A类").
_CATEGORY_KINDS = {"category": "class", "class": "class", "type": "class", "类": "class", "tier": "tier",
                   "level": "level", "grade": "level", "级": "level", "band": "band", "档": "band", "group": "group",
                   "stream": "stream", "schedule": "schedule", "phase": "phase", "stage": "phase"}
_CATEGORY = re.compile(r"\b(category|class|type|tier|level|grade|band|group|stream|schedule|phase|stage)\s+"
                       r"([A-Z]|\d{1,2}|[IVX]{1,4})(?![\w-])|(?<![A-Za-z0-9])([A-Z]|\d{1,2})\s*(类|级|档)",
                       re.IGNORECASE)


@lru_cache(maxsize=4096)
def categories(text: str) -> frozenset[tuple[str, str]]:
    """The labelled categories a text names, as (kind, label): "Category A" and "A类" are both ("class", "A")."""
    found = set()
    for match in _CATEGORY.finditer(text):
        kind, label = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        if label.isalpha() and not label.isupper():
            continue  # "a class a student takes": a label is a capital letter or a number
        found.add((_CATEGORY_KINDS[kind.lower()], label.upper()))
    return frozenset(found)


def categories_conflict(asked: frozenset[tuple[str, str]], named: frozenset[tuple[str, str]]) -> bool:
    """True when a text names another category of the same kind as an asked one, but not the asked one: "B类"
    for "Category C"."""
    return any(a not in named and any(n[0] == a[0] for n in named) for a in asked)


# The two sides of a border: "applied for from inside Canada" is not answered by "applied for from outside Canada".
_INSIDE = re.compile(r"\b(?:inside|in-country)\b|境内|国内", re.IGNORECASE)
_OUTSIDE = re.compile(r"\b(?:outside|out-of-country)\b|境外|国外", re.IGNORECASE)


def other_side(asked: str, text: str) -> bool:
    """True when the text speaks only of the other side of a border than the question does ("outside the UK"
    for "from inside the UK")."""
    return any(this.search(asked) and not other.search(asked) and other.search(text) and not this.search(text)
               for this, other in ((_INSIDE, _OUTSIDE), (_OUTSIDE, _INSIDE)))


_IDENTIFIER = re.compile(r"(?<![\w-])(?:[A-Z]{2,}[A-Z0-9-]*|[A-Za-z]*\d(?:[\w.-]|,(?=\d))*)(?![\w-])")


def identifiers(text: str) -> tuple[str, ...]:
    """Tokens that name one thing exactly ("FY 2026", "N2", "MRV", "2010"), not the visa classes asked about:
    evidence about "N1" or "2027" does not answer a question about "N2" or "2026"."""
    classes = {t for c in visa_classes(text) for t in tokenize(c)}
    found = [t for m in _IDENTIFIER.finditer(text) for t in tokenize(m.group(0))]
    return tuple(dict.fromkeys(t for t in found if t not in classes))


def without(text: str, phrase: str) -> str:
    """The text with the phrase taken out where it stands as a whole word or name."""
    return re.sub(rf"(?<![A-Za-z0-9-]){re.escape(phrase)}(?![A-Za-z0-9-])", " ", text)
