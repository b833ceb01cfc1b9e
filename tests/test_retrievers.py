"""One contract for the dense, BM25 and hybrid retrievers, on an embedded store and on a Chroma server."""

from __future__ import annotations

import pytest

from assistant.search import build_stack, index_corpus
from assistant.settings import Settings
from index.clients import chroma_client
from tests.conftest import OUTCOMES, TARGETS

pytestmark = pytest.mark.slow

BACKENDS = ["embedded", pytest.param("server", marks=pytest.mark.server)]
RETRIEVERS = ["dense", "bm25", "hybrid"]


@pytest.fixture(scope="module", params=BACKENDS)
def stack(request, corpus, embeddings, tmp_path_factory):
    if request.param == "server":
        host, port = request.getfixturevalue("chroma_server")
        client = chroma_client(host=host, port=port)
    else:
        client = chroma_client(tmp_path_factory.mktemp("chroma-embedded"))
    s = build_stack(Settings(collection=f"contract_{request.param}"), corpus, client=client, embeddings=embeddings)
    index_corpus(s, corpus)
    return s


@pytest.fixture(params=RETRIEVERS)
def retriever(request, stack):
    return getattr(stack, request.param)


# Distinctive questions whose gold row every retriever must find in its top 5.
GOLD = [
    ("为农服务网点有多少家?", OUTCOMES, 50),
    ("湖州银行普惠小微贷款新增多少?", OUTCOMES, 55),
    ("残联计划开展儿童康复救助多少人?", TARGETS, 21),
    ("企业职工养老保险参保人数", OUTCOMES, 82),
]


@pytest.mark.parametrize(("query", "source", "line"), GOLD)
def test_finds_the_gold_row(retriever, query, source, line):
    hits = retriever.search(query, k=5)
    assert (source, line) in [(h.metadata["source"], h.metadata["line"]) for h in hits]


def test_returns_at_most_k_rows_with_provenance_best_first(retriever):
    hits = retriever.search("完成投资", k=3)
    assert 1 <= len(hits) <= 3
    for h in hits:
        assert {"source", "line", "department", "item", "year", "kind"} <= set(h.metadata)
        assert "_tokens" not in h.metadata
        assert h.text.startswith("年份:")
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len({h.id for h in hits}) == len(hits)


def test_filters_by_year_kind_and_department(retriever):
    hits = retriever.search("水利投资", k=10, filters={"year": 2023})
    assert hits and {h.metadata["year"] for h in hits} == {2023}
    hits = retriever.search("水利投资", k=10, filters={"department": "市水利局", "kind": "outcomes"})
    assert hits and {(h.metadata["department"], h.metadata["kind"]) for h in hits} == {("市水利局", "outcomes")}
    hits = retriever.search("贷款", k=10, filters={"category": "社会发展类"})
    assert {h.metadata["category"] for h in hits} <= {"社会发展类"}


def test_nothing_for_an_impossible_filter_or_empty_request(retriever):
    assert retriever.search("水利投资", k=5, filters={"department": "市不存在局"}) == []
    assert retriever.search("水利投资", k=0) == []
    assert retriever.search("", k=5) == []


def test_same_query_same_answer(retriever):
    first = [h.id for h in retriever.search("绿色金融", k=5)]
    assert first == [h.id for h in retriever.search("绿色金融", k=5)]


@pytest.mark.parametrize("filters", [{"year": 2023}, {"department": "市水利局", "kind": "outcomes"},
                                     {"category": "社会发展类", "year": 2022}])
def test_filtered_dense_search_agrees_with_chromas_own_filter(stack, filters):
    """The filtered dense path scores in memory; Chroma's `where` query is the reference."""
    clauses = [{key: value} for key, value in filters.items()]
    where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
    query = "水利投资和贷款"
    mine = stack.dense.search(query, k=8, filters=filters)
    vector = stack.index.embeddings.embed_query(query)
    theirs = stack.index.collection.query(query_embeddings=[vector], n_results=8, where=where,
                                          include=["distances"])
    assert [h.id for h in mine] == theirs["ids"][0]
    assert [h.score for h in mine] == pytest.approx([1 - d for d in theirs["distances"][0]], abs=1e-4)
