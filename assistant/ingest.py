"""Sources -> `Commitment` records, with every data row either a record or a rejection with a reason.

The table layout this understands (whatever the file format):
- an optional title (rows with one non-empty cell) before the first header row;
- a header row, matched by column name (部门, 承诺事项, 兑现情况 or 年度目标, 最终得分, 类别内排名,
  评定难度系数; optionally 序号 and 类别), repeated after page breaks;
- `## 经济建设类` lines (or a lone "…类" cell, a 类别 column, or a sheet named "…类") open categories;
- the department, score, rank and coefficient are written on a department's first row and carry down.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from assistant.records import Commitment, IngestError, IngestReport, Kind, Problem
from assistant.sources import Source, load_manifest, source_for_path
from assistant.tables import RawRow, read_rows

# Column name -> field. Several names an office might use for the same column.
COLUMNS: dict[str, str] = {
    "部门": "department",
    "单位": "department",
    "部门名称": "department",
    "单位名称": "department",
    "承诺事项": "title",
    "序号": "number",
    "兑现情况": "outcome",
    "完成情况": "outcome",
    "年度目标": "target",
    "最终得分": "score",
    "得分": "score",
    "类别内排名": "rank",
    "排名": "rank",
    "评定难度系数": "coefficient",
    "难度系数": "coefficient",
    "类别": "category",
}
REQUIRED = ("department", "title")
ITEM = re.compile(r"^\s*(\d{1,3})\s*(?:[.．、)）]\s*|\s+)(.*)$", re.S)
CATEGORY_LINE = re.compile(r"^\s*#{1,3}\s*(\S.*?)\s*$")


def normalise_header(cell: str) -> str:
    return re.sub(r"\s+", "", cell).strip("*:：")


@dataclass
class _Header:
    fields: list[str | None]  # field per column; None for an empty trailing header cell
    kind: Kind


@dataclass
class _Department:
    name: str
    line: int
    score: Decimal | None
    rank: int | None
    coefficient: Decimal | None
    category: str | None
    items: dict[int, int] = field(default_factory=dict)  # item number -> line


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


def ingest_file(source: Source) -> IngestReport:
    """Read one source. Raises IngestError for a file that cannot be read at all (empty, no header,
    bad bytes); rows that cannot become records are listed in the report's `rejected`."""
    state = _State(source, IngestReport(source.name))
    for row in read_rows(source.path, source.name, source.encoding):
        _take_row(state, row)
    if not state.report.rows_read and state.header is None:
        raise IngestError([Problem(source.name, None, "no header row: expected columns " + _expected(source))])
    return state.report


def _take_row(state: _State, row: RawRow) -> None:
    report = state.report
    if row.sheet != state.sheet:  # each sheet has its own title, header and category
        state.sheet, state.header, state.category, state.department = row.sheet, None, None, None
        state.data_rows_in_sheet = 0
    cells = [c.strip() for c in row.cells]
    filled = [c for c in cells if c]
    if not filled:
        report.skipped += 1
        return
    category = _category_line(cells)
    if category is not None:
        state.category, state.department = category, None
        report.skipped += 1
        return
    if _looks_like_header(filled):
        state.header = _parse_header(state.source, row, cells)
        report.skipped += 1
        if row.sheet is not None and row.sheet.endswith("类"):
            state.category, state.department = row.sheet, None
        return
    if state.header is None:
        if len(filled) == 1 and not state.data_rows_in_sheet:
            report.skipped += 1  # a title above the table
            return
        raise IngestError(
            [Problem(state.source.name, row.line, "no header row: expected columns " + _expected(state.source),
                     row.sheet)]
        )
    report.rows_read += 1
    state.data_rows_in_sheet += 1
    try:
        report.records.append(_record(state, row, cells))
    except _Rejected as rejected:
        report.rejected.append(Problem(state.source.name, row.line, str(rejected), row.sheet))


class _Rejected(Exception):
    pass


def _category_line(cells: list[str]) -> str | None:
    filled = [c for c in cells if c]
    if len(filled) != 1:
        return None
    found = CATEGORY_LINE.match(filled[0])
    if found:
        return found.group(1)
    if cells[0] and filled[0].endswith("类") and len(filled[0]) <= 12:
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


