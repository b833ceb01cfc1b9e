"""The manifest (data/sources.toml): which file holds which year and kind of table."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from assistant.messages import say
from assistant.records import KINDS, IngestError, Kind, Problem

MANIFEST = "sources.toml"
UNKNOWN_YEAR = 0  # a file checked without a known year: its records are never served


@dataclass(frozen=True)
class Source:
    path: Path
    name: str  # how citations name the file: its path relative to the data folder
    year: int
    kind: Kind | None  # None: decided by the header row
    title: str = ""
    encoding: str | None = None
    partial: bool = False
    note: str = ""


def load_manifest(data_dir: Path) -> list[Source]:
    path = data_dir / MANIFEST
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IngestError([Problem(str(path), None, say("manifest_not_found"))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError([Problem(str(path), None, say("cannot_read", reason=getattr(exc, "strerror", None)
                                                        or str(exc)))]) from None
    except tomllib.TOMLDecodeError as exc:
        raise IngestError([Problem(str(path), getattr(exc, "lineno", None), say("invalid_toml", reason=str(exc)))]) \
            from None
    sources = []
    entries = raw.get("source", [])
    for n, entry in enumerate(entries if isinstance(entries, list) else [entries], 1):
        where = f"[[source]] #{n}"
        if not isinstance(entry, dict):
            raise IngestError([Problem(str(path), None, say("manifest_entry_bad", where=where))])
        missing = [k for k in ("file", "year", "kind") if k not in entry]
        if missing:
            raise IngestError([Problem(str(path), None, say("manifest_entry_lacks", where=where,
                                                            keys=", ".join(missing)))])
        if entry["kind"] not in KINDS:
            raise IngestError([Problem(str(path), None, say("manifest_bad_kind", where=where, kinds=", ".join(KINDS)))])
        if not isinstance(entry["file"], str) or isinstance(entry["year"], bool) \
                or not isinstance(entry["year"], int) or not 1900 <= entry["year"] <= 2999:
            raise IngestError([Problem(str(path), None, say("manifest_bad_value", where=where))])
        sources.append(
            Source(
                path=data_dir / entry["file"],
                name=entry["file"],
                year=int(entry["year"]),
                kind=entry["kind"],
                title=entry.get("title", ""),
                encoding=entry.get("encoding"),
                partial=bool(entry.get("partial", False)),
                note=entry.get("note", ""),
            )
        )
    return sources


YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d\d)(?!\d)")


def source_for_path(path: Path, manifest: list[Source], year: int | None = None) -> Source:
    """The manifest entry for a file, or one inferred from --year or a year in its name."""
    resolved = _resolved(path)
    for source in manifest:
        if _resolved(source.path) == resolved:
            return source
    if year is None:
        found = YEAR_IN_NAME.search(path.name)
        if not found:
            raise IngestError(
                [Problem(str(path), None, say("year_unknown"))]
            )
        year = int(found.group(1))
    return Source(path=path, name=str(path), year=year, kind=None, title=path.stem)


def _resolved(path: Path) -> Path:
    """The resolved path, or the path as given when it cannot be resolved (a symlink loop is named later)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()
