"""Sources -> `Commitment` records, with every data row either a record or a rejection with a reason.

The table layout this understands (whatever the file format):
- an optional title (rows with one non-empty cell) before the first header row;
- a header row, matched by column name (部门, 承诺事项, 兑现情况 or 年度目标, 最终得分, 类别内排名,
  评定难度系数; optionally 序号 and 类别), repeated after page breaks;
- `## 经济建设类` lines (or a lone "…类" cell, a 类别 column, or a sheet named "…类") open categories;
- the department, score, rank and coefficient are written on a department's first row and carry down.

Numbers are strict: a value loads only when it is exactly what the table shows (129.86, or 9 / 第9名 for
a rank). Decimal commas, thousands separators, scientific notation, underscores, superscript, circled or
full-width digits and units are each a named error that says what to write instead.

Each bad row gives one error, for the cell at fault. A rejected row still opens its department, so the
rows below it never count as the previous department's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from assistant.messages import say
from assistant.records import Commitment, IngestError, IngestReport, Kind, Problem
from assistant.schema import header_columns
from assistant.sources import UNKNOWN_YEAR, Source, load_manifest, source_for_path
from assistant.tables import RawRow, read_rows
from assistant.xlsx import Limits

# Column name -> field. Several names an office might use for the same column.
COLUMNS: dict[str, str] = header_columns()  # header cell -> field, from the one field table
REQUIRED = ("department", "title")
LABEL = {"score": "最终得分", "rank": "类别内排名", "coefficient": "评定难度系数"}
ITEM = re.compile(r"^\s*(\d{1,3})\s*(?:[.．、)）]\s*|\s+)(.*)$", re.S)
CATEGORY_LINE = re.compile(r"^\s*#{1,3}\s*(\S.*?)\s*$")
NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def normalise_header(cell: str) -> str:
    return re.sub(r"\s+", "", cell).strip("*:：")


@dataclass
class _Header:
    fields: list[str | None]  # field per column; None for an empty trailing header cell
    names: list[str]  # the header's own text per column (how errors name the column)
    kind: Kind
    line: int
    first: int = 0  # the first named column (cells left of it are outside the table)

    def index(self, name: str) -> int | None:
        return self.fields.index(name) if name in self.fields else None


@dataclass
class _Department:
    name: str
    line: int
    score: Decimal | None
    rank: int | None
    coefficient: Decimal | None
    category: str | None
    items: dict[int, int] = field(default_factory=dict)  # item number -> line
    broken: frozenset[str] = frozenset()  # values whose cell was rejected: not compared later


@dataclass
class _State:
    source: Source
    report: IngestReport
    header: _Header | None = None
    category: str | None = None
    department: _Department | None = None
    seen: dict[str, _Department] = field(default_factory=dict)
    sheet: str | None = None
    data_rows_in_sheet: int = 0
    header_in_sheet: _Header | None = None
    kind: Kind | None = None
    kind_line: int | None = None
    first_text_line: RawRow | None = None


class _Rejected(Exception):
    """A row that cannot become a record; `column` is the field at fault (None: the row as a whole)."""

    def __init__(self, message: str, column: str | None = None, column_index: int | None = None):
        super().__init__(message)
        self.column = column
        self.column_index = column_index


def ingest_file(source: Source, limits: Limits | None = None) -> IngestReport:
    """Read one source. Raises IngestError for a file that cannot be read at all (empty, no header,
    bad bytes); rows that cannot become records are listed in the report's `rejected`."""
    state = _State(source, IngestReport(source.name))
    for row in read_rows(source.path, source.name, source.encoding, limits, state.report.warnings):
        _take_row(state, row)
    _end_of_sheet(state)
    if state.kind is None:
        first = state.first_text_line
        line, sheet = (first.line, first.sheet) if first else (None, None)
        raise IngestError([Problem(source.name, line, say("no_header", expected=_expected(source)), sheet)])
    return state.report


