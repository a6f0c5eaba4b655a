"""Scoring evidence units against a question: general features, combined by a scorer fitted on `train`."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.names import named_things, names_conflict, visa_classes
from rag.question import Question, Term
from rag.retrieve import Evidence
from rag.terms import covers, says_absent, tokenize

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_NUMBER_WORD = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
                r"sixty|ninety|hundred|thousand|million|billion|dozen|several|multiple|single|both)")
_CN_NUMBER = r"[0-9一二两三四五六七八九十百千万]+"
# ISO 4217 codes of widely traded currencies: "EUR 411", "CAD 1,000", "500 HKD" are amounts of money.
_CURRENCY = r"(?:USD|EUR|GBP|CAD|AUD|NZD|HKD|SGD|CNY|RMB|JPY|KRW|INR|CHF|SEK|NOK|DKK|MOP|TWD|AED|ZAR|BRL|MXN)"
_CURRENCY_WORD = r"(?:dollars|euros?|yuan|pounds|francs|yen|rupees)"
_UNIT_OF_TIME = r"(?:hours?|days?|weeks?|months?|years?|fiscal years?)"
# What each answer type looks like in a sentence. These are shapes of language, not of any corpus.
SHAPES: dict[str, re.Pattern[str]] = {
    "date": re.compile(rf"\b{_MONTH}\.?\s+\d{{1,2}}\b|\b\d{{1,2}}\s+{_MONTH}\b|\b{_MONTH}\s+(?:of\s+)?(?:19|20)\d\d\b"
                       r"|\b(?:19|20)\d\d-\d\d(?:-\d\d)?\b|\b(?:19|20)\d\d\b|\d{4}年|\d{1,2}月\d{1,2}日|\bFY\s?\d{2,4}\b"
                       rf"|\b(?:\d+|{_NUMBER_WORD})\s+{_UNIT_OF_TIME}\s+(?:after|from|before|of)\b",
                       re.IGNORECASE),
    "duration": re.compile(rf"\b(?:\d+|{_NUMBER_WORD})[\s-]+{_UNIT_OF_TIME}\b"
                           rf"|\b(?:for|within|after|up to|lasts?|valid for)\s+(?:\d+|{_NUMBER_WORD})"
                           rf"\s+(?!{_MONTH}\b)[a-z]+"  # "after 11 March" is a date
                           rf"|{_CN_NUMBER}\s*(?:个月|天|周|年(?!\d)|小时)|{_CN_NUMBER}\s*个?(?:工作日|日内|日以内|日之内)"
                           r"|\b(?:annual|annually|yearly|monthly|weekly|daily)\b|长期|短期", re.IGNORECASE),
    "money": re.compile(rf"[$€£¥₹₩]\s?\d|\b{_CURRENCY}\s?\d|\bUS\$"
                        # "5,600 Singapore dollars", "2 million Hong Kong dollars": a country may name the currency
                        rf"|\b\d[\d,.]*\s*(?:(?:thousand|million|billion)\s+)?(?:[A-Z][a-z]+\s+){{0,2}}"
                        rf"(?:{_CURRENCY_WORD}|{_CURRENCY})\b"
                        r"|\d\s*[万千百亿]?\s*(?:元|[美欧日英港加澳新]元|港币|英镑|法郎|卢布|韩元)", re.IGNORECASE),
    "percentage": re.compile(r"\d\s*(?:%|percent\b|per cent\b)|百分之|成(?=以上|左右)", re.IGNORECASE),
    "quantity": re.compile(rf"\d|\b{_NUMBER_WORD}\b|{_CN_NUMBER}", re.IGNORECASE),
    # A number counts, in Chinese too, where it sits between characters ("达到85分"): no Latin letter or digit
    # may touch it ("H1B", "FY2026" are names).
    "count": re.compile(rf"(?<![A-Za-z\d])\d[\d,.]*(?![A-Za-z\d])|\b{_NUMBER_WORD}\b"
                        rf"|{_CN_NUMBER}\s*(?:个|项|类|种|条|次|名|位|家|所|人)",
                        re.IGNORECASE),
    "person": re.compile(r"\b[A-Z][a-z]+(?:\s+(?:[A-Z]\.|[A-Z][a-z]+))+\b|\b(?i:president|premier|minister|secretary|"
                         r"director|governor|officials?|officers?|people|persons?|individuals?|graduates?|workers?|employees?|"
                         r"employers?|applicants?|holders?|students?|researchers?|professionals?|nationals?|"
                         r"citizens?|foreigners?|spouses?|petitioners?|sponsors?|beneficiar(?:y|ies)|talents?|"
                         r"candidates?|children|child|parents?|famil(?:y|ies)|dependa[nt]ts?|relatives?|partners?|"
                         r"members?|staff|managers?|executives?|investors?|entrepreneurs?|founders?|owners?|"
                         r"experts?|specialists?|scientists?|engineers?|teachers?|doctors?|nurses?|scholars?|"
                         r"migrants?|immigrants?|refugees?|visitors?|tourists?|travell?ers?|residents?|"
                         r"agents?|lawyers?|attorneys?|judges?|leaders?|"
                         r"anyone|those who)\b|总理|主席|部长|人员|人才|者(?=[，。、])|的人"
                         r"|(?:老|残疾|居|市|公|家|申请|持证|持有|外国|当事|个|老年|未成年|军|工)人|学生|儿童|父母|配偶"
                         r"|子女|家属|雇主|雇员|员工|教师|医生|专家|学者|毕业生|留学生|游客"),
    "organisation": re.compile(r"\b(?:[A-Z][a-z]+\s+)*(?:Department|Ministry|Agency|Administration|Council|Office|"
                               r"Service|Services|Bureau|Commission|Court|Congress|Government|University|Bank)\b"
                               r"|\b[A-Z]{2,}\b|部|局|院|委员会|政府|机构|署|大学"),
    "place": re.compile(r"\b(?:in|at|from|to|inside|outside)\s+(?:the\s+)?[A-Z][a-z]+|\b(?:country|countries|abroad|"
                        r"overseas|domestic|embass(?:y|ies)|consulates?|online|office|branch|desk|counter|website|"
                        r"portal|centre|center|app)\b"
                        r"|国|省|市|境内|境外|地区|网上|线上|窗口|办事处|售票处|网站|大使馆|领事馆|中心|大厅|平台|小程序"
                        r"|官网|柜台"),
    "reason": re.compile(r"\b(?:because|since|due to|owing to|in order to|so that|so as to|aims?|aimed|purpose|"
                         r"reasons?|goals?|intended|intends|designed to|meant to|rationale|to (?:attract|"
                         r"protect|prevent|ensure|promote|encourage|make|address|reduce|improve|help|support|"
                         r"fund|curb|stop|raise|give|favor|favour|prioriti[sz]e)|find(?:s|ings)?|says|argues?)\b"
                         r"|为了|旨在|因为|由于|目的|以便|以|为"),
    "definition": re.compile(r"\b(?:means?|meaning|refers? to|is defined|defined as|definition|is an?|are|i\.e\.|"
                             r"that is|known as|called)\b|[:：]|是指|指的是|即|定义|是"),
    "list": re.compile(r"[:：]\s*$|,.*\b(?:and|or)\b|、|；|;|\b(?:either|both|following|include|including|"
                       r"categories|types|groups)\b"),
}
# A date names a day ("September 21, 2025", "2025-09-21", "8月14日"), not only a year or a fiscal year.
_DAY = re.compile(rf"\b{_MONTH}\.?\s+\d{{1,2}}\b|\b\d{{1,2}}\s+{_MONTH}\b|\b(?:19|20)\d\d-\d\d-\d\d\b"
                  r"|\d{1,2}月\d{1,2}日", re.IGNORECASE)
# Types whose shape must be present for a unit to answer; the others only raise a unit's score.
REQUIRED_SHAPES = frozenset({"date", "duration", "money", "percentage", "count", "quantity", "person", "organisation",
                             "place"})
_NEGATION = re.compile(r"\b(?:no|not|never|none|neither|nor|without|cannot|can't|doesn't|don't|isn't|aren't|"
                       r"won't|lacks?)\b|不|没有|无|未|非", re.IGNORECASE)

# Question-level signals tried on train (margin, uncovered focus, missing identifiers, language...) all
# lowered the cross-validated AUC of answerability below that of the best unit's own score: the
# answerability step calibrates that score (cross_validation.answerability_auc in rag/scorer.json).
ANSWERABILITY_FEATURES = ("best",)
# Unit features tried on train and left out (stop 21): a Chinese question on an English unit as a flag of its
# own, the coverage of the unit's paragraph before it, a person or organisation that only repeats the
# question's words not counting as one ("applicants" for "Who can apply?"). Neither answer nor refusal accuracy
# rose, in sample or out of fold. Stop 22: a unit whose asked-type matches only repeat the question ("the
# $100,000 fee"), a word of opposite sense ("outside" for "inside"), and the terms of the paragraph before the
# unit (for every unit: AUC 0.845 -> 0.826; for a unit opening with a pronoun: no item changed) were left out.
FEATURES = ("similarity", "coverage", "context_coverage", "attribute", "typed", "named_document",
            "class_conflict", "negation", "passage_rank", "unit_only", "short", "identifiers", "zh", "zh_similarity",
            "zh_coverage", "absent", "lead_in", "similarity_gap", "coverage_gap",
            "context_gap", "specific", "zh_characters", "label")
# Features that place a unit among the other candidates for the same question (0 for the best of them).
_RELATIVE = {"similarity_gap": "similarity", "coverage_gap": "coverage", "context_gap": "context_coverage"}


@dataclass
class ScoredUnit:
    """One evidence unit with its features and the scorer's probability that it holds the answer."""

    evidence: Evidence
    features: dict[str, float]
    score: float = 0.0
    classes: frozenset[str] = frozenset()  # visa classes the unit is about

    @property
    def text(self) -> str:
        return self.evidence.text

    @property
    def typed(self) -> bool:
        return self.features["typed"] >= 1.0

    @property
    def holds_focus(self) -> bool:
        return self.features["attribute"] >= 0.5

    def covered(self, terms: tuple[Term, ...]) -> set[Term]:
        return {t for t in terms if covers(t.forms, self.evidence.terms)}


