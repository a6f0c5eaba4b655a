"""Terms: one tokenizer and one stemmer for English and Chinese, the optional user glossary, and the one
detector of text that says information is absent."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import jieba
import yaml

from rag.dictionary import english as general_english
from rag.dictionary import simplified

jieba.setLogLevel(logging.WARNING)

# Function words of English and Chinese questions and texts: they carry no topic. (Adding the remaining Chinese
# question words, 哪位, 为什么, 几年 and the like, lowered the cross-validated answerability AUC on train,
# 0.853 -> 0.834: it changes every Chinese question's coverage at once, and the fitted weights rely on it.)
STOPWORDS = frozenset(
    """
    a an the and or but if then than so of in on at to for from by with without about into onto over under
    as is are was were be been being am do does did done doing have has had having can could may might must
    shall should will would what which who whom whose when where why how that this these those there here
    it its it's they them their theirs he she his her we us our you your i me my mine not no nor any all
    each every some such only also just more most much many very other another same own both either
    neither one ones s t according say says said tell give given gives list name named describe explain
    between after before during since until while
    someone something anything anyone way ways kind happen mean means exactly currently involve involves
    get gets got getting
    referenced regarding concerning whether versus within respect respectively please know want
    的 了 是 在 和 与 及 或 对 为 由 把 被 有 吗 呢 吧 啊 哪 哪个 哪一个 什么 怎么 如何 多少 几 谁 哪些 哪天
    是否 以及 这 那 这个 那个 其 之 而 并 一个 一 中 上 下 作 作了 会 可以 能 哪次 哪年 哪里 多久 共有 分别
    第几 几项 几条 哪项 哪条 排第 请问 一下 呀 么
    """.split()
)

HAN = "\u4e00-\u9fff"  # the CJK Unified Ideographs: what kvisa reads as Chinese, here and everywhere else
CJK = re.compile(f"[{HAN}]")
_TOKEN = re.compile(rf"[{HAN}]+|[a-z0-9][a-z0-9$%'.,/()-]*[a-z0-9%)]|[a-z0-9$%]")


def language_of(text: str) -> str:
    """"zh" for a text with any Chinese character in it, else "en"."""
    return "zh" if CJK.search(text) else "en"


class Glossary:
    """Domain vocabulary a user can extend: Chinese terms with English equivalents, and synonym groups.

    Loaded from a YAML file beside the corpus when present; kvisa works without it.
    """

    def __init__(self, translations: dict[str, str] | None = None, synonyms: list[list[str]] | None = None,
                 aspects: dict[str, list[str]] | None = None, general: bool = True) -> None:
        self.translations = dict(translations or {})
        self.general = general  # fall back on the general dictionary for words not listed here
        self.aspects = dict(aspects or {})  # comparison aspect -> words that signal it
        self._synonyms: dict[str, set[str]] = {}
        for group in synonyms or []:
            stems = {stem(w) for w in group}
            for word in stems:
                self._synonyms.setdefault(word, set()).update(stems - {word})

    @classmethod
    def load(cls, path: Path | None, general: bool = True) -> Glossary:
        if path is None or not path.is_file():
            return cls(general=general)
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls({str(k): str(v) for k, v in (data.get("translations") or {}).items()},
                   [[str(w).lower() for w in g] for g in data.get("synonyms") or []],
                   {str(k): [str(w).lower() for w in v] for k, v in (data.get("comparison_aspects") or {}).items()},
                   general)

    def english(self, word: str) -> str:
        """The English for a Chinese word: the glossary's, else a general dictionary's (rag/dictionary.py)."""
        if word in self.translations:
            return self.translations[word]
        return general_english(word) if self.general and CJK.match(word) else ""

    def alternatives(self, term: str) -> tuple[str, ...]:
        """Other words that mean `term`: its English translation and its synonyms (all stemmed)."""
        extra = [*tokenize(self.english(term)), *sorted(self._synonyms.get(term, ()))]
        return tuple(dict.fromkeys(t for t in extra if t != term))


_glossary = Glossary()


def use_glossary(glossary: Glossary) -> None:
    """Make `glossary` the one in force (the Assistant loads it from the corpus folder)."""
    global _glossary
    _glossary = glossary
    gloss_terms.cache_clear()


def glossary() -> Glossary:
    return _glossary


def stem(word: str) -> str:
    """A light English stemmer: plural and common verb endings, so 'visas' ~ 'visa', 'signed' ~ 'sign'."""
    if not word.isascii() or any(ch.isdigit() for ch in word) or len(word) <= 3:
        return word
    for suffix, keep in (("ies", "y"), ("ied", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: -len(suffix)] + keep
    return word


def same_stem(a: str, b: str) -> bool:
    """The same word up to its ending: 'effect' ~ 'effective', 'exempt' ~ 'exemption' (Latin words only)."""
    if a == b:
        return True
    if not (a.isascii() and b.isascii()) or any(ch.isdigit() for ch in a + b):
        return False
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= max(4, 0.75 * min(len(a), len(b)))


# A number written with a multiplier is the same number: "$100k", "100,000", "10万" and "0.1 million" meet.
_MULTIPLIED = re.compile(r"(\d+(?:\.\d+)?)(?:\s*(万|亿)|\s+(thousand|million|billion)\b|(k)\b)")
_DIGIT_GROUPS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_MULTIPLIERS = {"万": 10**4, "亿": 10**8, "thousand": 10**3, "million": 10**6, "billion": 10**9, "k": 10**3}


def _multiplied(match: re.Match[str]) -> str:
    number, word = match.group(1), next(g for g in match.groups()[1:] if g)
    value = round(float(number) * _MULTIPLIERS[word], 6)
    return str(int(value)) if value == int(value) else match.group(0)


# A class code written with, without or with a moved dash is one token: "h1b", "h1-b" and "h-1b" are "h-1b".
_CODE = re.compile(r"^([a-z]{1,2})(\d)-?([a-z])$")


def _normalise_word(word: str) -> list[str]:
    """Lower-case word forms: digits keep their punctuation inside ("5,189" -> "5189", "212(f)")."""
    word = word.strip(".,'()")
    if not any(ch.isalnum() for ch in word):
        return []
    if any(ch.isdigit() for ch in word):
        return [_CODE.sub(r"\1-\2\3", word.replace(",", ""))]
    if word.endswith("'s"):
        word = word[:-2]
    parts = [word] + ([p for p in word.split("-") if p] if "-" in word else [])
    return [stem(p) for p in parts if p not in STOPWORDS]


@lru_cache(maxsize=16384)
def tokenize(text: str, precise: bool = False) -> tuple[str, ...]:
    """Content tokens of a text: English words (stemmed, no stop words), numbers, Chinese words by jieba.

    Documents use jieba's search mode (words and their sub-words, for recall); `precise` cuts each
    Chinese run once, so a question's terms are not counted twice.
    """
    text = _MULTIPLIED.sub(_multiplied, _DIGIT_GROUPS.sub("", unicodedata.normalize("NFKC", text).lower()))
    if CJK.search(text):  # traditional characters meet their simplified forms
        text = simplified(text)
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        piece = match.group(0)
        if CJK.match(piece):
            words = jieba.lcut(piece) if precise else jieba.lcut_for_search(piece)
            out.extend(w for w in words if w not in STOPWORDS and (len(w) > 1 or not precise))
        else:
            out.extend(w for w in _normalise_word(piece) if w not in STOPWORDS)
    return tuple(out)


def expand_terms(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Add glossary equivalents of the tokens, so Chinese questions reach English text and synonyms meet."""
    return tokens + tuple(alt for token in tokens for alt in _glossary.alternatives(token))