def _end_of_sheet(state: _State) -> None:
    header = state.header_in_sheet
    if header is not None and not state.data_rows_in_sheet:
        state.report.rejected.append(Problem(state.source.name, header.line, say("header_without_rows"), state.sheet))


def _take_row(state: _State, row: RawRow) -> None:
    report = state.report
    if row.sheet != state.sheet:  # each sheet has its own title, header and category
        _end_of_sheet(state)
        state.sheet, state.header, state.category, state.department = row.sheet, None, None, None
        state.data_rows_in_sheet, state.header_in_sheet = 0, None
    cells = [c.strip() for c in row.cells]
    filled = [c for c in cells if c]
    if row.issues:
        first_issue = min(row.issues)
        problem = _problem(state, row, row.issues[first_issue], first_issue)
        if state.header is None:
            raise IngestError([problem])
        report.rows_read += 1
        state.data_rows_in_sheet += 1
        report.rejected.append(problem)
        _open_department_of_rejected_row(state, row, cells)
        return
    if not filled:
        report.skipped += 1
        return
    if state.first_text_line is None:
        state.first_text_line = row
    category = _category_line(cells, state.header.first if state.header else 0)
    if category is not None:
        state.category, state.department = category, None
        report.skipped += 1
        return
    if _looks_like_header(filled):
        state.header = _parse_header(state, row, cells)
        state.header_in_sheet = state.header_in_sheet or state.header
        report.skipped += 1
        if row.sheet is not None and row.sheet.endswith("类"):
            state.category, state.department = row.sheet, None
        return
    if state.header is None:
        if len(filled) == 1 and sum(name in filled[0] for name in COLUMNS if len(name) > 1) >= 2:
            raise IngestError([Problem(state.source.name, row.line, say("header_in_one_cell"), row.sheet)])
        if len(filled) == 1 and not state.data_rows_in_sheet:
            report.skipped += 1  # a title above the table
            return
        raise IngestError([Problem(state.source.name, row.line, say("no_header", expected=_expected(state.source)),
                                   row.sheet)])
    report.rows_read += 1
    state.data_rows_in_sheet += 1
    try:
        report.records.append(_record(state, row, cells))
    except _Rejected as rejected:
        index: int | None = state.header.index(rejected.column) if rejected.column else rejected.column_index
        report.rejected.append(_problem(state, row, str(rejected), index))
        _open_department_of_rejected_row(state, row, cells)


def _problem(state: _State, row: RawRow, message: str, index: int | None) -> Problem:
    column = None
    if index is not None and state.header is not None and index < len(state.header.names):
        column = state.header.names[index]
    cell = row.cell_ref(index) if index is not None else None
    return Problem(state.source.name, row.line, message, row.sheet, column=column, cell=cell)


def _open_department_of_rejected_row(state: _State, row: RawRow, cells: list[str]) -> None:
    """A rejected row that names a new department still opens it, so that the rows below it (which
    leave 部门 empty) are not taken for the previous department's."""
    if state.header is None:
        return
    index = state.header.index("department")
    name = cells[index] if index is not None and index < len(cells) else ""
    if not name or (state.department is not None and state.department.name == name):
        return
    earlier = state.seen.get(name)
    if earlier is not None and earlier.category == state.category:
        state.department = earlier
        return
    state.department = _Department(name, row.line, None, None, None, state.category,
                                   broken=frozenset(LABEL))
    state.seen.setdefault(name, state.department)


def _category_line(cells: list[str], first: int = 0) -> str | None:
    """A `## 经济建设类` line, or a lone "…类" cell in the table's first column."""
    filled = [c for c in cells if c]
    if len(filled) != 1:
        return None
    found = CATEGORY_LINE.match(filled[0])
    if found:
        return found.group(1)
    lone_at = next(i for i, c in enumerate(cells) if c)
    if lone_at in (0, first) and filled[0].endswith("类") and len(filled[0]) <= 12:
        return filled[0]
    return None


