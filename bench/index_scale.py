"""Index scale: a synthetic corpus of 100,000 rows, made by recombining the real rows across made-up
cities and years. Prints build throughput, the time of an unchanged re-index, warm query p50/p95 over
at least 200 queries, and peak memory.

Run: .venv/bin/python bench/index_scale.py [--rows 100000] [--queries 300] [--server]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.chunks import to_document  # noqa: E402
from assistant.corpus import load_corpus  # noqa: E402
from assistant.records import Commitment  # noqa: E402
from assistant.search import build_stack  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from index.clients import chroma_client  # noqa: E402

CITY_PARTS = "东西南北中上下新安平长永宁丰和泰华兴清明江山湖海云春秋"
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def cities(n: int) -> list[str]:
    rng = random.Random(7)
    names: list[str] = []
    while len(names) < n:
        name = rng.choice(CITY_PARTS) + rng.choice(CITY_PARTS) + "州"
        if name not in names and name != "湖州":
            names.append(name)
    return names


def synthetic(records: tuple[Commitment, ...], rows: int) -> list[Commitment]:
    """Each real row again for a made-up city and year, with its numbers shifted so every row differs."""
    out: list[Commitment] = []
    per_copy = len(records)
    copies = -(-rows // per_copy)
    rng = random.Random(11)
    years = list(range(2010, 2030))
    for n, city in enumerate(cities(-(-copies // len(years)))):
        for year in years:
            if len(out) >= rows:
                return out
            source = f"synthetic/{city}_{year}"
            for r in records:
                factor = 1 + rng.uniform(-0.3, 0.3)
                text = NUMBER.sub(lambda m, f=factor: f"{float(m.group(0)) * f:.2f}", r.text.replace("湖州", city))
                out.append(dataclasses.replace(r, source=f"{source}/{r.source}", year=year, text=text,
                                               department=r.department.replace("湖州", city),
                                               line=r.line + n))
                if len(out) >= rows:
                    return out
    return out


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--server", help="host:port of a Chroma server instead of the embedded store")
    args = parser.parse_args()

    settings = Settings()
    corpus = load_corpus(settings.data_dir)
    records = synthetic(corpus.records, args.rows)
    docs = [to_document(r) for r in records]
    print(f"synthetic corpus: {len(docs)} rows from {len(corpus.records)} real rows")

    with tempfile.TemporaryDirectory() as tmp:
        if args.server:
            host, port = args.server.split(":")
            client = chroma_client(host=host, port=int(port))
        else:
            client = chroma_client(Path(tmp) / "db")
        stack = build_stack(settings.model_copy(update={"collection": "bench_scale"}), corpus, client=client)
        stack.index.embeddings.embed_query("warm up")  # load the model outside the timings

        start = time.perf_counter()
        last = [start]

        def progress(done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 60:
                last[0] = time.perf_counter()
                print(f"  {done}/{total} rows, {done / (last[0] - start):.0f} rows/s", flush=True)

        report = stack.index.sync(docs, progress)
        build = time.perf_counter() - start
        print(f"full build: {report.added} rows in {build:.1f}s = {report.added / build:.1f} rows/s")

        start = time.perf_counter()
        report = stack.index.sync([to_document(r) for r in records])
        again = time.perf_counter() - start
        print(f"unchanged re-index: {again:.2f}s ({100 * again / build:.2f}% of the full build), "
              f"embedded {report.embedded}, unchanged {report.unchanged}")

        start = time.perf_counter()
        stack.hybrid.search("预热", k=1, filters={"year": 2022})
        print(f"in-memory snapshot (filter columns, vectors) and BM25 built from the store in "
              f"{time.perf_counter() - start:.1f}s")

        rng = random.Random(3)
        texts = [r.title for r in corpus.records] + [r.text[:30] for r in corpus.records]
        queries = [rng.choice(texts) for _ in range(args.queries)]
        departments = sorted({r.department for r in corpus.records})
        for q in queries[:10]:
            stack.hybrid.search(q, k=5)
        for label, make_filters in (("no filter", lambda: None),
                                    ("year + department filter",
                                     lambda: {"year": rng.choice([2012, 2022]),
                                              "department": rng.choice(departments)})):
            times = []
            for q in queries:
                filters = make_filters()
                t = time.perf_counter()
                stack.hybrid.search(q, k=5, filters=filters)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            p95 = times[int(0.95 * len(times)) - 1]
            print(f"hybrid query, {label}: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms "
                  f"over {len(times)} queries")
        print(f"peak memory (max RSS of this process, model and embedded store included): {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
