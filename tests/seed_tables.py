"""Build CSV and xlsx versions of the seed tables, the way offices keep them, from the seed files themselves.

Independent of the project's ingest code: a plain reading of the tab-separated seed format.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path


@dataclass
class SeedTable:
    header: list[str]
    # (category, rows); each row is the list of cells as in the seed (department only on first rows)
    sections: list[tuple[str | None, list[list[str]]]] = field(default_factory=list)


def read_seed(path: Path) -> SeedTable:
    table: SeedTable | None = None
    category: str | None = None
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        if line.startswith("## "):
            category = line[3:].strip()
            if table is not None:
                table.sections.append((category, []))
            continue
        cells = line.split("\t")
        if cells[0] == "部门":
            if table is None:
                table = SeedTable(cells, [(category, [])])
            continue
        assert table is not None
        table.sections[-1][1].append(cells)
    assert table is not None
    table.sections = [s for s in table.sections if s[1]]
    return table


def write_csv(seed: Path, out: Path, wrap_header: bool = True) -> Path:
    """CSV as exported from Excel: a 类别 column, the department repeated on every row, quoted cells,
    and header cells wrapped onto two lines (Alt+Enter in Excel)."""
    table = read_seed(seed)
    has_category = any(c for c, _ in table.sections)
    header = (["类别"] if has_category else []) + table.header
    if wrap_header:
        header = [h[:2] + "\n" + h[2:] if len(h) > 3 else h for h in header]
    with out.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL)
        writer.writerow(header)
        for category, rows in table.sections:
            department = ""
            for cells in rows:
                department = cells[0] or department
                row = [department, *cells[1:]]
                writer.writerow(([category or ""] if has_category else []) + row)
    return out


def write_xlsx(seed: Path, out: Path) -> Path:
    """xlsx as offices keep it: one sheet per category (or one sheet), a title row merged across,
    and the department, score, rank and coefficient cells merged down over the department's rows."""
    from openpyxl import Workbook

    table = read_seed(seed)
    book = Workbook()
    book.remove(book.active)
    numeric = {"最终得分": "0.00", "评定难度系数": "0.0000", "类别内排名": "0"}
    for n, (category, rows) in enumerate(table.sections, 1):
        sheet = book.create_sheet(category or f"Sheet{n}")
        sheet.cell(1, 1, f"{seed.stem} {category or ''}")
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(table.header))
        for c, name in enumerate(table.header, 1):
            sheet.cell(2, c, name)
        r = 3
        starts: list[int] = []
        for cells in rows:
            if cells[0]:
                starts.append(r)
            for c, (name, value) in enumerate(zip(table.header, cells, strict=False), 1):
                if not value:
                    continue
                cell = sheet.cell(r, c)
                if name in numeric:
                    cell.value = int(value) if name == "类别内排名" else float(value)
                    cell.number_format = numeric[name]
                else:
                    cell.value = value
            r += 1
        bounds = [*starts, r]
        for start, end in pairwise(bounds):
            if end - start > 1:
                for c, name in enumerate(table.header, 1):
                    if name in ("部门", *numeric):
                        sheet.merge_cells(start_row=start, start_column=c, end_row=end - 1, end_column=c)
    book.save(out)
    return out