def _looks_like_header(filled: list[str]) -> bool:
    names = [normalise_header(c) for c in filled]
    return "部门" in names or "单位" in names or sum(n in COLUMNS for n in names) >= 2


def _expected(source: Source) -> str:
    text = "兑现情况, 最终得分, 类别内排名" if source.kind == "outcomes" else "年度目标, 评定难度系数"
    if source.kind is None:
        text = "兑现情况 or 年度目标"
    return f"部门, 承诺事项, {text}"


def _parse_header(state: _State, row: RawRow, cells: list[str]) -> _Header:
    source = state.source

    def fail(key: str, **values: object) -> IngestError:
        return IngestError([Problem(source.name, row.line, say(key, **values), row.sheet)])

    while cells and not cells[-1]:
        cells = cells[:-1]
    fields: list[str | None] = []
    for index, cell in enumerate(cells):
        name = normalise_header(cell)
        if not name and not any(cells[:index]):
            fields.append(None)  # the table starts further right (an xlsx table at B2): columns to ignore
            continue
        if not name:
            raise fail("header_empty_column")
        if name not in COLUMNS:
            raise fail("header_unknown_column", column=cell, known=", ".join(COLUMNS))
        if COLUMNS[name] in fields:
            raise fail("header_duplicate_column", column=cell)
        fields.append(COLUMNS[name])
    for needed in REQUIRED:
        if needed not in fields:
            raise fail("header_lacks_column", column=_column_name(needed))
    if ("outcome" in fields) == ("target" in fields):
        raise fail("header_kind_ambiguous")
    kind: Kind = "outcomes" if "outcome" in fields else "targets"
    if source.kind is not None and source.kind != kind:
        raise fail("header_kind_mismatch", kind=kind, expected=source.kind)
    if state.kind is not None and state.kind != kind:
        raise fail("header_kind_changes", kind=kind, earlier=state.kind, line=state.kind_line)
    needed_value = "score" if kind == "outcomes" else "coefficient"
    if needed_value not in fields:
        raise fail("header_lacks_value_column", kind=kind, column=LABEL[needed_value])
    state.kind, state.kind_line = kind, state.kind_line or row.line
    first = next(i for i, f in enumerate(fields) if f is not None)
    return _Header(fields, [normalise_header(c) for c in cells], kind, row.line, first)


def _column_name(field_name: str) -> str:
    return next(name for name, f in COLUMNS.items() if f == field_name)


def _record(state: _State, row: RawRow, cells: list[str]) -> Commitment:
    assert state.header is not None
    fields = state.header.fields
    while len(cells) > len(fields) and not cells[-1]:
        cells = cells[:-1]  # trailing empty cells, as spreadsheets export them
    if len(cells) != len(fields):
        raise _Rejected(say("cell_count", expected=len(fields), found=len(cells)))
    # A number merged down over a department's rows is read (and judged) once, on its first row.
    value = {f: ("" if i in row.copied and f in LABEL else c)
             for i, (f, c) in enumerate(zip(fields, cells, strict=True)) if f}
    outside = next((i for i, (f, c) in enumerate(zip(fields, cells, strict=True)) if f is None and c), None)
    if outside is not None:
        raise _Rejected(say("value_outside_table", value=cells[outside][:20]), column_index=outside)

    if value.get("category"):
        state.category = value["category"]
    errors: list[_Rejected] = []
    score = _guard(errors, "score", lambda: _decimal(value.get("score", "")))
    rank = _guard(errors, "rank", lambda: _rank(value.get("rank", "")))
    coefficient = _guard(errors, "coefficient", lambda: _decimal(value.get("coefficient", "")))
    broken = frozenset(e.column for e in errors if e.column)
    department = _department(state, row, value.get("department", ""), score, rank, coefficient, broken)
    if errors:
        raise errors[0]

    number, title = _item(value)
    if number in department.items:
        raise _Rejected(say("duplicate_item", number=number, department=department.name,
                            line=department.items[number]), "number" if value.get("number") else "title")
    text_field = "outcome" if state.header.kind == "outcomes" else "target"
    text = value.get(text_field, "")
    if not text:
        raise _Rejected(say("empty_text", number=number), text_field)
    department.items[number] = row.line
    return Commitment(
        source=state.source.name,
        line=row.line,
        year=state.source.year,
        kind=state.header.kind,
        category=department.category,
        department=department.name,
        item=number,
        title=title,
        text=text,
        score=department.score,
        rank=department.rank,
        coefficient=department.coefficient,
        sheet=row.sheet,
        row=row.line if row.sheet is not None else None,
        first_line=department.line,
    )


