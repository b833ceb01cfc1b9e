"""Speed near the CPU's limit (issue 12): each figure beside its floor, measured in the same run.

Sections (all by default; pick with --only a,b):
  embedders  the embedder table: passages/s at batch 8 and 32, query ms, cold start (a new process to its
             first query vector), and cosine to sentence-transformers float32 on the real rows
  cold       a cold CLI content question against a cold facts question (new processes; floor: <= 4x)
  build      `sync` of a synthetic corpus against bare embedding of the same texts (floor: >= 0.8)
  startup    a cold start at --startup-rows rows: open, unchanged sync, snapshot and BM25, first hybrid
             query (floor: <= 10 s at 100,000 rows). The corpus is stored with stand-in vectors (a hash
             of the text), since embedding 100,000 rows takes about 15 minutes here; the start-up reads
             vectors, it does not compute them. The first query uses the real model.
  load       /api/search: p50 with 1 client against p95 with 20 (floor: <= 8x), distinct questions, against
             a real server on 127.0.0.1; then the same for retrieval questions over /api/ask (no floor)

Run: .venv/bin/python bench/perf.py [--only embedders,cold] [--build-rows 2000] [--startup-rows 100000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
FACTS_Q = "卫健委得分多少?"
CONTENT_Q = "为农服务网点有多少家?"


def line(label: str, value: str, floor: str = "") -> None:
    print(f"  {label:<58} {value:>22}   {('floor: ' + floor) if floor else ''}", flush=True)


def texts_of_rows() -> list[str]:
    from assistant.corpus import load_corpus
    from assistant.settings import Settings

    return [r.text for r in load_corpus(Settings().data_dir).records]


# ---- embedders ------------------------------------------------------------------------------------

COLD = """
import sys, time
t = time.perf_counter()
sys.path.insert(0, {root!r})
from assistant.settings import Settings
from index.embeddings import load_any
s = Settings()
e = load_any(s.embedding_model, s.models_path, dtype={dtype!r}, backend={backend!r})
e.embed_query("卫健委得分多少?")
print(time.perf_counter() - t)
"""


def embedders() -> None:
    from assistant.quiet import quiet_libraries
    from assistant.settings import Settings
    from index.embeddings import load_any

    quiet_libraries()  # no progress bars among the figures
    from index.embeddings import resolve_backend

    print(f"embedders (the built default model; real rows; auto picks "
          f"{resolve_backend(Settings().embedding_model, 'auto')} here)")
    settings = Settings()
    texts = texts_of_rows()
    queries = ["卫健委得分多少?", "为农服务网点有多少家?", "湖州银行普惠小微贷款新增多少?", "绿色金融",
               "出口增长多少?"] * 4
    reference = None
    for label, backend, dtype in (("torch float32", "torch", "float32"), ("torch bfloat16", "torch", "bfloat16"),
                                  ("ONNX Runtime float32", "onnx", "float32"),
                                  ("OpenVINO bfloat16 (float32 without native bf16)", "openvino", "float32")):
        model = load_any(settings.embedding_model, settings.models_path, batch_size=8, dtype=dtype, backend=backend)
        model.embed_documents(texts[:8])
        figures = []
        for batch in (8, 32):
            model.batch_size = batch  # type: ignore[attr-defined]
            t = time.perf_counter()
            vectors = np.asarray(model.embed_documents(texts))
            figures.append(len(texts) / (time.perf_counter() - t))
        t = time.perf_counter()
        for q in queries:
            model.embed_query(q)
        query_ms = (time.perf_counter() - t) / len(queries) * 1000
        if reference is None:
            reference = vectors
        cosine = float((vectors * reference).sum(axis=1).min())
        cold = float(subprocess.run([PY, "-c", COLD.format(root=str(ROOT), dtype=dtype, backend=backend)],
                                    capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
        line(label, f"{figures[0]:.0f} / {figures[1]:.0f} passages/s")
        line("", f"query {query_ms:.1f} ms, cold {cold:.1f} s, cos min {cosine:.5f}",
             "cosine >= 0.999 to float32" if backend in ("onnx", "openvino") else "")
        del model


# ---- cold CLI ----------------------------------------------------------------------------------------

def cli_env(tmp: Path) -> dict[str, str]:
    from assistant.settings import Settings

    shutil.copytree(ROOT / "data", tmp / "data", dirs_exist_ok=True)
    return {**os.environ, "PYTHONPATH": str(ROOT), "REVIEW_ASSISTANT_DATA_DIR": str(tmp / "data"),
            "REVIEW_ASSISTANT_VAR_DIR": str(tmp / "var"), "REVIEW_ASSISTANT_MODELS_DIR": str(Settings().models_path)}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    t = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return time.perf_counter() - t, done.stdout


def cold(runs: int) -> None:
    print("cold CLI (a new process per question; the index built and unchanged)")
    with tempfile.TemporaryDirectory() as tmp:
        env = cli_env(Path(tmp))
        timed([PY, "-m", "assistant", "index"], env)
        timed([PY, "-m", "assistant", "ask", CONTENT_Q], env)  # the first search saves the snapshot
        facts, content = [], []
        for _ in range(runs):
            seconds, out = timed([PY, "-m", "assistant", "ask", FACTS_Q, "--json"], env)
            assert json.loads(out)["mode"] == "facts", out
            facts.append(seconds)
            seconds, out = timed([PY, "-m", "assistant", "ask", CONTENT_Q, "--json"], env)
            assert json.loads(out)["mode"] == "retrieval", out
            content.append(seconds)
        f, c = statistics.median(facts), statistics.median(content)
        line(f"facts question ({FACTS_Q}), median of {runs}", f"{f:.2f} s")
        line(f"content question ({CONTENT_Q}), median of {runs}", f"{c:.2f} s")
        line("content / facts", f"{c / f:.1f}x", "<= 4x")


# ---- build ---------------------------------------------------------------------------------------------

def build(rows: int) -> None:
    from assistant.chunks import to_document
    from assistant.corpus import load_corpus
    from assistant.settings import Settings
    from bench.index_scale import synthetic
    from index.clients import chroma_client
    from index.embeddings import load_any
    from index.store import Index

    settings = Settings()
    records = synthetic(load_corpus(settings.data_dir).records, rows)
    docs = [to_document(r) for r in records]
    model = load_any(settings.embedding_model, settings.models_path, settings.embedding_batch_size,
                     settings.embedding_dtype, settings.embedding_backend)
    model.embed_documents([d.page_content for d in docs[:16]])
    print(f"build ({len(docs)} synthetic rows, {type(model).__name__}, batch {settings.embedding_batch_size})")
    t = time.perf_counter()
    model.embed_documents([d.page_content for d in docs])
    bare = len(docs) / (time.perf_counter() - t)
    with tempfile.TemporaryDirectory() as tmp:
        index = Index(chroma_client(Path(tmp) / "db"), model, "bench_build", cache_dir=Path(tmp) / "cache")
        t = time.perf_counter()
        index.sync(docs)
        built = len(docs) / (time.perf_counter() - t)
    line("bare embedding of the same texts", f"{bare:.1f} rows/s")
    line("index sync (embed, tokenize, upsert)", f"{built:.1f} rows/s")
    line("build / bare", f"{built / bare:.2f}", ">= 0.8")


# ---- start-up ------------------------------------------------------------------------------------------

class HashVectors:
    """Stand-in vectors for storing a large corpus quickly: a unit vector seeded by the text's hash."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
            out.append((v / np.linalg.norm(v)).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


START = """
import sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from pathlib import Path
from assistant.settings import Settings
from bench.perf import synthetic_docs
from index.clients import chroma_client
from index.embeddings import load_any
from index.retrieve import Bm25Retriever, DenseRetriever, HybridRetriever
from index.store import Index
from index.tokenize import JiebaTokenizer
s = Settings()
docs = synthetic_docs({rows})
t1 = time.perf_counter()
model = load_any(s.embedding_model, s.models_path, backend=s.embedding_backend)
cache = Path({cache!r}) if {cache!r} else None
index = Index(chroma_client(Path({db!r})), model, "bench_start", JiebaTokenizer(), cache)
report = index.sync(docs)
assert report.embedded == 0, report
hybrid = HybridRetriever(DenseRetriever(index), Bm25Retriever(index))
hits = hybrid.search("为农服务网点有多少家", k=5, filters={{"year": 2022}})
assert hits
print(t1 - t0, time.perf_counter() - t1)
"""


def synthetic_docs(rows: int) -> list:  # type: ignore[type-arg]
    from assistant.chunks import to_document
    from assistant.corpus import load_corpus
    from assistant.settings import Settings
    from bench.index_scale import synthetic

    return [to_document(r) for r in synthetic(load_corpus(Settings().data_dir).records, rows)]


def startup(rows: int) -> None:
    from index.clients import chroma_client
    from index.store import Index
    from index.tokenize import JiebaTokenizer

    print(f"start-up at {rows} rows (stored with stand-in vectors; the query uses the real model)")
    with tempfile.TemporaryDirectory() as tmp:
        db, cache = Path(tmp) / "db", Path(tmp) / "cache"
        t = time.perf_counter()
        index = Index(chroma_client(db), HashVectors(), "bench_start", JiebaTokenizer(), cache)  # type: ignore[arg-type]
        index.sync(synthetic_docs(rows))
        line("storing the corpus (not a start-up figure)", f"{time.perf_counter() - t:.0f} s")
        del index
        for label, cache_dir in (("first start (snapshot read from the store, saved)", str(cache)),
                                 ("start-up (snapshot and BM25 loaded)", str(cache)),
                                 ("start-up without the saved snapshot (as before)", "")):
            out = subprocess.run([PY, "-c", START.format(root=str(ROOT), rows=rows, cache=cache_dir, db=str(db))],
                                 capture_output=True, text=True, check=True).stdout.split()
            prepare, start = float(out[0]), float(out[1])
            line(label, f"{start:.1f} s", "<= 10 s at 100,000 rows" if "loaded" in label else "")
        line("(making the synthetic documents in each process, excluded)", f"{prepare:.1f} s")


# ---- load ----------------------------------------------------------------------------------------------

def load(workers: int = 1) -> None:
    import httpx

    from bench.load import RETRIEVAL, start

    questions = [f"{q}" for q in RETRIEVAL] + [
        "外贸企业引育了多少家?", "绿色金融改革创新试验区", "农村公路提档升级多少公里?", "高校毕业生就业情况",
        "旅游引客增流计划", "防汛防台零伤亡", "公租房保障多少户?", "红十字救护培训多少人?", "科技创新指数排名第几?",
        "出口增长了多少?", "文化礼堂建设", "低效用地再开发", "数字经济核心产业增加值", "养老服务床位", "义务教育",
    ]
    from concurrent.futures import ThreadPoolExecutor

    print(f"load ({len(questions)} distinct questions, a number appended to each request's: the query cache "
          f"never answers; `serve --workers {workers}`)")
    with tempfile.TemporaryDirectory() as tmp:
        proc, base = start(Path(tmp), workers)
        try:
            with httpx.Client(timeout=120, limits=httpx.Limits(max_connections=40)) as client:
                def search(n: int) -> float:
                    t = time.perf_counter()
                    r = client.get(base + "/api/search", params={"q": questions[n % len(questions)] + f" {n}", "k": 5})
                    r.raise_for_status()
                    return (time.perf_counter() - t) * 1000

                def ask(n: int) -> float:
                    t = time.perf_counter()
                    r = client.post(base + "/api/ask", json={"question": questions[n % len(questions)] + f" {n}"})
                    r.raise_for_status()
                    return (time.perf_counter() - t) * 1000

                for label, call, floor, offset in (("/api/search", search, "<= 8x", 0),
                                                   ("/api/ask, retrieval questions", ask, "", 10_000)):
                    for n in range(5):  # every worker warm
                        call(offset + n)
                    single = sorted(call(n) for n in range(offset + 10, offset + 70))
                    server_cpu, client_cpu, wall = tree_cpu(proc.pid), time.process_time(), time.perf_counter()
                    with ThreadPoolExecutor(20) as pool:
                        many = sorted(pool.map(call, range(offset + 100, offset + 500)))
                    server_cpu, client_cpu = tree_cpu(proc.pid) - server_cpu, time.process_time() - client_cpu
                    wall = time.perf_counter() - wall
                    p50 = statistics.median(single)
                    p95 = many[int(0.95 * len(many)) - 1]
                    line(f"{label}: p50, 1 client", f"{p50:.0f} ms")
                    line(f"{label}: p50 / p95, 20 clients", f"{statistics.median(many):.0f} / {p95:.0f} ms")
                    line(f"{label}: p95 (20) / p50 (1)", f"{p95 / p50:.1f}x", floor)
                    user, system = server_cpu / len(many) * 1000
                    line(f"  CPU per request, 20 clients: server (user + sys) / client / "
                         f"{os.cpu_count() or 1} cores x wall",
                         f"{user + system:.1f} ({user:.1f} + {system:.1f}) / {client_cpu / len(many) * 1000:.1f} / "
                         f"{(os.cpu_count() or 1) * wall / len(many) * 1000:.1f} ms")
                    if label == "/api/search":
                        alone, batched = model_costs([f"{q} {n}" for n in range(40) for q in questions])
                        line("  the model alone: one query / per query in batches of 16",
                             f"{alone:.1f} / {batched:.1f} ms")
                        line("  20 clients' queries through the model, against p50 (1)",
                             f"{20 * batched / p50:.1f}x")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def tree_cpu(pid: int) -> np.ndarray:
    """CPU seconds (user, system) used so far by a process and its descendants (`serve --workers`' children)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, list[int]] = {}
    times: dict[int, np.ndarray] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child = int(stat.parent.name)
        parents.setdefault(int(fields[1]), []).append(child)
        times[child] = np.array([int(fields[11]), int(fields[12])]) / tick
    total, stack = np.zeros(2), [pid]
    while stack:
        current = stack.pop()
        total += times.get(current, 0.0)
        stack.extend(parents.get(current, []))
    return total


def model_costs(queries: list[str]) -> tuple[float, float]:
    """The query embedder's own cost, one query per call and per query in calls of 16, measured while the
    server idles: with 20 clients the model runs all the time, so 20 x the batched cost is a floor on p95."""
    from assistant.settings import Settings
    from index.embeddings import load_any

    settings = Settings()
    model = load_any(settings.embedding_model, settings.models_path, backend=settings.embedding_backend)
    warm = getattr(model, "warm", None)
    if warm is not None:  # as the server does at start-up: the full tokenizer (1.2 s) loaded before any timing
        warm()
    encode = getattr(model, "encode_queries", None) or (lambda texts: [model.embed_query(t) for t in texts])
    encode(queries[:16])
    t = time.perf_counter()
    for q in queries[16:76]:
        encode([q])
    alone = (time.perf_counter() - t) / 60 * 1000
    t = time.perf_counter()
    for start in range(76, 396, 16):
        encode(queries[start : start + 16])
    return alone, (time.perf_counter() - t) / 320 * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="embedders,cold,build,startup,load")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--build-rows", type=int, default=2100)
    parser.add_argument("--startup-rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1, help="the load section's `serve --workers`")
    args = parser.parse_args()
    wanted = args.only.split(",")
    print(f"bench/perf.py on {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if "embedders" in wanted:
        embedders()
    if "cold" in wanted:
        cold(args.runs)
    if "build" in wanted:
        build(args.build_rows)
    if "startup" in wanted:
        startup(args.startup_rows)
    if "load" in wanted:
        load(args.workers)
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
