"""The parser's word lists, read from data/lexicon.toml: the city, the categories, measures, operations,
comparators, statuses, kinds, relative years, units and the English-Chinese domain terms."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from assistant.errors import IngestError, Problem

LEXICON_FILE = "lexicon.toml"


@dataclass(frozen=True)
class Words:
    """A list of words matched as one regular expression, longest first. Latin words match whole words."""

    name: str
    words: tuple[str, ...]

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = []
        for w in sorted(self.words, key=len, reverse=True):
            if w.startswith("re:"):
                parts.append(f"(?:{w[3:]})")
            elif w.isascii() and w[:1].isalnum() and w[-1:].isalnum():
                parts.append(rf"(?<![A-Za-z]){re.escape(w)}(?![A-Za-z])")
            else:
                parts.append(re.escape(w))
        return re.compile("|".join(parts) or r"(?!x)x", re.I)

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern.search(text)

    def finditer(self, text: str) -> list[re.Match[str]]:
        return list(self.pattern.finditer(text))

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self.pattern.search(text) is not None


@dataclass(frozen=True)
class Category:
    name: str
    spellings: Words


@dataclass(frozen=True)
class Lexicon:
    city: str
    city_english: str
    other_cities: Words
    whole_city: Words
    categories: tuple[Category, ...]
    kinds: dict[str, Words]
    relative_years: dict[str, int]
    every_year: Words  # 历年, every year: a question over all years rather than the newest
    measures: dict[str, Words]  # score, rank, coefficient, items_count
    operations: dict[str, Words]
    comparators: dict[str, Words]  # ge, le, gt, lt, eq
    between_joiners: tuple[str, ...]
    between_marks: Words
    status: dict[str, Words]  # exceeded, met, partial, false_signs, more_than_marks
    mentions: Words
    text_noise: Words
    quantity_asks: Words
    units: tuple[str, ...]
    money: Words
    english: dict[str, tuple[str, ...]] = field(default_factory=dict)  # English word -> the Chinese terms
    ordinals: dict[str, int] = field(default_factory=dict)  # English ordinal words: "third" -> 3
    cardinals: dict[str, int] = field(default_factory=dict)  # English number words: "three" -> 3
    org_suffixes_english: Words = field(default_factory=lambda: Words("org_suffixes_english", ()))
    source: str = LEXICON_FILE  # the file it came from, for error messages

    @property
    def category_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    def category(self, text: str) -> str | None:
        """The category a spelling names (经济类 -> 经济建设类, economic -> 经济建设类), or None."""
        key = text.strip().lower()
        for c in self.categories:
            if key in (w.lower() for w in c.spellings.words):
                return c.name
        return None

    def find_category(self, text: str) -> str | None:
        """The category named anywhere in a text, the longest spelling first."""
        found = self.category_in(text)
        return found[0] if found else None

    def op(self, name: str) -> Words:
        return self.operations[name]

    def category_in(self, text: str) -> list[str]:
        return [c.name for c in self.categories if c.spellings.search(text)]

    def expand_english(self, text: str) -> str:
        """An English question with the Chinese terms its words stand for appended (for retrieval and for
        choosing the clause to quote). Whole words only; a plural (-s, -es, -ies) matches the singular entry."""
        terms = [t for group in self.english_terms(text) for t in group]
        return text + (" " + " ".join(dict.fromkeys(terms)) if terms else "")

    def english_terms(self, text: str) -> list[tuple[str, ...]]:
        """For each English word or phrase of the lexicon in the text, the Chinese terms it stands for."""
        lowered, groups = text.lower(), list[tuple[str, ...]]()
        for en, zhs in sorted(self.english.items(), key=lambda kv: -len(kv[0])):  # the longest phrase first
            pattern = rf"(?<![a-z]){_english_form(en)}(?![a-z])"
            if re.search(pattern, lowered):
                groups.append(zhs)
                lowered = re.sub(pattern, " ", lowered)  # "listed companies" is not also "companies"
        return groups


    @cached_property
    def _english_phrases(self) -> re.Pattern[str] | None:
        phrases = sorted((en for en in self.english if " " in en or "-" in en), key=len, reverse=True)
        forms = "|".join(_english_form(en) for en in phrases)
        return re.compile(rf"(?<![a-z])(?:{forms})(?![a-z])", re.I) if phrases else None

    def without_english_phrases(self, text: str) -> str:
        """The text with the glossary's terms of several words (first aid, childcare places) blanked out, positions
        kept: inside them, "first" or "place" names a thing, not an order or a rank."""
        pattern = self._english_phrases
        return pattern.sub(lambda m: " " * len(m.group(0)), text) if pattern is not None else text


def _english_form(en: str) -> str:
    """A glossary entry as a pattern of its singular and plural (-s, -es, -ies)."""
    return rf"{re.escape(en[:-1])}(?:y|ies)" if en.endswith("y") else rf"{re.escape(en)}(?:e?s)?"


def _list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _words(name: str, values: Any) -> Words:
    return Words(name, tuple(str(v) for v in values or ()))


def lexicon_path(data_dir: Path) -> Path:
    """The data folder's lexicon, or the one bundled with the package when the folder has none."""
    from assistant.settings import BUNDLED_DATA_DIR

    path = data_dir / LEXICON_FILE
    return path if path.exists() else BUNDLED_DATA_DIR / LEXICON_FILE


