"""The streaming xlsx reader: numbers as Excel shows them, and bounds that hold on hostile workbooks."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from assistant.ingest import ingest_file, validate
from assistant.records import IngestError
from assistant.sources import Source
from assistant.xlsx import Limits, render_number
from tests.bad_workbooks import HEADER, _book, styled_cell_at_xfd1048576
from tests.command_line import invoke


@pytest.mark.parametrize(("value", "fmt", "shown"), [
    (129.855, "0.00", "129.86"),  # Python's own f"{129.855:.2f}" gives 129.85; Excel rounds half away from zero
    (2.5, "0", "3"),
    (135.2, "0.00", "135.20"),
    (1.1255, "0.0000", "1.1255"),
    (0.1 + 0.2, "General", "0.3"),  # Excel keeps 15 significant digits
    (125.27, "General", "125.27"),
    (9.0, "General", "9"),
    (1234.5, "#,##0.00", "1,234.50"),
    (1.2986, "0.00%", "129.86%"),
    (129.86, "0.00E+00", "1.30E+02"),
    (129.8, "0.0#", "129.8"),
    (129.86, '0.00"分"', "129.86"),  # literal text in a format is not part of the number
    (44946.0, "yyyy-mm-dd", "2023-01-20"),
    (1e20, "General", "1E+20"),
])
def test_numbers_render_as_excel_shows_them(value, fmt, shown):
    assert render_number(value, fmt) == shown


def _rows_workbook(path: Path, n: int) -> Path:
    book, _ = _book([["市甲局" if i == 0 else None, f"{i + 1}.第{i + 1}项", "完成", 120.5 if i == 0 else None,
                      3 if i == 0 else None] for i in range(n)])
    book.save(path)
    return path


def test_rows_and_columns_beyond_the_limits_are_a_named_error(tmp_path: Path):
    path = _rows_workbook(tmp_path / "t.xlsx", 30)
    source = Source(path, "t.xlsx", 2022, None)
    assert len(ingest_file(source, Limits(max_rows=31, max_columns=5)).records) == 30
    with pytest.raises(IngestError) as caught:
        ingest_file(source, Limits(max_rows=20, max_columns=5))
    assert str(caught.value) == ("t.xlsx [表]:21: the sheet holds more than 20 rows, empty formatted ones included "
                                 "(setting REVIEW_ASSISTANT_INGEST_MAX_ROWS); delete the rows below the table")
    with pytest.raises(IngestError, match=r"t\.xlsx \[表\]:1, cell E1: a value stands beyond the 31 rows and 4 col"):
        ingest_file(source, Limits(max_rows=31, max_columns=4))


def test_a_part_unpacking_beyond_the_byte_limit_is_refused(tmp_path: Path):
    path = _rows_workbook(tmp_path / "t.xlsx", 300)  # repetitive rows: the sheet compresses well
    limit = path.stat().st_size + 1  # the file itself is within the limit; its unpacked sheet is not
    with pytest.raises(IngestError, match=r"t\.xlsx: not a readable xlsx workbook: xl/.*unpacks to \d+ bytes"):
        ingest_file(Source(path, "t.xlsx", 2022, None), Limits(max_bytes=limit))


def test_a_used_range_reaching_xfd1048576_reads_only_the_data(tmp_path: Path):
    path = tmp_path / "wide.xlsx"
    styled_cell_at_xfd1048576(path)
    sheet_xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:XFD1048576"' in sheet_xml and path.stat().st_size < 8000
    report = validate([Source(path, path.name, 2022, None)])[0]
    assert (report.rejected, [r.department for r in report.records]) == ([], ["市甲局"])


def test_many_empty_formatted_rows_stop_at_the_row_limit_through_the_cli(tmp_path: Path):
    """A 1.5 MB archive of 300k formatted empty rows: the row setting stops the read early."""
    path = tmp_path / "2022_rows.xlsx"
    styled_cell_at_xfd1048576(path)
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    rows = "".join(f'<row r="{i}"><c r="A{i}" s="0"/></row>' for i in range(3, 300_000)).encode()
    name = "xl/worksheets/sheet1.xml"
    parts[name] = parts[name].replace(b"</sheetData>", rows + b"</sheetData>", 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for part, data in parts.items():
            z.writestr(part, data)
    done = invoke("ingest", "--check", str(path), env={"REVIEW_ASSISTANT_INGEST_MAX_ROWS": "1000"})
    assert done.returncode == 1
    assert re.search(rf"^error: {re.escape(str(path))} \[表\]:\d+: the sheet holds more than 1000 rows", done.stderr)


def test_the_header_columns_of_the_builders_match_the_outcomes_layout():
    assert HEADER == ["部门", "承诺事项", "兑现情况", "最终得分", "类别内排名"]
