"""A Chroma-backed store of Documents: incremental sync by content hash, and an atomic rebuild.

The Documents' ids are content hashes (the caller makes them). A document's slot is its metadata's
(source, line): a changed row keeps its slot and gets a new id, so it counts as updated.
The live collection is named by a pointer collection; a rebuild writes a new collection aside and
moves the pointer only when the new one is complete, so a failed rebuild leaves the old one serving.

The pointer also records what the live collection holds: a fingerprint of its ids (and the BM25 token
version), written after every completed change and dropped before one starts. A sync whose documents
have that fingerprint reads nothing from the store; the snapshot (and its BM25) of a fingerprinted
collection is saved in `cache_dir` under the collection's name and fingerprint, and loaded from there.

With an embedded store, the pointer's content is also written to a small state file beside the store
(`state_file`), removed before a change starts and written after it completes. A process that finds it
takes the live collection's name and fingerprint from it without opening the store; the store is opened on
first need (a changed index, a row the saved snapshot lacks), so an unchanged cold question reads only the
saved snapshot. Every process writing to that store through `Index` keeps the file up to date.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document

from index.embeddings import Embedder
from index.snapshot import PAGE, Snapshot, load_snapshot, save_snapshot, take_snapshot
from index.tokenize import VERSION, JiebaTokenizer

log = logging.getLogger("review_assistant.index")
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


def fingerprint(ids: Iterable[str]) -> str:
    """What a collection holds, in 32 hex digits: its sorted ids and the BM25 token version."""
    digest = hashlib.sha256(TOKENS_KEY.encode())
    for doc_id in sorted(ids):
        digest.update(doc_id.encode() + b"\0")
    return digest.hexdigest()[:32]


def clean_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Chroma keeps str, int, float and bool; None is left out."""
    return {k: v for k, v in metadata.items() if isinstance(v, str | int | float | bool)}