def load_lexicon(data_dir: Path) -> Lexicon:
    from assistant.settings import BUNDLED_DATA_DIR

    path = lexicon_path(data_dir)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IngestError([Problem(str(path), None, "file not found")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise IngestError([Problem(str(path), getattr(exc, "lineno", None), f"invalid TOML: {exc}")]) from None
    city = raw.get("city") or {}
    if not isinstance(city, dict) or not isinstance(city.get("name"), str) or not city["name"].strip():
        raise IngestError([Problem(str(path), None, "[city] needs a name")])
    for n, entry in enumerate(raw.get("category") or [], 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise IngestError([Problem(str(path), None, f"[[category]] number {n} needs a name")])
        for key in ("aliases", "english"):
            if not isinstance(entry.get(key, []), list | str):
                raise IngestError([Problem(str(path), None, f"{entry['name']}.{key} must be a string or a list of "
                                           "strings")])
    for word, terms in (raw.get("english") or {}).items():
        if not isinstance(terms, str) and not (isinstance(terms, list) and all(isinstance(t, str) for t in terms)):
            raise IngestError([Problem(str(path), None, f"english.{word} must be a string or a list of strings")])
    english_city = city.get("english", "")
    ops = raw.get("operations", {})
    bundled = BUNDLED_DATA_DIR / LEXICON_FILE
    if path != bundled and bundled.exists():
        # an older lexicon (a published version kept from before an upgrade, a site's own copy) lacks the word
        # lists of operations added since: it gets the bundled ones, not a failure on every question
        ops = {**tomllib.loads(bundled.read_text(encoding="utf-8")).get("operations", {}), **ops}
    status = raw.get("status", {})
    text = raw.get("text", {})
    quantity = raw.get("quantity", {})
    comparators = raw.get("comparators", {})
    return Lexicon(
        city=city.get("name", ""),
        city_english=english_city if isinstance(english_city, str) else (english_city or [""])[0],
        other_cities=_words("other_cities", city.get("other_cities")),
        whole_city=_words("whole_city", city.get("whole_city")),
        categories=tuple(Category(c["name"], _words(c["name"], [c["name"], *_list(c.get("aliases")),
                                                                 *_list(c.get("english"))]))
                         for c in raw.get("category", [])),
        kinds={k: _words(k, v) for k, v in raw.get("kinds", {}).items()},
        relative_years={k.lower(): int(v) for k, v in raw.get("years", {}).get("relative", {}).items()},
        every_year=_words("every", raw.get("years", {}).get("every")),
        measures={k: _words(k, v) for k, v in raw.get("measures", {}).items()},
        operations={k: _words(k, v) for k, v in ops.items()},
        comparators={k: _words(k, v) for k, v in comparators.items() if k in ("ge", "le", "gt", "lt", "eq")},
        between_joiners=tuple(comparators.get("between_joiners", [])),
        between_marks=_words("between_marks", comparators.get("between_marks")),
        status={k: _words(k, v) for k, v in status.items()},
        mentions=_words("mentions", text.get("mentions")),
        text_noise=_words("noise", text.get("noise")),
        quantity_asks=_words("asks", quantity.get("asks")),
        units=tuple(quantity.get("units", [])),
        money=_words("money", quantity.get("money")),
        english={k.lower(): tuple(_list(v)) for k, v in raw.get("english", {}).items()},
        ordinals={k.lower(): int(v) for k, v in raw.get("ordinals", {}).items()},
        cardinals={k.lower(): int(v) for k, v in raw.get("cardinals", {}).items()},
        org_suffixes_english=_words("org_suffixes_english", city.get("org_suffixes_english")),
        source=str(path),
    )