def _guard(errors: list[_Rejected], column: str, parse):  # type: ignore[no-untyped-def]
    try:
        return parse()
    except _Rejected as rejected:
        rejected.column = column
        errors.append(rejected)
        return None


def _department(state: _State, row: RawRow, name: str, score: Decimal | None, rank: int | None,
                coefficient: Decimal | None, broken: frozenset[str]) -> _Department:
    current = state.department
    given = {"score": score, "rank": rank, "coefficient": coefficient}
    if not name:
        if current is None:
            # One error for the first such row; the rows below it join a nameless placeholder quietly.
            state.department = _Department("", row.line, None, None, None, state.category, broken=frozenset(LABEL))
            raise _Rejected(say("item_before_department"), "department")
        _check_same(current, given, state.category)
        return current
    if current is not None and current.name == name:  # the name repeated on every row, or merged cells
        _check_same(current, given, state.category)
        return current
    earlier = state.seen.get(name)
    if earlier is not None:  # the department again, e.g. after a page break
        try:
            _check_same(earlier, given, state.category)
        except _Rejected:
            # The rows below still belong to this department (never to the previous one), but not to
            # the rows it conflicts with: a fresh, value-less copy takes them, so no error repeats.
            state.department = _Department(name, row.line, None, None, None, state.category,
                                           broken=frozenset(LABEL))
            raise
        state.department = earlier
        return earlier
    assert state.header is not None
    department = _Department(name, row.line, score, rank, coefficient, state.category, broken=broken)
    state.seen[name] = department
    state.department = department
    if state.header.kind == "outcomes" and score is None and "score" not in broken:
        department.broken = frozenset(LABEL)
        raise _Rejected(say("first_row_without", column="最终得分", department=name), "score")
    if "coefficient" in state.header.fields and coefficient is None and "coefficient" not in broken:
        department.broken = frozenset(LABEL)
        raise _Rejected(say("first_row_without", column="评定难度系数", department=name), "coefficient")
    return department


def _check_same(dept: _Department, given: dict[str, Decimal | int | None], category: str | None) -> None:
    if dept.category != category:
        raise _Rejected(say("two_categories", department=dept.name, category=category or "-",
                            earlier=dept.category or "-", line=dept.line), "department")
    for key, value in given.items():
        known = getattr(dept, key)
        if value is not None and key not in dept.broken and value != known:
            raise _Rejected(say("value_differs", department=dept.name, column=LABEL[key], value=value,
                                known=known, line=dept.line), key)


# ---- strict numbers ------------------------------------------------------------------------------

SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉"


def _decimal(text: str) -> Decimal | None:
    if not text:
        return None
    if not NUMBER.fullmatch(text):
        raise _Rejected(_why_not_a_number(text))
    if re.match(r"0[0-9]", text):
        raise _Rejected(say("number_leading_zero", text=text, fixed=text.lstrip("0") or "0"))
    return Decimal(text)


def _rank(text: str) -> int | None:
    if not text:
        return None
    cleaned = text.removeprefix("第").removesuffix("名")
    if re.fullmatch(r"[0-9]+", cleaned) and not cleaned.startswith("0"):
        return int(cleaned)
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", cleaned):
        raise _Rejected(say("rank_not_whole", text=text))
    raise _Rejected(_why_not_a_number(text, whole=True))


