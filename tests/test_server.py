"""A real server under uvicorn on 127.0.0.1, driven by the official `openai` SDK and by schemathesis."""

from __future__ import annotations

import json
import re
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


def test_errors_reach_the_sdk_in_openai_shape(sdk):
    import openai

    with pytest.raises(openai.BadRequestError) as bad:
        sdk.chat.completions.create(model="review-assistant", n=2,
                                    messages=[{"role": "user", "content": "卫健委得分?"}])
    assert bad.value.param == "n" and bad.value.type == "invalid_request_error" and "n=1" in bad.value.message
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.chat.completions.create(model="review-assistant", messages=[{"role": "user", "content": "问" * 1001}])
    assert bad.value.param == "messages[-1].content" and "1000" in bad.value.message
    with pytest.raises(openai.BadRequestError) as bad:
        sdk.chat.completions.create(model="review-assistant", messages=[{"role": "wizard", "content": "x"}])
    assert bad.value.param == "messages.0.role"
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.models.retrieve("gpt-4o")
    assert missing.value.code == "model_not_found" and "review-assistant" in missing.value.message


def test_model_by_id(sdk):
    model = sdk.models.retrieve("review-assistant")
    assert model.id == "review-assistant" and model.owned_by == "review-assistant"


def test_include_usage_sends_a_last_usage_chunk(sdk):
    chunks = list(sdk.chat.completions.create(model="review-assistant", stream=True,
                                              stream_options={"include_usage": True},
                                              messages=[{"role": "user", "content": "卫健委得分多少?"}]))
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + chunks[-1].usage.completion_tokens
    assert all(c.usage is None for c in chunks[:-1])
    plain = list(sdk.chat.completions.create(model="review-assistant", stream=True,
                                             messages=[{"role": "user", "content": "卫健委得分多少?"}]))
    assert all(c.usage is None for c in plain) and plain[-1].choices


def test_a_long_conversation_is_accepted(sdk):
    filler = [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "您好"}] * 40
    reply = sdk.chat.completions.create(model="review-assistant", messages=[
        *filler, {"role": "user", "content": "市水利局2022年得分多少?"}, {"role": "assistant", "content": "125.27"},
        {"role": "user", "content": "那它2023年的难度系数呢?"}])
    assert "1.1438" in reply.choices[0].message.content


def test_max_tokens_cuts_at_a_sentence_end_and_keeps_sources(sdk):
    messages = [{"role": "user", "content": "哪些部门超额完成了目标?"}]
    full = sdk.chat.completions.create(model="review-assistant", messages=messages)
    cut = sdk.chat.completions.create(model="review-assistant", messages=messages, max_tokens=120)
    assert full.choices[0].finish_reason == "stop" and cut.choices[0].finish_reason == "length"
    body, sources = cut.choices[0].message.content.split("\n\n来源 Sources:\n")
    assert len(body) <= 120 and full.choices[0].message.content.startswith(body)
    rest = full.choices[0].message.content[len(body):]
    assert body[-1] in "。!?;." or rest.startswith("\n"), body  # cut at a sentence or line end
    markers = set(re.findall(r"\[(\d+)\]", body))
    assert markers and markers == {line.split("]")[0][1:] for line in sources.splitlines()}
    streamed = "".join(c.choices[0].delta.content or "" for c in sdk.chat.completions.create(
        model="review-assistant", messages=messages, max_tokens=120, stream=True) if c.choices)
    assert streamed == cut.choices[0].message.content


def test_stop_sequences(sdk):
    messages = [{"role": "user", "content": "哪些部门超额完成了目标?"}]
    full = sdk.chat.completions.create(model="review-assistant", messages=messages).choices[0].message.content
    generated = full.split("\n\n来源 Sources:")[0]
    stop = generated[len(generated) // 2 :][:4]  # a sequence from the middle of the text, table or not
    stopped = sdk.chat.completions.create(model="review-assistant", messages=messages, stop=["不在文中", stop])
    text = stopped.choices[0].message.content.split("\n\n来源 Sources:")[0]
    assert stopped.choices[0].finish_reason == "stop"
    assert text == generated[: generated.index(stop)].rstrip() and len(text) < len(generated)


CHAT = [{"role": "user", "content": "水利局2022年得分多少?"},
        {"role": "assistant", "content": "市水利局2022年最终得分125.27分[1],在经济建设类中排名第12[2]。"}]


@pytest.mark.parametrize("stream", [False, True])
def test_open_webui_tasks_get_the_json_they_ask_for(sdk, stream):
    from tests.openwebui import task_prompt

    def run(name):
        messages = [{"role": "user", "content": task_prompt(name, CHAT)}]
        if stream:
            text = "".join(c.choices[0].delta.content or "" for c in sdk.chat.completions.create(
                model="review-assistant", messages=messages, stream=True) if c.choices)
        else:
            text = sdk.chat.completions.create(model="review-assistant", messages=messages).choices[0].message.content
        return json.loads(text)

    assert "市水利局" in run("title")["title"] and "市水利局" in run("title_2024")["title"]
    assert {"市水利局", "经济建设类"} <= set(run("tags")["tags"])
    follow_ups = run("follow_ups")["follow_ups"]
    assert 3 <= len(follow_ups) <= 5
    if not stream:  # every suggestion is a question the data answers, with citations
        for question in follow_ups:
            reply = sdk.chat.completions.create(model="review-assistant",
                                                messages=[{"role": "user", "content": question}])
            assert reply.model_extra["answer"]["mode"] != "refusal", question
            assert reply.model_extra["citations"], question


def test_sse_ends_with_done(live_server):
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "卫健委得分多少?"}]}
    with httpx.stream("POST", live_server + "/v1/chat/completions", timeout=60, json=body) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line]
    assert events[-1] == "data: [DONE]" and all(e.startswith("data: ") for e in events)


# Ten generated cases per operation in the fuzzing phase, on top of the coverage phase's boundary cases (which no
# example count limits) and the stateful phase. A report costs a PDF (about a second) when its name is valid, so
# the two report operations get three fuzzed cases and only the coverage phase's invalid inputs: their valid PDFs
# come from the examples and fuzzing phases (and their own tests in test_reports.py), not seven copies of one.
SCHEMATHESIS_CONFIG = """\
[generation]
max-examples = 10

[[operations]]
include-path-regex = "^/api/reports/"
generation.max-examples = 3
phases.coverage.generation.mode = "negative"
"""


def test_schemathesis_finds_no_server_errors_or_schema_violations(live_server, tmp_path):
    pytest.importorskip("schemathesis")
    config = tmp_path / "schemathesis.toml"
    config.write_text(SCHEMATHESIS_CONFIG, encoding="utf-8")
    st = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config)]
    report = tmp_path / "junit.xml"
    done = subprocess.run([*st, "run", live_server + "/openapi.json", "--checks",
                           "not_a_server_error,response_schema_conformance,status_code_conformance,"
                           # one worker (no slower here): with two threads, hypothesis' ast.parse hit CPython
                           # 3.11.7's SystemError "AST constructor recursion depth mismatch" once in a CI run
                           "content_type_conformance", "--workers", "1",
                           "--report", "junit", "--report-junit-path", str(report), "--no-color",
                           "--generation-deterministic"],
                          capture_output=True, text=True, timeout=1200, cwd=tmp_path)  # its .schemathesis/ cache
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    counts = re.search(r"Selected: (\d+)/(\d+)\s+Tested: (\d+)", done.stdout)  # the config excludes no operation
    assert counts and len(set(counts.groups())) == 1, done.stdout[-4000:]
