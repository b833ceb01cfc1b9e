"""A table from an answer as an Excel workbook: the header row, the cells (numbers as numbers), and a sheet of
the citations the cells carry."""

from __future__ import annotations

import io
from typing import Any


def table_xlsx(table: dict[str, Any]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    def clean(text: str) -> str:  # control characters cannot stand in a workbook
        return str(ILLEGAL_CHARACTERS_RE.sub("", text))

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "表格"
    start = 1
    if table.get("title"):
        sheet.cell(1, 1, clean(table["title"])).font = Font(bold=True)
        start = 3
    columns = table["columns"]
    for j, column in enumerate(columns, 1):
        sheet.cell(start, j, clean(column["label"])).font = Font(bold=True)
    for i, row in enumerate(table["rows"], start + 1):
        for j, cell in enumerate(row, 1):
            numeric = j <= len(columns) and columns[j - 1]["numeric"] and cell.get("value") is not None
            target = sheet.cell(i, j, cell["value"] if numeric else clean(cell["text"]))
            if numeric:  # show the number as the source writes it (129.86, not 129.8600000001)
                digits = cell["text"].split(".", 1)[1] if "." in cell["text"] else ""
                decimals = len(digits) if digits.isdigit() and len(digits) <= 10 else 0
                target.number_format = "0" + ("." + "0" * decimals if decimals else "")
    for j, column in enumerate(columns, 1):
        width = max([len(column["label"])] + [len(r[j - 1]["text"]) for r in table["rows"] if j <= len(r)])
        sheet.column_dimensions[sheet.cell(start, j).column_letter].width = min(60, 2 * width + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
