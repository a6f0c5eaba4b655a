"""Question analysis: what kind of answer a question wants, about what, and its parts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ingest.sentences import split_sentences
from rag.names import (
    ORDER_WORDS,
    comparison_aspects,
    comparison_subjects,
    document_numbers,
    each_subjects,
    identifiers,
    named_things,
    order_subjects,
    visa_classes,
    without,
)
from rag.terms import CJK, HAN, glossary, language_of, stem, tokenize
from rag.wording import read_as, with_classes_in_capitals

# Expected answer types, recognised from English and Chinese question words. Order matters: the first
# pattern that matches wins ("how long" is a duration before "how" is anything else).
_TYPE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("reason", r"^\s*why\b|\bfor what (reason|purpose)\b|\bwhat (is|was|are|were) the (main )?(reason|purpose|aim|"
               r"goal|rationale|motivation|justification)s?\b|\bhow come\b|为什么|为何|原因|目的|理由|为啥"),
    ("duration", r"\bhow long\b|\bhow much time\b|\bhow (?:quickly|fast|soon)\b"
                 r"|\bhow many (?:(?:business|working|calendar|school) )?(?:days|weeks|months|years|hours|minutes)\b"
                 r"|\bwhat (is the )?(period|duration|length)\b|\btime limits?\b|多久|多长时间|多长|期限多|时限"
                 # "几个月" is how many months, "几月" which month (a date); "多少日元" and "多少年费" are money
                 r"|(?<!月)(?:几|多少)(?:个(?:工作日|星期|礼拜|月|小时|钟头)|工作日|天|日(?!元)|周|星期|礼拜|年(?![费薪金龄])|小时|钟头|分钟)"),
    ("date", r"^\s*(?:(?:and|so|then|but)\s+)?when\b|\bwhat (date|day|year|month|time)\b|\bwhich (date|day|year|"
             r"month)\b|\bby when\b|\buntil when\b|\bsince when\b"
             # "when" asks only before a verb it inverts, or after "know", "tell me": "What does X mean when applying?"
             r"|\bwhen\s+(?:is|are|was|were|do|does|did|will|would|can|could|should|shall|has|have|had|must|may|might)\b"
             r"|\b(?:know|tell me|say|ask|find out|wondering|wonder)\s+when\b|什么时候|何时|哪天|哪一天|哪年|几月|几号"
             r"|什么日期|什么时间|哪一年|何日|\b(deadline|due date|start date|end date|expiry date)\b|截止"),
    # "How much cheaper / did it grow": a difference, which may be a share or any amount, not only money.
    ("quantity", r"\bhow much\s+(?:more|less|fewer|[a-z]{3,}er)\b|\bhow much\s+(?:[\w-]+\s+){0,10}?(?:grow|grew|grown|"
                 r"rise|rose|risen|increased?|decreased?|fall|fell|fallen|drop|dropped|change|changed|differ)\b"
                 r"|\bby how much\b"
                 r"|多(?:了|出)多少|增长了?多少|减少了?多少|高(?:出)?多少|低多少"),
    ("percentage", r"\bwhat (percent|percentage|share|proportion|fraction)\b|\bhow many percent\b"
                   r"|百分之|比例|占比|比重"),
    ("money", r"\bhow much\b(?=.*(?:\b(?:fee|fees|cost|costs|price|pay|paid|charge|charged|salary|wage|wages|"
              r"money|earn|spend|spent|dollars?|fund|budget|tuition|afford|owe|worth)\b|[$€£¥]|元))"
              r"|\bhow much (?:is|are|was|were) the\b|\bhow (?:expensive|costly)\b|\bwhat (?:does|do|did|will|would) "
              r"(?:[\w'-]+ ){1,8}cost\b"
              r"|\bwhat (is|was|are|were) the ([\w-]+ ){0,3}(fee|cost|price|salary|wage|charge|payment|"
              r"amount)s?\b|\bwhat (\w+ )?(fee|cost|price|salary|wage|charge)s?\b"
              r"|多少钱|多少(?:[欧美港澳加日]?元|英镑|块)|费用|收费|工资|薪水|薪资|价格|金额|罚款|罚金|补贴|奖金|学费|租金|申请费|手续费|签证费|年费|会费"),
    ("quantity", r"\bwhat (is|was|are|were) the (\w+ )?(maximum|minimum|max|min|highest|lowest|youngest|oldest|"
                 r"average|total|cap|limit|quota|threshold|rate|score|level)\b|\bhow old\b|最高|最低|上限|下限|平均"
                 r"|\bwhat (?:[\w-]+ )?(?:score|points|rate)\b"
                 r"|(?:几|多少)岁|多大(?:年纪|岁数)?(?=可以|能|才|算|的人|$|[？?])"),
    ("quantity", r"\bhow much\b"),  # "how much can a student work": an amount, not a price
    ("count", r"\bhow many\b|\bwhat (is the )?number of\b|\bnumber of\b|多少|(?<!哪)几(个|项|类|种|条|次|名|位|家|所)"),
    # Chinese question words for a body, a person or a place are read first (_ZH_ASKING_WORDS); "在哪几条" and
    # "哪个国家" are left to the patterns here.
    ("organisation", r"\b(?:which|what) (agency|department|ministry|body|office|organi[sz]ation|authority|authorities|"
                     r"company|companies|court|government|institution)\b"),
    ("person", r"^\s*(?:(?:and|so|then|but)\s+)?(who|whom|whose)\b|\bwho\b|\bwhich (person|official|minister|"
               r"president|premier|people)\b"),
    ("place", r"^\s*where\b|\bwhich (country|countries|city|cities|state|place|province|region)\b|在哪(?![几些])|"
              r"哪个国家|哪国"),
    ("definition", r"\bwhat (does|do|did) .{1,60}\b(mean|stand for)\b|^\s*what (is|are) (an? |the )?['\"‘“]"
                   r"|^\s*what (counts|qualifies) as\b"
                   r"|\bwhat is meant by\b|\bdefin(e|ition)\b"
                   r"|\bmeaning of\b|什么是|是什么意思|指什么|含义|定义|是指什么|指的是什么|(?:到底|究竟)是什么"),
    ("list", r"\bwhat are the\b|\bwhich .{1,40}\b(are|were)\b|\blist\b|\bname the\b|\bwhat (kinds?|types?|"
             r"categories|groups|conditions|requirements|documents|steps|options|criteria)\b|哪些|哪几"),
)
_TYPES = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _TYPE_PATTERNS)
_YES_NO = re.compile(r"^\s*(?:(?:and|so|but|also)\s+)?(is|are|was|were|do|does|did|can|could|will|would|should|shall"
                     r"|has|have|had|must|may|might|isn't|aren't|doesn't|don't|didn't|won't|can't)\b"
                     r"|吗[？?]?\s*$|是否|能否|可否|是不是|有没有|需不需要|要不要|会不会|能不能|可不可以",
                     re.IGNORECASE)
_SHORT_WHAT_IS = re.compile(r"^\s*what (is|are) (an? |the )?([\w'% -]{2,40})\?*\s*$", re.IGNORECASE)
_COMPARISON = re.compile(r"\b(differ|differs|difference|differences|different|compare[ds]?|comparison|versus|vs\.?|"
                         r"contrast|similarit(y|ies)|in common)\b|区别|不同|差异|相比|比较|异同|对比", re.IGNORECASE)
# Two questions in one: "... and when does it ...?", "...? And who ...?", "……，以及……？"
_PART_BREAK = re.compile(r"[?？]\s*(?=\S)|,?\s+and\s+(?=(?:when|what|who|where|why|how|which|is|are|does|do|did|"
                         r"can|will)\b)|[，,；;]\s*(?:以及|还有|并且|另外)?(?=[^，,；;]{0,6}(?:什么|何时|多少|哪|谁|几|"
                         r"是否|为什么|如何|怎么))", re.IGNORECASE)
_WH = re.compile(r"^\s*(?:(?:and|so|then|but|also)\s+)?(?:what|which|who|whom|whose|when|where|why|how(?: many| much| "
                 r"long| often| old)?|is|are|was|were|do|does|did|can|could|will|would|should|has|have|must|may)\b",
                 re.IGNORECASE)


@dataclass(frozen=True)
class Term:
    """One term of a question with its equivalents (a Chinese word's English gloss, synonyms)."""

    text: str
    alternatives: tuple[str, ...]
    borrowed: bool = False  # taken from the context (an earlier turn, the whole of a two-part question)

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.text, *self.alternatives)


