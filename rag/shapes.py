"""What each kind of answer looks like in a sentence (a date, an amount of money, a person...), and what a
definition of a term looks like. Shapes of language, in English and Chinese, not of any corpus."""

from __future__ import annotations

import re

from ingest.acronyms import spells
from rag.terms import HAN, covers, gloss_terms, tokenize

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
          r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_NUMBER_WORD = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
                r"sixty|ninety|hundred|thousand|million|billion|dozen|several|multiple|single|both)")
_CN_NUMBER = r"[0-9一二两三四五六七八九十百千万]+"
# ISO 4217 codes of widely traded currencies: "EUR 411", "CAD 1,000", "500 HKD" are amounts of money.
_CURRENCY = r"(?:USD|EUR|GBP|CAD|AUD|NZD|HKD|SGD|CNY|RMB|JPY|KRW|INR|CHF|SEK|NOK|DKK|MOP|TWD|AED|ZAR|BRL|MXN)"
_CURRENCY_WORD = r"(?:dollars|euros?|yuan|pounds|francs|yen|rupees)"
_UNIT_OF_TIME = r"(?:minutes?|hours?|days?|weeks?|months?|years?|fiscal years?)"
# What each answer type looks like in a sentence. These are shapes of language, not of any corpus.
SHAPES: dict[str, re.Pattern[str]] = {
    "date": re.compile(rf"\b{_MONTH}\.?\s+\d{{1,2}}\b|\b\d{{1,2}}\s+{_MONTH}\b|\b{_MONTH}\s+(?:of\s+)?(?:19|20)\d\d\b"
                       r"|\b(?:19|20)\d\d-\d\d(?:-\d\d)?\b|\b(?:19|20)\d\d\b|\d{4}年|\d{1,2}月\d{1,2}日|\bFY\s?\d{2,4}\b"
                       rf"|\b(?:\d+|{_NUMBER_WORD})\s+{_UNIT_OF_TIME}\s+(?:after|from|before|of)\b",
                       re.IGNORECASE),
    # "10 business days", "a 10-business-day standard"
    "duration": re.compile(rf"\b(?:\d+|{_NUMBER_WORD})[\s-]+(?:(?:business|working|calendar|school)[\s-]+)?"
                           rf"{_UNIT_OF_TIME}\b"
                           rf"|\b(?:for|within|after|up to|lasts?|valid for)\s+(?:\d+|{_NUMBER_WORD})"
                           rf"\s+(?!{_MONTH}\b)[a-z]+"  # "after 11 March" is a date
                           rf"|{_CN_NUMBER}\s*(?:个月|天|周|年(?!\d)|小时|分钟)|{_CN_NUMBER}\s*个?(?:工作日|日内|日以内|日之内|星期|礼拜)"
                           r"|\b(?:annual|annually|yearly|monthly|weekly|daily)\b|长期|短期", re.IGNORECASE),
    "money": re.compile(rf"[$€£¥₹₩]\s?\d|\b{_CURRENCY}\s?\d|\bUS\$"
                        # "5,600 Singapore dollars", "2 million Hong Kong dollars": a country may name the currency
                        rf"|\b\d[\d,.]*\s*(?:(?:thousand|million|billion)\s+)?(?:[A-Z][a-z]+\s+){{0,2}}"
                        rf"(?:{_CURRENCY_WORD}|{_CURRENCY})\b"
                        r"|\d\s*[万千百亿]?\s*(?:元|[美欧日英港加澳新]元|港币|英镑|法郎|卢布|韩元)", re.IGNORECASE),
    "percentage": re.compile(r"\d\s*(?:%|percent\b|per cent\b|percentage points?\b)|百分之|\d\s*个?百分点"
                             r"|成(?=以上|左右)", re.IGNORECASE),
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
                         r"|子女|家属|雇主|雇员|员工|教师|医生|专家|学者|毕业生|留学生|游客|(?:居|渔|农|村|市|公|移|难)民"),
    "organisation": re.compile(r"\b(?:[A-Z][a-z]+\s+)*(?:Department|Ministry|Agency|Administration|Council|Office|"
                               r"Service|Services|Bureau|Commission|Court|Congress|Government|University|Bank)\b"
                               r"|\b[A-Z]{2,}\b|部|局|院|委员会|政府|机构|署|大学"),
    "place": re.compile(r"\b(?:in|at|from|to|inside|outside)\s+(?:the\s+)?[A-Z][a-z]+|\b(?:country|countries|abroad|"
                        r"overseas|domestic|embass(?:y|ies)|consulates?|online|office|branch|desk|counter|website|"
                        r"portal|centre|center|app)\b"
                        r"|国|省|市|境内|境外|地区|网上|线上|窗口|办事处|售票处|网站|大使馆|领事馆|中心|大厅|平台|小程序"
                        r"|官网|柜台"),
    # "since" a time ("Since 2021 ...") gives no reason
    "reason": re.compile(rf"\b(?:because|since(?!\s+(?:\d|{_MONTH}\b|then\b))|due to|owing to|in order to|"
                         r"so that|so as to|aims?|aimed|purpose|reasons?|goals?|intended|intends|designed to|"
                         r"meant to|rationale|to (?:attract|"
                         r"protect|prevent|ensure|promote|encourage|make|address|reduce|improve|help|support|"
                         r"fund|curb|stop|raise|give|favor|favour|prioriti[sz]e)|find(?:s|ings)?|says|argues?|"
                         # what follows from a reason: "X, so Y" and "X; as a result, Y" give X as Y's reason
                         r"therefore|thus|hence|as a result|consequently)\b|,\s*so\b(?!\s+(?:that|as|far|much|many))"
                         r"|为了|旨在|因为|由于|目的|以便|以免|以防|以确保|原因|理由|所以|因此|从而|出于|是为|用于|有利于|有助于",
                         re.IGNORECASE),
    "definition": re.compile(r"\b(?:means?|meaning|refers? to|is defined|defined as|definition|is an?|are|i\.e\.|"
                             r"that is|known as|called)\b|[:：]|是指|指的是|即|定义|是", re.IGNORECASE),
    "list": re.compile(r"[:：]\s*$|,.*\b(?:and|or)\b|、|；|;|\b(?:either|both|following|include|including|"
                       r"categories|types|groups)\b", re.IGNORECASE),
}
# A date names a day ("September 21, 2025", "2025-09-21", "8月14日"), not only a year or a fiscal year.
DAY = re.compile(rf"\b{_MONTH}\.?\s+\d{{1,2}}\b|\b\d{{1,2}}\s+{_MONTH}\b|\b(?:19|20)\d\d-\d\d-\d\d\b"
                  r"|\d{1,2}月\d{1,2}日", re.IGNORECASE)
