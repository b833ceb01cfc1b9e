"""Quiet by default: no library progress bars or warnings in the server's log or on the CLI's stderr."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from tests.conftest import ROOT

NOISE = ("it/s]", "█", "Loading weights", "Warning", "warn(", "Batches:", "Building prefix dict")


def noise_in(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(n in line for n in NOISE)]


@pytest.mark.slow
@pytest.mark.server
def test_the_server_log_holds_no_progress_bars_or_warnings(live_server):
    r = httpx.post(live_server + "/api/ask", json={"question": "为农服务网点有多少家?"}, timeout=120)
    assert r.status_code == 200 and r.json()["mode"] == "retrieval"
    log = live_server.log.read_text(encoding="utf-8")
    assert "Uvicorn running on http://127.0.0.1:" in log  # it says where it serves
    assert noise_in(log) == [], log[-3000:]


@pytest.mark.slow
def test_a_content_question_on_the_cli_leaves_stderr_empty(indexed_env):
    """The CLI loads the real model on its first content question (lazy); its store is a copy of the session's."""
    done = subprocess.run([sys.executable, "-m", "assistant", "ask", "--json", "为农服务网点有多少家?"],
                          capture_output=True, text=True, cwd=ROOT, env=indexed_env, timeout=600)
    assert done.returncode == 0 and '"mode": "retrieval"' in done.stdout
    assert done.stderr == ""


def test_verbose_is_a_setting_of_the_run():
    from assistant.quiet import quiet_libraries
    from assistant.settings import get_settings
    from tests.command_line import invoke

    assert get_settings().verbose is False
    done = invoke("--verbose", "departments", "--json", keep_settings=True)
    assert done.returncode == 0 and get_settings().verbose is True
    before = dict(os.environ)
    quiet_libraries(verbose=True)  # leaves the libraries as they are
    assert dict(os.environ) == before