@dataclass(frozen=True)
class Question:
    """A question after analysis: everything the later steps decide with, read once from the text."""

    text: str
    language: str  # "en" or "zh"
    answer_type: str  # person, organisation, date, duration, count, money, percentage, place, yes_no,
    # reason, definition, list, comparison, or "other"
    focus: tuple[Term, ...]  # content terms, in question order
    attribute: Term | None = None  # the thing asked about ("fee" in "What is the fee?"), when one is named
    visa_classes: frozenset[str] = frozenset()
    document_numbers: frozenset[str] = frozenset()
    identifiers: tuple[str, ...] = ()  # tokens that name one thing exactly: numbers, years, codes, acronyms
    named: frozenset[str] = frozenset()  # capitalised names of things ("Green Card", "Blue Card")
    parts: tuple[Question, ...] = ()  # a two-part question's parts, or a comparison's sides (each analysed alone)
    subjects: tuple[str, ...] = ()  # what a comparison compares; for one side of it, that side's subject
    aspects: tuple[str, ...] = ()  # what it compares them on ("sponsorship", "fees")
    counted: tuple[str, ...] = field(default_factory=tuple)  # "how many X": the stems of X
    defined: str = ""  # the term a definition question asks about ("cap-subject" in "What does 'cap-subject' mean?")
    members: bool = False  # a list question asks what a named list holds ("Which jobs are on the Shortage List?")

    @property
    def chinese_terms(self) -> tuple[str, ...]:
        """The question's own Chinese content words."""
        return tuple(t.text for t in self.focus if re.match(rf"[{HAN}]{{2}}", t.text))

    @property
    def search_text(self) -> str:
        """What to search the unit index with: the question and any terms it borrowed from its context."""
        own = set(tokenize(self.text, precise=True))
        return " ".join([self.text, *(t.text for t in self.focus if t.text not in own)])


