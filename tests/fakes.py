"""Narrow fakes for the quick tier: deterministic embeddings (no model), and a memo around the real model
so that the slow tier embeds each text once per session."""

from __future__ import annotations

import hashlib
import itertools
import math
from typing import Any

from langchain_core.embeddings import Embeddings


class HashingEmbeddings(Embeddings):
    """Like langchain's ConsistentFakeEmbeddings (the same text always gives the same vector, no model), but
    lexical: characters and character pairs hashed into `size` buckets, so that a query shares direction with
    the rows that share its words. Enough for the API's routes and the stack's wiring; retrieval quality is
    the slow tier's job, on the real model."""

    def __init__(self, size: int = 256):
        self.size = size

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.size
        chars = [c for c in text.lower() if not c.isspace()]
        for gram in [*chars, *("".join(p) for p in itertools.pairwise(chars))]:
            digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.size] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


class MemoEmbeddings(Embeddings):
    """The real model, remembering every vector it made: the bundled rows are embedded once per session however
    many stores the tests fill. Attributes of the wrapped model (model, query_prompt …) show through."""

    def __init__(self, inner: Embeddings):
        self.inner = inner
        self.documents: dict[str, list[float]] = {}
        self.queries: dict[str, list[float]] = {}
        self.computed = 0  # texts the real model embedded

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        missing = list(dict.fromkeys(t for t in texts if t not in self.documents))
        if missing:
            self.documents.update(zip(missing, self.inner.embed_documents(missing), strict=True))
            self.computed += len(missing)
        return [self.documents[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        if text not in self.queries:
            self.queries[text] = self.inner.embed_query(text)
        return self.queries[text]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
