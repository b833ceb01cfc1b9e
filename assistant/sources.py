"""The manifest (data/sources.toml): which file holds which year and kind of table."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from assistant.records import KINDS, IngestError, Kind, Problem

MANIFEST = "sources.toml"


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
        raise IngestError([Problem(str(path), None, "manifest not found")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise IngestError([Problem(str(path), getattr(exc, "lineno", None), f"invalid TOML: {exc}")]) from None
    sources = []
    for n, entry in enumerate(raw.get("source", []), 1):
        where = f"[[source]] #{n}"
        missing = [k for k in ("file", "year", "kind") if k not in entry]
        if missing:
            raise IngestError([Problem(str(path), None, f"{where} lacks {', '.join(missing)}")])
        if entry["kind"] not in KINDS:
            raise IngestError([Problem(str(path), None, f"{where}: kind must be one of {KINDS}")])
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
    resolved = path.resolve()
    for source in manifest:
        if source.path.resolve() == resolved:
            return source
    if year is None:
        found = YEAR_IN_NAME.search(path.name)
        if not found:
            raise IngestError(
                [Problem(str(path), None, "year unknown: list the file in data/sources.toml or pass --year")]
            )
        year = int(found.group(1))
    return Source(path=path, name=str(path), year=year, kind=None, title=path.stem)