# A question without a question word ("K visa fee?", "Q&A date?") asks for the kind of thing its last such
# noun names; "what is the effective date" likewise names a date.
_NOUN_TYPES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE)) for name, pattern in (
    ("date", r"\b(?:date|day|deadline|start|starts|begin|begins|end|ends|expiry|expires|effective)\b"),
    ("money", r"\b(?:fee|fees|cost|costs|price|salary|wage|wages|pay|payment|charge|deposit|levy|fine|tuition|"
              r"rent)\b"),
    ("duration", r"\b(?:how long|duration|period|length|validity|processing time|time limit)\b"),
    ("count", r"\b(?:number|count|quota|cap)\b"),
))
_WHAT_IS_THE_DATE = re.compile(r"\bwhat (?:is|was|are|were) the (?:[\w-]+ ){0,3}(?:date|deadline)s?\b", re.IGNORECASE)


# "What is the X ...?": X, up to a preposition or the end, names the kind of answer when its head noun does.
_WHAT_IS_THE = re.compile(r"^\s*what(?:'s|’s|\s+is|\s+are|\s+was|\s+were)\s+the\s+((?:[\w-]+\s+){0,3}?[\w-]+)"
                          r"(?=\s*(?:[?？.]|\s(?:for|of|in|on|under|at|to|from|with|after|before)\b|$))", re.IGNORECASE)


def _head_type(phrase: str) -> str | None:
    """The kind of answer a noun phrase's head names ("the validity period" a duration); "the pay structure" is
    not about pay."""
    found = [(match.end(), name) for name, pattern in _NOUN_TYPES for match in pattern.finditer(phrase)]
    return next((name for end, name in sorted(found, reverse=True) if end == len(phrase)), None)


def _noun_type(text: str) -> str | None:
    found = [(match.start(), name) for name, pattern in _NOUN_TYPES for match in pattern.finditer(text)]
    return max(found)[1] if found else None


def answer_type(text: str) -> str:
    """The kind of answer a question asks for; "other" when its words do not say."""
    compares = _COMPARISON.search(text) and len(comparison_subjects(text)) >= 2
    if compares or order_subjects(text) or each_subjects(text):
        return "comparison"
    return _asked_type(asked_clause(text))


_AUXILIARY = r"(?:is|are|was|were|do|does|did|will|would|can|could|should|shall|has|have|had|must|may|might)"
# A condition or time set before the question ("If I lose my card, will ...?", "Once I arrive, how long ...?");
# "When did ..." asks, so "when" counts only when no auxiliary follows it.
_LEADING_CLAUSE = re.compile(rf"^\s*(?:(?:if|once|after|before|since|unless|although|while|as soon as)\b|when\s+(?!"
                             rf"{_AUXILIARY}\b))[^,，?？]*[,，]\s*(?=\S)", re.IGNORECASE)


