"""A bounded, streaming xlsx reader that gives each cell as the text Excel shows.

Why not openpyxl's own loader: its normal mode builds every cell of the used range in memory (a 5 KB
file whose dimension claims XFD1048576 exhausts memory), its read-only mode loses merged cells, and
neither says whether a formula has a saved value. This reader streams each sheet's XML once:
- it ignores the claimed dimension and reads at most `max_rows` rows and `max_columns` columns; a value
  beyond them is a named error (empty styled cells out there are ignored);
- every part of the archive must unpack to at most `max_bytes`, so memory and time stay bounded;
- numbers are rendered through their number format the way Excel shows them (0.00 on 129.855 shows
  129.86: Excel rounds half away from zero on the 15 significant digits it keeps);
- a formula without a saved value, an error value (#DIV/0!), a hidden row or a hidden column holding a
  value are reported per cell, never read as empty;
- hidden sheets are skipped, with a warning naming them (a hidden sheet is not part of the table the
  reader sees); chart sheets hold no cells and are skipped.
openpyxl still supplies the built-in number formats and the date conversions.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET

from assistant.messages import say
from assistant.records import IngestError, Problem


@dataclass(frozen=True)
class Limits:
    max_rows: int = 100_000
    max_columns: int = 100
    max_bytes: int = 16 * 1024 * 1024


@dataclass
class SheetData:
    name: str
    rows: dict[int, dict[int, str]] = field(default_factory=dict)  # row -> column (1-based) -> text
    issues: dict[int, dict[int, str]] = field(default_factory=dict)  # row -> column -> why unreadable
    copies: dict[int, set[int]] = field(default_factory=dict)  # row -> columns whose value a merge copied down


REL_OFFICE = "officeDocument"
CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _Book:
    def __init__(self, path: Path, source: str, limits: Limits):
        self.source = source
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError):
            raise self.fail(say("xlsx_not_zip")) from None
        for info in self.zip.infolist():
            if info.file_size > limits.max_bytes:
                raise self.fail(say("xlsx_part_too_big", part=info.filename, size=info.file_size,
                                    limit=limits.max_bytes))

    def fail(self, message: str) -> IngestError:
        return IngestError([Problem(self.source, None, message)])

    def open(self, name: str) -> IO[bytes]:
        try:
            return self.zip.open(name)
        except KeyError:
            raise self.fail(say("xlsx_missing_part", part=name)) from None

    def xml(self, name: str) -> ET.Element:
        try:
            with self.open(name) as f:
                return ET.fromstring(f.read())
        except ET.ParseError as exc:
            raise self.fail(say("xlsx_bad_xml", part=name, reason=str(exc))) from None

    def rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, target part) for `part`."""
        folder, base = posixpath.split(part)
        name = posixpath.join(folder, "_rels", base + ".rels")
        if name not in self.zip.namelist():
            return {}
        found = {}
        for rel in self.xml(name):
            target = rel.get("Target", "")
            if rel.get("TargetMode") == "External":
                continue
            full = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            found[rel.get("Id", "")] = (rel.get("Type", "").rsplit("/", 1)[-1], full)
        return found


def read_xlsx(path: Path, source: str, limits: Limits, warnings: list[Problem]) -> list[SheetData]:
    book = _Book(path, source, limits)
    workbook_part = next((target for kind, target in book.rels("").values() if kind == REL_OFFICE),
                         "xl/workbook.xml")
    workbook = book.xml(workbook_part)
    rels = book.rels(workbook_part)
    date1904 = False
    sheets: list[tuple[str, str, str]] = []  # name, state, relationship id
    for el in workbook.iter():
        tag = _local(el.tag)
        if tag == "workbookPr":
            date1904 = el.get("date1904", "0").lower() in ("1", "true")
        elif tag == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), "")
            sheets.append((el.get("name", "?"), el.get("state", "visible"), rid))
    shared = _shared_strings(book, [t for k, t in rels.values() if k == "sharedStrings"])
    formats = _cell_formats(book, [t for k, t in rels.values() if k == "styles"])
    result = []
    for name, state, rid in sheets:
        kind, target = rels.get(rid, ("", ""))
        if state != "visible":
            warnings.append(Problem(source, None, say("xlsx_hidden_sheet", sheet=name, state=state), sheet=name))
            continue
        if kind != "worksheet":
            continue  # chart and dialog sheets hold no cells
        result.append(_read_sheet(book, name, target, shared, formats, date1904))
    return result


def _shared_strings(book: _Book, parts: list[str]) -> list[str]:
    if not parts:
        return []
    strings = []
    for si in book.xml(parts[0]):
        strings.append(_string_item(si))
    return strings