class Index:
    """Documents in a Chroma collection, with embeddings from an injected model."""

    def __init__(self, client: Any, embeddings: Embedder, name: str = "rows",
                 tokenizer: JiebaTokenizer | None = None, cache_dir: Path | None = None,
                 follow_seconds: float | None = None, state_file: Path | None = None):
        self.client = client
        self.embeddings = embeddings
        self.name = name
        self.tokenizer = tokenizer or JiebaTokenizer()
        self.cache_dir = cache_dir
        self.state_file = state_file
        self._collection: Any = None
        self.held: str | None = None  # the fingerprint of what the live collection holds, when recorded
        self._snapshot: Snapshot | None = None
        self._snapshot_lock = threading.Lock()
        self.generation = 0  # bumps whenever the live collection changes; retrievers rebuild BM25 on it
        # Follow other processes (workers, a CLI re-index): look at the pointer at most this often when
        # searching; None: only when told (refresh, sync).
        self.follow_seconds = follow_seconds
        self._looked = time.monotonic()
        recorded = self._recorded()
        if recorded is not None:  # the store is opened on first need
            from index.clients import CollectionOnUse

            self._collection = CollectionOnUse(client, recorded[0])
            self.held = recorded[1]
            self.generation += 1
        else:
            client.get_or_create_collection(f"{name}__active", embedding_function=None)
            self.refresh()

    # ---- the live collection ------------------------------------------------------------------

    def refresh(self) -> bool:
        """Follow the pointer (another process may have rebuilt or synced). True when the index changed."""
        self._looked = time.monotonic()
        if self._collection is not None and self.held and self._recorded() == (self._collection.name, self.held):
            return False  # the state file says nothing changed (its writers remove it before a change)
        pointer = self.client.get_collection(f"{self.name}__active", embedding_function=None)
        meta = pointer.metadata or {}
        active = meta.get("collection")
        if active is None:
            active = self._new_collection_name()
            self.client.get_or_create_collection(active, embedding_function=None,
                                                 metadata={"hnsw:space": "cosine"})
            pointer.modify(metadata={"collection": active})
            meta = {"collection": active}
        held = meta.get("fingerprint") or None
        if self._collection is None or self._collection.name != active or held != self.held:
            if self._collection is None or self._collection.name != active:
                self._collection = self.client.get_collection(active, embedding_function=None)
            self.held = held
            self.generation += 1
            return True
        return False

    def follow(self) -> bool:
        """Refresh when the follow interval has passed since the last look (as a search does). True when the
        index changed."""
        if self.follow_seconds is not None and time.monotonic() - self._looked >= self.follow_seconds:
            return self.refresh()
        return False

    def _record(self, held: str | None, collection: str | None = None) -> None:
        """Write what the live collection holds to the pointer (None: a change is under way)."""
        meta: dict[str, Any] = {"collection": collection or self._collection.name}
        if held:
            meta["fingerprint"] = held
        else:
            self._write_recorded(None)  # before the pointer: the file never claims more than the pointer
        self.client.get_collection(f"{self.name}__active", embedding_function=None).modify(metadata=meta)
        self.held = held
        if held:
            self._write_recorded((meta["collection"], held))

    def _recorded(self) -> tuple[str, str] | None:
        """(live collection, fingerprint) from the state file, or None when there is no file (or no state)."""
        if self.state_file is None:
            return None
        try:
            found = json.loads(self.state_file.read_text(encoding="utf-8"))
            return str(found["collection"]), str(found["fingerprint"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _write_recorded(self, state: tuple[str, str] | None) -> None:
        if self.state_file is None:
            return
        if state is None:
            with contextlib.suppress(FileNotFoundError):
                self.state_file.unlink()
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        work = self.state_file.with_name(f".{self.state_file.name}.{os.getpid()}.{threading.get_ident()}")
        work.write_text(json.dumps({"collection": state[0], "fingerprint": state[1]}), encoding="utf-8")
        os.replace(work, self.state_file)

    def _confirm_recorded(self) -> None:
        """Write the state file for an unchanged index that has none (made before the file existed), then
        read the pointer again, and take the file back if a change began meanwhile."""
        if self.state_file is None or not self.held or self._recorded() is not None:
            return
        state = (self._collection.name, self.held)
        self._write_recorded(state)
        meta = self.client.get_collection(f"{self.name}__active", embedding_function=None).metadata or {}
        if (meta.get("collection"), meta.get("fingerprint")) != state:
            self._write_recorded(None)

    @property
    def state(self) -> str | None:
        """The live collection's name and fingerprint, when its content is recorded."""
        return f"{self._collection.name}-{self.held}" if self.held else None

    def cache_path(self) -> Path | None:
        """Where the snapshot of the live collection is saved, or None when it is not (no cache, unknown)."""
        state = self.state
        return self.cache_dir / state if self.cache_dir is not None and state else None

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
        """The live collection in memory (ids, filter columns, vectors, BM25 tokens), taken once per change:
        loaded from the cache when saved there, else read from the store (and saved)."""
        if self.follow_seconds is not None and time.monotonic() - self._looked >= self.follow_seconds:
            self.refresh()
        with self._snapshot_lock:
            if self._snapshot is None or self._snapshot.generation != self.generation:
                # The old one is kept while the new one is read (twice the memory for that moment): when the
                # read fails (another process is writing the store), queries go on with the last good one and
                # the next query tries again.
                old, self._snapshot = self._snapshot, None
                where = self.cache_path()
                snap = load_snapshot(where, self.generation) if where is not None else None
                if snap is None:
                    try:
                        snap = self._take_snapshot()
                    except Exception as exc:
                        if old is None:
                            raise
                        log.warning("could not read the index (%s); answering from the last snapshot", exc)
                        self._snapshot = old
                        return old
                    where = self.cache_path()  # the pointer may have moved on meanwhile
                    if where is not None:
                        save_snapshot(snap, where)
                        self._drop_old_snapshots(where)
                self._snapshot = dataclasses.replace(snap, home=where) if where is not None else snap
            return self._snapshot

    def _take_snapshot(self) -> Snapshot:
        return self._reading(lambda c: take_snapshot(c, TOKENS_KEY, self.tokenizer, self.generation))

    def _reading(self, read: Callable[[Any], Any], attempts: int = 4) -> Any:
        """A read of the live collection that survives other processes' writes: when another process removed
        the collection (a second rebuild since this one looked) or is writing it (the embedded store then
        fails a read now and then: "Error finding id"), follow the pointer, open the collection anew and
        read again, a few times, before giving up."""
        for attempt in range(attempts):
            try:
                return read(self._collection)
            except Exception:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
                self.refresh()
                self._collection = self.client.get_collection(self._collection.name, embedding_function=None)
        raise AssertionError("unreachable")

    def _drop_old_snapshots(self, keep: Path) -> None:
        import shutil

        for old in keep.parent.glob(f"{self.name}__*"):
            if old != keep and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)

    def fetch(self, ids: Sequence[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """id -> (text, metadata without the BM25 tokens), for the few rows a search returns."""
        if not ids:
            return {}
        got = self._reading(lambda c: c.get(ids=list(ids), include=["documents", "metadatas"]))
        return {i: (text or "", {k: v for k, v in (meta or {}).items() if not k.startswith("_tokens")})
                for i, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}

    # ---- writing --------------------------------------------------------------------------------

    def _write(self, collection: Any, docs: Sequence[Document], progress: Progress | None,
               known: dict[str, np.ndarray] | None = None) -> int:
        """Add documents, embedding only those without a known vector. Returns how many were embedded.

        A batch is tokenized for BM25 and upserted in a second thread while the next one is embedded,
        and at most one batch waits for its write (bounded memory). The caller sorts by length."""
        from concurrent.futures import Future, ThreadPoolExecutor

        known = known or {}
        embedded = 0
        pending: Future[None] | None = None
        with ThreadPoolExecutor(1, thread_name_prefix="index-write") as writer:
            for start in range(0, len(docs), BATCH):
                batch = list(docs[start : start + BATCH])
                need = [d for d in batch if str(d.id) not in known]
                fresh: dict[str, Any] = {}
                if need:
                    vectors = self.embeddings.embed_documents([d.page_content for d in need])
                    fresh = {str(d.id): v for d, v in zip(need, vectors, strict=True)}
                    embedded += len(need)
                matrix = np.asarray([fresh[str(d.id)] if str(d.id) in fresh else known[str(d.id)] for d in batch],
                                    dtype=np.float32)
                if pending is not None:
                    pending.result()
                pending = writer.submit(self._upsert, collection, batch, matrix)
                if progress:
                    progress(min(start + BATCH, len(docs)), len(docs))
            if pending is not None:
                pending.result()
        return embedded

    def _upsert(self, collection: Any, batch: list[Document], vectors: np.ndarray) -> None:
        collection.upsert(
            ids=[str(d.id) for d in batch],
            embeddings=vectors,
            documents=[d.page_content for d in batch],
            metadatas=[{**clean_metadata(d.metadata), TOKENS_KEY: " ".join(self.tokenizer(d.page_content))}
                       for d in batch],
        )

    def sync(self, docs: Sequence[Document], progress: Progress | None = None) -> SyncReport:
        """Make the live collection hold exactly `docs`: unchanged ids are not embedded again. When the
        pointer records that the collection holds exactly these ids, nothing is read."""
        docs = _unique(docs)
        wanted = fingerprint(str(d.id) for d in docs)
        self.refresh()
        if self.held == wanted:
            self._confirm_recorded()
            if progress:
                progress(len(docs), len(docs))
            return SyncReport(unchanged=len(docs))
        existing = self.stored()
        by_slot = {row.slot: doc_id for doc_id, row in existing.items()}
        new_ids = {str(d.id) for d in docs}
        fresh = sorted((d for d in docs if str(d.id) not in existing), key=lambda d: len(d.page_content))
        updated = sum(1 for d in fresh if slot(d.metadata) in by_slot and by_slot[slot(d.metadata)] not in new_ids)
        stale = [doc_id for doc_id in existing if doc_id not in new_ids]
        retokenize = [i for i, row in existing.items() if i in new_ids and not row.tokens_current]
        if fresh or stale or retokenize:
            self._record(None)  # a change is under way: no process trusts the old fingerprint meanwhile
        embedded = self._write(self._collection, fresh, progress)  # embed first: a failure changes nothing
        self._retokenize(retokenize)
        for start in range(0, len(stale), PAGE):
            self._collection.delete(ids=stale[start : start + PAGE])
        self._record(wanted)
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
        """Write a new collection aside, then swap the pointer. Vectors of unchanged documents are reused.

        The collection it replaces is kept, so a process still reading it (until it follows the pointer,
        within follow_seconds) goes on answering; the next rebuild removes it, with any collection left
        over by a rebuild that was killed."""
        docs = _unique(docs)
        self.refresh()
        self.remove_leftovers()
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
            embedded = self._write(aside, sorted(docs, key=lambda d: len(d.page_content)), progress, vectors)
        except BaseException:
            self.client.delete_collection(name)
            raise
        self._record(fingerprint(str(d.id) for d in docs), collection=name)
        self.refresh()
        by_slot = {row.slot for row in old_ids.values()}
        new_ids = {str(d.id) for d in docs}
        updated = sum(1 for d in docs if str(d.id) not in old_ids and slot(d.metadata) in by_slot)
        added = sum(1 for d in docs if str(d.id) not in old_ids) - updated
        removed = sum(1 for i in old_ids if i not in new_ids) - updated
        return SyncReport(added, updated, removed, len(keep), embedded)


    def remove_leftovers(self) -> list[str]:
        """Remove every collection of this index but the live one and the pointer: the one a rebuild
        replaced, and any a killed rebuild left behind. Returns their names."""
        keep = {f"{self.name}__active", self._collection.name}
        removed = []
        for found in self.client.list_collections():
            name = found if isinstance(found, str) else found.name
            if name.startswith(f"{self.name}__") and name not in keep and _is_generated(name[len(self.name) + 2:]):
                self.client.delete_collection(name)
                removed.append(name)
        return removed


def _is_generated(suffix: str) -> bool:
    """A collection name this index made (name__ + 12 hex digits), not another index's sharing the prefix."""
    return len(suffix) == 12 and all(c in "0123456789abcdef" for c in suffix)


def _unique(docs: Sequence[Document]) -> list[Document]:
    seen: dict[str, Document] = {}
    for d in docs:
        if d.id is None:
            raise ValueError("every Document needs an id (a content hash)")
        seen.setdefault(str(d.id), d)
    return list(seen.values())