def _terms_with_preamble(text: str) -> tuple[Term, ...]:
    """The question's terms. Statements before the sentence that asks ("I'm moving abroad next year. How much is
    the fee?") lend theirs as context, after its own and weighed as borrowed: they say who asks, the last
    sentence what is asked."""
    sentences = split_sentences(text.strip())
    if len(sentences) < 2 or not re.search(r"[?？]\s*$", sentences[-1]) \
            or any(re.search(r"[?？]", s) for s in sentences[:-1]):
        return _terms(text)
    return _with_borrowed(_terms(sentences[-1]), " ".join(sentences[:-1]))


def _with_borrowed(own: tuple[Term, ...], context: str) -> tuple[Term, ...]:
    """A question's own terms, then the context's other terms, marked borrowed (they weigh half in scoring)."""
    known = {t.text for t in own}
    return own + tuple(replace(t, borrowed=True) for t in _terms(context) if t.text not in known)


def asked_clause(text: str) -> str:
    """The part of a question that asks: the last sentence of "I'm in Dublin on a student permission. Can I
    switch?", and the main clause of "If my wife comes with me, is she allowed to work?"."""
    sentences = split_sentences(text.strip())
    last = sentences[-1] if len(sentences) > 1 and re.search(r"[?？]\s*$", sentences[-1]) else text
    return _LEADING_CLAUSE.sub("", last, count=1)


def _asked_type(text: str) -> str:
    """The kind of answer a question asks for, read as if it compared nothing."""
    if _YES_NO.search(text) and not re.match(r"^\s*(what|which|who|when|where|why|how)\b", text, re.IGNORECASE):
        return "yes_no"
    if _WHAT_IS_THE_DATE.search(text):
        return "date"
    # A Chinese question word outranks a noun it asks about: "哪些人可以免交费用" asks who, not how much.
    asked_by_word = next((name for name, pattern in _ZH_ASKING_WORDS if pattern.search(text)), None)
    if asked_by_word:
        return asked_by_word
    typed = next((name for name, pattern in _TYPES if pattern.search(text)), "other")
    if typed == "other" and not _ASKS.search(text):
        typed = _noun_type(text) or typed
    elif typed == "other" and (asked := _WHAT_IS_THE.match(text)):  # "What is the processing time for ...?"
        typed = _head_type(asked.group(1)) or typed
    # "What is J-Skip?" asks what a thing is; "What are the COMPASS criteria?" asks for the members of a set.
    plural_set = typed == "list" and re.match(r"^\s*what are the\b", text, re.IGNORECASE)
    if typed in ("other", "list") and not plural_set and _SHORT_WHAT_IS.match(text):
        words = tokenize(text, precise=True)
        # ... but "What is the cabin bag allowance?" asks for the allowance itself, not what the word means
        if len(words) <= 3 and not (words and stem(words[-1]) in _MEASURE_NOUNS):
            return "definition"
    return typed


_ZH_ASKING_WORDS = (("organisation", re.compile(r"哪个(?:部门|机构|单位)|什么(?:部门|机构)|哪些(?:部门|机构)")),
                    ("person", re.compile(r"谁|哪位|什么人|哪些人")),
                    ("place", re.compile(r"哪里|哪儿|在哪(?![几些个一])")))  # "在哪几条" asks which ones, not where
_ASKS = re.compile(r"\b(?:what|when|who|whom|whose|where|why|how|which|is|are|was|were|do|does|did|can|could|will|"
                   r"would|should|has|have|must|may)\b|什么|何时|多少|哪|谁|几|是否|为什么|如何|怎么|吗", re.IGNORECASE)


def split_parts(text: str) -> list[str]:
    """The questions inside a two-part question; a single question comes back alone."""
    pieces = [p.strip(" ,，;；") for p in _PART_BREAK.split(text) if p and p.strip(" ,，;；?？")]
    if len(pieces) < 2 or any(len(tokenize(p)) == 0 or not _ASKS.search(p) for p in pieces):
        return [text]  # "在拉克港，绿卡在哪里办理？" is one question: its first piece asks nothing
    return pieces


def _terms(text: str) -> tuple[Term, ...]:
    seen: dict[str, Term] = {}
    for token in tokenize(text, precise=True):
        if token not in seen:
            seen[token] = Term(token, glossary().alternatives(token))
    return tuple(seen.values())


