"""Every broken input fails with one clear error naming the file, the line (or sheet and row) and the cell.

The cases live in tests/fixtures/bad/expected.toml, each with the exact message it must give; every case
runs through the library and through the real command line (`review-assistant ingest --check`).
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

from assistant.corpus import CorpusHolder
from assistant.ingest import ingest, validate
from assistant.records import IngestError
from assistant.sources import YEAR_IN_NAME, Source
from tests.bad_workbooks import BUILDERS
from tests.command_line import invoke, spawn
from tests.conftest import OUTCOMES, ROOT

BAD = ROOT / "tests" / "fixtures" / "bad"
CASES: list[dict[str, Any]] = tomllib.loads((BAD / "expected.toml").read_text(encoding="utf-8"))["case"]


def case_id(case: dict[str, Any]) -> str:
    return case.get("xlsx") or case.get("file") or "+".join(case["files"])


def materialise(case: dict[str, Any], folder: Path, prefix: str = "") -> list[Path]:
    """The case's files under `folder` (names prefixed with `prefix`)."""
    folder.mkdir(parents=True, exist_ok=True)
    if "files" in case:
        return [Path(shutil.copy(BAD / name, folder / name)) for name in case["files"]]
    if "xlsx" in case:
        path = folder / f"{prefix}{case['xlsx']}.xlsx"
        BUILDERS[case["xlsx"]](path)
        return [path]
    path = folder / f"{prefix}{case['file']}"
    make = case.get("make")
    if make == "directory":
        path.mkdir()
    elif make == "symlink_loop":
        path.symlink_to(path.name)
    elif make == "broken_symlink":
        path.symlink_to(folder / "nothing-here.csv")
    else:
        shutil.copy(BAD / case["file"], path)
    return [path]


def _year(name: str) -> int:
    found = YEAR_IN_NAME.search(name)
    return int(found.group(1)) if found else 2022


def expected_lines(case: dict[str, Any], names: list[str], key: str = "expected") -> list[str]:
    fill = {"file": names[0], **{f"file{i}": n for i, n in enumerate(names)}}
    return [text.format(**fill) for text in case.get(key, [])]


def test_the_table_holds_at_least_forty_broken_inputs_of_every_format():
    broken = [c for c in CASES if c["expected"]]
    assert len(broken) >= 40
    suffixes = {Path(case_id(c)).suffix or ".xlsx" for c in broken}
    assert {".txt", ".csv", ".xlsx"} <= suffixes
    assert all(len(c["expected"]) == 1 for c in broken), "each broken input gives one error"
    files = {p.name for p in BAD.iterdir()} - {"expected.toml", ".gitattributes"}
    named = {c["file"] for c in CASES if "file" in c and "make" not in c}
    named |= {f for c in CASES for f in c.get("files", [])}
    assert files == named, "every fixture file has its expected message"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_library_gives_the_expected_error(tmp_path: Path, case: dict[str, Any]):
    paths = materialise(case, tmp_path)
    sources = [Source(p, p.name, _year(p.name), case.get("kind")) for p in paths]
    reports = validate(sources)
    problems = [str(p) for r in reports for p in r.rejected]
    assert problems == expected_lines(case, [p.name for p in paths])
    assert [str(w) for r in reports for w in r.warnings] == expected_lines(case, [p.name for p in paths], "warnings")
    if problems:
        with pytest.raises(IngestError) as caught:
            ingest(sources)
        assert [str(p) for p in caught.value.problems] == problems
    else:
        got = [{"department": r.department, "item": r.item, "score": str(r.score), "rank": r.rank}
               for report in reports for r in report.records]
        assert got == case["loads"]


def test_command_line_gives_every_expected_error_and_no_traceback(tmp_path: Path):
    """All cases in one `ingest --check` run, a real process (what it prints on stderr is the point): each
    file's year is in its name and differs from the others' (but the files of one case share theirs), so no
    case meets another."""
    given: list[tuple[dict[str, Any], list[Path]]] = []
    data = tmp_path / "data"  # cases that name their kind are listed in a sources.toml, as kind needs
    manifest = []
    for n, case in enumerate(CASES):
        year = None if "files" in case else 2030 + n if n < 70 else None  # files: their own; the rest: unknown
        if case.get("kind"):
            paths = materialise(case, data, f"case{n}-")
            manifest.append(f'[[source]]\nfile = "{paths[0].name}"\nyear = 2022\nkind = "{case["kind"]}"\n')
        else:
            paths = materialise(case, tmp_path / f"case{n}", f"{year}_" if year else f"{n}-")
        given.append((case, paths))
    (data / "sources.toml").write_text("\n".join(manifest), encoding="utf-8")
    done = spawn("ingest", "--check", *(str(p) for _, paths in given for p in paths),
                 env={"REVIEW_ASSISTANT_DATA_DIR": str(data), "COLUMNS": "400"}, timeout=300)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.splitlines()
    for case, paths in given:
        names = [p.name if case.get("kind") else str(p) for p in paths]
        mine = [line.split(" ", 1)[1] for line in lines if line.split(" ", 1)[1:2] and
                any(line.split(" ", 1)[1].startswith(n + c) for n in names for c in ": ")]
        want = expected_lines(case, names) + expected_lines(case, names, "warnings")
        if not case.get("kind") and not any(n.split("/")[-1][:4].isdigit() for n in names):
            want += [f"{names[0]}: year unknown: list the file in data/sources.toml or pass --year"]
        assert sorted(mine) == sorted(want), case_id(case)


