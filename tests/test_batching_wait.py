"""The batcher waits for the queries of searches under way, not a fixed time (a narrow unit test: a recording
stand-in for the model, which the slow tests in test_batching.py replace with the real one)."""

from __future__ import annotations

import threading
import time

from index.batching import BatchingEmbeddings


class Recording:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(len(t))] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return [float(len(text))]

    def encode_queries(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        return [[float(len(t)), float(n)] for n, t in enumerate(texts)]


def test_a_lone_announced_query_does_not_wait_for_the_window():
    model = Recording()
    batcher = BatchingEmbeddings(model, window_ms=2000, max_batch=16, cache_size=0)
    with batcher.expecting():
        start = time.perf_counter()
        assert batcher.embed_query("为农服务") == [4.0, 0.0]
    assert time.perf_counter() - start < 1.0  # nobody else was on the way
    assert model.calls == [["为农服务"]]


def test_announced_queries_share_one_call_and_each_gets_its_own_vector():
    model = Recording()
    batcher = BatchingEmbeddings(model, window_ms=5000, max_batch=16, cache_size=0)
    texts = [f"问题{'甲' * n}" for n in range(6)]
    ready, results = threading.Barrier(len(texts)), {}

    def search(n: int) -> None:
        with batcher.expecting():
            ready.wait()  # all six announced before any embeds
            time.sleep(0.05 * n)  # each ranks with BM25 for a while first
            results[n] = batcher.embed_query(texts[n])

    threads = [threading.Thread(target=search, args=(n,)) for n in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert {n: v[0] for n, v in results.items()} == {n: float(len(t)) for n, t in enumerate(texts)}
    assert len(model.calls) <= 2 and sum(len(c) for c in model.calls) == len(texts)


def test_a_search_that_never_embeds_releases_its_announcement():
    model = Recording()
    batcher = BatchingEmbeddings(model, window_ms=3000, max_batch=16, cache_size=0)
    with batcher.expecting():
        pass  # e.g. BM25 found nothing to fuse and the dense side was skipped
    with batcher.expecting():
        start = time.perf_counter()
        batcher.embed_query("水利")
    assert time.perf_counter() - start < 1.5
