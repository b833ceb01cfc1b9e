"""Three retrievers with one contract: dense (Chroma), BM25 (jieba tokens) and their fusion."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

import numpy as np

from index.snapshot import Snapshot
from index.store import Index

Filters = dict[str, str | int | float | bool]


@dataclass(frozen=True)
class Hit:
    id: str
    text: str
    metadata: dict[str, Any]
    score: float
    sources: tuple[str, ...] = field(default=())  # which retrievers found it (hybrid)


class Retriever(Protocol):
    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]: ...


class Ranker(Protocol):
    """Ids and scores, best first, without the rows' text: what fusion needs."""

    index: Index

    def rank(self, query: str, depth: int, filters: Filters | None = None) -> list[Hit]: ...


def hydrate(index: Index, ranked: Sequence[Hit]) -> list[Hit]:
    """Fill in the text and metadata of ranked ids: from the snapshot that ranked them when it keeps its rows
    (no store read), else one read of the few rows returned."""
    ids = [h.id for h in ranked]
    rows = index.snapshot().rows_of(ids) if ids else {}
    missing = [i for i in ids if i not in rows]
    if missing:
        rows.update(index.fetch(missing))
    return [Hit(h.id, rows[h.id][0], rows[h.id][1], h.score, h.sources) for h in ranked if h.id in rows]


