"""The audit log (issue 11, part 5) and the small holes (part 6) on the quick tier: every front end records
every answer with its conversation, version and citations; an unwritable log stops the start; a failed write
is a 503 that /health reports; the log rotates by size. Then a non-ASCII key, the open schema, and bad lines
in `ask --jsonl -`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from assistant.audit import AuditLog, AuditUnwritable
from assistant.contract import Answer, Citation
from assistant.service import Service
from assistant.settings import Settings
from tests.command_line import Done, invoke, spawn
from tests.conftest import DATA, OUTCOMES, ROOT


def settings_for(tmp_path: Path, **more) -> Settings:
    more.setdefault("audit_log", tmp_path / "var" / "audit.jsonl")
    return Settings(data_dir=DATA, var_dir=tmp_path / "var", **more)


def cli_env(tmp_path: Path, audit: Path | None = None) -> dict[str, str]:
    return {"REVIEW_ASSISTANT_VAR_DIR": str(tmp_path / "var"),
            "REVIEW_ASSISTANT_AUDIT_LOG": str(audit or tmp_path / "var" / "audit.jsonl")}


def cli(tmp_path: Path, *args: str, audit: Path | None = None, stdin: str | None = None) -> Done:
    """`review-assistant ARGS` in this process, with a var/ (and an audit log) of its own."""
    return invoke(*args, env=cli_env(tmp_path, audit), stdin=stdin)


@pytest.fixture
def http(tmp_path):
    settings = settings_for(tmp_path)
    service = Service.from_settings(settings)
    with TestClient(create_app(settings, make_service=lambda _: service)) as client:
        yield client, service


def test_every_http_front_end_records_the_whole_conversation(http):
    client, service = http
    assert client.post("/api/ask", json={"question": "卫健委得分多少?"}).status_code == 200
    messages = [{"role": "user", "content": "市水利局2022年得分多少?"}, {"role": "assistant", "content": "125.27"},
                {"role": "user", "content": "那它2023年的难度系数呢?"}]
    r = client.post("/v1/chat/completions", json={"model": "review-assistant", "messages": messages})
    assert r.status_code == 200
    first, second = service.audit.last(2)
    assert first["front_end"] == "/api/ask" and first["history"] == [] and first["data_version"] == "v1"
    assert first["citations"][0]["source"] == OUTCOMES and first["citations"][0]["quote"] == "132.98"
    assert second["front_end"] == "/v1/chat/completions" and second["question"] == "那它2023年的难度系数呢?"
    assert second["history"] == ["市水利局2022年得分多少?"] and "1.1438" in second["answer"]
    assert second["citations"] and second["data_version"] == "v1"


def test_the_cli_records_answers_unless_told_not_to(tmp_path):
    log = tmp_path / "var" / "audit.jsonl"
    done = cli(tmp_path, "ask", "卫健委得分多少?")
    assert done.returncode == 0, done.stderr
    (entry,) = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert entry["front_end"] == "cli" and entry["question"] == "卫健委得分多少?" and entry["citations"]
    assert cli(tmp_path, "ask", "--no-audit", "卫健委得分多少?").returncode == 0
    assert len(log.read_text(encoding="utf-8").splitlines()) == 1
    shown = cli(tmp_path, "audit", "--json")
    assert shown.returncode == 0 and json.loads(shown.stdout)[0]["question"] == "卫健委得分多少?"


def test_an_unwritable_audit_log_stops_the_cli_and_the_server_naming_the_path(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    path = blocker / "audit.jsonl"
    for done in (cli(tmp_path, "ask", "卫健委得分多少?", audit=path),
                 spawn("serve", "--port", "9", env=cli_env(tmp_path, path))):  # the server: a real process
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.startswith(f"error: the audit log {path} cannot be written"), done.stderr
    assert cli(tmp_path, "ask", "--no-audit", "卫健委得分多少?", audit=path).returncode == 0
    with pytest.raises(AuditUnwritable, match=str(path)):
        Service.from_settings(settings_for(tmp_path, audit_log=path))


def test_the_app_refuses_to_start_on_an_unwritable_audit_log(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    path = blocker / "audit.jsonl"
    settings = settings_for(tmp_path, audit_log=path)
    with pytest.raises(BaseException) as caught, TestClient(create_app(settings)):
        pass
    assert f"the audit log {path} cannot be written" in repr(caught.value)
    # uvicorn running the app factory (as with several workers) exits, the path in its log
    env = {**os.environ, "REVIEW_ASSISTANT_VAR_DIR": str(tmp_path / "var"), "REVIEW_ASSISTANT_AUDIT_LOG": str(path)}
    done = subprocess.run([sys.executable, "-m", "uvicorn", "--factory", "api.app:app_from_env", "--port", "9"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert done.returncode != 0 and f"cannot start: the audit log {path} cannot be written" in done.stderr


def test_a_failed_write_answers_503_and_health_reports_it(http):
    client, service = http
    path = service.audit.path
    assert client.post("/api/ask", json={"question": "卫健委得分多少?"}).status_code == 200
    path.unlink()
    path.mkdir()  # the log cannot be appended to any more
    r = client.post("/api/ask", json={"question": "卫健委得分多少?"})
    assert r.status_code == 503
    assert r.json()["detail"].startswith(f"the audit log {path} cannot be written")
    v1 = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "卫健委得分多少?"}]})
    assert v1.status_code == 503 and "audit log" in v1.json()["error"]["message"]
    health = client.get("/health").json()
    assert health["status"] == "degraded" and any("audit log" in n for n in health["notes"])
    path.rmdir()
    assert client.post("/api/ask", json={"question": "卫健委得分多少?"}).status_code == 200
    assert client.get("/health").json()["notes"] == []


def answer(n: int) -> Answer:
    return Answer(f"问题{n}", "答" * 50, "facts", [Citation(1, OUTCOMES, 21, 2022, "outcomes", "市水利局", 1,
                                                           "最终得分", "125.27")], data_version="v1")


def test_the_log_rotates_by_size_and_keeps_n_files(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl", max_bytes=2000, backups=2)
    for n in range(40):
        log.record(answer(n), "test")
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]
    assert all(p.stat().st_size <= 2000 for p in tmp_path.iterdir())
    last = [r["question"] for r in log.last(5)]
    assert last == [f"问题{n}" for n in range(35, 40)]
    kept = [json.loads(line)["question"] for p in ("audit.jsonl.2", "audit.jsonl.1", "audit.jsonl")
            for line in (tmp_path / p).read_text(encoding="utf-8").splitlines()]
    assert kept == [f"问题{n}" for n in range(40 - len(kept), 40)]  # in order, none lost in between


# ---- small holes ------------------------------------------------------------------------------------------


def test_a_non_ascii_key_is_401_and_the_schema_is_open(tmp_path):
    settings = settings_for(tmp_path, api_keys="k1")
    service = Service.from_settings(settings)
    with TestClient(create_app(settings, make_service=lambda _: service)) as client:
        r = client.get("/api/departments", headers=[(b"Authorization", "Bearer 密钥".encode())])
        assert r.status_code == 401
        r = client.get("/api/departments", headers=[(b"Authorization", b"Bearer \xff\xfe")])
        assert r.status_code == 401
        # the README says: the schema is open (it names routes, never data)
        assert client.get("/openapi.json").status_code == 200 and client.get("/docs").status_code == 200


def test_ask_jsonl_answers_every_good_line_and_an_error_object_for_each_bad_one(tmp_path):
    lines = ["卫健委得分多少?", "{not json", '{"q": 3}', '{"history": []}', '["a list"]',
             '{"question": "那它2023年的难度系数呢?", "history": ["市水利局2022年得分多少?"]}',
             '{"question": "发改委难度系数", "history": "x"}', '{"question": "发改委难度系数"}']
    done = cli(tmp_path, "ask", "--jsonl", "-", stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(out) == len(lines)
    assert out[0]["mode"] == "facts" and "132.98" in out[0]["answer"]
    assert out[1]["error"].startswith("not valid JSON") and out[1]["line"] == 2
    assert out[2] == {"error": '"question" must be a non-empty string', "line": 3}
    assert out[3] == {"error": 'missing "question"', "line": 4}
    assert out[4]["error"].startswith("a JSON line must be an object")
    assert "1.1438" in out[5]["answer"]
    assert out[6] == {"error": '"history" must be a list of strings', "line": 7}
    assert "1.1599" in out[7]["answer"]
