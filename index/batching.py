"""Query embeddings under load: concurrent requests share one model call, and recent queries are cached.

Why: the model embeds 8 queries in one call in little more time than one (the matrix products are wider,
the per-call overhead is paid once), while requests that each call the model queue one by one behind it.
Requests arrive from many threads (a thread pool serving HTTP) and queue their text. One worker thread
waits a few milliseconds for company after the first arrives, takes up to `max_batch` queued texts,
embeds them in one call and hands each caller its own vector; callers that arrive meanwhile form the
next round. The CPU-bound call thus never runs on an event loop, and never twice at once. A small LRU cache answers a
repeated query without the model.

Callers that say a query is on its way (`expecting()`, around a search that ranks with BM25 before it embeds)
let the worker wait for exactly those, at most the window, instead of always waiting the window: a lone request
starts at once, and under load a round takes every query in flight.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

import numpy as np

from index.embeddings import Embedder


class BatchingEmbeddings(Embedder):
    """Wraps any `Embedder` (a LangChain `Embeddings`): documents pass through; queries are batched across
    threads and cached.

    The wrapped model's `encode_queries(texts)` is used when it has one (one call for the batch), else
    its `embed_documents` is not usable for queries (prompts differ), so each query is embedded alone.
    """

    def __init__(self, inner: Embedder, window_ms: float = 2.0, max_batch: int = 16, cache_size: int = 256):
        self.inner = inner
        self.window = window_ms / 1000
        self.max_batch = max(1, max_batch)
        self.cache_size = cache_size
        self._queue: list[tuple[str, Future[list[float]]]] = []
        self._lock = threading.Lock()  # the cache
        self._wake = threading.Condition()  # the queue
        self._worker: threading.Thread | None = None
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._coming = 0  # queries announced by `expecting()` and not queued yet
        self._announced = False  # some caller announces its queries: wait for those, not a fixed window
        self._local = threading.local()
        self.calls = 0  # model calls made for queries (for tests and benchmarks)

    def __getattr__(self, name: str) -> Any:  # the wrapped model's attributes (prompts, name)
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def warm(self) -> None:
        """Load the wrapped model fully now (a server at start-up)."""
        warm = getattr(self.inner, "warm", None)
        if warm is not None:
            warm()

    def prefetch(self) -> None:
        """Start loading the wrapped model, when it loads lazily (index.embeddings.LazyEmbeddings)."""
        start = getattr(self.inner, "prefetch", None)
        if start is not None:
            start()

    def _cached(self, text: str) -> list[float] | None:
        with self._lock:
            found = self._cache.get(text)
            if found is not None:
                self._cache.move_to_end(text)
            return found

    def _remember(self, texts: list[str], vectors: list[list[float]]) -> None:
        if self.cache_size <= 0:
            return
        with self._lock:
            for text, vector in zip(texts, vectors, strict=True):
                self._cache[text] = vector
                self._cache.move_to_end(text)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        encode = getattr(self.inner, "encode_queries", None)
        if encode is not None:
            return [list(map(float, row)) for row in np.asarray(encode(texts), dtype=np.float32)]
        return [self.inner.embed_query(t) for t in texts]

    @contextmanager
    def expecting(self) -> Iterator[None]:
        """Around work that will embed one query in this thread (a search): the batcher waits for it."""
        with self._wake:
            self._coming += 1
            self._announced = True
        self._local.coming = True
        try:
            yield
        finally:
            if getattr(self._local, "coming", False):
                self._local.coming = False
                with self._wake:
                    self._coming -= 1
                    self._wake.notify()

    def embed_query(self, text: str) -> list[float]:
        found = self._cached(text)
        if found is not None:
            return list(found)
        mine: Future[list[float]] = Future()
        with self._wake:
            if getattr(self._local, "coming", False):
                self._local.coming = False
                self._coming -= 1
            self._queue.append((text, mine))
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._serve, name="query-batcher", daemon=True)
                self._worker.start()
            self._wake.notify()
        return list(mine.result())

    def _serve(self) -> None:
        """One thread embeds for all: wait for a query, give others (the announced ones, or any for the whole
        window) at most `window` to join, embed up to max_batch."""
        while True:
            with self._wake:
                while not self._queue:
                    self._wake.wait()
                if self._announced:
                    deadline = time.monotonic() + self.window
                    while self._coming > 0 and len(self._queue) < self.max_batch:
                        left = deadline - time.monotonic()
                        if left <= 0:
                            break
                        self._wake.wait(left)
            if not self._announced and self.window > 0:
                time.sleep(self.window)
            with self._wake:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            texts = list(dict.fromkeys(t for t, _ in batch))
            try:
                vectors = self._encode(texts)
            except BaseException as exc:  # every caller of the round gets the error, the thread goes on
                for _, future in batch:
                    future.set_exception(exc)
                continue
            by_text = dict(zip(texts, vectors, strict=True))
            self._remember(texts, vectors)
            for text, future in batch:
                future.set_result(by_text[text])