def weighted_sum(weights: dict[str, float], features: dict[str, float]) -> float:
    return sum(weights.get(name, 0.0) * value for name, value in features.items())


@dataclass(frozen=True)
class Logistic:
    """A logistic model: weights over named features and a bias."""

    weights: dict[str, float]
    bias: float

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + weighted_sum(self.weights, features)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class Ranking:
    """A linear order over one question's units: weights over named features (no bias, no probability)."""

    weights: dict[str, float]

    def key(self, features: dict[str, float]) -> float:
        return weighted_sum(self.weights, features)


@dataclass(frozen=True)
class Scorer:
    """The fitted part of answering, from the gold `train` split (eval/train_scorer.py):
    `units` says how likely a unit holds the answer, `ranking` orders one question's units (fitted to put a
    unit holding the answer first, which a probability fitted over all questions at once does less well),
    `answerability` says how likely the first of them answers the question, and `threshold` is the
    answerability below which kvisa refuses."""

    units: Logistic
    answerability: Logistic
    threshold: float
    info: dict = field(default_factory=dict, hash=False, compare=False)
    ranking: Ranking | None = None

    def probability(self, features: dict[str, float]) -> float:
        return self.units.probability(features)

    def order(self, features: dict[str, float]) -> float:
        """The sort key among one question's units: the ranking when fitted, else the probability."""
        return self.ranking.key(features) if self.ranking else self.units.probability(features)

    @classmethod
    def load(cls, path: Path) -> Scorer:
        return _load_scorer(str(path))