# Types whose question names the thing measured ("what salary", "how many entries"); for a person, a date
# or a place the type itself is what is asked ("which agency", "what deadline").
_NAMED_THING_TYPES = frozenset({"money", "percentage", "count", "quantity", "duration", "other", "list"})
_NOMINAL_WH = re.compile(r"^\s*(?:(?:and|so|but|also)\s+)?(?:what|which)\s+(?!(?:is|are|was|were|does|do|did|can|could|"
                         r"will|would|should|has|have|had|must|may)\b)([\w-]+(?:\s+[\w-]+){0,2})"
                         r"|^\s*(?:(?:and|so|but|also)\s+)?what\s+(?:is|are|was|were)\s+the\s+"
                         r"([\w-]+(?:\s+[\w-]+){0,3})"
                         r"|\bhow (?:many|much)\s+([\w-]+(?:\s+[\w-]+){0,2})", re.IGNORECASE)


_NUMBER_WORDS = frozenset("two three four five six seven eight nine ten several few many".split())
# Nouns that only say "some things of a kind" ("which groups", "what kinds"): the answer names the members,
# rarely the container word, so such a noun is not the attribute a unit must state.
_CONTAINER_NOUNS = frozenset(stem(w) for w in """group groups type types kind kinds sort sorts category categories
    way ways thing things example examples form forms part parts option options item items aspect aspects
    area areas field fields member members detail details criteria criterion requirement requirements condition
    conditions step steps""".split())
# Nouns that name the kind of answer rather than a thing ("what percentage", "what amount", "the processing
# time"): the answer states a share, an amount or a span, rarely the word itself.
_MEASURE_NOUNS = frozenset(stem(w) for w in """percentage percent proportion share fraction ratio number amount
    sum figure total date day time length duration allowance limit entitlement""".split())


# A Chinese question word, with a measure word after it or not ("多少名额", "几名美国员工", "哪些材料"), or one
# that ends the question after a copula ("积分标准是多少"): the noun phrase next to it is what is asked.
_ZH_ASKING = re.compile(r"(多少|几|哪些|哪几|哪个|什么)([个名项种位条次家所件类张份笔本]?)")
_ZH_COPULA = re.compile(r"(?:是|为|有)$")
# Chinese nouns that name the kind of answer, a currency, a difference, or only a container of its members
# ("什么时间", "多少欧元", "有什么不同", "哪些方面").
_ZH_MEASURE_NOUNS = frozenset("""时间 期限 日期 金额 数量 数额 数目 比例 天数 人数 费用
    欧元 美元 港元 澳元 加元 英镑 日元
    人民币 不同 区别 差别 差异 方面 类别 种类 东西 情况 内容 地方 环节 步骤 条件""".split())
# Nouns that head a phrase without saying what it is about ("收入要求", "积分标准"): the noun before them does.
_ZH_GENERIC_HEADS = frozenset("要求 标准 规定 情况".split())
# Words that end a noun phrase: what follows them is the rest of the sentence ("几个工作日才能出结果").
_ZH_PHRASE_ENDS = frozenset("才能 可以 能够 需要 必须 应当 应该 之后 以后 以前 之前".split())


def _zh_attribute(text: str, focus: tuple[Term, ...]) -> Term | None:
    """The noun a Chinese "多少X / 几名X / 哪些X" or "X是多少" question asks about: the last noun of the phrase
    after the question word, else of the phrase before a final "是多少"."""
    match = _ZH_ASKING.search(text)
    if not match:
        return None
    starts, ends, position = {}, {}, 0
    for term in focus:  # focus terms come in the order the question writes them
        start = text.find(term.text, position)
        if start >= 0:
            starts[start], ends[start + len(term.text)] = term, term
            position = start + len(term.text)
    phrase: list[Term] = []
    at = match.end() if match.end() in starts else match.end(1)
    while at in starts and starts[at].text not in _ZH_PHRASE_ENDS:  # the terms written one after another
        phrase.append(starts[at])
        at += len(starts[at].text)
    if not phrase and not text[match.end():].strip(" ？?。.！!"):
        head = text[: match.start()]
        at = len(head) - 1 if _ZH_COPULA.search(head) else -1
        while at in ends:
            phrase.insert(0, ends[at])
            at -= len(ends[at].text)
        while len(phrase) > 1 and phrase[-1].text in _ZH_GENERIC_HEADS:
            phrase.pop()
    chosen = phrase[-1] if phrase else None
    return chosen if chosen and chosen.text not in _ZH_MEASURE_NOUNS and len(chosen.text) > 1 else None