def glossed(text: str) -> str:
    """A Chinese text followed by the glossary's English for its words, so the English-only embedding model
    sees what it is about; other texts are returned unchanged."""
    if not CJK.search(text):
        return text
    words = (w for t in tokenize(text, precise=True) for w in _glossary.english(t).replace(";", " ").split())
    english = dict.fromkeys(words)
    text = simplified(text)
    return f"{text} {' '.join(english)}" if english else text


@lru_cache(maxsize=16384)
def gloss_terms(text: str) -> frozenset[str]:
    """The English words, as tokens, of the glossary's translations of a text's Chinese words (none for a text
    without Chinese). The glossary in force is used: changing it clears this cache."""
    if not CJK.search(text):
        return frozenset()
    return frozenset(word for token in tokenize(text, precise=True) if CJK.match(token)
                     for word in tokenize(_glossary.english(token)))


def covers(alternatives: tuple[str, ...], words: frozenset[str]) -> bool:
    """True when any alternative of a term is among `words`, exactly or by stem."""
    if not words:
        return False
    by_prefix = _by_prefix(words)
    return any(term in words or any(same_stem(term, w) for w in by_prefix.get(term[:4], ())) for term in alternatives)


@lru_cache(maxsize=4096)
def _by_prefix(words: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """The words grouped by their first four characters: two words of the same stem share them (same_stem
    asks for a common prefix of at least four), so only those are compared."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[:4], []).append(word)
    return {prefix: tuple(group) for prefix, group in groups.items()}


# A text that says what it does not say: "the notice does not specify the fee", "no details are given",
# "该文件未说明费用". General ways of disclaiming, in English and Chinese; no document's own wording.
_ABSENCE = re.compile(
    r"\b(?:do(?:es)?|did)\s+not\s+(?:\w+\s+)?(?:say|state|specify|define|give|list|mention|provide|include|contain|"
    r"explain|disclose|answer|tell|set out|spell out|indicate|show|cover|address)\b"
    r"|\b(?:doesn't|don't|didn't)\s+(?:say|state|specify|define|give|list|mention|provide|include|contain|explain)\b"
    r"|\b(?:cannot|can't|could not|is unable to|are unable to)\s+(?:say|tell|answer|confirm|provide|give|determine)\b"
    r"|\bno (?:information|answer|mention|details?|data|figures?)\b|^\W*no\s+(?!one\b|longer\b|later\b|more\b)[a-z]"
    r"|^\W*(?:missing|not available|unavailable|unknown)\b"
    r"|\bnot (?:mentioned|stated|specified|provided|given|available|included|disclosed|published|known|defined)\b"
    r"|\b(?:is|are|was|were) (?:missing|unknown|unavailable|not available)\b"
    r"|没有(?:提到|提及|说明|写明|规定|给出|答案|相关信息)|未(?:提及|说明|提供|写明|规定|载明|列明|给出|公布|保存)"
    r"|并未|无法(?:回答|提供|说明|确定)|不详",
    re.IGNORECASE,
)


def says_absent(text: str) -> bool:
    """Does the text say that some information is not given (rather than state it)?"""
    return bool(_ABSENCE.search(text))