@lru_cache(maxsize=4)
def _load_scorer(path: str) -> Scorer:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    ranking = Ranking(dict(data["ranking"]["weights"])) if "ranking" in data else None
    return Scorer(Logistic(dict(data["units"]["weights"]), float(data["units"]["bias"])),
                  Logistic(dict(data["answerability"]["weights"]), float(data["answerability"]["bias"])),
                  float(data["threshold"]), data, ranking)


def introduces(text: str) -> bool:
    """Does the text introduce what follows it ("...in two groups:"), a list or a sentence?"""
    return text.rstrip().endswith((":", "："))


def lead_up(evidence: Evidence) -> str:
    """The line (paragraph or list item) of the passage that holds the unit, up to the unit's end: what an
    "it" in the unit can refer to. A later sentence of the paragraph is about something else as often as not."""
    text, offset = evidence.passage.text, max(0, evidence.start - evidence.passage.start)
    start = text.rfind("\n", 0, offset) + 1
    return text[start : offset + len(evidence.text)]


CLASS_NAME = re.compile(r"[A-Z]{1,2}(?:-?\d[A-Z]?)?")  # "K", "Q1", "H-1B", "EB-5": how a visa class is written


def _table_classes(evidence: Evidence) -> frozenset[str]:
    """Classes a table row names in a column headed "visa" or "签证" ("| (7) | Q1 | ..." under "| # | Visa |")."""
    if evidence.metadata.get("kind") != "table_row":
        return frozenset()
    header = [c.strip().lower() for c in evidence.metadata.get("header", "").strip().strip("|").split("|")]
    cells = [c.strip() for c in evidence.text.strip().strip("|").split("|")]
    return frozenset(c for h, c in zip(header, cells, strict=False)
                     if ("visa" in h or "签证" in h) and CLASS_NAME.fullmatch(c))