# Types whose shape must be present for a unit to answer; the others only raise a unit's score. (Requiring a list
# to enumerate, with the question's own words blanked, was tried in stop 25: "the job is not on the Ineligible
# Occupations List" no longer answered "Which jobs are on it?", but as many right list answers were lost. Since
# stop 27 only a question about what a named list holds needs a unit that `enumerates`: Question.members.)
REQUIRED_SHAPES = frozenset({"date", "duration", "money", "percentage", "count", "quantity", "person", "organisation",
                             "place", "reason"})
NEGATION = re.compile(r"\b(?:no|not|never|none|neither|nor|without|cannot|can't|doesn't|don't|isn't|aren't|"
                       r"won't|lacks?)\b|不|没有|无|未|非", re.IGNORECASE)


# After "X is", what says what happens to X or what it is for, not what it is: a participle ("is issued", "is put
# into effect"), an adverb ("is actually"), a purpose ("is to give"). "Open" only looks like a participle: "X is
# open to all residents" says what X is.
_NOT_WHAT_IT_IS = (r"(?:\w+ed|(?!open\b)\w+en|\w+ly|to|also|still|now|being|not|put|set|made|paid|held|kept|sent|"
                   r"built|cut|run|done|shown|led|met|told|sold|found|left|lost|brought|bought|taught)\b")


def _as_written(term: str, text: str) -> str:
    """The term with each short word the user typed in lower case written as the text writes it in capitals
    ("tev procedure" -> "TEV procedure" where the text says "(TEV)"): an acronym or a class is one in any case."""
    return " ".join(word.upper() if word.islower() and len(word) <= 6 and re.search(rf"\b{re.escape(word.upper())}\b",
                                                                                     text) else word
                    for word in term.split())


