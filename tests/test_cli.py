"""The command line, run as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import OUTCOMES, ROOT

HEAVY = ("torch", "chromadb", "sentence_transformers", "transformers", "langchain_core")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "COLUMNS": "200", **(env or {})}, timeout=120)


def test_ingest_check_prints_counts_per_file():
    done = run("ingest", "--check")
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if "outcomes" in line or "targets" in line]
    assert any("71" in r and "14" in r for r in rows if "outcomes" in r)
    assert any("70" in r and "14" in r for r in rows if "targets" in r)


def test_ingest_of_a_bad_file_exits_non_zero_naming_file_and_line(tmp_path: Path):
    bad = tmp_path / "2024_bad.txt"
    bad.write_text("部门\t承诺事项\t年度目标\t评定难度系数\n市甲局\t1 一\t目标\tabc\n", encoding="utf-8")
    done = run("ingest", "--check", str(bad))
    assert done.returncode == 1
    assert f"{bad}:2: 评定难度系数 'abc' is not a number" in done.stderr.replace("\n", "")


def test_records_json_has_source_and_line():
    done = run("records", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert len(data) == 141
    first = data[0]
    assert (first["source"], first["line"], first["department"], first["score_text"]) == (
        OUTCOMES, 6, "市商务局", "129.86")


def test_departments_json():
    data = json.loads(run("departments", "--json").stdout)
    assert len(data) == 28
    fin = [d for d in data if d["department"] == "市财政局"]
    assert fin == [{**fin[0], "year": 2023, "coefficient_text": "1.1563", "line": 46}]


def test_facts_accepts_aliases_and_shows_status():
    data = json.loads(run("facts", "卫健委", "--json").stdout)
    assert data["department"] == "市卫生健康委"
    assert data["years"][0]["score_text"] == "132.98"
    water = json.loads(run("facts", "水利局", "--json").stdout)
    assert [y["year"] for y in water["years"]] == [2022, 2023]
    item2 = water["years"][0]["items"][1]
    assert (item2["status"], item2["line"]) == ("exceeded", 22)
    assert "127%" in item2["evidence"]


def test_facts_of_an_unknown_department_suggests_names():
    done = run("facts", "市教育局")
    assert done.returncode == 1
    assert "not in the data" in done.stderr


def cli_in_process(*argv: str) -> tuple[str, str]:
    """Run the CLI inside one interpreter; returns its output and the heavy modules it imported."""
    code = (
        "import sys\nimport assistant, assistant.corpus, assistant.facts\nfrom assistant.cli import app\n"
        f"sys.argv = ['review-assistant', *{list(argv)!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    out = done.stdout.strip()
    return out, out.rsplit("\n", 1)[-1]


def test_help_and_import_do_not_load_heavy_libraries():
    assert cli_in_process("--help")[1] == "[]"


def test_a_facts_question_does_not_import_torch():
    out, heavy = cli_in_process("ask", "卫健委得分多少?", "--json")
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
                                          "sheet": None}