def classes_of(evidence: Evidence) -> frozenset[str]:
    """The visa classes a unit is about: those it names, else its paragraph's before it, its section's, its
    title's."""
    in_table = _table_classes(evidence)
    if in_table:
        return in_table
    for text in (evidence.text, lead_up(evidence), evidence.metadata.get("section", ""), evidence.passage.title):
        found = visa_classes(text)
        if found:
            return found
    return frozenset()


def defines(term: str, text: str) -> bool:
    """Does the text define the term: "X is / means / refers to", "X: ...", "X (...)", "called X",
    "... (the "X")", "X是 / 指"? A text that merely mentions X does not."""
    if not term:
        return True
    if term.isupper() and term.isalpha() and _spells(term, text):  # "NPRM": "notice of proposed rulemaking"
        return True
    bare = re.sub(r"\s*(?:visas?|签证)$", "", term, flags=re.IGNORECASE) or term  # "Q1 visa" defined as "| Q1 |"
    if bare != term and re.search(rf"\|\s*{re.escape(bare)}\s*\|", text):
        return True
    name = re.escape(term).replace(r"\ ", r"\s+") + r"(?:e?s)?"
    return bool(re.search(
        rf"(?<!\w){name}\W{{0,3}}\s*(?:is|are|was|means?|meaning|refers?|stands?|denotes|[:：—–(（]|是|指|即)"
        rf"|(?:called|known as|termed|named|or|i\.e\.|namely)\W{{0,3}}\s*(?:the\s+)?{name}(?!\w)"
        rf"|[(（]\W{{0,2}}(?:the\s+)?\W{{0,2}}{name}\W{{0,2}}[)）]", text, re.IGNORECASE))


_FUNCTION_WORDS = frozenset(("of", "and", "the", "for", "on", "to", "in", "a", "an"))


def _spells(acronym: str, text: str) -> bool:
    """Do consecutive words of the text (function words aside) spell the acronym, one initial each? The last
    word may give the last letters too ("notice of proposed rulemaking" spells NPRM); one word never does."""
    words = [w.lower() for w in re.findall(r"[A-Za-z][\w'-]*", text) if w.lower() not in _FUNCTION_WORDS]
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


def has_shape(answer_type: str, text: str, counted: tuple[str, ...] = ()) -> bool:
    """Does the text hold the kind of thing asked for? For "how many X", a number must count X."""
    shape = SHAPES.get(answer_type)
    if shape is None:
        return True
    if answer_type == "person" and SHAPES["organisation"].search(text):
        return True  # "Who issues the pass?" "The Ministry of Manpower": a body answers "who" as often as a person
    if answer_type == "count" and counted:
        return any(_counts(match, text, counted) for match in shape.finditer(text))
    if answer_type == "count":  # a count is not a date, an amount of money or a percentage
        plain = SHAPES["date"].sub(" ", SHAPES["money"].sub(" ", SHAPES["percentage"].sub(" ", text)))
        return bool(shape.search(plain))
    return bool(shape.search(text))


