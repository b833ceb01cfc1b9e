"""The development question set, through the real CLI, scored by the shared scorer (copied as a fixture)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
EVAL = ROOT / "tests" / "fixtures" / "eval"


def test_dev_set_passes_the_shared_scorer(tmp_path):
    questions = json.loads((EVAL / "dev_questions.json").read_text(encoding="utf-8"))["questions"]
    stdin = "".join(q["q"] + "\n" for q in questions)
    done = subprocess.run([sys.executable, "-m", "assistant", "ask", "--jsonl", "-"], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**__import__("os").environ, "REVIEW_ASSISTANT_VAR_DIR": str(ROOT / "var")})
    assert done.returncode == 0, done.stderr[-2000:]
    answers = tmp_path / "answers.jsonl"
    answers.write_text(done.stdout, encoding="utf-8")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == len(questions)
    for a in lines:
        assert set(a) >= {"question", "answer", "mode", "citations", "facts", "searched"}
        assert a["mode"] in {"facts", "retrieval", "llm", "refusal"}
    scored = subprocess.run([sys.executable, str(EVAL / "score.py"), str(EVAL / "dev_questions.json"), str(answers),
                             str(ROOT / "data"), "--verbose"], capture_output=True, text=True, timeout=60)
    assert "passed 26/26 questions" in scored.stdout, scored.stdout
    assert "unsupported numbers 0" in scored.stdout, scored.stdout


def test_eval_command_reports_per_kind():
    done = subprocess.run([sys.executable, "-m", "assistant", "eval", str(EVAL / "dev_questions.json")],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "passed 26/26; gold rows cited 28/28; unsupported numbers 0" in done.stdout.replace("\n", "")
