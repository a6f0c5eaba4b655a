"""Terms: one tokenizer for English and Chinese, shared by BM25, evidence scoring and refusal."""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

import jieba

jieba.setLogLevel(logging.WARNING)

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
    referenced regarding concerning whether versus within respect respectively
    的 了 是 在 和 与 及 或 对 为 由 把 被 有 吗 呢 吧 啊 哪 哪个 哪一个 什么 怎么 如何 多少 几 谁 哪些 哪天
    是否 以及 这 那 这个 那个 其 之 而 并 一个 一 中 上 下 作 作了 会 可以 能 哪次 哪年 哪里 多久 共有 分别
    第几 几项 几条 哪项 哪条 排第
    """.split()
)

# Domain words worth matching across languages (the embedding model is English-only).
GLOSSARY = {
    "签证": "visa", "雇主": "employer", "年龄": "age", "费用": "fee", "收费": "fee", "学历": "degree",
    "学位": "degree", "本科": "bachelor's", "人才": "talent", "青年": "young", "科技": "science technology",
    "外国": "foreign", "普通签证": "ordinary visa", "普通": "ordinary", "类": "types categories", "类别": "categories",
    "种": "types",
    "签署": "signed", "施行": "effect", "生效": "effect", "会议": "meeting", "通过": "adopted",
    "常务会议": "executive meeting", "国务院": "state council", "条例": "regulations", "决定": "decision",
    "修改": "amend", "证明材料": "supporting documents", "材料": "documents", "条件": "conditions",
    "配偶": "spouse", "子女": "children", "随行": "accompanying", "有效期": "validity", "入境": "entry",
    "次数": "entries", "停留": "stay", "期限": "period", "美国": "us", "中国": "china", "要求": "require",
    "申请": "apply", "李强": "li qiang", "旅游": "tourist", "工作": "work", "学习": "study",
    "大学": "university", "研究": "research", "毕业": "graduated", "创业": "entrepreneurship",
    "商务": "business", "便利": "convenience", "总理": "premier", "令": "decree",
}

_TOKEN = re.compile(r"[\u4e00-\u9fff]+|[a-z0-9][a-z0-9$%'.,/()-]*[a-z0-9%)]|[a-z0-9$%]")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _normalise_word(word: str) -> list[str]:
    """Lower-case word forms: digits keep their punctuation inside ("5,189" -> "5189", "212(f)")."""
    word = word.strip(".,'()")
    if not any(ch.isalnum() for ch in word):
        return []
    if any(ch.isdigit() for ch in word):
        return [word.replace(",", "")]
    if word.endswith("'s"):
        word = word[:-2]
    parts = [word] + ([p for p in word.split("-") if p] if "-" in word and not word.startswith("h-") else [])
    return [_stem(p) for p in parts if p not in STOPWORDS]


def _stem(word: str) -> str:
    """A light plural stemmer: enough to match 'visas' with 'visa' and 'rules' with 'rule'."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=8192)
def tokenize(text: str, precise: bool = False) -> tuple[str, ...]:
    """Content tokens of a text: English words (stemmed, no stop words), numbers, Chinese words by jieba.

    Documents use jieba's search mode (words and their sub-words, for recall); `precise` cuts each
    Chinese run once, so a question's terms are not counted twice.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    for match in _TOKEN.finditer(text):
        piece = match.group(0)
        if _CJK.match(piece):
            words = jieba.lcut(piece) if precise else jieba.lcut_for_search(piece)
            out.extend(w for w in words if w not in STOPWORDS and (len(w) > 1 or not precise or w in GLOSSARY))
        else:
            out.extend(w for w in _normalise_word(piece) if w not in STOPWORDS)
    return tuple(out)


def expand_terms(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Add English glossary equivalents of Chinese tokens, so Chinese questions reach English text."""
    extra: list[str] = []
    for token in tokens:
        if token in GLOSSARY:
            extra.extend(tokenize(GLOSSARY[token]))
    return tokens + tuple(extra)


def question_concepts(question: str) -> dict[str, tuple[str, ...]]:
    """The question's distinct terms, each with its alternatives (a Chinese term and its English gloss)."""
    concepts: dict[str, tuple[str, ...]] = {}
    for term in tokenize(question, precise=True):
        concepts.setdefault(term, (term, *tokenize(GLOSSARY.get(term, ""))))
    return concepts
