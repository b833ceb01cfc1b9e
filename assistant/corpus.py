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
from assistant.facts import DepartmentRow, department_rows
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
    def by_row(self) -> dict[tuple[str, int], Commitment]:
        return {(r.source, r.line): r for r in self.records}

    def record_at(self, source: str, line: int) -> Commitment | None:
        return self.by_row.get((source, line))

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)

    def records_of(self, department: str, year: int | None = None) -> list[Commitment]:
        return [r for r in self.records if r.department == department and (year is None or r.year == year)]


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
    return Corpus(records, tuple(sources), directory, version or data_version(data_dir, sources), data_dir,
                  load_lexicon(data_dir))


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
