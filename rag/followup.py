"""Follow-up questions: carry the subject of the previous turn into retrieval (extractive backend)."""

from __future__ import annotations

import re

from rag.terms import tokenize
from rag.types import Turn

# Words that point back at something said before ("it", "that rule", "and when ...?").
_ANAPHORA = re.compile(
    r"\b(it|its|they|them|their|this|that|these|those|he|she|his|her|the same|the former|the latter)\b"
    r"|^\s*(and|also|what about|how about|then)\b|它|其|该|这个|那个|他们|那么|还有",
    re.IGNORECASE,
)


def is_follow_up(question: str) -> bool:
    """A question that leans on the previous turn: a back-reference, or too few terms of its own."""
    return bool(_ANAPHORA.search(question)) or len(tokenize(question)) <= 2


def contextualize(question: str, history: list[Turn]) -> str:
    """The retrieval query: the question itself, plus the previous question when it is a follow-up."""
    if not history or not is_follow_up(question):
        return question
    return f"{history[-1].question} {question}"