def _why_not_a_number(text: str, whole: bool = False) -> str:
    """Name what keeps `text` from being a plain number, and say what to write where that is clear."""
    t = text
    if any(ch in SUPERSCRIPTS for ch in t):
        return say("number_superscript", text=text)
    for ch in t:
        if ch.isnumeric() and not ("0" <= ch <= "9") and not ("０" <= ch <= "９"):
            name = unicodedata.name(ch, "")
            if any(word in name for word in ("CIRCLED", "PARENTHESIZED", "FULL STOP", "DINGBAT")):
                return say("number_circled", text=text)
            return say("number_other_digits", text=text, char=ch)
    if any("０" <= ch <= "９" or ch in "．，" for ch in t):
        fixed = t.translate({0xFF0E: ".", 0xFF0C: ",", **{0xFF10 + d: str(d) for d in range(10)}})
        if NUMBER.fullmatch(fixed):
            return say("number_full_width", text=text, fixed=fixed)
        return _why_not_a_number(fixed, whole).replace(repr(fixed), repr(text), 1)
    if "," in t:
        if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+\.[0-9]+", t):
            return say("number_thousands", text=text, fixed=t.replace(",", ""))
        if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+", t):
            return say("number_comma_ambiguous", text=text, plain=t.replace(",", ""), decimal=t.replace(",", "."))
        if re.fullmatch(r"[0-9]+,[0-9]+", t):
            return say("number_decimal_comma", text=text, fixed=t.replace(",", "."))
        return say("number_comma", text=text)
    if re.fullmatch(r"[0-9]*\.?[0-9]+[eE][+-]?[0-9]+", t):
        try:
            plain = format(Decimal(t), "f")
        except InvalidOperation:
            plain = "?"
        return say("number_scientific", text=text, fixed=plain if len(plain) <= 24 else "the number in full")
    if "_" in t and re.fullmatch(r"[0-9_.]+", t):
        return say("number_underscore", text=text, fixed=t.replace("_", ""))
    if re.fullmatch(r"[0-9.]+(\s+[0-9.]+)+", t):
        return say("number_space", text=text, fixed=re.sub(r"\s+", "", t))
    if re.fullmatch(r"-\s*[0-9.]+", t):
        return say("number_negative", text=text)
    if re.fullmatch(r"\+\s*[0-9.]+", t):
        return say("number_plus", text=text, fixed=t.lstrip("+").strip())
    if re.fullmatch(r"\.[0-9]+", t):
        return say("number_bare_point", text=text, fixed="0" + t)
    if re.fullmatch(r"[0-9]+\.", t):
        return say("number_trailing_point", text=text, fixed=t[:-1])
    after = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*(\D{1,6})", t)
    before = re.fullmatch(r"(\D{1,4}?)\s*([0-9]+(?:\.[0-9]+)?)", t)
    if after:
        return say("number_unit", text=text, unit=after.group(2).strip(), fixed=after.group(1))
    if before:
        return say("number_unit", text=text, unit=before.group(1).strip(), fixed=before.group(2))
    return say("not_a_whole_number" if whole else "not_a_number", text=text)


def _item(value: dict[str, str]) -> tuple[int, str]:
    title = value.get("title", "")
    if value.get("number"):
        number = value["number"].rstrip(".、．")
        if not re.fullmatch(r"[0-9]+", number):
            plain = re.fullmatch(r"[0-9]+(\.[0-9]+)?", number)
            raise _Rejected(say("item_number_not_whole", text=value["number"]) if plain
                            else _why_not_a_number(value["number"], whole=True), "number")
        found = ITEM.match(title)
        if not title:
            raise _Rejected(say("empty_title"), "title")
        return int(number), (found.group(2).strip() if found else title)
    if not title:
        raise _Rejected(say("empty_title"), "title")
    found = ITEM.match(title)
    if not found:
        raise _Rejected(say("item_without_number", text=title[:20]), "title")
    if not found.group(2).strip():
        raise _Rejected(say("item_without_title", text=title), "title")
    return int(found.group(1)), found.group(2).strip()


