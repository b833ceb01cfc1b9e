"""A rebuild never breaks a process still reading the index (issue 11, part 3), on the quick tier: fake
embeddings, an embedded Chroma, two Index objects on one store standing for two processes."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.chunks import to_documents
from index.clients import chroma_client
from index.retrieve import DenseRetriever
from index.store import Index
from tests.fakes import HashingEmbeddings


@pytest.fixture(scope="module")
def rows(records):
    """The first 40 rows: what these tests check is which collection serves, not how many rows it holds (all
    141 are written in one batch as well; each write tokenizes every row for BM25)."""
    return records[:40]


def names(index: Index) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in index.client.list_collections()}


def test_a_rebuild_keeps_the_replaced_collection_until_the_next_build(tmp_path, rows):
    client = chroma_client(tmp_path / "db")
    writer = Index(client, HashingEmbeddings(), "t")
    writer.sync(to_documents(rows))
    reader = Index(client, HashingEmbeddings(), "t")  # another process, on the same collection
    first = reader.collection.name
    hits = DenseRetriever(reader).search("为农服务网点", 3)
    assert len(hits) == 3

    writer.rebuild(to_documents(rows))
    assert writer.collection.name != first and first in names(writer)  # kept: the reader may be on it
    assert DenseRetriever(reader).search("为农服务网点", 3)  # still answers from the old one
    second = writer.collection.name

    writer.rebuild(to_documents(rows))  # the next build removes what the one before replaced
    assert first not in names(writer) and second in names(writer)
    # the reader's collection is gone: its next query follows the pointer instead of failing
    reader._snapshot = None
    reader.generation += 1  # as after a change it has not read yet
    assert [h.id for h in DenseRetriever(reader).search("为农服务网点", 3)]
    assert reader.collection.name == writer.collection.name


def test_fetch_follows_the_pointer_when_its_collection_was_removed(tmp_path, rows):
    client = chroma_client(tmp_path / "db")
    writer = Index(client, HashingEmbeddings(), "t")
    docs = to_documents(rows)
    writer.sync(docs)
    reader = Index(client, HashingEmbeddings(), "t")
    writer.rebuild(docs)
    writer.rebuild(docs)  # removes the collection the reader still names
    fetched = reader.fetch([str(docs[0].id)])
    assert fetched[str(docs[0].id)][0] == docs[0].page_content


def test_the_next_build_removes_collections_a_killed_rebuild_left(tmp_path, rows):
    client = chroma_client(tmp_path / "db")
    index = Index(client, HashingEmbeddings(), "t")
    index.sync(to_documents(rows))
    orphan = client.create_collection("t__0123456789ab")  # a rebuild killed before it swapped
    orphan.add(ids=["x"], embeddings=[[0.0] * 8], documents=["x"])
    other = client.create_collection("t__other_index")  # not one of this index's: left alone
    assert {orphan.name, other.name} <= names(index)
    changed = [dataclasses.replace(r, text=r.text + "。") for r in rows]
    index.rebuild(to_documents(changed))
    assert orphan.name not in names(index) and other.name in names(index)
    assert index.count() == len(rows)