def top(scores: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """The k rows with the highest scores, best first; ties keep row order."""
    if rows.size > k:
        part = np.argpartition(-scores[rows], k - 1)[:k]
        rows = rows[part]
    return rows[np.lexsort((rows, -scores[rows]))]


class DenseRetriever:
    """Exact cosine over the rows that pass the filter, from the in-memory snapshot: Chroma's local filter
    scans every row (see snapshot), and its HNSW index would be one more thing to load on a cold start
    (the snapshot is needed for BM25 anyway; one matrix product over 100,000 rows takes a few ms)."""

    def __init__(self, index: Index):
        self.index = index

    def rank(self, query: str, depth: int, filters: Filters | None = None) -> list[Hit]:
        if depth <= 0 or not query.strip():
            return []
        snap = self.index.snapshot()
        keep = snap.mask(filters)
        rows = np.arange(len(snap)) if keep is None else np.flatnonzero(keep)
        if rows.size == 0:
            return []
        q = np.asarray(self.index.embeddings.embed_query(query), dtype=np.float32)
        q /= max(float(np.linalg.norm(q)), 1e-12)
        if keep is None:
            scores = np.asarray(snap.vectors @ q, dtype=np.float32)
        else:
            scores = np.zeros(len(snap), dtype=np.float32)
            scores[rows] = snap.vectors[rows] @ q
        return [Hit(snap.ids[i], "", {}, float(scores[i]), ("dense",)) for i in top(scores, rows, depth)]

    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        return hydrate(self.index, self.rank(query, k, filters))


class Bm25Retriever:
    """BM25 (bm25s) over the token ids of the snapshot; rebuilt when the index changes."""

    def __init__(self, index: Index, k1: float = 1.5, b: float = 0.75):
        self.index = index
        self.k1, self.b = k1, b
        self._built: tuple[int, Any] | None = None  # (the snapshot's generation, its BM25)
        self._lock = threading.Lock()

    def _bm25(self, snap: Snapshot) -> Any:
        """The snapshot's BM25: loaded from beside a saved snapshot, else built (and saved there)."""
        with self._lock:
            if self._built is None or self._built[0] != snap.generation:
                self._built = None
                where = snap.home / f"bm25-k1={self.k1}-b={self.b}" if snap.home is not None else None
                bm25 = load_bm25(where) if where is not None and len(snap) else None
                if bm25 is None:
                    import bm25s

                    bm25 = bm25s.BM25(k1=self.k1, b=self.b)
                    if len(snap):
                        bm25.index((snap.doc_tokens, snap.vocab), create_empty_token=False, show_progress=False)
                        if where is not None:
                            save_bm25(bm25, where)
                self._built = (snap.generation, bm25)
            return self._built[1]

    def rank(self, query: str, depth: int, filters: Filters | None = None) -> list[Hit]:
        if depth <= 0 or not query.strip():
            return []
        snap = self.index.snapshot()
        if not len(snap):
            return []
        bm25 = self._bm25(snap)
        terms = [snap.vocab[t] for t in self.index.tokenizer(query) if t in snap.vocab]
        if not terms:
            return []
        scores = np.asarray(bm25.get_scores_from_ids(terms), dtype=np.float64)
        keep = snap.mask(filters)
        rows = np.flatnonzero((scores > 0) if keep is None else (scores > 0) & keep)
        if rows.size == 0:
            return []
        return [Hit(snap.ids[i], "", {}, float(scores[i]), ("bm25",)) for i in top(scores, rows, depth)]

    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        return hydrate(self.index, self.rank(query, k, filters))


def save_bm25(bm25: Any, where: Path) -> None:
    """bm25s' own files, written aside and renamed into place."""
    if where.exists():
        return
    work = Path(tempfile.mkdtemp(prefix=f".{where.name}-", dir=where.parent))
    try:
        bm25.save(str(work), show_progress=False)
        with contextlib.suppress(OSError):  # another process saved it first
            work.rename(where)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class SavedBm25:
    """A saved bm25s index, scored in numpy: bm25s' own `get_scores_from_ids` over its saved score matrix
    (the same arrays, the same additions in the same order, so the same scores), without importing bm25s,
    which brings scipy and numba along (1 to 3 s of a cold question here)."""

    # methods without non-occurrence scores (bm25l and bm25+ have them)
    METHODS: ClassVar[set[str]] = {"lucene", "robertson", "atire"}

    def __init__(self, where: Path):
        import json

        params = json.loads((where / "params.index.json").read_text(encoding="utf-8"))
        if params.get("method") not in self.METHODS or (where / "nonoccurrence_array.index.npy").exists():
            raise ValueError(f"bm25s method {params.get('method')!r} is scored by bm25s itself")
        self.dtype = np.dtype(params.get("dtype", "float32"))
        self.num_docs = int(params["num_docs"])
        self.data = np.load(where / "data.csc.index.npy", mmap_mode="r")
        self.indices = np.load(where / "indices.csc.index.npy", mmap_mode="r")
        self.indptr = np.load(where / "indptr.csc.index.npy", mmap_mode="r")

    def get_scores_from_ids(self, query_tokens_ids: Sequence[int]) -> np.ndarray:
        ids = np.asarray(query_tokens_ids, dtype=np.int64)
        if int(ids.max(initial=0)) >= len(self.indptr) - 1:
            raise ValueError("a query token is not in the index")
        scores = np.zeros(self.num_docs, dtype=self.dtype)
        for token in ids:
            start, end = int(self.indptr[token]), int(self.indptr[token + 1])
            np.add.at(scores, np.asarray(self.indices[start:end]), np.asarray(self.data[start:end]))
        return scores


def load_bm25(where: Path) -> Any:
    """A saved BM25 (scored without bm25s when it can be), or None when there is none to use."""
    if not where.is_dir():
        return None
    try:
        return SavedBm25(where)
    except (OSError, ValueError, KeyError):
        pass
    import bm25s

    try:
        return bm25s.BM25.load(str(where), mmap=True, load_corpus=False)
    except (OSError, ValueError, KeyError):
        return None


Fusion = Literal["rrf", "weighted"]


def fuse_rrf(rankings: Sequence[Sequence[Hit]], weights: Sequence[float], k: int = 60) -> list[Hit]:
    """Reciprocal rank fusion: sum of weight / (k + rank)."""
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    found_by: dict[str, list[str]] = {}
    for hits, weight in zip(rankings, weights, strict=True):
        for rank, hit in enumerate(hits, 1):
            scores[hit.id] = scores.get(hit.id, 0.0) + weight / (k + rank)
            first.setdefault(hit.id, hit)
            found_by.setdefault(hit.id, []).extend(hit.sources)
    order = sorted(scores, key=lambda i: -scores[i])
    return [Hit(i, first[i].text, first[i].metadata, scores[i], tuple(found_by[i])) for i in order]


def fuse_weighted(rankings: Sequence[Sequence[Hit]], weights: Sequence[float]) -> list[Hit]:
    """Min-max normalised scores, weighted and summed."""
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    found_by: dict[str, list[str]] = {}
    for hits, weight in zip(rankings, weights, strict=True):
        if not hits:
            continue
        values = [h.score for h in hits]
        low, high = min(values), max(values)
        for hit in hits:
            norm = 1.0 if high == low else (hit.score - low) / (high - low)
            scores[hit.id] = scores.get(hit.id, 0.0) + weight * norm
            first.setdefault(hit.id, hit)
            found_by.setdefault(hit.id, []).extend(hit.sources)
    order = sorted(scores, key=lambda i: -scores[i])
    return [Hit(i, first[i].text, first[i].metadata, scores[i], tuple(found_by[i])) for i in order]


class HybridRetriever:
    def __init__(self, dense: Ranker, bm25: Ranker, fusion: Fusion = "rrf", rrf_k: int = 60,
                 weights: tuple[float, float] = (1.0, 1.0), candidates: int = 50):
        self.dense, self.bm25 = dense, bm25
        self.index = dense.index
        self.fusion, self.rrf_k, self.weights, self.candidates = fusion, rrf_k, weights, candidates

    def rank(self, query: str, depth: int, filters: Filters | None = None) -> list[Hit]:
        if depth <= 0:
            return []
        wide = max(depth, self.candidates)
        lexical = self.bm25.rank(query, wide, filters)  # first: a model still loading has time to finish
        rankings = [self.dense.rank(query, wide, filters), lexical]
        if self.fusion == "rrf":
            fused = fuse_rrf(rankings, self.weights, self.rrf_k)
        else:
            fused = fuse_weighted(rankings, self.weights)
        return fused[:depth]

    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        return hydrate(self.index, self.rank(query, k, filters))
