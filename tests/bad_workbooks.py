"""Malformed (and tricky but valid) xlsx workbooks, built with openpyxl, for tests/fixtures/bad/expected.toml.

Each builder writes one workbook to `path`. The table is an outcomes table on sheet "表": header on row 1
(部门, 承诺事项, 兑现情况, 最终得分, 类别内排名 in columns A to E), data from row 2.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

HEADER = ["部门", "承诺事项", "兑现情况", "最终得分", "类别内排名"]


def _book(rows: list[list[Any]], title: str = "表") -> tuple[Any, Any]:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    return book, sheet


def formula_rank_without_value(path: Path) -> None:
    book, _ = _book([["市甲局", "1.一", "完成", 120.5, "=1+2"], [None, "2.二", "完成"]])
    book.save(path)  # openpyxl saves formulas without a calculated value, as a script would


def text_decimal_comma(path: Path) -> None:
    book, _ = _book([["市甲局", "1.一", "完成", "120,5", 3]])
    book.save(path)


def text_superscript_rank(path: Path) -> None:
    book, _ = _book([["市甲局", "1.一", "完成", 120.5, "²"]])
    book.save(path)


def value_at_xfd1048576(path: Path) -> None:
    book, sheet = _book([["市甲局", "1.一", "完成", 120.5, 3]])
    sheet["XFD1048576"] = "x"
    book.save(path)


def error_value(path: Path) -> None:
    book, sheet = _book([["市甲局", "1.一", "完成", 120.5, 3]])
    sheet["D2"] = "#DIV/0!"
    book.save(path)


def hidden_row(path: Path) -> None:
    book, sheet = _book([["市甲局", "1.一", "完成", 120.5, 3], [None, "2.二", "隐藏的兑现情况"]])
    sheet.row_dimensions[3].hidden = True
    book.save(path)


def hidden_column(path: Path) -> None:
    book, sheet = _book([["市甲局", "1.一", "完成", 120.5, 3]])
    sheet.column_dimensions["E"].hidden = True
    book.save(path)


def percent_format(path: Path) -> None:
    book, sheet = _book([["市甲局", "1.一", "完成", 1.2986, 3]])
    sheet["D2"].number_format = "0.00%"
    book.save(path)


def thousands_format(path: Path) -> None:
    book, sheet = _book([["市甲局", "1.一", "完成", 1234.5, 3]])
    sheet["D2"].number_format = "#,##0.00"
    book.save(path)


def date_as_score(path: Path) -> None:
    import datetime

    book, _ = _book([["市甲局", "1.一", "完成", datetime.date(2022, 1, 20), 3]])
    book.save(path)


def fractional_rank(path: Path) -> None:
    book, sheet = _book([["市甲局", "1.一", "完成", 120.5, 3.5]])
    sheet["E2"].number_format = "0"  # Excel shows 4; the cell holds 3.5
    book.save(path)


def header_only_sheet(path: Path) -> None:
    book, _ = _book([["市甲局", "1.一", "完成", 120.5, 3]])
    other = book.create_sheet("空表")
    other.append(HEADER)
    book.save(path)


def department_in_two_sheets(path: Path) -> None:
    book, _ = _book([["市甲局", "1.一", "完成", 120.5, 3]], title="经济建设类")
    other = book.create_sheet("社会发展类")
    other.append(HEADER)
    other.append(["市甲局", "2.二", "完成", 120.5, 3])
    book.save(path)


def merged_department_bad_score(path: Path) -> None:
    """The first department is fine; the second's merged score cell holds text with a decimal comma. Its
    other rows must stay its own (one error, not one per row)."""
    book, sheet = _book([["市甲局", "1.一", "完成", 120.5, 3], [None, "2.二", "完成"],
                         ["市乙局", "1.一", "完成", "110,5", 4], [None, "2.二", "完成"], [None, "3.三", "完成"]])
    sheet.merge_cells("A4:A6")
    sheet.merge_cells("D4:D6")
    book.save(path)


def not_a_zip(path: Path) -> None:
    path.write_bytes(b"PK not really a zip")


def empty_workbook(path: Path) -> None:
    from openpyxl import Workbook

    Workbook().save(path)


# Valid workbooks that must load exactly what Excel shows.

def rounded_by_format(path: Path) -> None:
    book, sheet = _book([["市甲局", "1.一", "完成", 129.855, 3]])
    sheet["D2"].number_format = "0.00"  # Excel shows 129.86 (half away from zero)
    book.save(path)


def hidden_sheet(path: Path) -> None:
    book, _ = _book([["市甲局", "1.一", "完成", 120.5, 3]])
    secret = book.create_sheet("旧数据")
    secret.append(HEADER)
    secret.append(["市乙局", "1.一", "完成", 99, 1])
    secret.sheet_state = "hidden"
    book.save(path)


def styled_cell_at_xfd1048576(path: Path) -> None:
    """A 5 KB file whose used range (dimension) reaches XFD1048576: a styled, empty cell out there."""
    from openpyxl.styles import Font

    book, sheet = _book([["市甲局", "1.一", "完成", 120.5, 3]])
    sheet["XFD1048576"].font = Font(bold=True)
    book.save(path)


def cached_formula(path: Path) -> None:
    """A formula with its saved value, as Excel writes it: the value Excel shows is read."""
    import zipfile

    formula_rank_without_value(path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = re.sub(rb"<f>1\+2</f><v ?/>|<f>1\+2</f><v></v>", b"<f>1+2</f><v>3</v>", parts[sheet])
    assert b"<v>3</v>" in parts[sheet], parts[sheet][-400:]
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


def table_at_b2(path: Path) -> None:
    """The table starts at B2, under a title in A1: column A is outside the table."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "表"
    sheet["A1"] = "湖州市2022年度承诺事项"
    for c, name in enumerate(HEADER, 2):
        sheet.cell(2, c, name)
    for c, value in enumerate(["市甲局", "1.一", "完成", 120.5, 3], 2):
        sheet.cell(3, c, value)
    book.save(path)


def note_outside_the_table(path: Path) -> None:
    table_at_b2(path)
    from openpyxl import load_workbook

    book = load_workbook(path)
    book.active["A3"] = "备注"
    book.save(path)


def value_under_a_merge(path: Path) -> None:
    """Two departments' score cells merged: Excel shows only the top value; the hidden one is not read."""
    import zipfile

    book, _ = _book([["市甲局", "1.一", "完成", 120.5, 3], [None, "2.二", "完成", 99]])
    book.save(path)
    with zipfile.ZipFile(path) as z:  # merge D2:D3 over the 99 (openpyxl would drop it; a script may not)
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b"</sheetData>", b'</sheetData><mergeCells count="1">'
                                        b'<mergeCell ref="D2:D3"/></mergeCells>', 1)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


def damaged_row_number(path: Path) -> None:
    import zipfile

    book, _ = _book([["市甲局", "1.一", "完成", 120.5, 3]])
    book.save(path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b'<row r="2"', b'<row r="two"', 1)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)


BUILDERS: dict[str, Callable[[Path], None]] = {
    f.__name__: f for f in (
        formula_rank_without_value, text_decimal_comma, text_superscript_rank, value_at_xfd1048576, error_value,
        hidden_row, hidden_column, percent_format, thousands_format, date_as_score, fractional_rank,
        header_only_sheet, department_in_two_sheets, merged_department_bad_score, not_a_zip, empty_workbook,
        rounded_by_format, hidden_sheet, styled_cell_at_xfd1048576, cached_formula, table_at_b2,
        note_outside_the_table, value_under_a_merge, damaged_row_number,
    )
}
