"""The loaded data: all records, the sources and the department directory, under one version.

A reload builds the new corpus in full before it replaces the old one, so a failed ingest leaves
the corpus that was serving untouched.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from assistant.departments import DIRECTORY_FILE, Directory, load_directory
from assistant.facts import DepartmentRow, Stats, department_rows, score_stats
from assistant.ingest import ingest
from assistant.lexicon import Lexicon, lexicon_path, load_lexicon
from assistant.records import Commitment
from assistant.sources import MANIFEST, Source, load_manifest


@dataclass(frozen=True)
class Corpus:
    records: tuple[Commitment, ...]
    sources: tuple[Source, ...]
    directory: Directory
    version: str  # sha256 of the manifest, the department file and every source file, shortened
    data_dir: Path = field(compare=False)
    lexicon: Lexicon = field(compare=False)  # the city and the categories (data/lexicon.toml)

    @cached_property
    def departments(self) -> list[DepartmentRow]:
        return department_rows(self.records)

    @cached_property
    def departments_by_year(self) -> dict[int, list[DepartmentRow]]:
        """The department rows of each year, the years in the order the sources first give them: the handlers
        read the years in scope, not every row of a long archive."""
        grouped: dict[int, list[DepartmentRow]] = {}
        for d in self.departments:
            grouped.setdefault(d.year, []).append(d)
        return grouped

    @cached_property
    def kinds_by_year(self) -> dict[int, set[str]]:
        """The kinds of table (outcomes, targets) each year holds."""
        found: dict[int, set[str]] = {}
        for r in self.records:
            found.setdefault(r.year, set()).add(r.kind)
        return found

    @cached_property
    def positions_by_department(self) -> dict[str, list[int]]:
        """Where each department's records stand in `records`, in order."""
        grouped: dict[str, list[int]] = {}
        for i, r in enumerate(self.records):
            grouped.setdefault(r.department, []).append(i)
        return grouped

    @cached_property
    def positions_by_year(self) -> dict[int, list[int]]:
        grouped: dict[int, list[int]] = {}
        for i, r in enumerate(self.records):
            grouped.setdefault(r.year, []).append(i)
        return grouped

    def records_in(self, years: tuple[int, ...] = (), departments: tuple[str, ...] = ()) -> list[Commitment]:
        """The records of those departments (or years; empty: all), in the order of `records`, read from the
        indexes rather than by a scan of every row."""
        if departments:
            groups = [self.positions_by_department.get(d, []) for d in departments]
        elif years:
            groups = [self.positions_by_year.get(y, []) for y in years]
        else:
            return list(self.records)
        positions = groups[0] if len(groups) == 1 else sorted(p for g in groups for p in g)
        return [self.records[p] for p in positions]

    @cached_property
    def _score_stats(self) -> dict[tuple[int, str], list[Stats]]:
        return {}

    def score_stats_of(self, year: int, category: str) -> list[Stats]:
        """Score statistics of one year's category, computed once per corpus (a corpus never changes)."""
        key = (year, category)
        if key not in self._score_stats:
            self._score_stats[key] = score_stats(self.departments_by_year.get(year, ()), year, category)
        return self._score_stats[key]

    @cached_property
    def by_row(self) -> dict[tuple[str, int], Commitment]:
        return {(r.source, r.line): r for r in self.records}

    def record_at(self, source: str, line: int) -> Commitment | None:
        return self.by_row.get((source, line))

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)

    def records_of(self, department: str, year: int | None = None) -> list[Commitment]:
        return [r for r in self.records if r.department == department and (year is None or r.year == year)]


def keep_out_of_full_collections() -> None:
    """Move the objects alive now (a corpus and its indexes, kept as long as they serve) out of the garbage
    collector's full passes. At 100,000 rows a full pass over them stalled an answer for about 0.7 s. They are
    still freed by reference counting when a reload replaces them (they hold no reference cycles)."""
    import gc

    gc.freeze()


def data_version(data_dir: Path, sources: list[Source]) -> str:
    digest = hashlib.sha256()
    for path in [data_dir / MANIFEST, data_dir / DIRECTORY_FILE, lexicon_path(data_dir), *(s.path for s in sources)]:
        digest.update(path.name.encode())
        if path.exists():
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def load_corpus(data_dir: Path, version: str | None = None) -> Corpus:
    """Raises IngestError (every problem, with file and line) if any source is bad. `version`: the published
    version's id (assistant.versions), else a digest of the folder's files."""
    sources = load_manifest(data_dir)
    records = tuple(r for report in ingest(sources) for r in report.records)
    directory = load_directory(data_dir, known=dict.fromkeys(r.department for r in records))
    corpus = Corpus(records, tuple(sources), directory, version or data_version(data_dir, sources), data_dir,
                    load_lexicon(data_dir))
    keep_out_of_full_collections()
    return corpus


class CorpusHolder:
    """The corpus being served; `reload` swaps in a new one only when it loaded in full."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self._lock = threading.Lock()
        self._current = load_corpus(data_dir)

    @property
    def current(self) -> Corpus:
        return self._current

    def reload(self) -> Corpus:
        with self._lock:
            fresh = load_corpus(self.data_dir)  # raises before anything is replaced
            self._current = fresh
            return fresh
