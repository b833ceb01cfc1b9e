"""One service behind both front ends: for the same questions, `review-assistant ask --jsonl -` and
`POST /api/ask` give identical answers, citations and facts (tests/fixtures/front_end_questions.json)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from assistant.settings import Settings, get_settings
from tests.command_line import invoke
from tests.conftest import FIXTURES

QUESTIONS = json.loads((FIXTURES / "front_end_questions.json").read_text(encoding="utf-8"))["questions"]
FACTS = [q["q"] for q in QUESTIONS if q["kind"] != "retrieval"]
ALL = [q["q"] for q in QUESTIONS]


def cli_answers(questions: list[str]) -> list[dict]:
    done = invoke("ask", "--jsonl", "-", stdin="".join(q + "\n" for q in questions))
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def api_answers(client: TestClient, questions: list[str]) -> list[dict]:
    answers = []
    for q in questions:
        r = client.post("/api/ask", json={"question": q})
        assert r.status_code == 200, r.text
        answers.append(r.json())
    return answers


def assert_same(cli: list[dict], api: list[dict], questions: list[str]) -> None:
    assert [a["question"] for a in cli] == questions
    for mine, theirs in zip(cli, api, strict=True):
        assert mine == theirs, mine["question"]
        assert mine["citations"] or mine["mode"] == "refusal", mine["question"]


def test_facts_questions_answer_alike_in_both_front_ends(quick_service, tmp_path):
    """Quick: answered from facts, so the CLI's lazy service never builds retrieval."""
    with TestClient(create_app(Settings(var_dir=tmp_path), make_service=lambda _: quick_service)) as client:
        api = api_answers(client, FACTS)
    cli = cli_answers(FACTS)
    assert_same(cli, api, FACTS)
    assert {a["mode"] for a in cli} >= {"facts", "refusal"}


@pytest.mark.slow
def test_every_kind_answers_alike_in_both_front_ends(embeddings, tmp_path, monkeypatch):
    """Slow: the real model. Both front ends build their service from the same settings (one store on disk);
    the API's eagerly (the server), the CLI's lazily on its first content question. The CLI is handed the
    session's loaded model rather than loading a second copy (loading is tested by the embeddings tests)."""
    from assistant.service import Service

    handed: list[str] = []

    def session_model(name, *_args, **_kwargs):
        handed.append(name)
        return embeddings

    monkeypatch.setattr("index.embeddings.load_any", session_model)  # what the CLI's lazy model loads through
    monkeypatch.setenv("REVIEW_ASSISTANT_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    settings = get_settings()
    app = create_app(settings, make_service=lambda s: Service.from_settings(s, "eager", embeddings=embeddings))
    with TestClient(app) as client:
        api = api_answers(client, ALL)
    cli = cli_answers(ALL)
    assert_same(cli, api, ALL)
    assert {a["mode"] for a in cli} >= {"facts", "retrieval", "refusal"}
    assert handed == [settings.embedding_model]  # the CLI's content questions went through the session's model