def test_check_without_a_year_still_reports_every_line_error_and_the_year(tmp_path: Path):
    path = tmp_path / "no-year.txt"
    path.write_text("部门\t承诺事项\t兑现情况\t最终得分\t类别内排名\n市甲局\t1.一\t完成\t129,86\t9\n"
                    "市乙局\t1.一\t完成\t1e2\t10\n", encoding="utf-8")
    done = invoke("ingest", "--check", str(path))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: {path}: year unknown: list the file in data/sources.toml or pass --year",
        f"error: {path}:2: column 最终得分: '129,86' has a decimal comma; write 129.86",
        f"error: {path}:3: column 最终得分: '1e2' is in scientific notation; write 100",
    ]
    records = invoke("records", str(path))
    assert records.returncode == 1 and "Traceback" not in records.stderr
    assert "year unknown" in records.stderr


def test_records_command_names_the_cell_not_a_traceback(tmp_path: Path):
    path = tmp_path / "2022_bad.txt"
    path.write_text("部门\t承诺事项\t兑现情况\t最终得分\t类别内排名\n市甲局\t1.一\t完成\t120.5\t⑨\n", encoding="utf-8")
    done = invoke("records", "--json", str(path))
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: {path}:2: column 类别内排名: '⑨' has circled or enclosed digits; " \
                                  "write plain digits (0-9)"
    assert done.stdout == ""


def test_unsupported_file_type_and_missing_file(tmp_path: Path):
    (tmp_path / "t.pdf").write_bytes(b"%PDF")
    with pytest.raises(IngestError, match=r"unsupported file type '\.pdf'"):
        ingest([Source(tmp_path / "t.pdf", "t.pdf", 2022, None)])
    with pytest.raises(IngestError, match=r"nope\.csv: file not found"):
        ingest([Source(tmp_path / "nope.csv", "nope.csv", 2022, None)])


def test_every_bad_row_is_reported_not_just_the_first(tmp_path: Path):
    path = tmp_path / "t.txt"
    path.write_text("部门\t承诺事项\t兑现情况\t最终得分\t类别内排名\n" + "市甲局\t1.一\t完成\tx\t3\n"
                    + "市乙局\t1.一\t完成\t110\ty\n", encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        ingest([Source(path, "t.txt", 2022, "outcomes")])
    assert [(p.line, p.column) for p in caught.value.problems] == [(2, "最终得分"), (3, "类别内排名")]


def test_every_unreadable_file_is_reported_not_just_the_first(tmp_path: Path):
    (tmp_path / "a.txt").write_bytes(b"")
    (tmp_path / "b.txt").mkdir()
    with pytest.raises(IngestError) as caught:
        ingest([Source(tmp_path / n, n, 2022, None) for n in ("a.txt", "b.txt")])
    assert [p.source for p in caught.value.problems] == ["a.txt", "b.txt"]


def test_a_failed_ingest_changes_nothing_already_loaded(data_copy: Path):
    holder = CorpusHolder(data_copy)
    before = holder.current
    assert len(before.records) == 141
    source = data_copy / OUTCOMES
    lines = source.read_text(encoding="utf-8").split("\n")
    lines[20] = lines[20].replace("125.27", "12x.27")  # 市水利局's score, line 21
    source.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(IngestError, match=f"{OUTCOMES}:21: column 最终得分: '12x.27' is not a number"):
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


def test_one_bad_score_in_the_real_table_gives_one_error_for_its_cell(data_copy: Path):
    """市城市集团's first row (line 16) with a decimal comma: its four other rows stay its own, so there is
    one error, for the cell, and no "duplicate item number" for the department above it."""
    from assistant.corpus import load_corpus

    source = data_copy / OUTCOMES
    lines = source.read_text(encoding="utf-8").split("\n")
    assert lines[15].startswith("市城市集团")
    lines[15] = lines[15].replace("126.09", "126,09")
    source.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        load_corpus(data_copy)
    assert [str(p) for p in caught.value.problems] == [
        f"{OUTCOMES}:16: column 最终得分: '126,09' has a decimal comma; write 126.09"]


@pytest.mark.parametrize(("manifest", "message"), [
    ('[[source]]\nfile = "a.txt"\nyear = 2022\n', "[[source]] #1 lacks kind"),
    ('[[source]]\nfile = "a.txt"\nyear = "二〇二二"\nkind = "outcomes"\n',
     "[[source]] #1: file must be a string and year a whole number like 2023"),
    ('[[source]]\nfile = "a.txt"\nyear = 2022\nkind = "plans"\n',
     "[[source]] #1: kind must be one of outcomes, targets"),
    ("source = 3\n", "[[source]] #1 is not a table of file, year and kind"),
    ("[[source]\n", "invalid TOML"),
])
def test_a_bad_manifest_is_named_not_a_traceback(tmp_path: Path, manifest: str, message: str):
    (tmp_path / "sources.toml").write_text(manifest, encoding="utf-8")
    done = invoke("records", env={"REVIEW_ASSISTANT_DATA_DIR": str(tmp_path)})
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {tmp_path / 'sources.toml'}") and message in done.stderr
