"""Published data versions (issue 11, parts 1 and 2), on the quick tier: the store, the service that answers
from one version, the CLI commands and the HTTP routes through TestClient. The server tests (uvicorn, several
processes, a rebuild while asking) are in test_publish_server.py."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from assistant.errors import IngestError, NotFound
from assistant.service import Service
from assistant.settings import Settings
from assistant.versions import Upload, VersionStore, store_path
from tests.command_line import Done, invoke
from tests.conftest import DATA, OUTCOMES, TARGETS

SCORE_LINE = 21  # 市水利局's first row in the outcomes table: score 125.27
GOOD_2024 = ("部门\t承诺事项\t兑现情况\t最终得分\t类别内排名\n"
             "## 经济建设类\n"
             "市甲局\t1.新建网点10个\t新建网点12个,超额完成\t120.5\t1\n"
             "\t2.培训1000人次\t培训1200人次\t\t\n"
             "市乙局\t1.改造道路5公里\t完成5公里\t110.25\t2\n")
BAD_2024 = ("部门\t承诺事项\t兑现情况\t最终得分\t类别内排名\n"
            "市甲局\t1.新建网点10个\t完成\t129,86\t1\n"
            "市乙局\t1.改造道路\t完成\t1e2\t2\n")


def settings_for(tmp_path: Path, data: Path = DATA, **more) -> Settings:
    return Settings(data_dir=data, var_dir=tmp_path / "var", audit_log=tmp_path / "var" / "audit.jsonl",
                    version_follow_seconds=0, **more)


def service_for(tmp_path: Path, data: Path = DATA, **more) -> Service:
    return Service.from_settings(settings_for(tmp_path, data, **more))


def edited_outcomes(tmp_path: Path, old: str = "125.27", new: str = "125.28", name: str = OUTCOMES) -> Path:
    path = tmp_path / "upload" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((DATA / OUTCOMES).read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return path


def score_answer(service: Service) -> str:
    return service.ask("市水利局2022年得分多少?").answer


# ---- the store -----------------------------------------------------------------------------------------


def test_first_start_publishes_the_data_folder_as_v1_with_a_manifest(tmp_path):
    service = service_for(tmp_path)
    store = VersionStore(service.settings.published_path)
    assert service.corpus.version == "v1" and store.current() == "v1"
    assert service.settings.published_path == store_path(tmp_path / "var", DATA)
    (info,) = store.versions()
    assert info["version"] == "v1" and info["current"] and info["parent"] is None
    assert info["published_at"] and "first start" in info["published_by"]
    files = {f["file"]: f for f in info["files"]}
    assert set(files) == {OUTCOMES, TARGETS}
    assert files[OUTCOMES]["year"] == 2022 and files[OUTCOMES]["kind"] == "outcomes" and files[OUTCOMES]["title"]
    for f in files.values():  # content-addressed copies, named by their hash
        obj = store.objects / (f["sha256"] + ".txt")
        assert obj.read_bytes() == (DATA / f["file"]).read_bytes()
    folder = store.folder("v1")
    assert {p.name for p in folder.iterdir()} >= {OUTCOMES, TARGETS, "sources.toml", "departments.toml",
                                                  "lexicon.toml", "version.json"}
    assert service.ask("卫健委得分多少?").data_version == "v1"


def test_publish_makes_a_new_version_that_answers_and_keeps_the_old_one_for_citations(tmp_path):
    service = service_for(tmp_path)
    report = service.publish([Upload(edited_outcomes(tmp_path), OUTCOMES)], "tester")
    assert report.ok and report.version is not None
    assert report.version["version"] == "v2" and report.version["parent"] == "v1"
    assert report.version["published_by"] == "tester"
    changed = {f.file: (f.changed, f.rows_read, f.records, f.departments) for f in report.files}
    assert changed == {OUTCOMES: (True, 71, 71, 14), TARGETS: (False, 70, 70, 14)}
    answer = service.ask("市水利局2022年得分多少?")
    assert "125.28" in answer.answer and answer.data_version == "v2"
    # the citation viewer reads the version the answer used, not the file on disk
    assert service.source_line(OUTCOMES, SCORE_LINE, "v1")["raw"].split("\t")[3] == "125.27"
    assert service.source_line(OUTCOMES, SCORE_LINE, "v2")["raw"].split("\t")[3] == "125.28"
    assert service.source_line(OUTCOMES, SCORE_LINE)["data_version"] == "v2"
    assert service.source_line(OUTCOMES, SCORE_LINE, "v1")["record"]["score"] == 125.27
    with pytest.raises(NotFound, match="version 'v9' is not published"):
        service.source_line(OUTCOMES, SCORE_LINE, "v9")


def test_a_rejected_publish_names_every_problem_and_changes_nothing(tmp_path):
    service = service_for(tmp_path)
    store = VersionStore(service.settings.published_path)
    bad = tmp_path / "2024_bad.txt"
    bad.write_text(BAD_2024, encoding="utf-8")
    report = service.publish([Upload(bad, bad.name)], "tester")
    assert not report.ok and report.version is None
    assert [str(p) for p in report.problems] == [
        "2024_bad.txt:2: column 最终得分: '129,86' has a decimal comma; write 129.86",
        "2024_bad.txt:3: column 最终得分: '1e2' is in scientific notation; write 100"]
    assert store.current() == "v1" and [v["version"] for v in store.versions()] == ["v1"]
    assert not list(store.versions_dir.glob(".building-*"))
    assert service.corpus.version == "v1"


def test_a_new_file_is_added_and_its_year_comes_from_its_name_or_is_an_error(tmp_path):
    service = service_for(tmp_path)
    good = tmp_path / "2024_outcomes.txt"
    good.write_text(GOOD_2024, encoding="utf-8")
    dry = service.publish([Upload(good, good.name)], "tester", dry_run=True)
    assert dry.ok and dry.dry_run and dry.version is None and service.corpus.version == "v1"
    report = service.publish([Upload(good, good.name, title="2024年度兑现情况")], "tester")
    assert report.ok and service.corpus.version == "v2"
    assert service.corpus.source("2024_outcomes.txt").title == "2024年度兑现情况"
    assert {r.department for r in service.corpus.records if r.year == 2024} == {"市甲局", "市乙局"}
    unnamed = tmp_path / "outcomes.txt"
    unnamed.write_text(GOOD_2024, encoding="utf-8")
    report = service.publish([Upload(unnamed, unnamed.name)], "tester")
    assert [str(p) for p in report.problems] == [
        "outcomes.txt: year unknown: give the year (publish --year, or the upload's year field) or put it in the "
        "file name"]
    assert service.publish([Upload(unnamed, unnamed.name, year=2025)], "tester").ok


def test_a_gb18030_source_is_cited_as_it_was_decoded(tmp_path):
    service = service_for(tmp_path)
    path = tmp_path / "2024_gbk.txt"
    path.write_bytes(GOOD_2024.encode("gb18030"))
    assert service.publish([Upload(path, path.name)], "tester").ok
    line = service.source_line("2024_gbk.txt", 3)
    assert line["raw"].startswith("市甲局\t1.新建网点10个") and line["record"]["department"] == "市甲局"


def test_a_crash_while_writing_leaves_the_old_version(tmp_path, monkeypatch):
    service = service_for(tmp_path)
    store = VersionStore(service.settings.published_path)
    real_replace = os.replace

    def crash(src, dst):
        if Path(dst).parent == store.versions_dir:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        service.publish([Upload(edited_outcomes(tmp_path), OUTCOMES)], "tester")
    monkeypatch.setattr(os, "replace", real_replace)
    assert store.current() == "v1" and [v["version"] for v in store.versions()] == ["v1"]
    assert not list(store.versions_dir.glob(".building-*"))
    assert "125.27" in score_answer(service_for(tmp_path))


def test_edits_on_disk_change_nothing_until_published(tmp_path, data_copy):
    service = service_for(tmp_path, data_copy)
    source = data_copy / OUTCOMES
    source.write_text(source.read_text(encoding="utf-8").replace("125.27", "125.99"), encoding="utf-8")
    assert "125.27" in score_answer(service)
    assert "125.27" in score_answer(service_for(tmp_path, data_copy))  # a restart too
    assert service.source_line(OUTCOMES, SCORE_LINE)["raw"].split("\t")[3] == "125.27"
    report = service.publish([], "tester", folder=True)  # `review-assistant publish` with no file
    assert report.ok and report.version["version"] == "v2"
    assert "125.99" in score_answer(service)


def test_rollback_serves_an_earlier_version(tmp_path):
    service = service_for(tmp_path)
    service.publish([Upload(edited_outcomes(tmp_path), OUTCOMES)], "tester")
    assert "125.28" in score_answer(service)
    assert service.rollback("v1")["version"] == "v1"
    assert "125.27" in score_answer(service) and service.corpus.version == "v1"
    assert [v["current"] for v in service.versions()] == [True, False]
    with pytest.raises(NotFound):
        service.rollback("v7")


def test_another_process_on_the_same_store_follows_a_publish(tmp_path):
    """Two services on one var/ (two workers): one publishes, the other answers from the new version on its
    next question (version_follow_seconds=0 here)."""
    first, second = service_for(tmp_path), service_for(tmp_path)
    first.publish([Upload(edited_outcomes(tmp_path), OUTCOMES)], "tester")
    answer = second.ask("市水利局2022年得分多少?")
    assert "125.28" in answer.answer and answer.data_version == "v2"
    first.rollback("v1")
    assert second.health().data_version == "v1"


def test_a_bad_data_folder_at_start_up_serves_the_last_good_version_and_says_so(tmp_path, data_copy):
    service_for(tmp_path, data_copy)  # v1 published at the first start
    source = data_copy / OUTCOMES
    source.write_text(source.read_text(encoding="utf-8").replace("125.27", "12x.27"), encoding="utf-8")
    service = Service.from_settings(settings_for(tmp_path, data_copy), "eager",
                                    embeddings=__import__("tests.fakes", fromlist=["x"]).HashingEmbeddings())
    health = service.health()
    assert health.status == "degraded" and health.data_version == "v1"
    assert health.notes and f"{OUTCOMES}:21: column 最终得分: '12x.27' is not a number" in health.notes[0]
    assert "serving the last good published version v1" in health.notes[0]
    assert "125.27" in score_answer(service)


def test_with_no_good_version_the_start_fails_with_every_error(tmp_path, data_copy):
    source = data_copy / OUTCOMES
    source.write_text(source.read_text(encoding="utf-8").replace("125.27", "12x.27"), encoding="utf-8")
    with pytest.raises(IngestError, match=f"{OUTCOMES}:21: column 最终得分: '12x.27' is not a number"):
        service_for(tmp_path, data_copy)


# ---- HTTP (TestClient) ------------------------------------------------------------------------------------


@pytest.fixture
def http(tmp_path):
    settings = settings_for(tmp_path)
    service = Service.from_settings(settings)
    with TestClient(create_app(settings, make_service=lambda _: service)) as client:
        yield client


def test_post_sources_publishes_and_get_sources_lists_versions(http, tmp_path):
    upload = edited_outcomes(tmp_path)
    r = http.post("/api/sources", files={"file": (OUTCOMES, upload.read_bytes(), "text/plain")})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["ok"] and body["version"]["version"] == "v2" and body["version"]["published_by"].startswith("http")
    assert {f["file"]: f["records"] for f in body["files"]} == {OUTCOMES: 71, TARGETS: 70}
    answer = http.post("/api/ask", json={"question": "市水利局2022年得分多少?"}).json()
    assert "125.28" in answer["answer"] and answer["data_version"] == "v2"
    cited = http.get(f"/api/sources/{OUTCOMES}/lines/{SCORE_LINE}", params={"version": "v1"}).json()
    assert cited["raw"].split("\t")[3] == "125.27" and cited["data_version"] == "v1"
    listing = http.get("/api/sources").json()
    assert listing["data_version"] == "v2" and [v["version"] for v in listing["versions"]] == ["v1", "v2"]
    assert {s["file"] for s in listing["sources"]} == {OUTCOMES, TARGETS}
    assert http.get(f"/api/sources/{OUTCOMES}/lines/21", params={"version": "v8"}).status_code == 404


def test_post_sources_with_form_fields_and_a_dry_run(http):
    files = {"file": ("outcomes.txt", GOOD_2024.encode(), "text/plain")}
    dry = http.post("/api/sources?dry_run=true", files=files, data={"year": "2024", "title": "二〇二四"})
    assert dry.status_code == 200 and dry.json()["dry_run"] and dry.json()["version"] is None
    assert http.get("/api/sources").json()["data_version"] == "v1"
    done = http.post("/api/sources", files=files, data={"year": "2024", "kind": "outcomes", "title": "二〇二四"})
    assert done.status_code == 201
    listing = http.get("/api/sources").json()
    assert {"file": "outcomes.txt", "year": 2024, "kind": "outcomes", "title": "二〇二四", "records": 3} \
        in listing["sources"]
    assert http.post("/api/sources", files=files, data={"kind": "plans"}).status_code == 422


def test_post_sources_rejects_with_every_problem_and_changes_nothing(http):
    r = http.post("/api/sources", files={"file": ("2024_bad.txt", BAD_2024.encode(), "text/plain")})
    assert r.status_code == 422
    body = r.json()
    assert body["detail"] == "2 problems: nothing was published" and not body["ok"]
    assert [(p["file"], p["line"], p["column"]) for p in body["problems"]] == [
        ("2024_bad.txt", 2, "最终得分"), ("2024_bad.txt", 3, "最终得分")]
    assert "decimal comma" in body["problems"][0]["message"]
    assert http.get("/api/sources").json()["data_version"] == "v1"


def test_post_sources_names_the_sheet_and_row_of_a_bad_workbook(http, tmp_path):
    from tests.bad_workbooks import text_decimal_comma

    path = tmp_path / "book.xlsx"
    text_decimal_comma(path)
    data = path.read_bytes()
    r = http.post("/api/sources", files={"file": ("2024_bad.xlsx", data, "application/octet-stream")})
    assert r.status_code == 422
    (problem,) = r.json()["problems"]
    assert problem["file"] == "2024_bad.xlsx" and problem["line"] == 2 and problem["sheet"] and problem["cell"] == "D2"


def test_post_sources_needs_the_key_when_keys_are_set(tmp_path):
    settings = settings_for(tmp_path, api_keys="k1,k2")
    service = Service.from_settings(settings)
    files = {"file": ("2024_outcomes.txt", GOOD_2024.encode(), "text/plain")}
    with TestClient(create_app(settings, make_service=lambda _: service)) as client:
        assert client.post("/api/sources", files=files).status_code == 401
        assert client.get("/api/sources").status_code == 401
        r = client.post("/api/sources", files=files, headers={"Authorization": "Bearer k2"})
        assert r.status_code == 201 and r.json()["version"]["published_by"].endswith("(API key #2)")
        assert "k2" not in json.dumps(service.versions())


# ---- the CLI --------------------------------------------------------------------------------------------


def cli(tmp_path: Path, *args: str, data: Path = DATA) -> Done:
    """`review-assistant ARGS` in this process, on `data` and a var/ of its own under `tmp_path`."""
    return invoke(*args, env={"REVIEW_ASSISTANT_DATA_DIR": str(data), "REVIEW_ASSISTANT_VAR_DIR": str(tmp_path / "var"),
                              "REVIEW_ASSISTANT_AUDIT_LOG": str(tmp_path / "var" / "audit.jsonl")})


def test_cli_publish_versions_and_rollback(tmp_path):
    good = tmp_path / "outcomes.txt"
    good.write_text(GOOD_2024, encoding="utf-8")
    done = cli(tmp_path, "publish", str(good), "--year", "2024", "--title", "二〇二四")
    assert done.returncode == 0, done.stderr
    assert "published v2 (was v1)" in done.stdout and "outcomes.txt" in done.stdout
    bad = tmp_path / "2024_bad.txt"
    bad.write_text(BAD_2024, encoding="utf-8")
    done = cli(tmp_path, "publish", str(bad))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        "error: 2024_bad.txt:2: column 最终得分: '129,86' has a decimal comma; write 129.86",
        "error: 2024_bad.txt:3: column 最终得分: '1e2' is in scientific notation; write 100"]
    listed = json.loads(cli(tmp_path, "versions", "--json").stdout)
    assert [(v["version"], v["current"]) for v in listed] == [("v1", False), ("v2", True)]
    assert "(cli)" in listed[1]["published_by"]
    done = cli(tmp_path, "rollback", "v1")
    assert done.returncode == 0 and "serving v1" in done.stdout
    done = cli(tmp_path, "rollback", "v5")
    assert done.returncode == 1 and "error: version 'v5' is not published" in done.stderr
    done = cli(tmp_path, "ask", "--json", "市甲局2024年得分多少?")
    assert json.loads(done.stdout)["data_version"] == "v1"
    shown = json.loads(cli(tmp_path, "line", "outcomes.txt", "3", "--version", "v2", "--json").stdout)
    assert shown["raw"].startswith("市甲局\t1.新建网点10个") and shown["data_version"] == "v2"
    done = cli(tmp_path, "line", "outcomes.txt", "3")  # v1, being served again, has no such file
    assert done.returncode == 1 and "error: source 'outcomes.txt' is not in the data" in done.stderr


def test_an_upload_has_its_own_size_limit_and_needs_a_file_name(tmp_path):
    settings = settings_for(tmp_path, max_upload_bytes=4000, max_body_bytes=200)
    service = Service.from_settings(settings)
    with TestClient(create_app(settings, make_service=lambda _: service)) as client:
        big = client.post("/api/sources", files={"file": ("2024_big.txt", b"x" * 5000, "text/plain")})
        assert big.status_code == 413 and big.json()["detail"] == "request body is larger than 4000 bytes"
        # over the limit of other bodies, under the upload's own
        files = {"file": ("2024_outcomes.txt", GOOD_2024.encode(), "text/plain")}
        assert client.post("/api/sources?dry_run=true", files=files).status_code == 200
        assert client.post("/api/ask", json={"question": "卫健委得分多少?" * 30}).status_code == 413
        nameless = client.post("/api/sources", files={"file": ("", GOOD_2024.encode(), "text/plain")})
        assert nameless.status_code == 422
        dotted = client.post("/api/sources", files={"file": (".hidden.txt", GOOD_2024.encode(), "text/plain")})
        assert dotted.status_code == 422 and dotted.json()["field"] == "file"
        assert client.get("/api/sources").json()["data_version"] == "v1"


def test_a_publish_builds_the_index_aside_and_keeps_the_collection_readers_hold(tmp_path):
    """Issue 11, part 3: a publish writes a new collection and swaps the pointer; the one that was serving
    stays whole for other processes until the next build."""
    from index.clients import chroma_client
    from tests.fakes import HashingEmbeddings

    settings = settings_for(tmp_path, collection="aside")
    client = chroma_client(settings.index_path)
    service = Service.from_settings(settings, "eager", client=client, embeddings=HashingEmbeddings())
    before = service.stack.index.collection.name
    rows = service.stack.index.count()
    service.publish([Upload(edited_outcomes(tmp_path), OUTCOMES)], "tester")
    after = service.stack.index.collection.name
    assert after != before and service.stack.index.count() == rows
    assert client.get_collection(before).count() == rows  # still whole for a reader in another process
    assert "125.28" in score_answer(service)
