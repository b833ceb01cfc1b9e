"""A real server under uvicorn on 127.0.0.1, driven by the official `openai` SDK and by schemathesis."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.server]


@pytest.fixture(scope="module")
def sdk(live_server):
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=live_server + "/v1", api_key="unused", max_retries=0, timeout=120)


QUESTIONS = ["市水利局2022年最终得分多少?", "为农服务网点有多少家?", "哪些部门超额完成了目标?"]


@pytest.mark.parametrize("question", QUESTIONS)
def test_streamed_text_equals_plain_text_and_citations_arrive(sdk, question):
    messages = [{"role": "user", "content": question}]
    plain = sdk.chat.completions.create(model="review-assistant", messages=messages)
    text = plain.choices[0].message.content
    citations = plain.model_extra["citations"]
    assert citations and all({"source", "line", "quote"} <= set(c) for c in citations)
    assert "来源 Sources:" in text

    pieces, streamed_citations, chunks = [], None, 0
    for chunk in sdk.chat.completions.create(model="review-assistant", messages=messages, stream=True):
        chunks += 1
        delta = chunk.choices[0].delta.content if chunk.choices else None
        if delta:
            pieces.append(delta)
        if (chunk.model_extra or {}).get("citations"):
            streamed_citations = chunk.model_extra["citations"]
    assert chunks > 3
    assert "".join(pieces) == text
    assert streamed_citations == citations


def test_models_and_context(sdk):
    assert [m.id for m in sdk.models.list().data] == ["review-assistant"]
    reply = sdk.chat.completions.create(model="review-assistant", messages=[
        {"role": "user", "content": "市水利局2022年得分多少?"},
        {"role": "assistant", "content": "125.27"},
        {"role": "user", "content": "那它2023年的难度系数呢?"}])
    assert "1.1438" in reply.choices[0].message.content


def test_sse_ends_with_done(live_server):
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "卫健委得分多少?"}]}
    with httpx.stream("POST", live_server + "/v1/chat/completions", timeout=60, json=body) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line]
    assert events[-1] == "data: [DONE]" and all(e.startswith("data: ") for e in events)


def test_schemathesis_finds_no_server_errors_or_schema_violations(live_server, tmp_path):
    pytest.importorskip("schemathesis")
    st = [sys.executable, "-m", "schemathesis.cli"]
    report = tmp_path / "junit.xml"
    done = subprocess.run([*st, "run", live_server + "/openapi.json", "--checks",
                           "not_a_server_error,response_schema_conformance,status_code_conformance,"
                           "content_type_conformance", "--max-examples", "25", "--workers", "2",
                           "--report", "junit", "--report-junit-path", str(report), "--no-color",
                           "--generation-deterministic"],
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
