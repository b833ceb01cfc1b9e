"""`serve --workers N` on one Chroma server: every worker answers, and each follows a rebuild made by another
process (`publish`, which writes a new collection aside and swaps; a real uvicorn with two workers, a real
`chroma run`, the real model)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import DATA, OUTCOMES, ROOT, free_port, stop, wait_until_up

CHANGED_LINE = 50  # 为农服务网点… in the outcomes file
NEW_TEXT = "新建石墨烯量子点实验室3个,孵化量子材料企业12家"


def by_worker(base: str, path: str, want: int, params: dict[str, str] | None = None,
              tries: int = 300) -> dict[int, httpx.Response]:
    """One response from each of `want` workers: a new connection per request, so the kernel spreads them."""
    seen: dict[int, httpx.Response] = {}
    for _ in range(tries):
        with httpx.Client(timeout=60) as client:
            response = client.get(base + path, params=params)
        response.raise_for_status()
        seen.setdefault(int(response.headers["x-served-by"]), response)
        if len(seen) >= want:
            break
    return seen


@pytest.mark.slow
@pytest.mark.server
def test_every_worker_answers_and_follows_a_rebuild_by_another_process(tmp_path, chroma_server, embeddings):
    host, port = chroma_server
    shutil.copytree(DATA, tmp_path / "data")
    env = {**os.environ, "REVIEW_ASSISTANT_DATA_DIR": str(tmp_path / "data"),
           "REVIEW_ASSISTANT_VAR_DIR": str(tmp_path / "var"), "REVIEW_ASSISTANT_CHROMA_HOST": host,
           "REVIEW_ASSISTANT_CHROMA_PORT": str(port), "REVIEW_ASSISTANT_COLLECTION": "workers",
           "REVIEW_ASSISTANT_INDEX_FOLLOW_SECONDS": "0.2"}
    env.pop("REVIEW_ASSISTANT_EMBEDDING_THREADS", None)  # left to serve: each worker gets its share of the cores
    # The store on the Chroma server filled here as the server's parent process would fill it, with the session's
    # vectors of the same rows (embedded once per session): the parent then finds every row unchanged and embeds
    # none, instead of spending most of this test embedding the fixture rows again.
    from assistant.service import Service
    from assistant.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", var_dir=tmp_path / "var", chroma_host=host, chroma_port=port,
                        collection="workers")
    filler = Service.from_settings(settings, embeddings=embeddings, audit=False)
    assert filler.index().added == len(filler.corpus.records) > 0
    web = free_port()
    base = f"http://127.0.0.1:{web}"
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1", "--port", str(web),
                             "--workers", "2"], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    try:
        wait_until_up(proc, base + "/health", tmp_path / "server.log", 300)
        health = by_worker(base, "/health", 2)
        assert len(health) == 2, f"one worker never answered: {health}"
        before = {pid: r.json() for pid, r in health.items()}
        assert all(h["status"] == "ok" and h["index_loaded"] and h["pid"] == pid for pid, h in before.items())
        assert {h["embedding_threads"] for h in before.values()} == {max(1, (os.cpu_count() or 1) // 2)}
        old_state = {h["index_state"] for h in before.values()}
        assert len(old_state) == 1 and "" not in old_state  # both hold the one index the parent checked

        searched = by_worker(base, "/api/search", 2, {"q": "为农服务网点有多少家", "k": "3"})
        assert len(searched) == 2
        assert all(r.json()[0]["line"] == CHANGED_LINE for r in searched.values())

        source = tmp_path / "data" / OUTCOMES
        lines = source.read_text(encoding="utf-8").split("\n")
        cells = lines[CHANGED_LINE - 1].split("\t")
        cells[-3] = NEW_TEXT  # the row's outcome text (兑现情况)
        lines[CHANGED_LINE - 1] = "\t".join(cells)
        source.write_text("\n".join(lines), encoding="utf-8")
        # another process publishes the changed folder: it builds the index aside and swaps it in
        rebuilt = subprocess.run([sys.executable, "-m", "assistant", "publish"], env=env, cwd=ROOT,
                                 capture_output=True, text=True, timeout=600)
        assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]

        deadline = time.monotonic() + 60
        followed: dict[int, str] = {}
        while time.monotonic() < deadline and len(followed) < 2:
            for pid, response in by_worker(base, "/health", 2, tries=50).items():
                state = response.json()["index_state"]
                if state and state not in old_state:
                    followed[pid] = state
            time.sleep(0.1)
        assert len(followed) == 2, f"not every worker followed the rebuild: {followed}"
        assert len(set(followed.values())) == 1

        found = by_worker(base, "/api/search", 2, {"q": "石墨烯量子点实验室", "k": "3"})
        assert len(found) == 2
        assert all(r.json()[0]["line"] == CHANGED_LINE for r in found.values())  # ranked by the new index
    finally:
        stop(proc)
        log.close()


def test_several_workers_need_a_chroma_server(monkeypatch):
    from assistant.cli import app

    monkeypatch.delenv("REVIEW_ASSISTANT_CHROMA_HOST", raising=False)
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--port", str(free_port())])
    assert result.exit_code == 2
    assert "REVIEW_ASSISTANT_CHROMA_HOST" in result.output