def content_words(phrase: str) -> tuple[str, ...]:
    """The words of a phrase that say what it is about: "language requirements" is about "language"; a phrase
    of generic nouns only keeps them all."""
    words = tokenize(phrase)
    kept = tuple(w for w in words if w not in _CONTAINER_NOUNS and w not in _MEASURE_NOUNS)
    return kept or words


def _attribute(text: str, focus: tuple[Term, ...], classes: frozenset[str], language: str) -> Term | None:
    """The noun a "what X / which X / what is the X / how many X" question asks about, skipping visa-class
    names ("What is the K visa fee?" -> fee). Other questions ask about their whole focus, not one noun."""
    if language == "zh":
        return _zh_attribute(text, focus)
    match = _NOMINAL_WH.search(text)
    if not match:
        return None
    group = next(i for i, g in enumerate(match.groups()) if g)
    phrase = match.groups()[group]
    class_tokens = {t for c in classes for t in tokenize(c)} | set(tokenize("visa"))
    tokens = [t for t in tokenize(phrase, precise=True) if t not in class_tokens and not t.isdigit()
              and t not in _NUMBER_WORDS]
    if not tokens:
        return None
    # "Which agency runs ...", "how many workers ...": the noun comes first. "What is the K visa application
    # fee": the head noun is the last word, unless a preposition follows it ("the deadline for comments").
    if group != 1:
        # "How much does it cost": the verb is what is asked (an amount), not a thing named.
        if re.match(r"(?:does|do|did|is|are|was|were|will|would|can|could|should)\b", phrase, re.IGNORECASE):
            return None
        head = tokens[0]
    else:
        before = re.split(r"\s(?:of|for|to|in|on|under|about)\s", f" {phrase} ")[0]
        head = ([t for t in tokenize(before, precise=True) if t in tokens] or tokens)[-1]
    if head in _CONTAINER_NOUNS or head in _MEASURE_NOUNS:
        return None
    return next((t for t in focus if t.text == head), None)


_QUOTED = re.compile(r"['\"‘’“”「『《]([^'\"‘’“”」』》]{2,60})['\"‘’“”」』》]")
_DEFINED = re.compile(r"^\s*(?:what|who)\s+(?:is|are|was|were)\s+(?:meant by\s+)?(?:an?\s+|the\s+)?(.+?)"
                      r"(?:\s+(?:for|in|under|according to|on)\s+.*)?\s*[?？]*\s*$"
                      r"|^\s*what\s+(?:does|do)\s+(?:an?\s+|the\s+)?(.+?)\s+(?:mean|stand for)\b"
                      r"|^\s*what\s+(?:counts|qualifies)\s+as\s+(?:an?\s+|the\s+)?(.+?)"
                      r"(?:\s+(?:for|in|under|according to|on)\s+.*)?\s*[?？]*\s*$"
                      r"|\bdefin(?:e|ition of)\s+(?:an?\s+|the\s+)?(.+?)\s*[?？.]*\s*$"
                      r"|什么是(.+?)[？?]*$|^(.+?)是(?:什么|指什么|什么意思)", re.IGNORECASE)


# "Which jobs are on Ireland's Ineligible Occupations List?", "目录里都有哪些岗位？": what a named list holds. A
# document may name such a list without giving its entries, and a sentence that mentions it does not answer.
_MEMBERS = re.compile(r"\b(?:on|in|from)\s+(?:the\s+)?(?:[\w'’-]+\s+){0,5}(?:list|register|"
                      r"schedule|catalogue|catalog|directory)\b|(?:名单|名录|目录|清单)(?:上|里|中|内)?.{0,4}(?:哪些|哪几)",
                      re.IGNORECASE)


