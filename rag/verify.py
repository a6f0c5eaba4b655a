"""Verification of generated answers: every sentence must cite a retrieved passage that supports it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ingest.sentences import split_sentences
from rag.terms import covers, says_absent, tokenize
from rag.types import Passage

# Calibrated on the dev gold set with eval/calibrate_support.py (numbers in that script's docstring):
# the best balanced accuracy (0.946) between gold answers with their own vs other documents' passages.
SUPPORT_THRESHOLD = 0.54
LEXICAL_WEIGHT = 0.5  # share of lexical support in the score; the rest is embedding similarity

_MARKER = re.compile(r"\s*\[(\d+(?:\s*(?:,|;|-|–)\s*\d+)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
# A sentence saying the passages do not answer: allowed without a citation, it asserts no fact.

@dataclass
class CheckedSentence:
    """One answer sentence after verification. Citation numbers are the ones the model wrote."""

    text: str  # without markers
    cited: list[int] = field(default_factory=list)  # citations to retrieved passages
    supported: list[int] = field(default_factory=list)  # the cited passages that support the sentence
    scores: dict[int, float] = field(default_factory=dict)
    quotes: dict[int, str] = field(default_factory=dict)  # best-supporting sentence of each supporting passage
    absence: bool = False  # "the passages do not answer ..."

    @property
    def kept(self) -> bool:
        return bool(self.supported) or self.absence


@dataclass
class Verified:
    """The outcome of verifying one answer."""

    sentences: list[CheckedSentence]
    notes: list[str]

    @property
    def kept(self) -> list[CheckedSentence]:
        return [s for s in self.sentences if s.kept]

    @property
    def supported(self) -> list[CheckedSentence]:
        return [s for s in self.sentences if s.supported]

    @property
    def refused(self) -> bool:
        """The model said the passages do not answer, and made no supported claim."""
        return not self.supported and any(s.absence for s in self.sentences)


def citation_numbers(sentence: str) -> list[int]:
    """The [n] numbers of a sentence in order, expanding lists and ranges ([1, 3], [2-4])."""
    numbers: list[int] = []
    for match in _MARKER.finditer(sentence):
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            bounds = [int(x) for x in re.split(r"\s*[-–]\s*", part)]
            span = range(bounds[0], bounds[-1] + 1) if len(bounds) == 2 and bounds[1] - bounds[0] < 10 else bounds
            numbers.extend(n for n in span if n not in numbers)
    return numbers


def strip_markers(sentence: str) -> str:
    """The sentence without [n] markers (and without a space they leave before final punctuation)."""
    text = _MARKER.sub("", sentence)
    return re.sub(r"\s+([.!?。！？,;:])", r"\1", text).strip()


def is_absence(sentence: str) -> bool:
    return says_absent(sentence)


def answer_sentences(text: str) -> list[str]:
    """Sentences of a generated answer; a marker standing alone after a full stop joins its sentence."""
    out: list[str] = []
    for line in text.splitlines():
        for sentence in split_sentences(_BULLET.sub("", line)):
            if out and not strip_markers(sentence):
                out[-1] = f"{out[-1]} {sentence}"
            elif strip_markers(sentence) or citation_numbers(sentence):
                out.append(sentence)
    return out


def passage_sentences(text: str) -> list[str]:
    """Sentences (and table rows) of a passage, the units an answer sentence is compared with."""
    lines = (_BULLET.sub("", line).strip("|*# ") for line in text.splitlines())
    return [s for line in lines if line for s in split_sentences(line)]


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def lexical_support(sentence: str, passage_text: str) -> tuple[float, float]:
    """(share of the sentence's content words and numbers found in the passage, share of its numbers found).

    Numbers count only on an exact match: '$200,000' is not supported by a passage saying '$100,000'.
    """
    numbers = _numbers(sentence)
    words = {t for t in tokenize(sentence) if not any(c.isdigit() for c in t)}
    if not numbers and not words:
        return 0.0, 1.0
    passage_numbers = _numbers(passage_text)
    passage_words = frozenset(tokenize(passage_text))
    found_numbers = len(numbers & passage_numbers)
    found_words = sum(1 for w in words if covers((w,), passage_words))
    number_share = found_numbers / len(numbers) if numbers else 1.0
    return (found_numbers + found_words) / (len(numbers) + len(words)), number_share


def combine(lexical: float, number_share: float, similarity: float) -> float:
    """The support score: lexical and embedding support, scaled down by every number the passage lacks."""
    return (LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * max(similarity, 0.0)) * number_share


def support_score(sentence: str, passage_text: str, embedder, context: str = "") -> float:
    """How well one passage supports one sentence, in [0, 1]; supported when >= SUPPORT_THRESHOLD.

    `context` (the passage's title and section) counts for lexical support only.
    """
    sentence = strip_markers(sentence)
    units = passage_sentences(passage_text) or [passage_text]
    vectors = embedder.encode([sentence, *units])
    similarity = float(np.max(vectors[1:] @ vectors[0]))
    if context and repeats_heading(sentence, context):
        return 0.0
    return combine(*lexical_support(sentence, f"{context}\n{passage_text}"), similarity)


def repeats_heading(sentence: str, heading: str) -> bool:
    """True when a sentence only restates a passage's title or section (small models echo the prompt's headers)."""
    words = set(tokenize(sentence))
    return bool(words) and words <= set(tokenize(heading))


def passage_context(passage: Passage) -> str:
    """What a citation vouches for lexically: the passage with its title and section."""
    return f"{passage.title}\n{passage.section}\n{passage.text}"


def verify(text: str, passages: list[Passage], embedder) -> Verified:
    """Check each sentence of a generated answer against the passages it cites (numbered from 1)."""
    notes: list[str] = []
    checked: list[CheckedSentence] = []
    for raw in answer_sentences(text):
        numbers = citation_numbers(raw)
        bad = [n for n in numbers if not 1 <= n <= len(passages)]
        sentence = CheckedSentence(strip_markers(raw), [n for n in numbers if n not in bad])
        sentence.absence = is_absence(sentence.text)
        if bad:
            notes.append(f"removed citation {', '.join(f'[{n}]' for n in bad)} to a passage that was not retrieved")
        checked.append(sentence)
    _score(checked, passages, embedder)
    for sentence in checked:
        wrong = [n for n in sentence.cited if n not in sentence.supported]
        if not sentence.kept:
            why = "cites no passage" if not sentence.cited else f"not supported by [{'], ['.join(map(str, wrong))}]"
            notes.append(f"removed sentence ({why}): {sentence.text}")
        elif wrong and not sentence.absence:
            notes.append(f"removed citation {', '.join(f'[{n}]' for n in wrong)} that does not support: "
                         f"{sentence.text}")
    return Verified(checked, notes)


def _score(checked: list[CheckedSentence], passages: list[Passage], embedder) -> None:
    """Fill scores, supported citations and quotes, with one batched encode for all sentences involved."""
    cited = sorted({n for s in checked for n in s.cited})
    units = {n: passage_sentences(passages[n - 1].text) or [passages[n - 1].text] for n in cited}
    texts = [s.text for s in checked] + [u for n in cited for u in units[n]]
    if not cited:
        return
    vectors = embedder.encode(texts)
    offset, unit_vectors = len(checked), {}
    for n in cited:
        unit_vectors[n] = vectors[offset : offset + len(units[n])]
        offset += len(units[n])
    for i, sentence in enumerate(checked):
        for n in sentence.cited:
            similarities = unit_vectors[n] @ vectors[i]
            best = int(np.argmax(similarities))
            passage = passages[n - 1]
            score = combine(*lexical_support(sentence.text, passage_context(passage)), float(similarities[best]))
            if repeats_heading(sentence.text, f"{passage.title}\n{passage.section}"):
                score = 0.0
            sentence.scores[n] = score
            if score >= SUPPORT_THRESHOLD:
                sentence.supported.append(n)
                sentence.quotes[n] = units[n][best]