def _counts(match: re.Match[str], text: str, counted: tuple[str, ...]) -> bool:
    """Does the number count the asked thing: is it named within three words after, in the same clause?"""
    clause = re.split(r"[,.;:()\[\]，。；：（）]", text[match.end() : match.end() + 60], maxsplit=1)[0]
    following = frozenset(tokenize(" ".join(clause.split()[:3])))
    return any(covers((c,), following) for c in counted)


def _row_counts(question: Question, evidence: Evidence) -> bool:
    """In a table row, a number counts what the row or its columns name ("| Books | 3 weeks | 20 |" under
    "| Item | Loan period | Items at once |" answers "How many books ..."), not the word after it."""
    if question.answer_type != "count" or not question.counted or evidence.metadata.get("kind") != "table_row":
        return False
    named = evidence.terms | frozenset(tokenize(evidence.metadata.get("header", "")))
    return has_shape("count", evidence.text) and any(covers((c,), named) for c in question.counted)


def _coverage(terms: tuple[Term, ...], weights: dict[str, float], words: frozenset[str]) -> float:
    total = sum(weights[t.text] for t in terms) or 1.0
    return sum(weights[t.text] for t in terms if covers(t.forms, words)) / total


_NAME_TYPES = frozenset({"person", "organisation", "place"})


def unit_shape_text(evidence: Evidence, answer_type: str = "") -> str:
    """What a unit states, for shape matching: a table row with its column names ("| Years |" makes "| 3 |" a
    duration), except for a name: column names are capitalised ("| Blue Card |") without naming anyone."""
    if evidence.metadata.get("kind") != "table_row" or answer_type in _NAME_TYPES:
        return evidence.text
    return f"{evidence.metadata.get('header', '')} {evidence.text}"


def features_of(question: Question, evidence: Evidence, query_vector: np.ndarray, weights: dict[str, float],
                top_k: int) -> tuple[dict[str, float], frozenset[str]]:
    """The general features of one unit for one question (and the visa classes it is about)."""
    coverage = _coverage(question.focus, weights, evidence.terms)
    in_context = _coverage(question.focus, weights, evidence.terms | evidence.context_terms)
    attribute = question.attribute
    if attribute is None or covers(attribute.forms, evidence.terms):
        held = 1.0
    else:
        held = 0.5 if covers(attribute.forms, evidence.context_terms) else 0.0
    classes = classes_of(evidence)
    asked = question.visa_classes
    typed = has_shape(question.answer_type, unit_shape_text(evidence, question.answer_type), question.counted) \
        or _row_counts(question, evidence)
    if question.answer_type not in REQUIRED_SHAPES and question.answer_type in SHAPES:
        typed = bool(SHAPES[question.answer_type].search(evidence.text))
    if question.defined:  # a definition is of the asked term, in the unit or in the title it sits under
        typed = defines(question.defined, evidence.text) or defines(question.defined, evidence.passage.title)
    named = bool(question.document_numbers & set(tokenize(evidence.passage.title)))
    return {
        "similarity": float(evidence.vector @ query_vector) if evidence.vector.size else 0.0,
        "coverage": coverage,
        "context_coverage": in_context - coverage,
        "attribute": held,
        "typed": float(typed),
        "named_document": float(named),
        "class_conflict": float(bool(asked and asked.isdisjoint(classes))
                                or names_conflict(question.named, _names_around(evidence))),
        "negation": float(bool(_NEGATION.search(evidence.text))),
        "passage_rank": min(evidence.rank, top_k) / max(1, top_k),
        "unit_only": float("passage" not in evidence.found_by),
        "short": float(len(evidence.text.split()) < 6 and evidence.metadata.get("kind") != "table_row"),
        "identifiers": _identifiers_found(question, evidence.terms | evidence.context_terms),
        # The embedding model is English-only: for a Chinese question similarity and coverage mean other
        # things, so the model gets them apart.
        "zh": float(question.language == "zh"),
        "zh_similarity": float(evidence.vector @ query_vector) if question.language == "zh" and evidence.vector.size
        else 0.0,
        "zh_coverage": coverage if question.language == "zh" else 0.0,
        # "The notice does not specify the fee" is about the fee but does not give it; for a yes/no question
        # such a sentence may be the answer.
        "absent": float(question.answer_type != "yes_no" and says_absent(evidence.text)),
        "lead_in": float(introduces(evidence.text)),
        "specific": float(typed and (question.answer_type != "date" or bool(_DAY.search(evidence.text)))),
        # Chinese paraphrases share characters more often than whole words ("施行" / "开始施行", "签证" / "签").
        "zh_characters": _character_pairs(question, f"{evidence.metadata.get('section', '')} {evidence.text}"),
        "label": _label_names(question, evidence.text),
    }, classes


