"""Department names: canonical names, the aliases officials use (data/departments.toml), and matching."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.records import IngestError, Problem

DIRECTORY_FILE = "departments.toml"


@dataclass(frozen=True)
class Mention:
    department: str  # canonical name
    matched: str  # the text as it stood in the question
    start: int


@dataclass(frozen=True)
class Directory:
    names: tuple[str, ...]
    lookup: dict[str, str]  # any known spelling (lower case) -> canonical name

    def resolve(self, text: str) -> str | None:
        """The canonical name for a name or alias, or None."""
        return self.lookup.get(text.strip().lower())

    def find(self, text: str) -> list[Mention]:
        """Departments named in a text, longest spelling first, without overlaps, in text order."""
        lowered = text.lower()
        taken: list[tuple[int, int]] = []
        found: list[Mention] = []
        for spelling in sorted(self.lookup, key=len, reverse=True):
            start = lowered.find(spelling)
            while start != -1:
                end = start + len(spelling)
                if not any(s < end and start < e for s, e in taken) and _word_edges(lowered, start, end):
                    taken.append((start, end))
                    found.append(Mention(self.lookup[spelling], text[start:end], start))
                start = lowered.find(spelling, end)
        return sorted(found, key=lambda m: m.start)

    def without(self, text: str, gap: str = "") -> str:
        """The text with every department it names cut out (each replaced by `gap`)."""
        for mention in reversed(self.find(text)):
            text = text[:mention.start] + gap + text[mention.start + len(mention.matched):]
        return text

    def suggest(self, text: str, limit: int = 5) -> list[str]:
        """The departments whose names are closest to a name that is not known."""
        spellings = difflib.get_close_matches(text.lower(), list(self.lookup), n=limit * 3, cutoff=0.4)
        seen: list[str] = []
        for s in spellings:
            if self.lookup[s] not in seen:
                seen.append(self.lookup[s])
        return seen[:limit]

    def words(self) -> list[str]:
        """Every Chinese spelling, for a tokenizer's user dictionary."""
        return sorted({s for s in self.lookup if not s.isascii()} | set(self.names))


def _word_edges(text: str, start: int, end: int) -> bool:
    """ASCII aliases (SASAC) must stand as words; Chinese ones need no spaces."""
    if not text[start:end].isascii():
        return True
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() and before.isascii()) and not (after.isalnum() and after.isascii())


def load_directory(data_dir: Path, known: Iterable[str] = ()) -> Directory:
    """The department file plus every department the records name (so a new one needs no alias)."""
    path = data_dir / DIRECTORY_FILE
    entries: list[dict] = []
    if path.exists():
        try:
            entries = tomllib.loads(path.read_text(encoding="utf-8")).get("department", [])
        except tomllib.TOMLDecodeError as exc:
            raise IngestError([Problem(str(path), getattr(exc, "lineno", None), f"invalid TOML: {exc}")]) from None
    names: list[str] = []
    lookup: dict[str, str] = {}

    def add(spelling: str, name: str) -> None:
        key = spelling.strip().lower()
        if key and lookup.setdefault(key, name) != name:
            raise IngestError([Problem(str(path), None, f"alias {spelling!r} names both {lookup[key]} and {name}")])

    for entry in entries:
        name = entry["name"]
        names.append(name)
        for spelling in [name, *entry.get("aliases", []), *entry.get("english", [])]:
            add(spelling, name)
    for name in known:
        if name not in names:
            names.append(name)
            add(name, name)
    for name in names:
        short = name.removeprefix("市")
        if short != name and len(short) >= 2 and short.lower() not in lookup:
            lookup[short.lower()] = name
    return Directory(tuple(names), lookup)
