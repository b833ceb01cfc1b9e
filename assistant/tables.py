"""Reading a source file into raw rows of cells, each with its provenance.

Three formats give the same rows: the seed format (tab-separated text with `## ` category lines),
CSV (quoted cells may hold newlines) and xlsx (merged cells are spread over the rows they cover; see
`assistant.xlsx` for what is read and what is refused there).

Before any row is read the path must be a regular, readable file within the size limit (a directory,
a symlink loop or a pipe is a named error). Text files must hold no NUL byte (UTF-16 is named as such)
and no control character other than tab and line ends; one trailing Ctrl-Z (0x1A, an old DOS end of
file mark) is dropped. A cell with an invisible character (zero-width space, a BOM inside the text) is
a named error: it would make two names that look the same differ.
"""

from __future__ import annotations

import csv
import errno
import io
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.messages import say
from assistant.records import IngestError, Problem
from assistant.xlsx import Limits, SheetData, column_letter, read_xlsx, sheet_rows

TEXT_SUFFIXES = {".txt", ".tsv", ".tab"}
CSV_SUFFIXES = {".csv"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
SUFFIXES = TEXT_SUFFIXES | CSV_SUFFIXES | XLSX_SUFFIXES

# C0 controls but tab, LF and CR; DEL; C1 controls. CR is allowed only as part of a CRLF line end.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
INVISIBLE = re.compile(r"[\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\u00ad]")


@dataclass(frozen=True)
class RawRow:
    line: int  # 1-based: the file line where the row starts (xlsx: the sheet row)
    cells: list[str]
    sheet: str | None = None
    issues: dict[int, str] = field(default_factory=dict)  # 0-based column -> why that cell cannot be read
    copied: frozenset[int] = frozenset()  # 0-based columns whose value a merged cell above copied down

    def cell_ref(self, index: int) -> str | None:
        """The spreadsheet reference of cell `index` (0-based), for xlsx rows."""
        return f"{column_letter(index + 1)}{self.line}" if self.sheet is not None else None


def default_limits() -> Limits:
    from assistant.settings import get_settings

    s = get_settings()
    return Limits(s.ingest_max_rows, s.ingest_max_columns, s.ingest_max_bytes)


def decode(data: bytes, source: str, encoding: str | None = None) -> str:
    """UTF-8 (with or without BOM) or GB18030/GBK; undecodable bytes name their line."""
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff")  # a BOM even when the manifest names utf-8
        except UnicodeDecodeError as exc:
            raise _undecodable(data, source, exc, encoding) from None
        except LookupError:
            raise IngestError([Problem(source, None, say("unknown_encoding", encoding=encoding))]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        # Valid multi-byte UTF-8 before the bad byte means a damaged UTF-8 file, not a GBK one.
        head = data[: utf8_error.start]
        if any(b >= 0x80 for b in head):
            raise _undecodable(data, source, utf8_error, "UTF-8") from None
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise _undecodable(data, source, utf8_error, "UTF-8 or GB18030") from None


def _undecodable(data: bytes, source: str, exc: UnicodeDecodeError, tried: str) -> IngestError:
    line = data[: exc.start].count(b"\n") + 1
    bad = data[exc.start : exc.start + 4].hex(" ")
    return IngestError([Problem(source, line, say("undecodable", bytes=bad, offset=exc.start, tried=tried))])


def check_file(path: Path, source: str, limits: Limits) -> None:
    """The path must be a readable regular file within the size limit."""
    def fail(key: str, **values: object) -> IngestError:
        return IngestError([Problem(source, None, say(key, **values))])

    try:
        info = path.stat()
    except FileNotFoundError:
        raise fail("broken_symlink" if path.is_symlink() else "file_not_found") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise fail("symlink_loop") from None
        raise fail("cannot_read", reason=exc.strerror or str(exc)) from None
    except RuntimeError:  # Python's own symlink loop detection
        raise fail("symlink_loop") from None
    if stat.S_ISDIR(info.st_mode):
        raise fail("is_directory")
    if not stat.S_ISREG(info.st_mode):
        raise fail("not_regular_file")
    if info.st_size > limits.max_bytes:
        raise fail("file_too_big", size=info.st_size, limit=limits.max_bytes)


def read_rows(path: Path, source: str, encoding: str | None = None, limits: Limits | None = None,
              warnings: list[Problem] | None = None) -> Iterator[RawRow]:
    limits = limits or default_limits()
    check_file(path, source, limits)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise IngestError([Problem(source, None, say("unsupported_type", suffix=suffix,
                                                     known=", ".join(sorted(SUFFIXES))))])
    if suffix in XLSX_SUFFIXES:
        return _xlsx_rows(path, source, limits, warnings if warnings is not None else [])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError([Problem(source, None, say("cannot_read", reason=exc.strerror or str(exc)))]) from None
    data = _check_bytes(data, source)
    text = decode(data, source, encoding)
    if suffix in CSV_SUFFIXES:
        return _checked(_csv_rows(text, source))
    return _checked(_tsv_rows(text))


def _check_bytes(data: bytes, source: str) -> bytes:
    if _looks_utf16(data):
        raise IngestError([Problem(source, None, say("utf16"))])
    nul = data.find(b"\x00")
    if nul >= 0:
        raise IngestError([Problem(source, data[:nul].count(b"\n") + 1, say("nul_byte", offset=nul))])
    end = data.rstrip(b"\r\n")
    if end.endswith(b"\x1a"):
        data = end[:-1] + data[len(end):]  # a DOS end-of-file mark
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise IngestError([Problem(source, None, say("file_empty"))])
    return data


def _looks_utf16(data: bytes) -> bool:
    """A UTF-16 BOM, or a head that reads as text in UTF-16 (a binary file with NUL bytes does not)."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    if b"\x00" not in data[:2000]:
        return False
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = data[:2000].decode(encoding)
        except UnicodeDecodeError:
            continue
        if text and sum(ch.isprintable() or ch in "\t\r\n" for ch in text) / len(text) > 0.95:
            return True
    return False


def _tsv_rows(text: str) -> Iterator[RawRow]:
    """The seed format: one row per line, cells split on tabs, no quoting (lines stay citable)."""
    for number, line in enumerate(text.split("\n"), 1):
        yield RawRow(number, line.rstrip("\r").split("\t"))  # CRLF, or CRCRLF from a double conversion


def _csv_rows(text: str, source: str) -> Iterator[RawRow]:
    sample = text[:4096]
    delimiter = max("\t,;", key=sample.count) if any(ch in sample for ch in "\t;") else ","  # ; from European Excel
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise IngestError([Problem(source, start, say("malformed_csv", reason=str(exc)))]) from None
        yield RawRow(start, [c.replace("\r\n", "\n") for c in cells])
        start = reader.line_num + 1


def _checked(rows: Iterator[RawRow]) -> Iterator[RawRow]:
    """Name the first control or invisible character of each row's cells."""
    for row in rows:
        issues = {}
        for index, cell in enumerate(row.cells):
            issue = cell_issue(cell)
            if issue:
                issues[index] = issue
                break
        yield RawRow(row.line, row.cells, row.sheet, issues) if issues else row


def cell_issue(cell: str) -> str | None:
    found = CONTROL.search(cell.replace("\n", "")) or INVISIBLE.search(cell)
    if found is None:
        return None
    char = found.group()
    key = "control_character" if CONTROL.match(char) else "invisible_character"
    shown = INVISIBLE.sub(_marker, CONTROL.sub(_marker, cell[:30]))
    return say(key, code=f"U+{ord(char):04X}", cell=shown)


def _marker(found: re.Match[str]) -> str:
    """A control or invisible character, made visible in a message: <U+200B>."""
    return f"<U+{ord(found.group()):04X}>"


def _xlsx_rows(path: Path, source: str, limits: Limits, warnings: list[Problem]) -> Iterator[RawRow]:
    try:
        sheets = read_xlsx(path, source, limits, warnings)
    except IngestError:
        raise
    except (ValueError, KeyError, IndexError, OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise IngestError([Problem(source, None, say("xlsx_damaged", reason=f"{type(exc).__name__}: {exc}"[:200]))]) \
            from None
    if not any(s.rows or s.issues for s in sheets):
        raise IngestError([Problem(source, None, say("file_empty"))])
    return _sheet_rows(sheets)


def _sheet_rows(sheets: list[SheetData]) -> Iterator[RawRow]:
    for sheet in sheets:
        for line, cells, issues, copied in sheet_rows(sheet):
            for index, cell in enumerate(cells):
                if index not in issues:
                    issue = cell_issue(cell)
                    if issue:
                        issues[index] = issue
            yield RawRow(line, cells, sheet.name, issues, copied)
