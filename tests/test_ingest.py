from __future__ import annotations

from pathlib import Path

import pytest

from assistant.ingest import ingest_file, load_records
from assistant.sources import Source, load_manifest
from tests.conftest import DATA, OUTCOMES, TARGETS
from tests.seed_tables import write_csv, write_xlsx


def test_bundled_data_gives_the_expected_records(records):
    outcomes = [r for r in records if r.source == OUTCOMES]
    targets = [r for r in records if r.source == TARGETS]
    assert (len(outcomes), len({r.department for r in outcomes})) == (71, 14)
    assert (len(targets), len({r.department for r in targets})) == (70, 14)
    assert {r.year for r in outcomes} == {2022} and {r.kind for r in outcomes} == {"outcomes"}
    assert {r.year for r in targets} == {2023} and {r.kind for r in targets} == {"targets"}
    bank = [r.item for r in outcomes if r.department == "湖州银行"]
    assert bank == [1, 2, 3, 4, 5, 6]


def test_every_record_line_is_the_line_of_its_row(records):
    lines = {name: (DATA / name).read_text(encoding="utf-8").split("\n") for name in (OUTCOMES, TARGETS)}
    for r in records:
        row = lines[r.source][r.line - 1]
        cells = row.split("\t")
        assert cells[1].endswith(r.title), (r.source, r.line)
        assert cells[2] == r.text
        assert r.department in lines[r.source][r.anchor_line - 1]


def test_carried_down_values_and_categories(records):
    water = [r for r in records if r.department == "市水利局" and r.year == 2022]
    assert {str(r.score) for r in water} == {"125.27"} and {r.rank for r in water} == {12}
    assert {r.anchor_line for r in water} == {21}
    assert {r.category for r in water} == {"经济建设类"}
    tech = next(r for r in records if r.department == "市科技局")
    assert (tech.category, str(tech.score), tech.rank) == ("社会发展类", "135.20", 1)
    finance = [r for r in records if r.department == "市财政局"]
    assert {str(r.coefficient) for r in finance} == {"1.1563"} and {r.category for r in finance} == {None}


def test_items_numbered_with_a_space_or_a_dot(records):
    first = next(r for r in records if r.source == TARGETS)
    assert (first.department, first.item, first.title) == ("市科协", 1, "举办2023国际绿色低碳创新大会")
    first = next(r for r in records if r.source == OUTCOMES)
    assert (first.department, first.item, first.title) == ("市商务局", 1, "招大引强")


def _keys(records):
    return [r.content_key() for r in records]


@pytest.mark.parametrize("name", [OUTCOMES, TARGETS])
def test_csv_and_xlsx_give_the_same_records_as_the_seed(tmp_path: Path, name: str):
    source = next(s for s in load_manifest(DATA) if s.name == name)
    expected = ingest_file(source).records
    csv_path = write_csv(source.path, tmp_path / "table.csv")
    xlsx_path = write_xlsx(source.path, tmp_path / "table.xlsx")
    for path in (csv_path, xlsx_path):
        report = ingest_file(Source(path, path.name, source.year, source.kind))
        assert report.rejected == []
        assert _keys(report.records) == _keys(expected), path.suffix
    xlsx = ingest_file(Source(xlsx_path, "table.xlsx", source.year, source.kind)).records
    assert all(r.sheet and r.row == r.line for r in xlsx)
    # the sheet rows are real: row 3 holds the first department's first item
    assert xlsx[0].row == 3 and xlsx[0].anchor_line == 3


def test_csv_lines_are_where_each_row_starts(tmp_path: Path):
    path = tmp_path / "t.csv"
    path.write_text(
        '部门,承诺事项,年度目标,评定难度系数\n'
        '市甲局,1 第一项,"第一行\n第二行",1.1000\n'
        ',2 第二项,目标二,\n',
        encoding="utf-8",
    )
    recs = ingest_file(Source(path, "t.csv", 2024, None)).records
    assert [(r.line, r.item, r.kind) for r in recs] == [(2, 1, "targets"), (4, 2, "targets")]
    assert recs[0].text == "第一行\n第二行"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "gbk"])
def test_encodings_give_the_same_records(tmp_path: Path, encoding: str):
    source = next(s for s in load_manifest(DATA) if s.name == TARGETS)
    text = source.path.read_text(encoding="utf-8")
    if encoding == "gbk":
        text = text.replace("頫", "俯")  # one character GBK lacks; GB18030 has every character
    path = tmp_path / "targets.txt"
    path.write_bytes(text.encode(encoding))
    got = ingest_file(Source(path, path.name, 2023, "targets")).records
    expected = ingest_file(source).records
    if encoding == "gbk":
        expected = [e for e in expected if "頫" not in e.text]
        got = [g for g in got if "俯" not in g.text]
    assert _keys(got) == _keys(expected)
    assert [g.line for g in got] == [e.line for e in expected]


def test_title_rows_above_the_header_are_skipped(tmp_path: Path):
    path = tmp_path / "t.txt"
    path.write_text("湖州市2024年度承诺事项\n\n部门\t承诺事项\t年度目标\t评定难度系数\n市甲局\t1 一\t目标\t1.1\n",
                    encoding="utf-8")
    report = ingest_file(Source(path, "t.txt", 2024, None))
    assert [(r.line, r.department) for r in report.records] == [(4, "市甲局")]
    assert report.rows_read == 1 and report.skipped >= 3


def test_load_records_reads_the_manifest():
    assert len(load_records(DATA)) == 141


def test_a_bom_is_read_even_when_the_manifest_names_the_encoding(tmp_path: Path):
    path = tmp_path / "t.txt"
    path.write_bytes("部门\t承诺事项\t年度目标\t评定难度系数\n市甲局\t1 一\t目标\t1.1\n".encode("utf-8-sig"))
    report = ingest_file(Source(path, "t.txt", 2024, None, encoding="utf-8"))
    assert (report.rejected, [r.department for r in report.records]) == ([], ["市甲局"])


def test_a_file_over_the_byte_limit_is_refused_before_it_is_read(tmp_path: Path):
    from assistant.records import IngestError
    from assistant.xlsx import Limits

    path = tmp_path / "t.txt"
    path.write_text("部门\t承诺事项\t年度目标\t评定难度系数\n市甲局\t1 一\t目标\t1.1\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"^t\.txt: file is \d+ bytes, over the limit of 40 \(setting REVIEW_AS"):
        ingest_file(Source(path, "t.txt", 2024, None), Limits(max_bytes=40))


def test_a_problem_as_json_names_file_line_sheet_cell_and_column():
    from assistant.records import Problem

    problem = Problem("t.xlsx", 5, "'129,86' has a decimal comma; write 129.86", "表", column="最终得分", cell="D5")
    assert str(problem) == "t.xlsx [表]:5, cell D5: column 最终得分: '129,86' has a decimal comma; write 129.86"
    assert problem.to_json() == {"file": "t.xlsx", "line": 5, "sheet": "表", "cell": "D5", "column": "最终得分",
                                 "message": "'129,86' has a decimal comma; write 129.86", "text": str(problem)}
