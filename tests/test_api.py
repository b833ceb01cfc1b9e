"""Routes through FastAPI's TestClient, on the service as the server builds it (`Service.from_settings`, eager),
with deterministic fake embeddings: the quick tier. Retrieval quality is tested on the real model elsewhere."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from assistant.settings import Settings
from tests.conftest import OUTCOMES, ROOT, TARGETS


def make_client(service, tmp_path, **settings):
    s = Settings(var_dir=tmp_path, audit_log=tmp_path / "audit.jsonl", collection="quick", **settings)
    app = create_app(s, make_service=lambda _: service)
    return TestClient(app), s


@pytest.fixture
def client(quick_service, tmp_path):
    c, _ = make_client(quick_service, tmp_path)
    with c:
        yield c


def test_ask_returns_the_contract(client, quick_service):
    r = client.post("/api/ask", json={"question": "市水利局2023年的评定难度系数是多少?"})
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == "facts" and "1.1438" in body["answer"]
    assert body["citations"][0] | {"source": TARGETS, "line": 66} == body["citations"][0]
    assert body["searched"]["rows"] == 141 and body["data_version"]
    entry = quick_service.audit.last(1)[0]  # the service records every answer, whichever front end asked
    assert entry["question"] == "市水利局2023年的评定难度系数是多少?" and entry["mode"] == "facts"
    assert entry["front_end"] == "/api/ask" and entry["history"] == []
    assert [(c["source"], c["line"], c["field"]) for c in entry["citations"]] == [(TARGETS, 66, "评定难度系数")]
    assert entry["data_version"] == body["data_version"] and "time" in entry and entry["warnings"] == []


def test_ask_with_filters(client):
    r = client.post("/api/ask", json={"question": "得分多少?", "filters": {"department": "卫健委"}})
    assert "132.98" in r.json()["answer"]


def test_departments_and_summary_with_aliases(client):
    rows = client.get("/api/departments").json()
    assert len(rows) == 28 and {"department", "score", "rank", "coefficient", "source", "line"} <= set(rows[0])
    summary = client.get("/api/departments/文旅局").json()
    assert summary["department"] == "市文化广电旅游局" and "130.34" in summary["markdown"]
    assert summary["chart"]["category"] == "社会发展类" and len(summary["chart"]["departments"]) == 4
    missing = client.get("/api/departments/市教育局")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "department '市教育局' is not in the data", "field": "name",
                              "suggestions": ["市财政局", "市经信局", "市科技局", "市水利局", "市文化广电旅游局"]}


@pytest.mark.parametrize(("fmt", "media", "starts"), [("md", "text/markdown", "# 市卫生健康委"),
                                                     ("html", "text/html", '<article class="summary"'),
                                                     ("json", "application/json", "{")])
def test_summary_in_every_registered_format(client, fmt, media, starts):
    from assistant.renderers import RENDERERS

    r = client.get("/api/departments/卫健委/summary", params={"format": fmt})
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    assert r.text.startswith(starts) and "132.98" in r.text
    assert set(RENDERERS) == {"md", "html", "json"}
    if fmt == "json":
        assert r.json()["department"] == "市卫生健康委" and r.json()["years"][0]["score"] == "132.98"


def test_summary_format_and_name_errors(client):
    r = client.get("/api/departments/卫健委/summary", params={"format": "xml"})
    assert r.status_code == 422 and r.json()["field"] == "format"
    r = client.get("/api/departments/市教育局/summary")
    assert r.status_code == 404 and r.json()["suggestions"][0] == "市财政局"


def test_search_and_source_lines(client):
    rows = client.get("/api/search", params={"q": "为农服务网点", "k": 3, "year": 2022}).json()
    assert rows[0]["line"] == 50 and rows[0]["department"] == "市供销社" and len(rows) <= 3
    assert all(r["year"] == 2022 for r in rows)
    line = client.get(f"/api/sources/{OUTCOMES}/lines/50").json()
    assert line["raw"].startswith("\t3.打造供销社助农共富") and line["record"]["department"] == "市供销社"
    assert client.get(f"/api/sources/{OUTCOMES}/lines/3").json()["record"] is None  # a category line: no record
    assert client.get("/api/sources/nope.txt/lines/1").status_code == 404
    missing = client.get("/api/search", params={"q": "x", "department": "市教育局"})
    assert missing.status_code == 404 and missing.json()["field"] == "department"
    assert missing.json()["suggestions"] == ["市财政局", "市经信局", "市科技局", "市水利局", "市文化广电旅游局"]


def test_health(client):
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["index_loaded"] and h["indexed_rows"] == 141 and h["data_version"]


@pytest.mark.parametrize(("request_args", "status", "field"), [
    ({"json": {"question": "问" * 1001}}, 422, "question"),
    ({"json": {"question": ""}}, 422, "question"),
    ({"json": {}}, 422, "question"),
    ({"json": {"question": "x", "filters": {"year": 99999}}}, 422, "filters.year"),
    ({"json": {"question": "x", "extra": 1}}, 422, "extra"),
    ({"content": b'{"question": "' + b"a" * 70000 + b'"}', "headers": {"content-type": "application/json"}}, 413,
     "body"),
])
def test_limits_name_the_field(client, request_args, status, field):
    r = client.post("/api/ask", **request_args)
    assert r.status_code == status
    assert r.json()["field"] == field


def test_chat_limits_in_openai_shape(client):
    r = client.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "问" * 1001}]})
    assert r.status_code == 400
    assert r.json()["error"] | {"param": "messages[-1].content", "type": "invalid_request_error"} == r.json()["error"]
    r = client.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "system", "content": "hi"}]})
    assert r.status_code == 400 and "last user message" in r.json()["error"]["message"]
    r = client.post("/v1/chat/completions", json={"model": "m"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages"
    r = client.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "body"
    big = {"model": "m", "messages": [{"role": "user", "content": "a" * 70000}]}
    r = client.post("/v1/chat/completions", json=big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    r = client.post("/v1/chat/completions", json={"model": "m", "n": 2, "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 400 and r.json()["error"]["param"] == "n" and "n=1" in r.json()["error"]["message"]
    assert client.get("/v1/nothing").json()["error"]["code"] == "not_found"
    # /api keeps its own shape
    r = client.post("/api/ask", json={"question": ""})
    assert r.status_code == 422 and r.json()["field"] == "question" and "error" not in r.json()


def test_long_conversations_use_the_last_messages_as_context(quick_service, tmp_path):
    c, _ = make_client(quick_service, tmp_path, chat_context_messages=3)
    filler = [{"role": "user", "content": "市供销社2022年得分多少?"}, {"role": "assistant", "content": "…"}] * 40
    with c:
        # 81 messages are accepted; the department named 2 messages back gives the context
        messages = [*filler, {"role": "user", "content": "市水利局2022年得分多少?"},
                    {"role": "assistant", "content": "125.27"}, {"role": "user", "content": "那它2023年的难度系数呢?"}]
        content = c.post("/v1/chat/completions", json={"model": "m", "messages": messages}).json()
        assert "1.1438" in content["choices"][0]["message"]["content"]
        # the department named 4 messages back is outside the last 3: it is not the context
        messages = [*filler, {"role": "user", "content": "市水利局2022年得分多少?"},
                    {"role": "assistant", "content": "x"}, {"role": "user", "content": "谢谢"},
                    {"role": "assistant", "content": "x"},
                    {"role": "user", "content": "那它2023年的难度系数呢?"}]
        content = c.post("/v1/chat/completions", json={"model": "m", "messages": messages}).json()
        assert "1.1438" not in content["choices"][0]["message"]["content"]


def test_citations_carry_the_document_title(client):
    body = client.post("/api/ask", json={"question": "市水利局2022年最终得分多少?"}).json()
    assert body["citations"][0]["title"].startswith("湖州市市直单位2022年度承诺事项兑现情况")
    chat = client.post("/v1/chat/completions", json={"model": "m", "messages": [
        {"role": "user", "content": "市水利局2023年的评定难度系数是多少?"}]}).json()
    assert chat["citations"][0]["title"] == "湖州市市直单位2023年度承诺事项年度目标与评定难度系数"
    assert client.get("/api/departments/卫健委").json()["citations"][0]["title"]


def test_chat_uses_earlier_messages_as_context(client):
    messages = [{"role": "user", "content": "市水利局2022年得分多少?"},
                {"role": "assistant", "content": "125.27"},
                {"role": "user", "content": "那它2023年的难度系数呢?"}]
    body = client.post("/v1/chat/completions", json={"model": "m", "messages": messages}).json()
    content = body["choices"][0]["message"]["content"]
    assert "1.1438" in content and "来源 Sources:\n[1] 002_54d987597a722985.txt:66" in content
    assert body["citations"][0]["line"] == 66


def test_api_keys(quick_service, tmp_path):
    c, _ = make_client(quick_service, tmp_path, api_keys="k1, k2")
    with c:
        assert c.get("/health").status_code == 200
        assert c.get("/static/app.js").status_code == 200
        assert c.get("/api/departments").status_code == 401
        assert c.get("/api/departments", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert c.get("/api/departments", headers={"Authorization": "Bearer k2"}).status_code == 200
        assert c.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "x"}]}
                      ).status_code == 401
        assert c.get("/v1/models", headers={"Authorization": "Bearer k1"}).json()["data"][0]["id"]


def test_no_stack_trace_reaches_a_client(quick_service, tmp_path, monkeypatch):
    c, _ = make_client(quick_service, tmp_path)

    def boom(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(quick_service, "departments", boom)
    with TestClient(c.app, raise_server_exceptions=False) as client:
        r = client.get("/api/departments")
    assert r.status_code == 500
    assert "secret" not in r.text and "Traceback" not in r.text and "incident" in r.json()["detail"]


def test_cors_origins_are_a_setting(quick_service, tmp_path):
    c, _ = make_client(quick_service, tmp_path, cors_origins="http://intranet.example")
    with c:
        preflight = {"Access-Control-Request-Method": "POST"}
        r = c.options("/api/ask", headers={"Origin": "http://intranet.example", **preflight})
        assert r.headers["access-control-allow-origin"] == "http://intranet.example"
        r = c.options("/api/ask", headers={"Origin": "http://evil.example", **preflight})
        assert "access-control-allow-origin" not in r.headers


def test_pages_and_openapi(client):
    assert "<textarea" in client.get("/").text
    assert client.get("/departments/卫健委").status_code == 200
    missing = client.get("/departments/市教育局")  # the page still shows the nearest names, with a 404
    assert missing.status_code == 404 and "<html" in missing.text.lower()
    assert "https://" not in client.get("/static/app.js").text  # no CDN: works offline
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/ask", "/api/departments", "/api/departments/{name}", "/api/search",
            "/api/sources/{source}/lines/{line}", "/health", "/v1/models", "/v1/chat/completions"} <= set(paths)
    assert client.get("/docs").status_code == 200


def test_importing_api_loads_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys, api, api.app\nprint([m for m in ('torch', 'chromadb', 'sentence_transformers') "
            "if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_a_table_downloads_as_xlsx(client):
    import io

    from openpyxl import load_workbook

    table = {"title": "社会发展类最终得分排名", "ranked_by": "score",
             "columns": [{"key": "department", "label": "部门", "numeric": False},
                         {"key": "score", "label": "最终得分", "numeric": True}],
             "rows": [[{"text": "市卫生健康委", "value": None, "cite": None},
                       {"text": "132.98", "value": 132.98, "cite": 1}],
                      [{"text": "市科技局", "value": None, "cite": None},
                       {"text": "130.10", "value": 130.1, "cite": 2}]]}
    r = client.post("/api/tables/xlsx", json=table)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["社会发展类最终得分排名", None], [None, None], ["部门", "最终得分"],
        ["市卫生健康委", 132.98], ["市科技局", 130.1]]
    assert sheet["B5"].number_format == "0.00"  # shown as the source writes it: 130.10
    r = client.post("/api/tables/xlsx", json={"columns": []})
    assert r.status_code == 422 and r.json()["field"] == "columns"
    assert client.get("/favicon.ico").headers["content-type"].startswith("image/svg")