def _parse_header(source: Source, row: RawRow, cells: list[str]) -> _Header:
    def fail(message: str) -> IngestError:
        return IngestError([Problem(source.name, row.line, message, row.sheet)])

    while cells and not cells[-1]:
        cells = cells[:-1]
    fields: list[str | None] = []
    for cell in cells:
        name = normalise_header(cell)
        if not name:
            raise fail("empty column name in header row")
        if name not in COLUMNS:
            raise fail(f"unknown column {cell!r} in header row; known columns: {', '.join(COLUMNS)}")
        if COLUMNS[name] in fields:
            raise fail(f"column {cell!r} appears twice in header row")
        fields.append(COLUMNS[name])
    for needed in REQUIRED:
        if needed not in fields:
            raise fail(f"header row lacks the {_column_name(needed)} column")
    if ("outcome" in fields) == ("target" in fields):
        raise fail("header row must have exactly one of 兑现情况 (outcomes) or 年度目标 (targets)")
    kind: Kind = "outcomes" if "outcome" in fields else "targets"
    if source.kind is not None and source.kind != kind:
        raise fail(f"header row is a {kind} table, but sources.toml says this file holds {source.kind}")
    return _Header(fields, kind)


def _column_name(field_name: str) -> str:
    return next(name for name, f in COLUMNS.items() if f == field_name)


def _record(state: _State, row: RawRow, cells: list[str]) -> Commitment:
    assert state.header is not None
    fields = state.header.fields
    while len(cells) > len(fields) and not cells[-1]:
        cells = cells[:-1]  # trailing empty cells, as spreadsheets export them
    if len(cells) != len(fields):
        raise _Rejected(f"expected {len(fields)} cells, found {len(cells)}")
    value = {f: c for f, c in zip(fields, cells, strict=True) if f}

    if value.get("category"):
        state.category = value["category"]
    score = _decimal(value.get("score", ""), "最终得分")
    rank = _rank(value.get("rank", ""))
    coefficient = _decimal(value.get("coefficient", ""), "评定难度系数")
    department = _department(state, row, value.get("department", ""), score, rank, coefficient)

    number, title = _item(value)
    if number in department.items:
        raise _Rejected(
            f"duplicate item number {number} for {department.name} (first at line {department.items[number]})"
        )
    text = value.get("outcome" if state.header.kind == "outcomes" else "target", "")
    if not text:
        raise _Rejected(f"empty {'兑现情况' if state.header.kind == 'outcomes' else '年度目标'} for item {number}")
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


def _department(
    state: _State, row: RawRow, name: str, score: Decimal | None, rank: int | None, coefficient: Decimal | None
) -> _Department:
    current = state.department
    if not name:
        if current is None:
            raise _Rejected("item row before any department (the 部门 cell is empty)")
        _check_same(current, score, rank, coefficient)
        return current
    if current is not None and current.name == name:  # the name repeated on every row, or merged cells
        _check_same(current, score, rank, coefficient)
        return current
    earlier = state.seen.get(name)
    if earlier is not None:  # the department again, e.g. after a page break
        _check_same(earlier, score, rank, coefficient)
        state.department = earlier
        return earlier
    if state.header is not None and state.header.kind == "outcomes" and score is None:
        raise _Rejected(f"no 最终得分 on the first row of {name}")
    if state.header is not None and "coefficient" in state.header.fields and coefficient is None:
        raise _Rejected(f"no 评定难度系数 on the first row of {name}")
    department = _Department(name, row.line, score, rank, coefficient, state.category)
    state.seen[name] = department
    state.department = department
    return department


def _check_same(dept: _Department, score: Decimal | None, rank: int | None, coefficient: Decimal | None) -> None:
    for label, given, known in (("最终得分", score, dept.score), ("类别内排名", rank, dept.rank),
                                ("评定难度系数", coefficient, dept.coefficient)):
        if given is not None and given != known:
            raise _Rejected(f"{dept.name} has {label} {given} here but {known} at line {dept.line}")


def _decimal(text: str, label: str) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise _Rejected(f"{label} {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise _Rejected(f"{label} {text!r} is not a non-negative number")
    return value


def _rank(text: str) -> int | None:
    if not text:
        return None
    cleaned = text.removeprefix("第").removesuffix("名")
    if not cleaned.isdigit() or int(cleaned) < 1:
        raise _Rejected(f"类别内排名 {text!r} is not a whole number of 1 or more")
    return int(cleaned)


def _item(value: dict[str, str]) -> tuple[int, str]:
    title = value.get("title", "")
    if value.get("number"):
        number = value["number"].rstrip(".、．")
        if not number.isdigit():
            raise _Rejected(f"序号 {value['number']!r} is not a whole number")
        found = ITEM.match(title)
        return int(number), (found.group(2).strip() if found else title)
    found = ITEM.match(title)
    if not found:
        raise _Rejected(f"承诺事项 {title[:20]!r} does not start with an item number (1. or 1 )")
    if not found.group(2).strip():
        raise _Rejected(f"承诺事项 {title!r} has a number but no title")
    return int(found.group(1)), found.group(2).strip()


# ---- many files ---------------------------------------------------------------------------------


def ingest(sources: Iterable[Source]) -> list[IngestReport]:
    """All sources, strictly: any rejected row, in any file, fails the whole ingest."""
    reports = [ingest_file(s) for s in sources]
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