# ---- many files ---------------------------------------------------------------------------------


def validate(sources: Iterable[Source], limits: Limits | None = None) -> list[IngestReport]:
    """Every source read and checked, nothing raised: a file that cannot be read gets a report marked
    `unreadable` with its problems. Then the files of one year are checked against each other."""
    reports = []
    for source in sources:
        try:
            reports.append(ingest_file(source, limits))
        except IngestError as exc:
            reports.append(IngestReport(source.name, rejected=list(exc.problems), unreadable=True))
        except Exception as exc:  # never a traceback for a bad file; name it instead
            message = say("unexpected", error=type(exc).__name__, reason=str(exc)[:200])
            reports.append(IngestReport(source.name, rejected=[Problem(source.name, None, message)],
                                        unreadable=True))
    _check_across_files(reports)
    return reports


def _check_across_files(reports: list[IngestReport]) -> None:
    """One department of one year and kind has one category, score, rank and coefficient in every file,
    and an item number only once."""
    first: dict[tuple[int, str, str], Commitment] = {}
    items: dict[tuple[int, str, str, int], Commitment] = {}
    reported: set[tuple[int | str, ...]] = set()
    for report in reports:
        if report.rejected:
            continue  # already failing; its rows below a rejected one hold no trustworthy values
        for r in report.records:
            if r.year == UNKNOWN_YEAR:
                continue
            key = (r.year, r.kind, r.department)
            known = first.setdefault(key, r)
            if known.source != r.source:
                for label, attr in (("类别", "category"), *((LABEL[k], k) for k in LABEL)):
                    a, b = getattr(known, attr), getattr(r, attr)
                    if a != b and (*key, attr) not in reported:
                        reported.add((*key, attr))
                        report.rejected.append(Problem(
                            r.source, r.anchor_line, say("differs_across_files", department=r.department,
                                                         year=r.year, column=label, value=b if b is not None else "-",
                                                         known=a if a is not None else "-", other=known.source,
                                                         line=known.anchor_line), r.sheet, column=label))
            earlier = items.setdefault((*key, r.item), r)
            pair = (*key, r.source)
            if earlier is not r and earlier.source != r.source and pair not in reported:
                reported.add(pair)
                report.rejected.append(Problem(r.source, r.line, say("item_in_two_files", number=r.item,
                                                                     department=r.department, year=r.year,
                                                                     other=earlier.source, line=earlier.line),
                                               r.sheet))


def ingest(sources: Iterable[Source], limits: Limits | None = None) -> list[IngestReport]:
    """All sources, strictly: any problem, in any file, fails the whole ingest with every problem listed."""
    reports = validate(sources, limits)
    problems = [p for r in reports for p in r.rejected]
    if problems:
        raise IngestError(problems)
    return reports


def load_records(data_dir: Path) -> list[Commitment]:
    """Every record of every source listed in data/sources.toml."""
    return [rec for report in ingest(load_manifest(data_dir)) for rec in report.records]


def sources_for(paths: list[Path], data_dir: Path, year: int | None = None) -> list[Source]:
    manifest = load_manifest(data_dir) if (data_dir / "sources.toml").exists() else []
    if not paths:
        return manifest
    return [source_for_path(p, manifest, year) for p in paths]


def sources_to_check(paths: list[Path], data_dir: Path, year: int | None = None) -> tuple[list[Source], list[Problem]]:
    """Like `sources_for`, but a file of unknown year is still checked (as UNKNOWN_YEAR) and its unknown
    year comes back as one more problem."""
    manifest = load_manifest(data_dir) if (data_dir / "sources.toml").exists() else []
    if not paths:
        return manifest, []
    sources, problems = [], []
    for path in paths:
        try:
            sources.append(source_for_path(path, manifest, year))
        except IngestError as exc:
            problems.extend(exc.problems)
            sources.append(source_for_path(path, manifest, UNKNOWN_YEAR))
    return sources, problems
