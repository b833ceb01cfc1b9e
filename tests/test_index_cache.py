"""What the index records of itself: an unchanged sync reads nothing, and a cold start loads the saved
snapshot and BM25 instead of reading the collection (real Chroma, the real model through ONNX Runtime)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from assistant.chunks import to_documents
from index.clients import chroma_client
from index.retrieve import Bm25Retriever, DenseRetriever, HybridRetriever
from index.store import Index

pytestmark = pytest.mark.slow


class Reads:
    """Counts the reads of a real collection's rows."""

    def __init__(self, collection):
        self.collection, self.count = collection, 0
        self._get = collection.get

    def __enter__(self):
        def get(*args, **kwargs):
            self.count += 1
            return self._get(*args, **kwargs)

        self.collection.get = get
        return self

    def __exit__(self, *exc):
        self.collection.get = self._get


def open_index(path: Path, model, cache: Path | None) -> Index:
    return Index(chroma_client(path), model, "c", cache_dir=cache)


def test_an_unchanged_sync_reads_nothing_and_a_change_is_seen(tmp_path, embeddings, records):
    docs = to_documents(records)
    first = open_index(tmp_path / "db", embeddings, None)
    assert first.sync(docs).added == len(docs)
    assert first.held is not None
    again = open_index(tmp_path / "db", embeddings, None)  # a new process on the same store
    with Reads(again.collection) as reads:
        report = again.sync(docs)
    assert (report.unchanged, report.added, reads.count) == (len(docs), 0, 0)
    changed = list(records)
    changed[3] = dataclasses.replace(changed[3], text=changed[3].text + "另建成石墨烯实验室1个。")
    report = again.sync(to_documents(changed))
    assert (report.updated, report.embedded) == (1, 1)
    assert first.refresh() is True  # the first process sees the other's change through the pointer
    assert first.held == again.held


def test_a_cold_start_loads_the_saved_snapshot_and_bm25(tmp_path, embeddings, records):
    docs = to_documents(records)
    cache = tmp_path / "cache"
    warm = open_index(tmp_path / "db", embeddings, cache)
    warm.sync(docs)
    warm_hybrid = HybridRetriever(DenseRetriever(warm), Bm25Retriever(warm))
    expected = warm_hybrid.search("为农服务网点有多少家", k=5, filters={"year": 2022})
    saved = warm.cache_path()
    assert saved is not None and (saved / "vectors.npy").exists()
    assert any(p.name.startswith("bm25-") for p in saved.iterdir())

    cold = open_index(tmp_path / "db", embeddings, cache)
    bm25 = Bm25Retriever(cold)
    hybrid = HybridRetriever(DenseRetriever(cold), bm25)
    with Reads(cold.collection) as reads:
        cold.sync(docs)
        ranked = hybrid.rank("为农服务网点有多少家", 5, {"year": 2022})
    assert reads.count == 0  # neither the sync nor the snapshot nor BM25 read the collection
    assert [h.id for h in ranked] == [h.id for h in expected]
    assert [h.metadata["line"] for h in hybrid.search("为农服务网点有多少家", k=5, filters={"year": 2022})] == [
        h.metadata["line"] for h in expected]
    snap, fresh = cold.snapshot(), warm.snapshot()
    assert snap.ids == fresh.ids and np.array_equal(np.asarray(snap.vectors), fresh.vectors)
    assert {k: v.tolist() for k, v in snap.columns.items()} == {k: v.tolist() for k, v in fresh.columns.items()}
    assert snap.codes == fresh.codes and snap.vocab == fresh.vocab
    assert [list(t) for t in snap.doc_tokens] == [list(t) for t in fresh.doc_tokens]


def test_a_change_saves_a_new_snapshot_and_drops_the_old(tmp_path, embeddings, records):
    docs = to_documents(records)
    cache = tmp_path / "cache"
    index = open_index(tmp_path / "db", embeddings, cache)
    index.sync(docs)
    bm25 = Bm25Retriever(index)
    assert not any("石墨烯" in h.text for h in bm25.search("石墨烯量子点", k=3))
    old = index.cache_path()
    changed = list(records)
    changed[7] = dataclasses.replace(changed[7], text="新建石墨烯量子点实验室3个")
    index.sync(to_documents(changed))
    hits = bm25.search("石墨烯量子点", k=3)
    assert hits and hits[0].metadata["line"] == changed[7].line
    assert old is not None and not old.exists() and index.cache_path() is not None
    assert index.cache_path().exists()  # type: ignore[union-attr]


