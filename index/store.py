"""A Chroma-backed store of Documents: incremental sync by content hash, and an atomic rebuild.

The Documents' ids are content hashes (the caller makes them). A document's slot is its metadata's
(source, line): a changed row keeps its slot and gets a new id, so it counts as updated.
The live collection is named by a pointer collection; a rebuild writes a new collection aside and
moves the pointer only when the new one is complete, so a failed rebuild leaves the old one serving.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from index.snapshot import PAGE, Snapshot, take_snapshot
from index.tokenize import VERSION, JiebaTokenizer

Progress = Callable[[int, int], None]  # (done, total)
TOKENS_KEY = f"_tokens_v{VERSION}"  # BM25 tokens, kept in the store so any process can build BM25 from it
BATCH = 256


@dataclass(frozen=True)
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0  # documents sent to the embedding model

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Stored:
    slot: tuple[Any, Any]  # (source, line)
    tokens_current: bool  # BM25 tokens of this tokenizer version are stored


def slot(metadata: dict[str, Any]) -> tuple[Any, Any]:
    return metadata.get("source"), metadata.get("line")


def clean_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Chroma keeps str, int, float and bool; None is left out."""
    return {k: v for k, v in metadata.items() if isinstance(v, str | int | float | bool)}


class Index:
    """Documents in a Chroma collection, with embeddings from an injected model."""

    def __init__(self, client: Any, embeddings: Embeddings, name: str = "rows",
                 tokenizer: JiebaTokenizer | None = None):
        self.client = client
        self.embeddings = embeddings
        self.name = name
        self.tokenizer = tokenizer or JiebaTokenizer()
        self._pointer = client.get_or_create_collection(f"{name}__active", embedding_function=None)
        self._collection: Any = None
        self._snapshot: Snapshot | None = None
        self._snapshot_lock = threading.Lock()
        self.generation = 0  # bumps whenever the live collection changes; retrievers rebuild BM25 on it
        self.refresh()

    # ---- the live collection ------------------------------------------------------------------

    def refresh(self) -> None:
        """Follow the pointer (another process may have rebuilt)."""
        pointer = self.client.get_collection(f"{self.name}__active", embedding_function=None)
        active = (pointer.metadata or {}).get("collection")
        if active is None:
            active = self._new_collection_name()
            self.client.get_or_create_collection(active, embedding_function=None,
                                                 metadata={"hnsw:space": "cosine"})
            pointer.modify(metadata={"collection": active})
        if self._collection is None or self._collection.name != active:
            self._collection = self.client.get_collection(active, embedding_function=None)
            self.generation += 1

    @property
    def collection(self) -> Any:
        return self._collection

    def _new_collection_name(self) -> str:
        return f"{self.name}__{uuid.uuid4().hex[:12]}"

    def count(self) -> int:
        return int(self._collection.count())

    def stored(self, collection: Any = None) -> dict[str, Stored]:
        """id -> slot of every stored document, read a page at a time."""
        target = collection or self._collection
        found: dict[str, Stored] = {}
        for offset in range(0, target.count(), PAGE):
            got = target.get(include=["metadatas"], limit=PAGE, offset=offset)
            for doc_id, meta in zip(got["ids"], got["metadatas"], strict=True):
                meta = meta or {}
                found[doc_id] = Stored(slot(meta), TOKENS_KEY in meta)
        return found

    def snapshot(self) -> Snapshot:
        """The live collection in memory (ids, filter columns, vectors, BM25 tokens), taken once per change."""
        with self._snapshot_lock:
            if self._snapshot is None or self._snapshot.generation != self.generation:
                self._snapshot = None  # let the old one go before the new one is read
                self._snapshot = take_snapshot(self._collection, TOKENS_KEY, self.tokenizer, self.generation)
            return self._snapshot

    def fetch(self, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """id -> (text, metadata without the BM25 tokens), for the few rows a search returns."""
        if not ids:
            return {}
        got = self._collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {i: (text or "", {k: v for k, v in (meta or {}).items() if not k.startswith("_tokens")})
                for i, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}

    # ---- writing --------------------------------------------------------------------------------

    def _write(self, collection: Any, docs: Sequence[Document], progress: Progress | None,
               known: dict[str, np.ndarray] | None = None) -> int:
        """Add documents, embedding only those without a known vector. Returns how many were embedded."""
        known = known or {}
        embedded = 0
        for start in range(0, len(docs), BATCH):
            batch = list(docs[start : start + BATCH])
            need = [d for d in batch if str(d.id) not in known]
            fresh: dict[str, Any] = {}
            if need:
                vectors = self.embeddings.embed_documents([d.page_content for d in need])
                fresh = {str(d.id): v for d, v in zip(need, vectors, strict=True)}
                embedded += len(need)
            collection.upsert(
                ids=[str(d.id) for d in batch],
                embeddings=np.asarray([fresh[str(d.id)] if str(d.id) in fresh else known[str(d.id)] for d in batch],
                                      dtype=np.float32),
                documents=[d.page_content for d in batch],
                metadatas=[{**clean_metadata(d.metadata), TOKENS_KEY: " ".join(self.tokenizer(d.page_content))}
                           for d in batch],
            )
            if progress:
                progress(min(start + BATCH, len(docs)), len(docs))
        return embedded

    def sync(self, docs: Sequence[Document], progress: Progress | None = None) -> SyncReport:
        """Make the live collection hold exactly `docs`: unchanged ids are not embedded again."""
        docs = _unique(docs)
        existing = self.stored()
        by_slot = {row.slot: doc_id for doc_id, row in existing.items()}
        new_ids = {str(d.id) for d in docs}
        fresh = [d for d in docs if str(d.id) not in existing]
        updated = sum(1 for d in fresh if slot(d.metadata) in by_slot and by_slot[slot(d.metadata)] not in new_ids)
        stale = [doc_id for doc_id in existing if doc_id not in new_ids]
        embedded = self._write(self._collection, fresh, progress)  # embed first: a failure changes nothing
        self._retokenize([i for i, row in existing.items() if i in new_ids and not row.tokens_current])
        for start in range(0, len(stale), PAGE):
            self._collection.delete(ids=stale[start : start + PAGE])
        if fresh or stale:
            self.generation += 1
        if progress and not fresh:
            progress(len(docs), len(docs))
        return SyncReport(added=len(fresh) - updated, updated=updated, removed=len(stale) - updated,
                          unchanged=len(docs) - len(fresh), embedded=embedded)

    def _retokenize(self, ids: list[str]) -> None:
        """Tokens of another tokenizer version: recompute them, keep the vectors."""
        for start in range(0, len(ids), BATCH):
            got = self._collection.get(ids=ids[start : start + BATCH], include=["documents", "metadatas"])
            # Chroma merges metadata on update: None removes the old version's key
            metas = [{k: None for k in meta if k.startswith("_tokens")} | {TOKENS_KEY: " ".join(self.tokenizer(text))}
                     for text, meta in zip(got["documents"], got["metadatas"], strict=True)]
            self._collection.update(ids=got["ids"], metadatas=metas)
        if ids:
            self.generation += 1

    def rebuild(self, docs: Sequence[Document], progress: Progress | None = None) -> SyncReport:
        """Write a new collection aside, then swap the pointer. Vectors of unchanged documents are reused."""
        docs = _unique(docs)
        old = self._collection
        old_ids = self.stored()
        vectors: dict[str, np.ndarray] = {}
        keep = [str(d.id) for d in docs if str(d.id) in old_ids]
        for start in range(0, len(keep), PAGE):
            got = old.get(ids=keep[start : start + PAGE], include=["embeddings"])
            vectors.update(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32), strict=True))
        name = self._new_collection_name()
        aside = self.client.create_collection(name, embedding_function=None, metadata={"hnsw:space": "cosine"})
        try:
            embedded = self._write(aside, docs, progress, vectors)
        except BaseException:
            self.client.delete_collection(name)
            raise
        self.client.get_collection(f"{self.name}__active", embedding_function=None).modify(
            metadata={"collection": name})
        self.refresh()
        self.client.delete_collection(old.name)
        by_slot = {row.slot for row in old_ids.values()}
        new_ids = {str(d.id) for d in docs}
        updated = sum(1 for d in docs if str(d.id) not in old_ids and slot(d.metadata) in by_slot)
        added = sum(1 for d in docs if str(d.id) not in old_ids) - updated
        removed = sum(1 for i in old_ids if i not in new_ids) - updated
        return SyncReport(added, updated, removed, len(keep), embedded)


def _unique(docs: Sequence[Document]) -> list[Document]:
    seen: dict[str, Document] = {}
    for d in docs:
        if d.id is None:
            raise ValueError("every Document needs an id (a content hash)")
        seen.setdefault(str(d.id), d)
    return list(seen.values())
