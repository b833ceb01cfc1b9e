"""The retrieval stack for the assistant: builds the generic index from settings and the corpus,
and turns hits back into cited source rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.corpus import Corpus
from assistant.settings import Settings

if TYPE_CHECKING:  # imported where used: a cold question starts loading the model before them (build_stack)
    from index.embeddings import Embedder
    from index.retrieve import Bm25Retriever, DenseRetriever, Filters, Hit, HybridRetriever, Retriever
    from index.store import Index, SyncReport


@dataclass
class SearchStack:
    index: Index
    dense: DenseRetriever
    bm25: Bm25Retriever
    hybrid: HybridRetriever

    def search(self, query: str, k: int = 5, filters: Filters | None = None) -> list[Hit]:
        """The one place that chooses the retriever: English words never match Chinese rows in BM25 (only
        stray numbers do), so an English query goes to the dense retriever alone (it is cross-lingual);
        anything else to the hybrid."""
        from assistant.slots import is_english

        prefetch = getattr(self.index.embeddings, "prefetch", None)
        if prefetch is not None:  # a cold process: the model loads while BM25 and the snapshot do
            prefetch()
        retriever = self.dense if is_english(query) else self.hybrid
        expecting = getattr(self.index.embeddings, "expecting", None)
        if expecting is None:
            return retriever.search(query, k, filters)
        with expecting():  # the batcher waits for this query while BM25 ranks
            return retriever.search(query, k, filters)

    def retriever(self, name: str) -> Retriever:
        """A retriever by name (hybrid, dense, bm25), for the CLI's --retriever; KeyError when unknown."""
        retrievers: dict[str, Retriever] = {"hybrid": self.hybrid, "dense": self.dense, "bm25": self.bm25}
        return retrievers[name]


def build_stack(settings: Settings, corpus: Corpus, client: Any = None,
                embeddings: Embedder | None = None, cache_dir: Path | None = None,
                prefetch: bool = False) -> SearchStack:
    """Clients and models are injected when given (tests), else built from the settings. Snapshots are
    saved in `cache_dir`; for a client built from the settings, in the settings' index cache.
    `prefetch`: start loading the model now, in the background (a question is waiting for it)."""
    state_file = None
    if client is None:
        from index.clients import ClientOnUse, chroma_client

        # opened on first need: an unchanged index answers from its saved snapshot without the store
        client = ClientOnUse(lambda: chroma_client(settings.index_path, settings.chroma_host, settings.chroma_port))
        cache_dir = cache_dir or settings.index_cache_path
        if not settings.chroma_host:  # an embedded store: every writer is an Index beside this file
            state_file = settings.index_path / f"{settings.collection}.state.json"
    if embeddings is None:
        from index.batching import BatchingEmbeddings
        from index.embeddings import LazyEmbeddings

        embeddings = BatchingEmbeddings(
            LazyEmbeddings(settings.embedding_model, settings.models_path, settings.embedding_batch_size,
                           settings.embedding_dtype, settings.embedding_backend, settings.embedding_threads),
            settings.query_batch_window_ms, settings.query_batch_max, settings.query_cache_size)
    if prefetch and hasattr(embeddings, "prefetch"):
        embeddings.prefetch()
    from index.retrieve import Bm25Retriever, DenseRetriever, HybridRetriever
    from index.store import Index
    from index.tokenize import JiebaTokenizer

    tokenizer = JiebaTokenizer(corpus.directory.words())
    index = Index(client, embeddings, settings.collection, tokenizer, cache_dir, settings.index_follow_seconds,
                  state_file)
    dense, bm25 = DenseRetriever(index), Bm25Retriever(index)
    hybrid = HybridRetriever(dense, bm25, settings.fusion, settings.rrf_k,
                             (settings.dense_weight, settings.bm25_weight), settings.candidates)
    return SearchStack(index, dense, bm25, hybrid)


def index_corpus(stack: SearchStack, corpus: Corpus, rebuild: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> SyncReport:
    from assistant.chunks import to_documents

    docs = to_documents(corpus.records)
    return stack.index.rebuild(docs, progress) if rebuild else stack.index.sync(docs, progress)


def row_json(hit: Hit, corpus: Corpus) -> dict[str, Any]:
    """A hit as the source row it stands for: {source, line, department, item, year, kind, text, score}."""
    m = hit.metadata
    record = corpus.record_at(str(m.get("source")), int(m.get("line") or 0))
    return {
        "source": m.get("source"),
        "line": m.get("line"),
        "department": m.get("department"),
        "item": m.get("item"),
        "year": m.get("year"),
        "kind": m.get("kind"),
        "category": m.get("category") or None,
        "title": m.get("title"),
        "text": record.text if record else hit.text,
        "score": round(hit.score, 6),
        "final_score": m.get("score"),
        "coefficient": m.get("coefficient"),
    }


def filters_for(year: int | None = None, department: str | None = None, kind: str | None = None,
                category: str | None = None) -> Filters:
    given = {"year": year, "department": department, "kind": kind, "category": category}
    return {k: v for k, v in given.items() if v is not None}
