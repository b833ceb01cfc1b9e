"""One object that serves every front end (HTTP API, chat page): the loaded corpus, the assistant, the
retrieval stack and the optional LLM, built once. Front ends translate requests into these calls."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from assistant.answers import Assistant
from assistant.contract import Answer
from assistant.corpus import Corpus, CorpusHolder
from assistant.settings import Settings
from assistant.views import department_json


class NotFound(LookupError):
    def __init__(self, message: str, suggestions: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions or []


@dataclass
class Health:
    status: str
    index_loaded: bool
    rows: int
    indexed_rows: int
    data_version: str
    index_version: str
    llm: bool


class Service:
    def __init__(self, settings: Settings, client: Any = None, embeddings: Any = None, chat: Any = None,
                 build_index: bool = True):
        from assistant.search import build_stack, index_corpus

        self.settings = settings
        self.holder = CorpusHolder(settings.data_dir)
        self.stack = build_stack(settings, self.corpus, client=client, embeddings=embeddings)
        self._lock = threading.Lock()
        if build_index:
            index_corpus(self.stack, self.corpus)
            self.stack.hybrid.search("预热 warm up", 1)  # load the model and BM25 now, not on the first request
        if chat is None:
            from assistant.llm import chat_model

            chat = chat_model(settings)
        self.chat = chat
        self.assistant = self._assistant(self.corpus)

    @property
    def corpus(self) -> Corpus:
        return self.holder.current

    def _assistant(self, corpus: Corpus) -> Assistant:
        stack = self.stack
        from assistant.question import is_english

        def search(query: str, k: int, filters: dict[str, Any]) -> list[Any]:
            retriever = stack.dense if is_english(query) else stack.hybrid
            return retriever.search(query, k, filters)

        return Assistant(corpus, lambda: (search, stack.index.tokenizer), self.chat)

    def reload(self) -> Corpus:
        """Ingest again; a failure leaves the corpus and index that were serving."""
        from assistant.search import index_corpus

        with self._lock:
            fresh = self.holder.reload()
            index_corpus(self.stack, fresh)
            self.assistant = self._assistant(fresh)
            return fresh

    # ---- what the front ends ask -------------------------------------------------------------------

    def ask(self, question: str, filters: dict[str, Any] | None = None, history: list[str] | None = None) -> Answer:
        return self.assistant.ask(question, history=history, filters=filters)

    def departments(self) -> list[dict[str, Any]]:
        return [department_json(d) for d in self.corpus.departments]

    def resolve(self, name: str) -> str:
        found = self.corpus.directory.resolve(name)
        if found is None or not self.corpus.records_of(found):
            raise NotFound(f"department {name!r} is not in the data", self.corpus.directory.suggest(name))
        return found

    def department(self, name: str) -> dict[str, Any]:
        """The cited summary (JSON, with its HTML) and the scores of the department's category for a chart."""
        from assistant.summary import summarize

        department = self.resolve(name)
        summary = summarize(self.corpus, department)
        result = summary.to_json()
        result["html"] = summary.html()
        rows = [d for d in self.corpus.departments if d.department == department and d.score is not None]
        chart = []
        if rows:
            mine = rows[0]
            chart = [department_json(d) for d in self.corpus.departments
                     if d.year == mine.year and d.category == mine.category and d.score is not None]
            result["chart"] = {"year": mine.year, "category": mine.category, "departments": chart}
        else:
            result["chart"] = None
        return result

    def search(self, query: str, k: int = 5, year: int | None = None, department: str | None = None,
               kind: str | None = None) -> list[dict[str, Any]]:
        from assistant.search import filters_for, row_json

        name = self.resolve(department) if department else None
        hits = self.stack.hybrid.search(query, k, filters_for(year, name, kind))
        return [row_json(h, self.corpus) for h in hits]

    def source_line(self, source: str, line: int) -> dict[str, Any]:
        """A cited row as it stands in the file, with the record it became."""
        found = self.corpus.source(source)
        if found is None:
            raise NotFound(f"source {source!r} is not in the data",
                           [s.name for s in self.corpus.sources])
        record = self.corpus.record_at(source, line)
        text = None
        if found.path.suffix.lower() in {".txt", ".tsv", ".csv", ".tab"}:
            lines = found.path.read_bytes().decode("utf-8-sig", errors="replace").split("\n")
            if 1 <= line <= len(lines):
                text = lines[line - 1].rstrip("\r")
        if text is None and record is None:
            raise NotFound(f"line {line} of {source} is not a row of the data")
        return {"source": source, "line": line, "raw": text, "title": found.title, "year": found.year,
                "kind": found.kind, "record": None if record is None else record.to_json()}

    def health(self) -> Health:
        try:
            indexed = self.stack.index.count()
            loaded = indexed > 0
        except Exception:  # the store is down: say so, do not fail the probe
            indexed, loaded = 0, False
        return Health("ok" if loaded else "degraded", loaded, len(self.corpus.records), indexed,
                      self.corpus.version, f"{self.stack.index.collection.name}@{self.stack.index.generation}",
                      self.chat is not None)
