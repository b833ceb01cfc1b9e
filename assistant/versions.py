"""Published data versions: what the service answers from, and what a citation is read from.

Publishing validates a set of sources (the current version's, with the given files added or replacing
same-named ones). Only when every row of every file is a record does it write anything:

    <store>/objects/<sha256><suffix>   a content-addressed copy of every file ever published
    <store>/versions/<id>/             a complete data folder: sources.toml, departments.toml, lexicon.toml,
                                       the source files (hard links to objects) and version.json
    <store>/current                    the id of the version being served

A version folder is built under a temporary name and renamed into place, and `current` is written to a
temporary file and renamed over the old one (os.replace), so a crash leaves either the old version or the
new one, never half of one. Publishing and rollback hold a file lock, so two processes never take one id.

The store lives in `var/published/<data folder id>/`: each data folder (REVIEW_ASSISTANT_DATA_DIR) has its
own line of versions, and the first start over a folder publishes it as version v1.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.corpus import Corpus, load_corpus
from assistant.departments import DIRECTORY_FILE
from assistant.errors import IngestError, NotFound, Problem
from assistant.ingest import validate
from assistant.lexicon import LEXICON_FILE, lexicon_path
from assistant.messages import say
from assistant.records import IngestReport
from assistant.sources import MANIFEST, YEAR_IN_NAME, Source, load_manifest
from assistant.xlsx import Limits

VERSION_FILE = "version.json"
VERSION_ID = re.compile(r"^v(\d{1,9})$")


def store_path(var_dir: Path, data_dir: Path) -> Path:
    """The store of versions published over one data folder."""
    try:
        folder = str(data_dir.resolve())
    except (OSError, RuntimeError):
        folder = str(data_dir.absolute())
    return var_dir / "published" / hashlib.sha256(folder.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Upload:
    """A file to publish: where it is now, the name citations will use, and what is known of it."""

    path: Path
    name: str
    year: int | None = None
    kind: str | None = None
    title: str | None = None


@dataclass
class FileReport:
    file: str
    year: int
    kind: str | None
    rows_read: int
    records: int
    departments: int
    rejected: int
    warnings: list[str] = field(default_factory=list)
    changed: bool = True  # new or different content in this publish

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class PublishReport:
    """What a publish (or a dry run) found: per file, and the version it made (None: a dry run)."""

    files: list[FileReport]
    problems: list[Problem]
    version: dict[str, Any] | None = None
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "dry_run": self.dry_run, "version": self.version,
                "files": [f.to_json() for f in self.files], "problems": [p.to_json() for p in self.problems]}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def manifest_text(sources: list[Source]) -> str:
    parts = ["# Written by `review-assistant publish`: one entry per source of this version.\n"]
    for s in sources:
        entry = [f"file = {_toml_string(s.name)}", f"year = {s.year}", f"kind = {_toml_string(s.kind or '')}",
                 f"title = {_toml_string(s.title)}"]
        if s.encoding:
            entry.append(f"encoding = {_toml_string(s.encoding)}")
        if s.partial:
            entry.append("partial = true")
        if s.note:
            entry.append(f"note = {_toml_string(s.note)}")
        parts.append("\n[[source]]\n" + "\n".join(entry) + "\n")
    return "".join(parts)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with temporary.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


class VersionStore:
    def __init__(self, root: Path):
        self.root = root
        self.objects = root / "objects"
        self.versions_dir = root / "versions"
        self.pointer = root / "current"

    # ---- reading --------------------------------------------------------------------------------

    def current(self) -> str | None:
        try:
            text = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text if VERSION_ID.match(text) and (self.versions_dir / text).is_dir() else None

    def folder(self, version: str) -> Path:
        """The data folder of a version, or NotFound naming the versions there are."""
        path = self.versions_dir / version
        if not VERSION_ID.match(version) or not (path / VERSION_FILE).is_file():
            raise NotFound(f"version {version!r} is not published", [v["version"] for v in self.versions()][-5:],
                           "version")
        return path

    def info(self, version: str) -> dict[str, Any]:
        info: dict[str, Any] = json.loads((self.folder(version) / VERSION_FILE).read_text(encoding="utf-8"))
        return info

    def versions(self) -> list[dict[str, Any]]:
        """Every published version, oldest first, each marked `current` or not."""
        if not self.versions_dir.is_dir():
            return []
        current = self.current()
        found = []
        for path in self.versions_dir.iterdir():
            if VERSION_ID.match(path.name) and (path / VERSION_FILE).is_file():
                info = json.loads((path / VERSION_FILE).read_text(encoding="utf-8"))
                found.append({**info, "current": path.name == current})
        return sorted(found, key=lambda v: int(v["version"][1:]))

    def load(self, version: str) -> Corpus:
        return load_corpus(self.folder(version), version=version)

    # ---- writing --------------------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "lock").open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def publish(self, uploads: list[Upload], by: str, limits: Limits | None = None, dry_run: bool = False,
                base_dir: Path | None = None, replace_all: bool = False, note: str = "") -> PublishReport:
        """Validate the current version's sources with `uploads` added (a same-named file is replaced) and,
        when every row is a record and this is not a dry run, store them as a new current version.

        `base_dir`: a data folder to start from instead of the current version (the first publish, and
        `publish` of the data folder as it stands); `replace_all`: the uploads are the whole set."""
        with self.locked():
            current = self.current()
            base_folder = base_dir if base_dir is not None else (self.folder(current) if current else None)
            base = [] if base_folder is None or replace_all else load_manifest(base_folder)
            sources, problems = _combine(base, uploads)
            reports = validate(sources, limits)
            files = [_file_report(s, r, base) for s, r in zip(sources, reports, strict=True)]
            problems += [p for r in reports for p in r.rejected]
            if not sources:
                problems.append(Problem("(upload)", None, say("nothing_to_publish")))
            report = PublishReport(files, problems, dry_run=dry_run)
            if problems or dry_run:
                return report
            decided = [_with_kind(s, r) for s, r in zip(sources, reports, strict=True)]
            report.version = self._write(decided, base_folder, by, current, note, reports)
            return report

    def _write(self, sources: list[Source], extras: Path | None, by: str, parent: str | None, note: str,
               reports: list[IngestReport]) -> dict[str, Any]:
        self.objects.mkdir(parents=True, exist_ok=True)
        self.versions_dir.mkdir(parents=True, exist_ok=True)
        numbers = [int(m.group(1)) for p in self.versions_dir.iterdir() if (m := VERSION_ID.match(p.name))]
        version = f"v{max(numbers, default=0) + 1}"
        building = self.versions_dir / f".building-{uuid.uuid4().hex[:12]}"
        building.mkdir()
        try:
            files = []
            for source, report in zip(sources, reports, strict=True):
                digest = self._store_object(source.path)
                target = building / source.name
                target.parent.mkdir(parents=True, exist_ok=True)
                self._link(self.objects / (digest + source.path.suffix.lower()), target)
                files.append({"file": source.name, "sha256": digest, "bytes": target.stat().st_size,
                              "year": source.year, "kind": source.kind, "title": source.title,
                              "records": len(report.records)})
            for extra in (DIRECTORY_FILE, LEXICON_FILE):
                origin = (extras / extra) if extras is not None else None
                if extra == LEXICON_FILE and extras is not None:
                    origin = lexicon_path(extras)
                if origin is not None and origin.is_file():
                    digest = self._store_object(origin)
                    self._link(self.objects / (digest + origin.suffix.lower()), building / extra)
            moved = [dataclasses.replace(s, path=building / s.name) for s in sources]
            (building / MANIFEST).write_text(manifest_text(moved), encoding="utf-8")
            info = {"version": version, "parent": parent, "published_at": datetime.now(UTC).isoformat(
                timespec="seconds"), "published_by": by, "note": note, "files": files}
            (building / VERSION_FILE).write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(building, self.versions_dir / version)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        _write_atomically(self.pointer, version + "\n")
        return info

    def rollback(self, version: str) -> dict[str, Any]:
        """Serve an earlier (or later) published version again."""
        with self.locked():
            info = self.info(version)
            _write_atomically(self.pointer, version + "\n")
            return info

    def _store_object(self, path: Path) -> str:
        digest = sha256_file(path)
        target = self.objects / (digest + path.suffix.lower())
        if not target.exists():
            temporary = self.objects / f".{uuid.uuid4().hex[:12]}.tmp"
            shutil.copyfile(path, temporary)
            os.chmod(temporary, 0o444)
            os.replace(temporary, target)
        return digest

    @staticmethod
    def _link(origin: Path, target: Path) -> None:
        try:
            os.link(origin, target)
        except OSError:  # another file system, or no hard links there
            shutil.copyfile(origin, target)


def _combine(base: list[Source], uploads: list[Upload]) -> tuple[list[Source], list[Problem]]:
    """The base sources with the uploads added or replacing the same name; an upload without a known year
    is still validated (as year 0) and its unknown year is one more problem."""
    by_name = {s.name: s for s in base}
    problems: list[Problem] = []
    for upload in uploads:
        known = by_name.get(upload.name)
        year = upload.year or (known.year if known else None)
        if year is None and (found := YEAR_IN_NAME.search(upload.name)):
            year = int(found.group(1))
        if year is None:
            problems.append(Problem(upload.name, None, say("year_unknown_upload")))
            year = 0
        kind = upload.kind or (known.kind if known else None)
        by_name[upload.name] = Source(path=upload.path, name=upload.name, year=year,
                                      kind=kind,  # type: ignore[arg-type]
                                      title=upload.title or (known.title if known else Path(upload.name).stem),
                                      partial=known.partial if known else False,  # what the document is
                                      note=known.note if known else "")
    return list(by_name.values()), problems


def _file_report(source: Source, report: IngestReport, base: list[Source]) -> FileReport:
    kind = report.records[0].kind if report.records else source.kind
    before = next((b for b in base if b.name == source.name), None)
    changed = True
    if before is not None and not report.unreadable:
        try:
            changed = sha256_file(before.path) != sha256_file(source.path)
        except OSError:
            changed = True
    return FileReport(source.name, source.year, kind, report.rows_read, len(report.records),
                      len({r.department for r in report.records}), len(report.rejected),
                      [str(w) for w in report.warnings], changed)


def _with_kind(source: Source, report: IngestReport) -> Source:
    kind = source.kind or (report.records[0].kind if report.records else None)
    return Source(source.path, source.name, source.year, kind, source.title, source.encoding, source.partial,
                  source.note)


class PublishedCorpus:
    """The corpus being served: the store's current version. `changed` looks at the pointer at most every
    `follow_seconds`; `reload` switches to the version it names."""

    def __init__(self, store: VersionStore, data_dir: Path, limits: Limits | None = None, follow_seconds: float = 2.0):
        self.store = store
        self.data_dir = data_dir
        self.follow_seconds = follow_seconds
        self._lock = threading.Lock()
        if store.current() is None:  # the first start over this data folder publishes it as v1
            report = store.publish([], f"first start from {data_dir}", limits, base_dir=data_dir,
                                   note="the data folder at first start")
            if report.problems:
                raise IngestError(report.problems)
        version = store.current()
        assert version is not None
        self._current = store.load(version)
        self._looked = time.monotonic()
        self._others: dict[str, Corpus] = {}

    @property
    def current(self) -> Corpus:
        return self._current

    def reload(self) -> Corpus:
        """Switch to the store's current version now (no-op when it is the one served)."""
        with self._lock:
            self._looked = time.monotonic()
            version = self.store.current()
            if version is not None and version != self._current.version:
                self._current = self.store.load(version)  # raises before anything is replaced
            return self._current

    def changed(self) -> bool:
        """Whether the store's current version is another than the one served (another process published
        or rolled back); looks at the pointer at most every `follow_seconds`."""
        if time.monotonic() - self._looked < self.follow_seconds:
            return False
        self._looked = time.monotonic()
        version = self.store.current()
        return version is not None and version != self._current.version

    def version(self, version: str | None) -> Corpus:
        """The corpus of a version (the current one when None): what an answer that named it used."""
        current = self._current
        if version is None or version == current.version:
            return current
        with self._lock:
            if version not in self._others:
                if len(self._others) >= 4:
                    self._others.pop(next(iter(self._others)))
                self._others[version] = self.store.load(version)
            return self._others[version]
