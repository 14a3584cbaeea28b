"""The search vocabulary: shoppers' words for categories, colours and patterns (no ORM).

Loaded once from ``synonyms.toml`` next to this file, plus every palette colour name and
family (``recommender/ml/colour/palette.py``), so "burgundy" and "navy" are understood without
listing them. :func:`parse` reads a query into the terms it names and the words it doesn't.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from core.colour.palette import FAMILIES, FAMILY

SYNONYMS_PATH = Path(__file__).with_name("synonyms.toml")
MAX_WORDS = 8
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Term:
    """What one shopper's word means to the shop."""

    word: str
    categories: tuple[str, ...] = ()  # category slugs
    colours: tuple[str, ...] = ()  # families or palette names the garment must include
    prefer: tuple[str, ...] = ()  # families or palette names ranked first
    pattern: str = ""

    @property
    def is_garment(self) -> bool:
        return bool(self.categories) and not self.colours

    @property
    def is_fabric(self) -> bool:
        return bool(self.categories) and bool(self.colours)

    @property
    def is_colour(self) -> bool:
        return bool(self.colours) and not self.categories


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[Term, ...] = ()
    free_words: tuple[str, ...] = ()  # words the vocabulary doesn't know (names, brands, typos)
    typos: dict[str, Term] = field(default_factory=dict)  # free word -> the term it is close to


def colour_names(specs: tuple[str, ...]) -> tuple[str, ...]:
    """Palette names meant by colour families or names: ("red",) -> ("burgundy", "red")."""
    wanted = set(specs)
    return tuple(name for name, family in FAMILY.items() if name in wanted or family in wanted)


def colour_families(specs: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(spec for spec in specs if spec in FAMILIES)


@functools.cache
def vocabulary() -> dict[str, Term]:
    """Every known word or phrase (lower case, hyphens as spaces) and its term."""
    terms: dict[str, Term] = {}
    for name in FAMILY:
        terms[name] = Term(name, colours=(name,))
    for family in FAMILIES:
        terms[family] = Term(family, colours=(family,))
    data = tomllib.loads(SYNONYMS_PATH.read_text(encoding="utf-8"))
    for entry in data.get("term", []):
        for word in entry["words"]:
            key = normalise(word)
            terms[key] = Term(
                key,
                categories=tuple(entry.get("categories", ())),
                colours=tuple(entry.get("colours", ())),
                prefer=tuple(entry.get("prefer", ())),
                pattern=entry.get("pattern", ""),
            )
    return terms


@functools.cache
def known_slugs() -> frozenset[str]:
    """The category slugs the vocabulary names."""
    return frozenset(slug for term in vocabulary().values() for slug in term.categories)


def normalise(text: str) -> str:
    return " ".join(words(text))


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)][:MAX_WORDS]


def _known(word: str, terms: dict[str, Term]) -> Term | None:
    """The term for a word or its plural (-s, -es, -ies)."""
    for candidate in (word, word[:-1] if word.endswith("s") else "", word[:-2] if word.endswith("es") else ""):
        if candidate and candidate in terms:
            return terms[candidate]
    if word.endswith("ies") and word[:-3] + "y" in terms:
        return terms[word[:-3] + "y"]
    return None


def parse(q: str) -> ParsedQuery:
    """Known phrases first (up to three words: "light blue", "long sleeve top"), then single words."""
    terms = vocabulary()
    tokens = words(q)
    found: list[Term] = []
    free: list[str] = []
    i = 0
    while i < len(tokens):
        for size in (3, 2, 1):
            phrase = " ".join(tokens[i : i + size])
            if size > len(tokens) - i:
                continue
            term = _known(phrase, terms)
            if term is not None:
                found.append(term)
                i += size
                break
        else:
            free.append(tokens[i])
            i += 1
    return ParsedQuery(terms=tuple(dict.fromkeys(found)), free_words=tuple(dict.fromkeys(free)))
