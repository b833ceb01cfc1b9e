from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.corpus import Corpus, load_corpus
from assistant.records import Commitment

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
OUTCOMES = "000_7fc1be17f2f87087.txt"
TARGETS = "002_54d987597a722985.txt"


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(DATA)


@pytest.fixture(scope="session")
def records(corpus: Corpus) -> tuple[Commitment, ...]:
    return corpus.records


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of data/, for tests that change or break it."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def record(records: tuple[Commitment, ...], department: str, item: int, year: int = 2022) -> Commitment:
    return next(r for r in records if r.department == department and r.item == item and r.year == year)


# ---- real parts shared by the retrieval tests ----------------------------------------------------

@pytest.fixture(scope="session")
def embeddings():
    """The real default model (multilingual-e5-small, 4-bit), built from installed packages on first use."""
    from assistant.settings import Settings
    from index.embeddings import load_embeddings

    settings = Settings()
    return load_embeddings(settings.embedding_model, settings.models_path, settings.embedding_batch_size,
                           settings.embedding_dtype)


def wait_until_up(proc, url: str, log_path: Path, seconds: float) -> None:
    """Poll `url` until it answers; fail with the end of the process's log if it dies or takes too long."""
    import time
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"{url} did not come up: {log_path.read_text()[-3000:]}") from None
            time.sleep(0.3)


def stop(proc, seconds: float = 20) -> None:
    import subprocess

    proc.terminate()
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real Chroma server (`chroma run`) on 127.0.0.1, stopped at the end of the session."""
    import os
    import subprocess
    import sys

    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    chroma = Path(sys.executable).parent / "chroma"
    log = (path / "server.log").open("w")
    command = [str(chroma), "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    wait_until_up(proc, f"http://127.0.0.1:{port}/api/v2/heartbeat", path / "server.log", 60)
    yield "127.0.0.1", port
    stop(proc)
    log.close()


@pytest.fixture(scope="session")
def assistant(corpus, embeddings, tmp_path_factory):
    """The real assistant: real facts, the real model and an embedded Chroma in a temporary folder."""
    from assistant.answers import Assistant, make_search_for
    from assistant.settings import Settings
    from index.clients import chroma_client

    client = chroma_client(tmp_path_factory.mktemp("assistant-index"))
    return Assistant(corpus, make_search_for(Settings(collection="answers"), corpus, client=client,
                                             embeddings=embeddings))


@pytest.fixture(scope="session")
def facts_only(corpus):
    """An assistant without retrieval: facts questions must never need it."""
    from assistant.answers import Assistant

    return Assistant(corpus)


@pytest.fixture(scope="session")
def shared_service(corpus, embeddings, tmp_path_factory):
    """The real service (index, model, facts) on an embedded Chroma in a temporary folder."""
    from assistant.service import Service
    from assistant.settings import Settings
    from index.clients import chroma_client

    var = tmp_path_factory.mktemp("service-var")
    settings = Settings(var_dir=var, models_dir=ROOT / "var" / "models", collection="service")
    return Service(settings, client=chroma_client(var / "index"), embeddings=embeddings)


def start_server(tmp_path, env: dict[str, str] | None = None):
    """`review-assistant serve` as a real process on 127.0.0.1; returns (process, base URL)."""
    import os
    import subprocess
    import sys

    port = free_port()
    var = tmp_path / "var"
    log = (tmp_path / "server.log").open("w")
    environment = {**os.environ, "REVIEW_ASSISTANT_VAR_DIR": str(var),
                   "REVIEW_ASSISTANT_MODELS_DIR": str(ROOT / "var" / "models"), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(proc, base + "/health", tmp_path / "server.log", 180)
    return proc, base


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    proc, base = start_server(tmp_path_factory.mktemp("live-server"))
    yield base
    stop(proc)
