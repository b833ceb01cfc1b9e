"""Every broken input fails with its own clear error, naming the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.corpus import CorpusHolder
from assistant.ingest import ingest
from assistant.records import IngestError
from assistant.sources import Source
from tests.conftest import OUTCOMES

HEAD = "部门\t承诺事项\t兑现情况\t最终得分\t类别内排名\n"
GOOD = "市甲局\t1.一\t完成\t120.5\t3\n"

# name, file content, expected line, words the message must hold
CASES: list[tuple[str, str | bytes, int | None, str]] = [
    ("empty", "", None, "file is empty"),
    ("blank lines only", "\n\n  \n", None, "file is empty"),
    ("no header row", "市甲局\t1.一\t完成\t120.5\t3\n", 1, "no header row"),
    ("unknown column", "部门\t承诺事项\t兑现情况\t分数\n", 1, "unknown column '分数'"),
    ("duplicate column", "部门\t承诺事项\t兑现情况\t兑现情况\n", 1, "appears twice"),
    ("missing item column", "部门\t兑现情况\t最终得分\n", 1, "lacks the 承诺事项 column"),
    ("both text columns", "部门\t承诺事项\t兑现情况\t年度目标\n", 1, "exactly one of 兑现情况"),
    ("too few cells", HEAD + "市甲局\t1.一\t完成\n", 2, "expected 5 cells, found 3"),
    ("too many cells", HEAD + "市甲局\t1.一\t完成\t120.5\t3\t多余\n", 2, "expected 5 cells, found 6"),
    ("non-numeric score", HEAD + "市甲局\t1.一\t完成\t12O.5\t3\n", 2, "最终得分 '12O.5' is not a number"),
    ("non-integer rank", HEAD + "市甲局\t1.一\t完成\t120.5\t3.5\n", 2, "类别内排名 '3.5' is not a whole number"),
    ("zero rank", HEAD + "市甲局\t1.一\t完成\t120.5\t0\n", 2, "类别内排名 '0' is not a whole number"),
    ("non-numeric coefficient", "部门\t承诺事项\t年度目标\t评定难度系数\n市甲局\t1 一\t目标\t高\n", 2,
     "评定难度系数 '高' is not a number"),
    ("item before any department", HEAD + "\t1.一\t完成\t\t\n", 2, "item row before any department"),
    ("duplicate item number", HEAD + GOOD + "\t1.二\t完成\t\t\n", 3, "duplicate item number 1 for 市甲局"),
    ("department twice, other score", HEAD + GOOD + "市乙局\t1.一\t完成\t110\t4\n" + "市甲局\t2.二\t完成\t99\t3\n", 4,
     "市甲局 has 最终得分 99 here but 120.5 at line 2"),
    ("item without number", HEAD + "市甲局\t一项\t完成\t120.5\t3\n", 2, "does not start with an item number"),
    ("empty outcome", HEAD + "市甲局\t1.一\t\t120.5\t3\n", 2, "empty 兑现情况 for item 1"),
    ("first row without score", HEAD + "市甲局\t1.一\t完成\t\t\n", 2, "no 最终得分 on the first row of 市甲局"),
    ("undecodable bytes", HEAD.encode() + "市甲局\t1.一\t完成".encode() + b"\xff\xfe\t120.5\t3\n", 2,
     "undecodable bytes (ff fe"),
    ("targets header in an outcomes file", "部门\t承诺事项\t年度目标\t评定难度系数\n", 1,
     "a targets table, but sources.toml says this file holds outcomes"),
]


@pytest.mark.parametrize(("name", "content", "line", "words"), CASES, ids=[c[0] for c in CASES])
def test_broken_input_names_file_line_and_problem(tmp_path: Path, name, content, line, words):
    path = tmp_path / "broken.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    text = content if isinstance(content, str) else ""
    kind = "targets" if "年度目标" in text and name != "targets header in an outcomes file" else "outcomes"
    with pytest.raises(IngestError) as caught:
        ingest([Source(path, "broken.txt", 2022, kind)])
    problem = caught.value.problems[0]
    assert problem.source == "broken.txt"
    assert problem.line == line
    assert words in problem.message
    where = "broken.txt" + (f":{line}" if line else "")
    assert str(caught.value).startswith(where)


def test_messages_are_all_different():
    assert len({c[3] for c in CASES}) == len(CASES) - 1  # the two empty-file cases share one message
    assert len(CASES) >= 15


def test_unsupported_file_type_and_missing_file(tmp_path: Path):
    (tmp_path / "t.pdf").write_bytes(b"%PDF")
    with pytest.raises(IngestError, match=r"unsupported file type '\.pdf'"):
        ingest([Source(tmp_path / "t.pdf", "t.pdf", 2022, None)])
    with pytest.raises(IngestError, match=r"nope\.csv: file not found"):
        ingest([Source(tmp_path / "nope.csv", "nope.csv", 2022, None)])


def test_malformed_csv_and_broken_xlsx(tmp_path: Path):
    (tmp_path / "t.csv").write_text('部门,承诺事项,兑现情况\n市甲局,"1.一,完成\n', encoding="utf-8")
    with pytest.raises(IngestError, match=r"t.csv:2: malformed CSV"):
        ingest([Source(tmp_path / "t.csv", "t.csv", 2022, None)])
    (tmp_path / "t.xlsx").write_bytes(b"not a zip")
    with pytest.raises(IngestError, match=r"t\.xlsx: not a readable xlsx workbook"):
        ingest([Source(tmp_path / "t.xlsx", "t.xlsx", 2022, None)])


def test_every_bad_row_is_reported_not_just_the_first(tmp_path: Path):
    path = tmp_path / "t.txt"
    path.write_text(HEAD + "市甲局\t1.一\t完成\tx\t3\n" + "市乙局\t1.一\t完成\t110\ty\n", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        ingest([Source(path, "t.txt", 2022, "outcomes")])
    assert [p.line for p in caught.value.problems] == [2, 3]


def test_a_failed_ingest_changes_nothing_already_loaded(data_copy: Path):
    holder = CorpusHolder(data_copy)
    before = holder.current
    assert len(before.records) == 141
    source = data_copy / OUTCOMES
    lines = source.read_text(encoding="utf-8").split("\n")
    lines[20] = lines[20].replace("125.27", "12x.27")  # 市水利局's score, line 21
    source.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(IngestError, match=f"{OUTCOMES}:21: 最终得分 '12x.27' is not a number"):
        holder.reload()
    assert holder.current is before
    assert len(holder.current.records) == 141
    assert next(r for r in holder.current.records if r.department == "市水利局").score is not None
    # once mended, the reload goes through and the version changes with the data
    lines[20] = lines[20].replace("12x.27", "125.28")
    source.write_text("\n".join(lines), encoding="utf-8")
    after = holder.reload()
    assert after.version != before.version
    assert str(next(r for r in after.records if r.department == "市水利局").score) == "125.28"
