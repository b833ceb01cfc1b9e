"""The one factory and the one object every front end uses (CLI, HTTP API, chat page): the loaded corpus, the
assistant, the retrieval stack and the optional LLM. Front ends translate argv or HTTP into these calls and
map its errors (assistant.errors) to their own shape; they never build these parts themselves.

`Service.from_settings(settings, retrieval="lazy")` (the CLI) builds the model and the index on the first
question that needs retrieval; `retrieval="eager"` (the server) builds them at start-up."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from assistant.answers import Assistant
from assistant.contract import Answer
from assistant.corpus import Corpus, CorpusHolder
from assistant.errors import NotFound
from assistant.settings import Settings
from assistant.views import department_facts, department_json

if TYPE_CHECKING:
    from assistant.search import SearchStack
    from assistant.summary import Summary
    from index.store import SyncReport

Retrieval = Literal["lazy", "eager"]

__all__ = ["Health", "NotFound", "Retrieval", "Service"]


@dataclass
class Health:
    status: str
    index_loaded: bool
    rows: int
    indexed_rows: int
    data_version: str
    index_version: str
    llm: bool
    pid: int = 0  # the process that answered (`serve --workers N` runs N of them)
    index_state: str = ""  # the live collection and what it holds, the same in every process that follows it


class Service:
    """Build it with `Service.from_settings`; the constructor only wires parts already made."""

    def __init__(self, settings: Settings, holder: CorpusHolder, chat: Any,
                 make_stack: Callable[..., SearchStack], retrieval: Retrieval = "lazy"):
        self.settings = settings
        self.holder = holder
        self.chat = chat
        self.retrieval = retrieval
        self._make_stack = make_stack
        self._stack: SearchStack | None = None
        self._synced = False
        self._stack_lock = threading.RLock()
        self._lock = threading.Lock()
        self.assistant = Assistant(holder.current, self._search_tools, chat)

    def titled(self, body: dict[str, Any]) -> dict[str, Any]:
        """Each citation with its document's title (data/sources.toml): what both front ends print."""
        titles = {src.name: src.title for src in self.corpus.sources}
        body["citations"] = [{**c, "title": titles.get(c["source"]) or c["source"]} for c in body.get("citations", [])]
        return body

    @classmethod
    def from_settings(cls, settings: Settings, retrieval: Retrieval = "lazy", client: Any = None,
                      embeddings: Any = None, chat: Any = None) -> Service:
        """Everything from the settings; a client, embeddings or chat model given here are used instead
        (tests, benchmarks). Raises IngestError when a source is bad."""
        if chat is None:
            from assistant.llm import chat_model

            chat = chat_model(settings)

        def make_stack(corpus: Corpus, prefetch: bool = False) -> SearchStack:
            from assistant.quiet import quiet_libraries
            from assistant.search import build_stack

            quiet_libraries(settings.verbose)
            return build_stack(settings, corpus, client=client, embeddings=embeddings, prefetch=prefetch)

        service = cls(settings, CorpusHolder(settings.data_dir), chat, make_stack, retrieval)
        if retrieval == "eager":
            service.warm_up()
        return service

    @property
    def corpus(self) -> Corpus:
        return self.holder.current

    # ---- retrieval: built on first use (lazy) or at start-up (eager) -------------------------------

    def _stack_for(self, sync: bool = True, prefetch: bool = False) -> SearchStack:
        with self._stack_lock:
            if self._stack is None:
                self._stack = self._make_stack(self.corpus, prefetch=prefetch)
            if sync and not self._synced:
                from assistant.search import index_corpus

                index_corpus(self._stack, self.corpus)
                self._synced = True
            return self._stack

    @property
    def stack(self) -> SearchStack:
        """The retrieval stack, its index up to date with the corpus."""
        return self._stack_for()

    def _search_tools(self) -> tuple[Callable[..., list[Any]], Callable[[str], list[str]]]:
        stack = self._stack_for(prefetch=True)  # a question needs search: its model loads meanwhile
        return stack.search, stack.index.tokenizer

    def warm_up(self) -> None:
        """Load the model, the index and BM25 now rather than on the first request."""
        stack = self.stack
        warm = getattr(stack.index.embeddings, "warm", None)
        if warm is not None:  # e.g. the full tokenizer, which a cold CLI question does without
            warm()
        stack.hybrid.search("预热 warm up", 1)
        stack.dense.search("warm up", 1)

    def index(self, rebuild: bool = False, progress: Callable[[int, int], None] | None = None) -> SyncReport:
        """Bring the index up to date with the corpus (or write it anew aside and swap it in)."""
        from assistant.search import index_corpus

        with self._stack_lock:
            stack = self._stack_for(sync=False)
            report = index_corpus(stack, self.corpus, rebuild, progress)
            self._synced = True
            return report

    def reload(self) -> Corpus:
        """Ingest again; a failure leaves the corpus and index that were serving."""
        from assistant.search import index_corpus

        with self._lock:
            fresh = self.holder.reload()
            with self._stack_lock:
                if self._stack is not None:
                    index_corpus(self._stack, fresh)
                    self._synced = True
            self.assistant = Assistant(fresh, self._search_tools, self.chat)
            return fresh

    # ---- what the front ends ask -------------------------------------------------------------------

    def ask(self, question: str, filters: dict[str, Any] | None = None, history: list[str] | None = None) -> Answer:
        return self.assistant.ask(question, history=history, filters=filters)

    def departments(self) -> list[dict[str, Any]]:
        return [department_json(d) for d in self.corpus.departments]

    def resolve(self, name: str, field: str = "name") -> str:
        """The canonical name of a department (aliases work), or NotFound with the nearest names."""
        directory = self.corpus.directory
        found = directory.resolve(name)
        if found is None or not self.corpus.records_of(found):
            raise NotFound(f"department {name!r} is not in the data",
                           directory.suggest(name) or list(directory.names[:5]), field)
        return found

    def facts(self, name: str) -> dict[str, Any]:
        """A department's rows in every year, each item with its status and numbers."""
        return department_facts(self.corpus, self.resolve(name, "department"))

    def summary(self, name: str) -> Summary:
        from assistant.summary import summarize

        return summarize(self.corpus, self.resolve(name))

    def department(self, name: str) -> dict[str, Any]:
        """The cited summary (JSON, with its HTML) and the scores of the department's category for a chart."""
        summary = self.summary(name)
        department = summary.department
        result = summary.to_json()
        result["html"] = summary.html()
        rows = [d for d in self.corpus.departments if d.department == department and d.score is not None]
        if rows:
            mine = rows[0]
            chart = [department_json(d) for d in self.corpus.departments
                     if d.year == mine.year and d.category == mine.category and d.score is not None]
            result["chart"] = {"year": mine.year, "category": mine.category, "departments": chart}
        else:
            result["chart"] = None
        return result

    def search(self, query: str, k: int = 5, year: int | None = None, department: str | None = None,
               kind: str | None = None, retriever: str | None = None) -> list[dict[str, Any]]:
        """Source rows; the stack chooses the retriever unless one is named (hybrid, dense, bm25)."""
        from assistant.search import filters_for, row_json

        name = self.resolve(department, "department") if department else None
        filters = filters_for(year, name, kind)
        stack = self.stack
        if retriever is None:
            hits = stack.search(query, k, filters)
        else:
            try:
                chosen = stack.retriever(retriever)
            except KeyError:
                raise NotFound(f"no retriever {retriever!r}", ["hybrid", "dense", "bm25"], "retriever") from None
            hits = chosen.search(query, k, filters)
        return [row_json(h, self.corpus) for h in hits]

    def source_line(self, source: str, line: int) -> dict[str, Any]:
        """A cited row as it stands in the file, with the record it became."""
        found = self.corpus.source(source)
        if found is None:
            raise NotFound(f"source {source!r} is not in the data", [s.name for s in self.corpus.sources], "source")
        record = self.corpus.record_at(source, line)
        text = None
        if found.path.suffix.lower() in {".txt", ".tsv", ".csv", ".tab"}:
            lines = found.path.read_bytes().decode("utf-8-sig", errors="replace").split("\n")
            if 1 <= line <= len(lines):
                text = lines[line - 1].rstrip("\r")
        if text is None and record is None:
            raise NotFound(f"line {line} of {source} is not a row of the data", field="line")
        return {"source": source, "line": line, "raw": text, "title": found.title, "year": found.year,
                "kind": found.kind, "record": None if record is None else record.to_json()}

    def health(self) -> Health:
        stack = self._stack
        if stack is None:  # lazy and not needed yet: nothing is wrong
            return Health("ok" if self.retrieval == "lazy" else "degraded", False, len(self.corpus.records), 0,
                          self.corpus.version, "not loaded", self.chat is not None, os.getpid())
        try:
            stack.index.follow()  # another process may have synced or rebuilt it
            indexed = stack.index.count()
            loaded = indexed > 0
        except Exception:  # the store is down: say so, do not fail the probe
            indexed, loaded = 0, False
        return Health("ok" if loaded else "degraded", loaded, len(self.corpus.records), indexed,
                      self.corpus.version, f"{stack.index.collection.name}@{stack.index.generation}",
                      self.chat is not None, os.getpid(), stack.index.state or "")
