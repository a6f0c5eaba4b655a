"""How a question is read before analysis: contractions, scripts, frames, greetings and thanks."""

from __future__ import annotations

import pytest

from rag.wording import read_as, with_classes_in_capitals


@pytest.mark.parametrize(("asked", "read"), [
    ("Hi, can you tell me what's the locker fee? Thanks!", "What is the locker fee?"),
    ("Do you know what the locker fee is?", "What is the locker fee?"),
    ("whats a reading room pass", "what is a reading room pass"),
    ("你好，借書證多少錢？谢谢！", "借书证多少钱？"),
    ("你知道借书证什么时候开始办理吗？", "借书证什么时候开始办理？"),
    ("Can you renew online?", "Can you renew online?"),  # asks the reader nothing to unwrap
    ("Quick question. How much is the locker fee?", "How much is the locker fee?"),
    ("Sorry if this is a silly question, how much is the locker fee?", "how much is the locker fee?"),
    ("不好意思，借书证多少钱？", "借书证多少钱？"),
])
def test_what_a_question_is_read_as(asked: str, read: str) -> None:
    assert read_as(asked) == read


def test_classes_typed_in_lower_case_are_written_in_capitals() -> None:
    assert with_classes_in_capitals("can k visa holders work? what about h1b and q1 visa?") == \
        "can K visa holders work? what about H1B and Q1 visa?"
    assert with_classes_in_capitals("do I need a visa? is my visa valid?") == "do I need a visa? is my visa valid?"
