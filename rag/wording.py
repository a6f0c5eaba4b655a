"""How a question is read before it is analysed: what its wording says that its words do not.

Contractions are written out, traditional characters written in their simplified form, and what asks nothing
is left out: a polite or indirect frame, greetings and thanks. A class typed in lower case is a class.
"""

from __future__ import annotations

import re

from rag.dictionary import simplified

# "What's the fee?" is read as "What is the fee?" (with a straight or a typographic apostrophe).
_WH_IS = re.compile(r"\b(?:(what|who|where)['’]?s|(when|how|which)['’]s)\b", re.IGNORECASE)  # "whats", typed fast


# A class typed in lower case, as people type in a chat box: "k visa", "q1 visa", "h-1b"; not a word ("a visa",
# "my visa", "no visa") nor an electronic "e visa".
_LOWER_CLASS = re.compile(r"\b(?![aei]\b)[a-z]\d?(?=(?:\s+|-)visas?\b|\s*签证)|\b[a-z]{1,2}-\d[a-z]?\b"
                          r"|\b[a-z]{1,2}\d-?[a-z]\b")


# A question asked inside a polite or indirect frame ("Can you tell me who ...", "I'd like to know how ...",
# "请问 ...", "你知道 ... 吗"): the frame asks nothing; what follows it is the question.
_FRAME = re.compile(r"^\s*(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:tell|show|explain\s+to|let)\s+me"
                    r"|(?:do|does)\s+(?:you|anyone)\s+know|i(?:'d|’d|\s+would)\s+like\s+to\s+know"
                    r"|i\s+(?:want|need)\s+to\s+know|i(?:'m|’m|\s+am)\s+wondering|i\s+wonder"
                    r"|(?:please\s+)?(?:tell|explain\s+to)\s+me|any\s+idea)[,:]?\s+(?=(?:what|who|whom|whose|when|where"
                    r"|which|why|how)\b)", re.IGNORECASE)
_ZH_FRAME = re.compile(r"^\s*(?:请问|我想(?:知道|问问?)|想问(?:一下)?|(?:你|您)(?:知道|清楚)|请告诉我)[，,：:]?\s*"
                       r"(?=.*(?:什么|何时|多少|哪|谁|几|为什么|为何|如何|怎么|多久|多长))")


# Greetings before a question and thanks after it ("Hi, ...", "... Thanks!", "你好，……谢谢！") ask nothing either.
# So do the fillers that open a question ("Quick question.", "Sorry if this is a silly question, ...", "不好意思，").
# One or two of them ("Hi, quick question.").
_GREETING = re.compile(r"^\s*(?:(?:(?:hi|hello|hey|dear\s+\w+|good\s+(?:morning|afternoon|evening)|你好|您好|嗨|哈喽)"
                       r"(?:\s+there)?|(?:a\s+)?quick\s+question|one\s+more\s+(?:thing|question)|sorry\s+to\s+bother\s+you"
                       r"|(?:sorry|excuse\s+me|pardon)(?:\s+(?:if\s+this\s+is|for)\s+(?:a\s+)?(?:silly|dumb|stupid|basic|naive)"
                       r"\s+question)?|问(?:一|个)个?问题|不好意思|打扰(?:一下)?|请教(?:一下)?)\s*[,!.:，！。：、]*\s*){1,2}",
                       re.IGNORECASE)
_THANKS = re.compile(r"(?<=[?？.!。！\s,，])\s*(?:(?:many\s+)?thanks?(?:\s+you)?(?:\s+(?:so|very)\s+much)?"
                     r"(?:\s+in\s+advance)?|thx|cheers|谢谢(?:你|您)?|多谢|感谢)\s*[.!。！~～]*\s*$", re.IGNORECASE)


def _unframed(text: str) -> str:
    """The question inside a polite or indirect frame, without greetings or thanks; a question without them is
    returned as it is."""
    bare = _THANKS.sub("", _GREETING.sub("", text, count=1)).strip()
    text = bare or text
    if _FRAME.match(text):
        rest = _FRAME.sub("", text, count=1)
        # An embedded question keeps statement order: "what the fee is" asks "what is the fee"
        rest = re.sub(r"^((?:what|who|which|where|when|how(?:\s+\w+)?)\s+)(.+?)\s+(is|are|was|were)\s*[.?]?\s*$",
                      r"\1\3 \2?", rest, flags=re.IGNORECASE)
        return rest[0].upper() + rest[1:]
    if _ZH_FRAME.match(text):
        return re.sub(r"吗\s*([？?]?)\s*$", r"\1", _ZH_FRAME.sub("", text, count=1))
    return text


def read_as(text: str) -> str:
    """What a question is read as ("Hi, can you tell me what's the fee? Thanks!" -> "What is the fee?")."""
    return _unframed(simplified(_WH_IS.sub(lambda m: f"{m.group(1) or m.group(2)} is", text)))


def with_classes_in_capitals(text: str) -> str:
    """The text with visa classes typed in lower case written in capitals ("k visa" -> "K visa", "h1b" -> "H1B")."""
    return _LOWER_CLASS.sub(lambda m: m.group(0).upper(), text)