def defines(term: str, text: str) -> bool:
    """Does the text define the term: "X is / means / refers to", "X: ...", "X (...)", "X, a ...", "X, which ...",
    "called X", "... (the "X")", "X是 / 指 / ，即"? A text that merely mentions X ("apply for X") does not."""
    if not term:
        return True
    term = _as_written(term, text)
    if term.isupper() and term.isalpha() and spells(term, text):  # "NPRM": "notice of proposed rulemaking"
        return True
    bare = re.sub(r"\s*(?:visas?|签证)$", "", term, flags=re.IGNORECASE) or term  # "Q1 visa" defined as "| Q1 |"
    if bare != term and re.search(rf"\|\s*{re.escape(bare)}\s*\|", text, re.IGNORECASE):
        return True
    name = re.escape(term).replace(r"\ ", r"\s+") + r"(?:e?s)?"
    start = r"(?<!\w)" if term[0].isascii() else ""  # Chinese writes no space before a word
    if re.search(
        rf"{start}{name}\W{{0,3}}\s*(?:(?:is|are|was)(?!\s+{_NOT_WHAT_IT_IS})|means?|meaning|refers?|stands?|denotes"
        rf"|[:：—–(（]|是|指|即)"
        # an apposition or a relative clause: "the 30% ruling, a tax facility ...", "X, which gives the right to ..."
        rf"|{start}{name},\s+(?:an?|which)\s"
        # "or" names only after a comma or before quotes: "the certificate of sponsorship, or CoS", 'the system or
        # "J-Skip"', not "CAD 80,000 or the prevailing wage"
        rf"|(?:\b(?:called|known as|termed|named|i\.e\.|namely)|,\s*or\b|\bor(?=\s*[\"“'‘「]))\W{{0,3}}\s*"
        rf"(?:the\s+)?{name}(?!\w)"
        # "A loan counts as a late return if ...": the condition defines it ("must count as X" does not)
        rf"|\b(?:counts?|qualif(?:y|ies)|(?:is|are) treated|(?:is|are) regarded) as\s+(?:an?\s+|the\s+)?{name}"
        rf",?\s+(?:if|when|where|only if|provided|as long as|unless)\b"
        rf"|[(（]\W{{0,2}}(?:the\s+)?\W{{0,2}}{name}\W{{0,2}}[)）]", text, re.IGNORECASE):
        return True
    # "the TEV procedure": "the combined Entry and Residence (TEV) procedure, which covers ..." spells it out
    acronym, _, rest = term.partition(" ")
    return bool(rest and acronym.isupper() and acronym.isalpha() and re.search(
        rf"[(（]{re.escape(acronym)}[)）]\s+{re.escape(rest)}(?!\w)", text, re.IGNORECASE))


_SEPARATOR = re.compile(r"(?<!\d),|,(?!\d)|[;:、；：]|\s+(?:and|or)\s+|(?<=[^\d\s])\s*[-*•]\s+|和|及|以及|或者")


# A clause goes on with a verb or a connective ("..., then no degree is needed"); an entry names a thing.
_CLAUSE = re.compile(r"(?:is|are|was|were|be|been|has|have|had|do|does|did|can|may|must|will|would|should|then|if|"
                     r"as|when|while|which|that|who|it|they|there|but|so|not|no)\b", re.IGNORECASE)


def enumerates(text: str, entries: int = 2) -> bool:
    """Does the text go on to name several short things in a row ("The list includes software engineers, data
    scientists and nurses", "岗位包括：软件工程师、数据科学家、护士")? Clauses joined by commas ("..., as long as
    ...") are not a list's entries; what comes before the first separator introduces them."""
    after_first = [p.strip() for p in _SEPARATOR.split(text)[1:]]
    return sum(bool(p) and not _CLAUSE.match(p) and (len(p.split()) <= 5 if re.search(r"[A-Za-z]", p) else len(p) <= 15)
               for p in after_first) >= entries


# A "why" question a document asks itself, ending where its answer begins ("... even if you pay. Why? Our staff lift
# bags by hand ..."; "Why must power banks stay in the cabin? If a battery overheats, ..."): the sentence after it
# gives the reason, in whatever words.
_WHY_ASKED = re.compile(r"(?:^|[.!?。！？]\s*)(?:why\b|为什么|为何)[^.!?。！？]*[?？]\s*$", re.IGNORECASE)


def answers_why(before: str) -> bool:
    """Does the text before a sentence end with a "why" question, so that the sentence answers it?"""
    return bool(_WHY_ASKED.search(before))


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
    after = " ".join(clause.split()[:3])
    if re.match(rf"\s*[{HAN}]", after):  # Chinese: a measure word and a noun, no spaces ("198所大学")
        after = after.strip()[:6]
    following = frozenset(tokenize(after)) | gloss_terms(after)  # a Chinese noun counts through its English
    return any(covers((c,), following) for c in counted)
