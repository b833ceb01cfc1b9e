"""The store: deterministic ids, incremental sync, atomic rebuild."""

from __future__ import annotations

import dataclasses
import os

import pytest
from langchain_core.embeddings import Embeddings

from assistant.chunks import to_document, to_documents
from assistant.search import build_stack, index_corpus
from assistant.settings import Settings
from index.clients import chroma_client
from index.retrieve import Hit, fuse_rrf, fuse_weighted
from index.store import Index

slow = pytest.mark.slow  # the tests below that embed with the real model (the id and fusion tests need none)


class Counting(Embeddings):
    """The real model, counting what it is asked to embed (and failing on request)."""

    def __init__(self, inner: Embeddings):
        self.inner, self.embedded, self.fail_after = inner, 0, None

    def embed_documents(self, texts):
        if self.fail_after is not None and self.embedded + len(texts) > self.fail_after:
            raise RuntimeError("embedding failed")
        self.embedded += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text):
        return self.inner.embed_query(text)


@pytest.fixture
def counting(embeddings):
    return Counting(embeddings)


@pytest.fixture
def index(tmp_path, counting, corpus):
    stack = build_stack(Settings(collection="t"), corpus, client=chroma_client(tmp_path / "db"), embeddings=counting)
    return stack.index


def test_ids_are_sha256_of_source_line_and_content(records):
    a, b = to_document(records[0]), to_document(records[0])
    assert a.id == b.id and len(a.id) == 64
    changed = to_document(dataclasses.replace(records[0], text=records[0].text + "。"))
    moved = to_document(dataclasses.replace(records[0], line=records[0].line + 1))
    assert len({a.id, changed.id, moved.id}) == 3
    assert "部门: 市商务局" in a.page_content and "兑现情况:" in a.page_content and "最终得分: 129.86" in a.page_content
    assert a.metadata | {"year": 2022} == a.metadata and a.metadata["line"] == 6


@slow
def test_unchanged_reindex_embeds_nothing(index, counting, records):
    docs = to_documents(records)
    first = index.sync(docs)
    assert (first.added, first.unchanged, counting.embedded) == (141, 0, 141)
    again = index.sync(docs)
    assert (again.added, again.updated, again.removed, again.unchanged, again.embedded) == (0, 0, 0, 141, 0)
    assert counting.embedded == 141


@slow
def test_changed_row_reembeds_only_that_row_and_removed_rows_leave(index, counting, records):
    index.sync(to_documents(records))
    changed = list(records)
    changed[5] = dataclasses.replace(changed[5], text=changed[5].text + "(更正)")
    del changed[10]
    report = index.sync(to_documents(changed))
    assert (report.added, report.updated, report.removed, report.unchanged, report.embedded) == (0, 1, 1, 139, 1)
    assert index.count() == 140
    stored = index.stored()
    assert to_document(records[10]).id not in stored
    assert to_document(changed[5]).id in stored and to_document(records[5]).id not in stored


@slow
def test_rebuild_swaps_and_a_failed_rebuild_keeps_the_old_index(index, counting, records, tmp_path):
    index.sync(to_documents(records))
    before = index.collection.name
    report = index.rebuild(to_documents(records))
    assert report.embedded == 0 and report.unchanged == 141  # vectors reused
    assert index.collection.name != before and index.count() == 141
    live = index.collection.name

    new_rows = [dataclasses.replace(r, text=r.text + "!") for r in records]
    counting.fail_after = counting.embedded + 40
    with pytest.raises(RuntimeError, match="embedding failed"):
        index.rebuild(to_documents(new_rows))
    assert index.collection.name == live and index.count() == 141
    names = {c.name if hasattr(c, "name") else c for c in index.client.list_collections()}
    assert names == {live, "t__active"}  # the half-written collection is gone
    # another process opening the same store sees the live collection
    reopened = Index(chroma_client(tmp_path / "db"), counting, "t")
    assert reopened.collection.name == live and reopened.count() == 141


@slow
def test_index_corpus_counts(tmp_path, counting, corpus):
    stack = build_stack(Settings(collection="c"), corpus, client=chroma_client(tmp_path / "db2"), embeddings=counting)
    assert index_corpus(stack, corpus).added == 141
    assert index_corpus(stack, corpus).unchanged == 141


def _hits(ids, source):
    return [Hit(i, i, {}, 1.0 / (n + 1), (source,)) for n, i in enumerate(ids)]


def test_fusions_reward_agreement():
    dense, bm25 = _hits(["a", "b", "c"], "dense"), _hits(["c", "d", "a"], "bm25")
    rrf = fuse_rrf([dense, bm25], [1.0, 1.0], k=60)
    assert [h.id for h in rrf][:2] == ["a", "c"] and set(rrf[0].sources) == {"dense", "bm25"}
    weighted = fuse_weighted([dense, bm25], [1.0, 1.0])
    assert {h.id for h in weighted} == {"a", "b", "c", "d"}


@slow
def test_tokens_of_an_older_tokenizer_are_recomputed_without_embedding(index, counting, records):
    from index.store import TOKENS_KEY

    docs = to_documents(records)
    index.sync(docs)
    got = index.collection.get(include=["metadatas"])
    old = [{TOKENS_KEY: None, "_tokens_v1": "old"} for _ in got["metadatas"]]  # as an older version left them
    index.collection.update(ids=got["ids"], metadatas=old)
    # an older version recorded no fingerprint of what the collection holds
    index.client.get_collection("t__active").modify(metadata={"collection": index.collection.name})
    before = counting.embedded
    report = index.sync(docs)
    assert report.unchanged == 141 and counting.embedded == before
    metas = index.collection.get(include=["metadatas"])["metadatas"]
    assert all(TOKENS_KEY in m and "_tokens_v1" not in m for m in metas)


@slow
def test_searches_see_a_sync_at_once(index, records):
    from index.retrieve import Bm25Retriever, DenseRetriever

    index.sync(to_documents(records))
    dense, bm25 = DenseRetriever(index), Bm25Retriever(index)
    assert not any("石墨烯" in h.text for h in bm25.search("石墨烯量子点", k=3))
    changed = list(records)
    changed[7] = dataclasses.replace(changed[7], text="新建石墨烯量子点实验室3个")
    index.sync(to_documents(changed))
    for retriever in (dense, bm25):
        for filters in (None, {"department": changed[7].department}):
            hits = retriever.search("石墨烯量子点实验室", k=3, filters=filters)
            assert hits[0].metadata["line"] == changed[7].line and "石墨烯" in hits[0].text


def test_the_model_is_loaded_with_the_threads_the_settings_give(tmp_path, corpus, monkeypatch):
    """REVIEW_ASSISTANT_EMBEDDING_THREADS reaches the loader (nothing is loaded here: the model loads on use),
    and /health says what the process computes with; 0 means every core."""
    from assistant.service import Service
    from index.embeddings import compute_threads

    monkeypatch.setenv("REVIEW_ASSISTANT_EMBEDDING_THREADS", "3")
    stack = build_stack(Settings(var_dir=tmp_path), corpus)
    assert stack.index.embeddings.inner.threads == 3  # BatchingEmbeddings over LazyEmbeddings, not loaded
    assert Service.from_settings(Settings(var_dir=tmp_path), audit=False).health().embedding_threads == 3
    assert compute_threads(0) == os.cpu_count() and compute_threads(1) == 1
    monkeypatch.setenv("REVIEW_ASSISTANT_EMBEDDING_THREADS", "-1")
    with pytest.raises(ValueError, match="embedding_threads"):
        Settings()
