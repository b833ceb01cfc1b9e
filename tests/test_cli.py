"""The command line: in this process through typer's runner (quick), and as a real process where the process
itself is what is tested (imports, stdin)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.command_line import invoke
from tests.conftest import OUTCOMES, ROOT

HEAVY = ("torch", "chromadb", "sentence_transformers", "transformers", "langchain_core")
SEPARATOR = "----- heavy modules so far -----"


def test_ingest_check_prints_counts_per_file():
    done = invoke("ingest", "--check")
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if "outcomes" in line or "targets" in line]
    assert any("71" in r and "14" in r for r in rows if "outcomes" in r)
    assert any("70" in r and "14" in r for r in rows if "targets" in r)


def test_ingest_of_a_bad_file_exits_non_zero_naming_file_and_line(tmp_path: Path):
    bad = tmp_path / "2024_bad.txt"
    bad.write_text("部门\t承诺事项\t年度目标\t评定难度系数\n市甲局\t1 一\t目标\tabc\n", encoding="utf-8")
    done = invoke("ingest", "--check", str(bad))
    assert done.returncode == 1
    assert f"{bad}:2: column 评定难度系数: 'abc' is not a number" in done.stderr.replace("\n", "")


def test_eval_of_a_missing_or_broken_question_set_names_it_without_a_traceback(tmp_path: Path):
    missing = invoke("eval", str(tmp_path / "none.json"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('[{"id": "x",\n  "question": }]', encoding="utf-8")
    done = invoke("eval", str(broken))
    assert done.returncode == 2 and f"{broken}:2:" in done.stderr.replace("\n", "") and "Traceback" not in done.stderr


def test_records_json_has_source_and_line():
    done = invoke("records", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert len(data) == 141
    first = data[0]
    assert (first["source"], first["line"], first["department"], first["score_text"]) == (
        OUTCOMES, 6, "市商务局", "129.86")


def test_departments_json():
    data = json.loads(invoke("departments", "--json").stdout)
    assert len(data) == 28
    fin = [d for d in data if d["department"] == "市财政局"]
    assert fin == [{**fin[0], "year": 2023, "coefficient_text": "1.1563", "line": 46}]


def test_facts_accepts_aliases_and_shows_status():
    data = json.loads(invoke("facts", "卫健委", "--json").stdout)
    assert data["department"] == "市卫生健康委"
    assert data["years"][0]["score_text"] == "132.98"
    water = json.loads(invoke("facts", "水利局", "--json").stdout)
    assert [y["year"] for y in water["years"]] == [2022, 2023]
    item2 = water["years"][0]["items"][1]
    assert (item2["status"], item2["line"]) == ("exceeded", 22)
    assert "127%" in item2["evidence"]


NEAREST = ["市财政局", "市经信局", "市科技局", "市水利局", "市文化广电旅游局"]


@pytest.mark.parametrize("argv", [("facts", "市教育局"), ("summary", "市教育局"),
                                  ("search", "x", "--department", "市教育局", "--retriever", "bm25")])
def test_an_unknown_department_gives_one_error_and_the_nearest_names(argv):
    done = invoke(*argv)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == ["error: department '市教育局' is not in the data",
                                        "nearest: " + ", ".join(NEAREST)]


def test_the_cli_and_the_api_report_a_missing_department_alike(quick_service, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from assistant.settings import Settings

    with TestClient(create_app(Settings(var_dir=tmp_path), make_service=lambda _: quick_service)) as client:
        body = client.get("/api/departments/市教育局").json()
    lines = invoke("facts", "市教育局").stderr.splitlines()
    assert lines == [f"error: {body['detail']}", "nearest: " + ", ".join(body["suggestions"])]


def test_an_unknown_summary_format_names_the_formats():
    done = invoke("summary", "卫健委", "--format", "xml")
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["error: format 'xml' is not one of md, html, json", "nearest: md, html, json"]


@pytest.fixture(scope="module")
def fresh_process() -> list[tuple[str, str]]:
    """One new interpreter that runs the CLI twice, `--help` and then a facts question, and after each prints
    the heavy modules imported so far: (output, heavy modules) of each run. The first run starts from a fresh
    interpreter; the second adds only what the question needs, as heavy modules are never unloaded."""
    runs = [["--help"], ["ask", "卫健委得分多少?", "--json"]]
    code = (
        "import sys\nimport assistant, assistant.corpus, assistant.facts\nfrom assistant.cli import app\n"
        f"for argv in {runs!r}:\n"
        "    sys.argv = ['review-assistant', *argv]\n"
        "    try:\n        app()\n    except SystemExit:\n        pass\n"
        f"    print('\\n' + {SEPARATOR!r})\n"
        f"    print([m for m in {HEAVY!r} if m in sys.modules])\n"
        f"    print({SEPARATOR!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    parts = done.stdout.split(SEPARATOR + "\n")  # output, heavy, output, heavy, ""
    assert len(parts) == 2 * len(runs) + 1, done.stdout
    return [(parts[2 * i], parts[2 * i + 1].strip()) for i in range(len(runs))]


def test_help_and_import_do_not_load_heavy_libraries(fresh_process):
    out, heavy = fresh_process[0]
    assert "Usage" in out and heavy == "[]"


def test_a_facts_question_does_not_import_torch(fresh_process):
    out, heavy = fresh_process[1]
    assert "132.98" in out and heavy == "[]"


def test_ask_jsonl_reads_questions_from_stdin():
    done = subprocess.run([sys.executable, "-m", "assistant", "ask", "--jsonl", "-"],
                          input="卫健委得分多少?\n\n发改委难度系数\n", capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["mode"] for a in answers] == ["facts", "facts"]
    assert answers[1]["citations"][0] == {"id": 1, "source": "002_54d987597a722985.txt", "line": 34, "year": 2023,
                                          "kind": "targets", "department": "市发展改革委", "item": 1,
                                          "field": "评定难度系数", "quote": "1.1599", "span": None,
                                          "sheet": None,
                                          "title": "湖州市市直单位2023年度承诺事项年度目标与评定难度系数"}


def test_serve_on_a_bad_source_fails_with_the_line_before_starting(data_copy, monkeypatch):
    source = data_copy / OUTCOMES
    lines = source.read_text(encoding="utf-8").split("\n")
    lines[20] = lines[20].replace("125.27", "12x.27")
    source.write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setenv("REVIEW_ASSISTANT_DATA_DIR", str(data_copy))
    done = invoke("serve", "--port", "9")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0] == f"error: {OUTCOMES}:21: column 最终得分: '12x.27' is not a number"


def test_arguments_typed_in_utf8_are_read_as_utf8_under_the_c_locale():
    """Under LC_ALL=C Python decodes argv as ASCII with surrogate escapes; the CLI reads the bytes as UTF-8."""
    import os

    from assistant.cli import utf8_arguments

    typed = "为农服务网点有多少家?".encode()
    escaped = typed.decode("ascii", "surrogateescape")  # what sys.argv holds in the C locale
    assert utf8_arguments(["review-assistant", "ask", escaped]) == ["review-assistant", "ask", "为农服务网点有多少家?"]
    assert utf8_arguments(["ask", "卫健委"]) == ["ask", "卫健委"]  # already text: unchanged
    assert os.fsencode(escaped) == typed  # the bytes come back whatever the file-system encoding