_LABEL = re.compile(r"^\s*(?:[-*]\s+)?([^:：\n]{1,40}?)\s*[:：]\s*\S")


def _label_names(question: Question, text: str) -> float:
    """Does the unit open with a short label ("Closing date: ...", "截止日期：...") naming what is asked
    (the attribute, else a focus term)? A labelled value is the answer to its label."""
    match = _LABEL.match(text)
    if not match or len(match.group(1).split()) > 5:
        return 0.0
    words = frozenset(tokenize(match.group(1)))
    wanted = (question.attribute,) if question.attribute else question.focus
    return float(any(covers(t.forms, words) for t in wanted))


def _names_around(evidence: Evidence) -> frozenset[str]:
    """The names a unit is about: those it writes, and its section's and document title's."""
    headings = f"{evidence.metadata.get('section', '')}. {evidence.passage.title}"
    return named_things(evidence.text) | named_things(headings)


def _character_pairs(question: Question, text: str) -> float:
    """Share of the Chinese question's content character pairs found in the text; 0 for English questions."""
    pairs = {t[i : i + 2] for t in question.chinese_terms for i in range(len(t) - 1)}
    return sum(1 for p in pairs if p in text) / len(pairs) if pairs else 0.0


def _add_relative(features: list[dict[str, float]]) -> None:
    for name, base in _RELATIVE.items():
        top = max((f[base] for f in features), default=0.0)
        for f in features:
            f[name] = f[base] - top


def _identifiers_found(question: Question, words: frozenset[str]) -> float:
    """Share of the question's exact identifiers the unit (with its headings) names; 1 when it has none."""
    if not question.identifiers:
        return 1.0
    return sum(1 for t in question.identifiers if t in words) / len(question.identifiers)


# A term borrowed from the context (an earlier turn) counts half: the question's own words say what is asked.
# On train (two-part questions) 1, 0.5 and 0.25 tie; 0.5 puts a follow-up's answer first.
BORROWED_WEIGHT = 0.5


def term_weights(question: Question, idf) -> dict[str, float]:
    """Each focus term weighted by its rarity in the index (its rarest alternative)."""
    return {t.text: max(idf(form) for form in t.forms) * (BORROWED_WEIGHT if t.borrowed else 1.0)
            for t in question.focus}


def score_units(question: Question, units: list[Evidence], query_vector: np.ndarray, idf, scorer: Scorer,
                top_k: int, complete: Callable[[Evidence], Evidence] | None = None) -> list[ScoredUnit]:
    """Every candidate unit scored for the question, best first. `complete` gives the unit as an answer
    would quote it (a list's introduction with its items), which is what the features describe."""
    weights = term_weights(question, idf)
    described = [features_of(question, complete(evidence) if complete else evidence, query_vector, weights, top_k)
                 for evidence in units]
    _add_relative([features for features, _ in described])
    ranked = sorted(zip(units, described, strict=True), key=lambda pair: scorer.order(pair[1][0]), reverse=True)
    return [ScoredUnit(evidence, features, scorer.probability(features), classes)
            for evidence, (features, classes) in ranked]


def answerability_features(best: float) -> dict[str, float]:
    """What answerability is judged on: the score of the best unit that holds the answer's type and focus."""
    return {"best": best}