def defined_term(text: str) -> str:
    """The term a definition question asks about: a quoted term, else the phrase after "what is"."""
    quoted = _QUOTED.search(text)
    if quoted:
        return quoted.group(1).strip()
    match = _DEFINED.search(text.strip())
    term = next((g for g in match.groups() if g), "") if match else ""
    term = re.sub(r"^(?:[A-Z][\w-]*(?:\s+[A-Z][\w-]*)?['’]s\s+)", "", term.strip(" ?？"))  # "China's Q1 visa"
    if visa_classes(with_classes_in_capitals(term)):  # "china's q1 visa": whose class it is, typed lower case
        term = re.sub(r"^[\w-]+['’]s\s+", "", term)
    term = re.sub(r"(?:具体|到底|究竟|主要|一般)+$", "", term)  # "人才引进落户具体是什么意思": the adverb asks nothing
    # "an LW on my transcript": where the term is written is not part of it
    term = re.sub(r"\s+(?:on|in|under|within|at|from)\s+(?:my|your|our|their|his|her|its|the|a|an)\s.*$", "", term)
    return term if len(term.split()) <= 5 else ""


def _counted(text: str) -> tuple[str, ...]:
    """'How many X': the words of X that name what is counted (not a visa class)."""
    match = re.search(r"\bhow many\s+([\w-]+(?:\s+[\w-]+)?)", text, re.IGNORECASE)
    if not match:
        return ()
    classes = {t for c in visa_classes(text) for t in tokenize(c)}
    return tuple(t for t in tokenize(match.group(1)) if t not in classes)


def analyse(text: str, *, split: bool = True, kind: str = "") -> Question:
    """Read a question once: language, answer type (unless `kind` gives it), focus terms, named classes and
    documents, parts."""
    text = text.strip()  # the question as the user wrote it, which an answer repeats
    read = read_as(text)
    language = language_of(text)
    classes = visa_classes(read) or visa_classes(with_classes_in_capitals(read))
    focus = _terms_with_preamble(read)
    kind = kind or answer_type(read)
    subjects = comparison_subjects(read) if kind == "comparison" else ()
    parts: tuple[Question, ...] = ()
    if split and kind != "comparison":
        pieces = split_parts(text)
        if len(pieces) > 1:
            parts = tuple(_part(piece, text) for piece in pieces)
    elif split:
        ordered = bool(order_subjects(read))
        parts = tuple(_side(read, subject, subjects, ordered) for subject in subjects)
    return Question(
        text=text, language=language, answer_type=kind, focus=focus,
        attribute=_attribute(read, focus, classes, language) if kind in _NAMED_THING_TYPES else None,
        visa_classes=classes,
        document_numbers=document_numbers(read), identifiers=identifiers(read), named=named_things(read),
        parts=parts,
        subjects=subjects,
        aspects=comparison_aspects(read) if kind == "comparison" else (),
        counted=_counted(read),
        defined=defined_term(read) if kind == "definition" else "",
        members=kind == "list" and bool(_MEMBERS.search(read)),
    )


def _part(piece: str, whole: str) -> Question:
    """One part of a two-part question, read in the context of the whole question."""
    return with_context(analyse(piece, split=False), whole)


def _side(whole: str, subject: str, subjects: tuple[str, ...], ordered: bool) -> Question:
    """One side of a comparison asked on its own (what it says about the subject, the others left out), so
    each side is retrieved and answered for itself; of two things set in order, the date of this one."""
    text, asked = whole, whole
    for other in subjects:
        asked = without(asked, other)
        if other != subject:
            text = without(text, other)
    if ordered:
        # What the question says happened ("signed", "took effect") stays; "which ... first" goes.
        rest = ORDER_WORDS.sub(" ", asked)
        shown = f"{subject}的日期" if CJK.search(whole) else f"the date of the {subject}"
        side = replace(analyse(f"{subject} {rest}", split=False, kind="date"), text=shown)
    else:  # every side asks for the same kind of thing: what the question asks with its subjects left out
        # Taking "vs", "compared with", "each" and "有什么不同" out of the side's text was tried (stop 24): no train
        # item gained, one unanswerable comparison lost its refusal; so a side keeps the question's wording.
        side = analyse(re.sub(r"\s+", " ", text).strip(), split=False, kind=_asked_type(asked))
    return replace(side, subjects=(subject,))


def with_context(question: Question, context: str) -> Question:
    """A question that leans on its context ("and when does it end?", a follow-up) borrows the context's
    content terms after its own, so it is still about the same thing. A self-contained one is kept."""
    if len(question.focus) >= 3 and question.visa_classes:
        return question
    return replace(question, focus=_with_borrowed(question.focus, context),
                   visa_classes=question.visa_classes or visa_classes(context),
                   document_numbers=question.document_numbers or document_numbers(context))
