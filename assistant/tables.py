"""Reading a source file into raw rows of cells, each with its provenance.

Three formats give the same rows: the seed format (tab-separated text with `## ` category lines),
CSV (quoted cells may hold newlines) and xlsx (merged cells are spread over the rows they cover).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.records import IngestError, Problem

TEXT_SUFFIXES = {".txt", ".tsv", ".tab"}
CSV_SUFFIXES = {".csv"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
SUFFIXES = TEXT_SUFFIXES | CSV_SUFFIXES | XLSX_SUFFIXES


@dataclass(frozen=True)
class RawRow:
    line: int  # 1-based: the file line where the row starts (xlsx: the sheet row)
    cells: list[str]
    sheet: str | None = None


def decode(data: bytes, source: str, encoding: str | None = None) -> str:
    """UTF-8 (with or without BOM) or GB18030/GBK; undecodable bytes name their line."""
    if encoding:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise _undecodable(data, source, exc, encoding) from None
        except LookupError:
            raise IngestError([Problem(source, None, f"unknown encoding {encoding!r}")]) from None
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
    return IngestError([Problem(source, line, f"undecodable bytes ({bad}) at byte {exc.start}: not {tried}")])


def read_rows(path: Path, source: str, encoding: str | None = None) -> Iterator[RawRow]:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise IngestError(
            [Problem(source, None, f"unsupported file type {suffix!r}; use one of {sorted(SUFFIXES)}")]
        )
    try:
        if suffix in XLSX_SUFFIXES:
            return _xlsx_rows(path, source)
        data = path.read_bytes()
    except FileNotFoundError:
        raise IngestError([Problem(source, None, "file not found")]) from None
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise IngestError([Problem(source, None, "file is empty")])
    text = decode(data, source, encoding)
    if suffix in CSV_SUFFIXES:
        return _csv_rows(text, source)
    return _tsv_rows(text)


def _tsv_rows(text: str) -> Iterator[RawRow]:
    """The seed format: one row per line, cells split on tabs, no quoting (lines stay citable)."""
    for number, line in enumerate(text.split("\n"), 1):
        yield RawRow(number, line.rstrip("\r").split("\t"))


def _csv_rows(text: str, source: str) -> Iterator[RawRow]:
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise IngestError([Problem(source, start, f"malformed CSV: {exc}")]) from None
        yield RawRow(start, cells)
        start = reader.line_num + 1


def _xlsx_rows(path: Path, source: str) -> Iterator[RawRow]:
    import openpyxl  # only xlsx needs it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, data_only=True)  # not read-only: merged ranges are needed
    except FileNotFoundError:
        raise IngestError([Problem(source, None, "file not found")]) from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise IngestError([Problem(source, None, f"not a readable xlsx workbook: {exc}")]) from None
    if all(sheet.max_row <= 1 and sheet.max_column <= 1 and sheet.cell(1, 1).value is None
           for sheet in book.worksheets):
        raise IngestError([Problem(source, None, "file is empty")])
    return _sheet_rows(book)


def _sheet_rows(book: Any) -> Iterator[RawRow]:
    for sheet in book.worksheets:
        grid: dict[tuple[int, int], str] = {}
        for row in sheet.iter_rows():
            for cell in row:
                grid[(cell.row, cell.column)] = cell_text(cell.value, cell.number_format)
        for merged in sheet.merged_cells.ranges:
            top = grid.get((merged.min_row, merged.min_col), "")
            if merged.min_col == merged.max_col:  # merged down: the value belongs to every row
                for r in range(merged.min_row, merged.max_row + 1):
                    grid[(r, merged.min_col)] = top
        width = sheet.max_column
        for r in range(1, sheet.max_row + 1):
            yield RawRow(r, [grid.get((r, c), "") for c in range(1, width + 1)], sheet=sheet.title)


def cell_text(value: Any, number_format: str = "General") -> str:
    """A cell as its text: numbers keep the decimals their format shows (135.20 stays 135.20)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        decimals = _format_decimals(number_format)
        if decimals is not None:
            return f"{value:.{decimals}f}"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value).strip()


def _format_decimals(number_format: str) -> int | None:
    fmt = number_format.split(";")[0]
    if not fmt or fmt == "General" or "0" not in fmt:
        return None
    if "." in fmt:
        return sum(ch in "0#" for ch in fmt.split(".", 1)[1])
    return 0
