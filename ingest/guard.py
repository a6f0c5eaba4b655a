"""Documents are data: citation-like markers are neutralised and instruction-like text is flagged at ingest."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ingest.documents import Chunk

# What kvisa's own citation markers look like, and the other bracketed-number forms a reader or a model
# could take for one: [1], [12], [^1] (a Markdown footnote), 【1】, ［1］. Inside a document they become
# "(1)": still legible, never a marker.
_MARKER = re.compile(r"\[\^?(\d{1,3})\]|【(\d{1,3})】|［(\d{1,3})］")

# Text that addresses an assistant or a model instead of a reader: "ignore all previous instructions",
# role tags, system-prompt talk, orders about how to answer. Plain policy text ("applicants must ...",
# "the Secretary shall ...") addresses people, not a model, and is not matched.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+)?(?:the\s+|your\s+|of\s+the\s+)?"
    r"(?:previous|prior|above|earlier|preceding|other|original|system)\s+(?:instructions?|prompts?|rules|"
    r"directions|messages|context)"
    r"|\bsystem\s+(?:prompt|instructions?|message)\b|\b(?:important|urgent|new)\s+(?:system\s+)?instructions?\b"
    r"|\byou\s+are\s+(?:now\s+)?(?:an?\s+|the\s+)?(?:[a-z-]+\s+){0,2}(?:ai|assistant|language\s+model|chatbot|llm)\b"
    r"|\b(?:as\s+an?\s+)?(?:ai|assistant|chatbot|language\s+model|llm)\s*[,:]?\s*(?:you\s+)?(?:must|should|will)\s+"
    r"(?:always|never|now|only)\b"
    r"|\b(?:always|only|must)\s+(?:answer|respond|reply|say|state|tell\s+(?:the\s+)?users?)\s+(?:that|with)\b"
    r"|\bdo\s+not\s+(?:tell|reveal\s+to|inform)\s+(?:the\s+)?users?\b"
    r"|<\|?\s*(?:system|im_start|im_end|assistant|user)\s*\|?>|\[/?INST\]|^\s*#{2,}\s*(?:system|instruction)\b"
    r"|^\s*(?:system|assistant)\s*:"
    r"|忽略(?:之前|以上|前面|先前|上述|所有)的?(?:所有)?(?:指令|指示|说明|提示|规则)|系统提示|系统指令"
    r"|你(?:现在)?是(?:一个|一名)?(?:AI|人工智能|助手|语言模型|聊天机器人)"
    r"|(?:始终|总是|一律|只能)(?:回答|回复|答复|声称)|作为(?:一个)?(?:AI|人工智能)(?:助手)?",
    re.IGNORECASE | re.MULTILINE,
)


def neutralise_markers(text: str) -> str:
    """The text with every citation-like marker turned into "(n)", so only kvisa places markers."""
    return _MARKER.sub(lambda m: f"({next(g for g in m.groups() if g)})", text)


def is_instruction(text: str) -> bool:
    """Does the text speak to an assistant or a model, as a planted prompt would?"""
    return bool(_INSTRUCTION.search(text))


def flag_instructions(chunks: Iterable[Chunk]) -> int:
    """Mark the units that speak to a model; the number of such places in the document (a unit repeated
    by chunk overlap counts once)."""
    flagged = set()
    for chunk in chunks:
        for unit in chunk.units:
            unit.instruction = is_instruction(unit.text)
            if unit.instruction:
                flagged.add(unit.start)
    return len(flagged)

