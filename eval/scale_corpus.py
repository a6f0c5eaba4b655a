"""A deterministic synthetic corpus of policy notices with known answers, for eval/bench_scale.py."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from kvisa.settings import PROJECT_ROOT

SYLLABLES = ("ka", "lor", "ven", "tis", "mar", "dun", "sel", "qua", "rin", "bo", "zef", "tal", "mi", "gor", "pha",
             "nel", "dra", "vo", "shi", "ruk", "bel", "ost", "ya", "cren")
AGENCIES = ("Ministry of Labour", "Bureau of Immigration", "Office of Science and Technology", "Department of Commerce",
            "Ministry of Education", "National Talent Office", "Bureau of Exit and Entry", "Office of Foreign Affairs")
KINDS = ("Research Permit", "Talent Visa", "Exchange Permit", "Seasonal Work Permit", "Investor Visa",
         "Trainee Permit", "Young Scientist Visa", "Specialist Work Permit")
REGIONS = ("the Northern Province", "the Coastal Region", "the Capital District", "the Western Highlands",
           "the River Delta", "the Eastern Islands")


@dataclass(frozen=True)
class Fact:
    """One templated sentence of a notice and the question it answers."""

    topic: str  # the section heading it sits under
    sentence: str
    question: str
    answer: str  # the value the answer must contain


@dataclass(frozen=True)
class Notice:
    doc_id: str
    program: str
    text: str  # Markdown, as written to disk
    facts: list[Fact]


def corpus_sentences(corpus: Path = PROJECT_ROOT / "corpus") -> list[str]:
    """English prose sentences of the bundled corpus: the filler that makes notices read like policy text."""
    out: list[str] = []
    for path in sorted(corpus.glob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = re.sub(r"^[-*\d.\s]+", "", line).strip()
            if line.startswith(("#", "|", "---")) or ":" in line[:25] or not line.isascii():
                continue
            out += [s.strip() for s in re.split(r"(?<=[.])\s+", line)
                    if 50 <= len(s) <= 240 and s[0].isupper() and s.endswith(".") and not s.endswith("No.")]
    return sorted(set(out))


def _program_name(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((3, 4)))).capitalize()
        if name not in taken:
            taken.add(name)
            return name


def _facts(program: str, rng: random.Random) -> list[Fact]:
    """One fact per topic, with its numbers drawn here: every notice has its own values."""
    fee, days, years = rng.randrange(120, 9800), rng.randrange(5, 120), rng.randrange(1, 11)
    quota, age, salary = rng.randrange(200, 60000), rng.randrange(28, 46), rng.randrange(18, 240) * 1000
    region = rng.choice(REGIONS)
    return [
        Fact("Application fee", f"The application fee for the {program} is {fee} credits per applicant.",
             f"What is the application fee for the {program}?", f"{fee} credits"),
        Fact("Processing time", f"A complete application for the {program} is decided within {days} working days.",
             f"How many working days does a decision on the {program} take?", f"{days} working days"),
        Fact("Validity", f"The {program} is valid for {years} years from the date of issue.",
             f"How long is the {program} valid?", f"{years} years"),
        Fact("Annual quota", f"No more than {quota} {program} approvals are granted in one calendar year.",
             f"How many {program} approvals are granted per year?", f"{quota}"),
        Fact("Eligibility", f"Applicants for the {program} must be under {age} years of age and hold a post "
             f"in {region}.", f"What is the age limit for the {program}?", f"{age} years"),
        Fact("Minimum salary", f"The employer of a {program} holder must pay at least {salary} credits a year.",
             f"What minimum salary applies to a {program} holder?", f"{salary} credits"),
    ]


def _filler(pool: list[str], rng: random.Random, n: int) -> list[str]:
    """Corpus sentences with their numbers replaced, so no two notices share a sentence verbatim."""
    return [re.sub(r"\d+", lambda m: str(rng.randrange(1, 10 ** len(m.group()))), rng.choice(pool)) for _ in range(n)]


def notice(i: int, pool: list[str], rng: random.Random, taken: set[str]) -> Notice:
    """Notice i: a title, then one section per fact topic (shuffled), each with its fact among filler."""
    program = f"{_program_name(rng, taken)} {rng.choice(KINDS)}"
    agency = rng.choice(AGENCIES)
    facts = _facts(program, rng)
    rng.shuffle(facts)
    lines = [f"# {agency} Notice No. {1000 + i} on the {program}", ""]
    for n, fact in enumerate(facts, 1):
        body = _filler(pool, rng, rng.randrange(2, 5))
        body.insert(rng.randrange(len(body) + 1), fact.sentence)
        lines += [f"## Article {n}. {fact.topic}", "", " ".join(body), ""]
    return Notice(f"syn-{i:06d}", program, "\n".join(lines), facts)


def generate(n_docs: int, seed: int = 0, start: int = 0) -> list[Notice]:
    """Notices start .. start + n_docs - 1 of the corpus for `seed`: the same notices on every run."""
    pool = corpus_sentences()
    rng = random.Random(seed)
    taken: set[str] = set()
    out = []
    for i in range(start + n_docs):
        made = notice(i, pool, rng, taken)
        if i >= start:
            out.append(made)
    return out


def write(notices: list[Notice], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for item in notices:
        path = folder / f"{item.doc_id}.md"
        path.write_text(item.text, encoding="utf-8")
        paths.append(path)
    return paths


def questions(notices: list[Notice], n: int, seed: int = 1) -> list[tuple[str, str, Fact]]:
    """(doc_id, program, fact) for n facts sampled evenly over the notices."""
    rng = random.Random(seed)
    picked = rng.sample(range(len(notices)), k=min(n, len(notices)))
    return [(notices[i].doc_id, notices[i].program, rng.choice(notices[i].facts)) for i in picked]