def test_another_process_following_the_index_sees_a_new_generation(tmp_path, embeddings, records):
    """Two workers on one store: when one syncs a change, the other's next search (after its follow
    interval) answers from the new generation, without being told."""
    docs = to_documents(records)
    writer = open_index(tmp_path / "db", embeddings, tmp_path / "cache")
    writer.sync(docs)
    worker = Index(chroma_client(tmp_path / "db"), embeddings, "c", cache_dir=tmp_path / "cache", follow_seconds=0)
    bm25 = Bm25Retriever(worker)
    assert not any("石墨烯" in h.text for h in bm25.search("石墨烯量子点", k=3))
    generation = worker.generation
    changed = list(records)
    changed[7] = dataclasses.replace(changed[7], text="新建石墨烯量子点实验室3个")
    writer.sync(to_documents(changed))
    for retriever in (bm25, DenseRetriever(worker)):
        hits = retriever.search("石墨烯量子点实验室", k=3)
        assert hits[0].metadata["line"] == changed[7].line and "石墨烯" in hits[0].text
    assert worker.generation > generation and worker.held == writer.held


def test_with_the_state_file_a_cold_start_opens_no_store_until_the_index_changes(tmp_path, embeddings, records):
    """An embedded store's state file lets a new process sync (unchanged), rank and read the rows it returns
    from the saved snapshot without opening the store; a change by another process removes and rewrites the
    file, and the follower then opens the store and answers from the new generation."""
    from index.clients import ClientOnUse

    docs = to_documents(records)
    state, cache = tmp_path / "db" / "c.state.json", tmp_path / "cache"
    writer = Index(chroma_client(tmp_path / "db"), embeddings, "c", cache_dir=cache, state_file=state)
    writer.sync(docs)
    expected = HybridRetriever(DenseRetriever(writer), Bm25Retriever(writer)).search("为农服务网点有多少家", k=5)
    assert state.exists() and writer.cache_path() is not None and writer.cache_path().exists()  # type: ignore[union-attr]

    client = ClientOnUse(lambda: chroma_client(tmp_path / "db"))
    cold = Index(client, embeddings, "c", cache_dir=cache, follow_seconds=0, state_file=state)
    assert cold.sync(docs).unchanged == len(docs)
    hits = HybridRetriever(DenseRetriever(cold), Bm25Retriever(cold)).search("为农服务网点有多少家", k=5)
    assert [(h.id, h.text, h.metadata) for h in hits] == [(h.id, h.text, h.metadata) for h in expected]
    assert not client.opened

    changed = list(records)
    changed[7] = dataclasses.replace(changed[7], text="新建石墨烯量子点实验室3个")
    writer.sync(to_documents(changed))
    hits = Bm25Retriever(cold).search("石墨烯量子点实验室", k=3)
    assert hits[0].metadata["line"] == changed[7].line and client.opened

    state.unlink()  # a store made before the file existed: the next unchanged sync writes it
    again = Index(chroma_client(tmp_path / "db"), embeddings, "c", cache_dir=cache, state_file=state)
    assert again.sync(to_documents(changed)).unchanged == len(docs) and state.exists()


def test_the_saved_snapshot_keeps_each_rows_text_and_metadata(tmp_path, embeddings, records):
    docs = to_documents(records)
    index = open_index(tmp_path / "db", embeddings, tmp_path / "cache")
    index.sync(docs)
    ids = [str(d.id) for d in docs[:5]] + ["no-such-id"]
    from_store = index.fetch(ids)
    assert index.snapshot().rows_of(ids) == from_store  # taken from the store
    cold = open_index(tmp_path / "db", embeddings, tmp_path / "cache")
    assert cold.snapshot().rows_of(ids) == from_store and len(from_store) == 5  # loaded from the saved files