def _string_item(si: ET.Element) -> str:
    """The text of a shared or inline string: plain <t>, or rich-text runs; phonetic runs (rPh) are not shown."""
    parts = []
    for child in si:
        tag = _local(child.tag)
        if tag == "t":
            parts.append(child.text or "")
        elif tag == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _cell_formats(book: _Book, parts: list[str]) -> list[str]:
    """Style index (the cell's `s`) -> number format code."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS

    if not parts:
        return []
    root = book.xml(parts[0])
    custom: dict[int, str] = {}
    xfs: list[str] = []
    for el in root:
        if _local(el.tag) == "numFmts":
            for fmt in el:
                custom[int(fmt.get("numFmtId", "0"))] = fmt.get("formatCode", "General")
        elif _local(el.tag) == "cellXfs":
            for xf in el:
                fid = int(xf.get("numFmtId", "0"))
                xfs.append(custom.get(fid) or BUILTIN_FORMATS.get(fid, "General"))
    return xfs


def _read_sheet(book: _Book, name: str, part: str, shared: list[str], formats: list[str],
                date1904: bool) -> SheetData:
    """Stream one sheet's XML with expat (no element tree is built, so memory stays flat)."""
    from xml.parsers import expat

    limits = book.limits
    sheet = SheetData(name)
    hidden_columns: set[int] = set()
    merges: list[tuple[int, int, int, int]] = []
    at = {"row": 0, "rows": 0, "column": 0, "hidden": 0, "phonetic": 0}
    cell: dict[str, Any] | None = None
    target: list[str] | None = None  # the text being collected (<v>, <f> or an inline <t>)

    names: dict[str, str] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal cell, target
        tag = names.get(tag) or names.setdefault(tag, _local(tag))
        if tag == "c":
            found = CELL_REF.match(attrs.get("r", ""))
            at["column"] = _column_index(found.group(1)) if found else at["column"] + 1
            cell = {"t": attrs.get("t", "n"), "s": attrs.get("s", "0"), "f": None, "v": None, "is": []}
        elif cell is not None and tag in ("v", "f"):
            cell[tag] = target = []
        elif cell is not None and tag == "t" and not at["phonetic"]:
            target = []
            cell["is"].append(target)
        elif tag == "rPh":
            at["phonetic"] = 1
        elif tag == "row":
            at["rows"] += 1
            at["row"] = int(attrs.get("r") or at["row"] + 1)
            if at["rows"] > limits.max_rows:  # even empty formatted rows: they cost time to read
                raise IngestError([Problem(book.source, at["row"], say("xlsx_too_many_rows", rows=limits.max_rows),
                                           sheet.name)])
            at["hidden"] = attrs.get("hidden", "0").lower() in ("1", "true")
            at["column"] = 0
        elif tag == "col" and attrs.get("hidden", "0").lower() in ("1", "true"):
            first, last = int(attrs.get("min", "1")), int(attrs.get("max", "1"))
            hidden_columns.update(range(first, min(last, limits.max_columns) + 1))
        elif tag == "mergeCell":
            merge = _range(attrs.get("ref", ""))
            if merge:
                merges.append(merge)

    def end(tag: str) -> None:
        nonlocal cell, target
        tag = names[tag]
        if tag in ("v", "f", "t"):
            target = None
        elif tag == "rPh":
            at["phonetic"] = 0
        elif tag == "c" and cell is not None:
            formula = None if cell["f"] is None else "".join(cell["f"])
            value = None if cell["v"] is None else "".join(cell["v"])
            inline = "".join("".join(t) for t in cell["is"])
            _take_cell(book, sheet, cell["t"], cell["s"], formula, value, inline, at["row"], at["column"], shared,
                       formats, date1904, bool(at["hidden"]), hidden_columns)
            cell = None

    def text(data: str) -> None:
        if target is not None:
            target.append(data)

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.buffer_text = True
    try:
        with book.open(part) as stream:
            parser.ParseFile(stream)
    except expat.ExpatError as exc:
        raise book.fail(say("xlsx_bad_xml", part=part, reason=str(exc))) from None
    _spread_merges(sheet, merges)
    return sheet


def _take_cell(book: _Book, sheet: SheetData, kind: str, style_index: str, formula: str | None, value: str | None,
               inline: str, row: int, column: int, shared: list[str], formats: list[str], date1904: bool,
               row_hidden: bool, hidden_columns: set[int]) -> None:
    if formula is None and not value and not inline:
        return  # an empty (perhaps styled) cell: nothing shown
    ref = f"{column_letter(column)}{row}"
    if row > book.limits.max_rows or column > book.limits.max_columns:
        raise IngestError([Problem(book.source, row, say("xlsx_beyond_limits", rows=book.limits.max_rows,
                                                         columns=book.limits.max_columns), sheet.name, cell=ref)])
    issue = None
    text = ""
    if formula is not None and (value is None or (value == "" and kind != "str")):
        issue = say("xlsx_formula_no_value", formula="=" + formula if formula else "a shared formula")
    elif kind == "s":
        try:
            text = shared[int(value or "")]
        except (ValueError, IndexError):
            raise book.fail(say("xlsx_bad_xml", part="sharedStrings", reason=f"no string {value!r} for {ref}")) \
                from None
    elif kind == "inlineStr":
        text = inline
    elif kind in ("str", "d"):
        text = value or ""
    elif kind == "b":
        text = "TRUE" if value == "1" else "FALSE"
    elif kind == "e":
        issue = say("xlsx_error_value", value=value)
    else:
        style = int(style_index) if style_index.isdigit() else 0
        number_format = formats[style] if 0 <= style < len(formats) else "General"
        try:
            text = render_number(float(value or ""), number_format, date1904)
        except ValueError:
            issue = say("xlsx_bad_number", value=value)
    if issue is None and text.strip():
        if row_hidden:
            issue = say("xlsx_hidden_row")
        elif column in hidden_columns:
            issue = say("xlsx_hidden_column", column=column_letter(column))
    if issue is not None:
        sheet.issues.setdefault(row, {})[column] = issue
    if text:
        sheet.rows.setdefault(row, {})[column] = text.strip()


