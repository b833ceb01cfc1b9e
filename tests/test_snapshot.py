"""The in-memory snapshot's filter columns, on a real (ephemeral) Chroma collection."""

from __future__ import annotations

import numpy as np
import pytest

from index.clients import chroma_client
from index.snapshot import take_snapshot


@pytest.fixture
def collection():
    client = chroma_client()
    col = client.create_collection("snapshot_test", embedding_function=None)
    yield col
    client.delete_collection("snapshot_test")


def test_filters_match_like_chroma_where(collection):
    collection.add(
        ids=["a", "b", "c", "d"],
        embeddings=[[3.0, 4.0], [1.0, 0.0], [0.0, 2.0], [0.0, 0.0]],
        documents=["甲 乙", "乙", "丙", "丁 丁"],
        metadatas=[{"year": 2022, "flag": True, "_tok": "甲 乙"}, {"year": 1, "flag": False, "_tok": "乙"},
                   {"year": 2023, "_tok": "丙"}, {"year": 2022, "dept": "市水利局"}],
    )
    snap = take_snapshot(collection, "_tok", lambda text: text.split(), page=3)  # pages of 3: two reads
    assert len(snap) == 4 and sorted(snap.ids) == ["a", "b", "c", "d"]

    def chosen(filters):
        keep = snap.mask(filters)
        return None if keep is None else sorted(np.array(snap.ids)[keep])

    for filters in ({"year": 2022}, {"year": 2022, "dept": "市水利局"}, {"flag": True}, {"year": 1},
                    {"dept": "市不存在局"}, {"nokey": 1}):
        where = {"$and": [{k: v} for k, v in filters.items()]} if len(filters) > 1 else filters
        assert chosen(filters) == sorted(collection.get(where=where)["ids"]), filters
    assert chosen({}) is None and chosen({"year": None}) is None
    # vectors are unit length (a zero vector stays zero); tokens of every row are there, "丁" from the text
    row = {i: n for n, i in enumerate(snap.ids)}
    assert np.allclose(snap.vectors[row["a"]], [0.6, 0.8]) and not snap.vectors[row["d"]].any()
    words = {i: sorted(t for t, code in snap.vocab.items() if code in snap.doc_tokens[n]) for i, n in row.items()}
    assert words == {"a": ["乙", "甲"], "b": ["乙"], "c": ["丙"], "d": ["丁"]}
