"""Three retrievers with one contract: dense (Chroma), BM25 (jieba tokens) and their fusion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from index.store import TOKENS_KEY, Index

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


def chroma_where(filters: Filters | None) -> dict[str, Any] | None:
    clauses = [{key: value} for key, value in (filters or {}).items() if value is not None]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _public(metadata: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metadata.items() if not k.startswith("_tokens")}


class DenseRetriever:
    def __init__(self, index: Index):
        self.index = index

    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        if k <= 0 or not query.strip():
            return []
        total = self.index.count()
        if total == 0:
            return []
        vector = self.index.embeddings.embed_query(query)
        found = self.index.collection.query(query_embeddings=[vector], n_results=min(k, total),
                                            where=chroma_where(filters),
                                            include=["documents", "metadatas", "distances"])
        return [
            Hit(i, text, _public(meta), 1.0 - float(dist), ("dense",))
            for i, text, meta, dist in zip(found["ids"][0], found["documents"][0], found["metadatas"][0],
                                           found["distances"][0], strict=True)
        ]


class Bm25Retriever:
    """BM25 over the tokens stored with each document; rebuilt in memory when the index changes."""

    def __init__(self, index: Index, k1: float = 1.5, b: float = 0.75):
        self.index = index
        self.k1, self.b = k1, b
        self._generation = -1
        self._bm25: Any = None
        self._ids: list[str] = []
        self._texts: list[str] = []
        self._metas: list[dict[str, Any]] = []
        self._columns: dict[str, np.ndarray] = {}

    def _ensure(self) -> None:
        if self._generation == self.index.generation and self._bm25 is not None:
            return
        import bm25s

        ids, texts, metas = self.index.documents()
        tokens = [(str(m[TOKENS_KEY]).split() if TOKENS_KEY in m else self.index.tokenizer(text)) or [""]
                  for text, m in zip(texts, metas, strict=True)]
        bm25 = bm25s.BM25(k1=self.k1, b=self.b)
        if tokens:
            bm25.index(tokens, show_progress=False)
        self._bm25, self._ids, self._texts = bm25, ids, texts
        self._metas = [_public(m) for m in metas]
        self._columns = {}
        self._generation = self.index.generation

    def _column(self, key: str) -> np.ndarray:
        if key not in self._columns:
            self._columns[key] = np.array([m.get(key) for m in self._metas], dtype=object)
        return self._columns[key]

    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        self._ensure()
        if k <= 0 or not self._ids:
            return []
        vocab = self._bm25.vocab_dict
        terms = [t for t in self.index.tokenizer(query) if t in vocab]
        if not terms:
            return []
        scores = np.asarray(self._bm25.get_scores(terms), dtype=np.float64)
        for key, value in (filters or {}).items():
            if value is not None:
                scores = np.where(self._column(key) == value, scores, 0.0)
        positive = np.flatnonzero(scores > 0)
        if positive.size == 0:
            return []
        top = positive[np.argsort(-scores[positive], kind="stable")[:k]]
        return [Hit(self._ids[i], self._texts[i], self._metas[i], float(scores[i]), ("bm25",)) for i in top]


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
    def __init__(self, dense: Retriever, bm25: Retriever, fusion: Fusion = "rrf", rrf_k: int = 60,
                 weights: tuple[float, float] = (1.0, 1.0), candidates: int = 50):
        self.dense, self.bm25 = dense, bm25
        self.fusion, self.rrf_k, self.weights, self.candidates = fusion, rrf_k, weights, candidates

    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        if k <= 0:
            return []
        depth = max(k, self.candidates)
        rankings = [self.dense.search(query, depth, filters), self.bm25.search(query, depth, filters)]
        if self.fusion == "rrf":
            fused = fuse_rrf(rankings, self.weights, self.rrf_k)
        else:
            fused = fuse_weighted(rankings, self.weights)
        return fused[:k]