def _range(ref: str) -> tuple[int, int, int, int] | None:
    parts = ref.split(":")
    found = [CELL_REF.match(p) for p in parts]
    if len(parts) != 2 or not all(found):
        return None
    (a, b) = (f for f in found if f)
    return int(a.group(2)), _column_index(a.group(1)), int(b.group(2)), _column_index(b.group(1))


def _spread_merges(sheet: SheetData, merges: list[tuple[int, int, int, int]]) -> None:
    """Excel shows a merged range's top-left value only: other values under a merge are dropped, and a
    cell merged down gives its value to every row it covers (as far as the sheet has data)."""
    last = max(sheet.rows, default=0)
    for min_row, min_col, max_row, max_col in merges:
        for grid in (sheet.rows, sheet.issues):
            for r in [r for r in grid if min_row <= r <= max_row]:
                for c in [c for c in grid[r] if min_col <= c <= max_col and (r, c) != (min_row, min_col)]:
                    del grid[r][c]
        if min_col != max_col or min_row == max_row:
            continue
        top = sheet.rows.get(min_row, {}).get(min_col)
        if top is None:
            continue
        for r in range(min_row + 1, min(max_row, last) + 1):
            sheet.rows.setdefault(r, {})[min_col] = top
            sheet.copies.setdefault(r, set()).add(min_col)


# ---- numbers as Excel shows them ----------------------------------------------------------------

_LITERAL = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def render_number(value: float, number_format: str, date1904: bool = False) -> str:
    """The text Excel shows for `value` under `number_format` (the positive section; literal text dropped).

    Rounding is half away from zero on the 15 significant digits Excel keeps, so 129.855 under 0.00
    shows 129.86 (Python's own formatting would give 129.85). Percent, scientific and thousands formats
    show their sign, exponent and commas, which the strict number check then names.
    """
    from openpyxl.styles.numbers import is_date_format

    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("not finite")
    if number_format and number_format != "General" and is_date_format(number_format):
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

        try:
            shown = from_excel(value, CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900)
        except (ValueError, OverflowError):
            return _general(value)
        return shown.date().isoformat() if hasattr(shown, "date") else str(shown)
    section = _LITERAL.sub("", (number_format or "General").split(";")[0]).strip()
    if section in ("", "General", "@") or not any(ch in section for ch in "0#?"):
        return _general(value)
    if "E" in section.upper() and re.search(r"[eE][+-]", section):
        decimals = len(re.findall(r"[0#?]", section.split(".", 1)[1].split("E")[0].split("e")[0])) \
            if "." in section else 0
        return f"{value:.{decimals}E}"
    if "/" in section:
        return _general(value) + " (a fraction format)"
    percent = "%" in section
    number = Decimal(f"{value:.15g}") * (100 if percent else 1)
    integer_part, _, fraction_part = section.replace("%", "").partition(".")
    required = fraction_part.count("0")
    optional = sum(fraction_part.count(ch) for ch in "#?")
    grouped = "," in integer_part.strip(",")
    rounded = number.quantize(Decimal(1).scaleb(-(required + optional)), rounding=ROUND_HALF_UP)
    text = format(rounded, f"{',' if grouped else ''}.{required + optional}f")
    if optional and "." in text:
        keep = len(text.split(".")[1])
        while keep > required and text.endswith("0"):
            text, keep = text[:-1], keep - 1
        text = text.rstrip(".")
    return text + ("%" if percent else "")


def _general(value: float) -> str:
    """Excel's General format: up to 15 significant digits, no trailing zeros."""
    text = f"{value:.15g}"
    return text.replace("e+", "E+").replace("e-", "E-")


def sheet_rows(sheet: SheetData) -> Iterator[tuple[int, list[str], dict[int, str], frozenset[int]]]:
    """(row, cells, issues by 0-based column, 0-based columns copied down by a merge) for every row
    holding a value or an issue."""
    rows = sorted(set(sheet.rows) | set(sheet.issues))
    width = max((c for r in rows for c in (*sheet.rows.get(r, {}), *sheet.issues.get(r, {}))), default=0)
    for r in rows:
        values = sheet.rows.get(r, {})
        issues = {c - 1: text for c, text in sheet.issues.get(r, {}).items()}
        copies = frozenset(c - 1 for c in sheet.copies.get(r, ()))
        yield r, [values.get(c, "") for c in range(1, width + 1)], issues, copies
