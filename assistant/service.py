"""The one factory and the one object every front end uses (CLI, HTTP API, chat page): the loaded corpus, the
assistant, the retrieval stack and the optional LLM. Front ends translate argv or HTTP into these calls and
map its errors (assistant.errors) to their own shape; they never build these parts themselves.

`Service.from_settings(settings, retrieval="lazy")` (the CLI) builds the model and the index on the first
question that needs retrieval; `retrieval="eager"` (the server) builds them at start-up."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from assistant.answers import Assistant
from assistant.audit import AuditLog
from assistant.contract import Answer
from assistant.corpus import Corpus, CorpusHolder
from assistant.errors import NotFound, ReviewError
from assistant.settings import Settings
from assistant.views import department_facts, department_json

if TYPE_CHECKING:
    from assistant.search import SearchStack
    from assistant.summary import Summary
    from assistant.versions import PublishedCorpus, PublishReport, Upload
    from index.store import SyncReport

log = logging.getLogger("review_assistant.service")

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
    notes: list[str] = field(default_factory=list)  # what an operator should know: stale data folder, audit
    pid: int = 0  # the process that answered (`serve --workers N` runs N of them)
    index_state: str = ""  # the live collection and what it holds, the same in every process that follows it
    embedding_threads: int = 0  # the threads this process's model computes with (a share of the cores per worker)


class Service:
    """Build it with `Service.from_settings`; the constructor only wires parts already made."""

    def __init__(self, settings: Settings, holder: CorpusHolder | PublishedCorpus, chat: Any,
                 make_stack: Callable[..., SearchStack], retrieval: Retrieval = "lazy",
                 audit: AuditLog | None = None):
        self.settings = settings
        self.holder = holder
        self.audit = audit
        self.data_folder_problems: list[str] = []  # the data folder failed validation at start-up
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
                      embeddings: Any = None, chat: Any = None, audit: bool = True) -> Service:
        """Everything from the settings; a client, embeddings or chat model given here are used instead
        (tests, benchmarks). Serves the current published version (the first start publishes the data
        folder as v1, and raises IngestError when it is bad). Raises AuditUnwritable when the audit log
        cannot be written (`audit=False`: no audit log, the CLI's --no-audit)."""
        from assistant.tables import default_limits
        from assistant.versions import PublishedCorpus, VersionStore

        log_file = None
        if audit:
            log_file = AuditLog(settings.audit_path, settings.audit_max_bytes, settings.audit_backups)
            log_file.check()  # before anything heavy: an unwritable path stops the start, named
        if chat is None:
            from assistant.llm import chat_model

            chat = chat_model(settings)

        def make_stack(corpus: Corpus, prefetch: bool = False) -> SearchStack:
            from assistant.quiet import quiet_libraries
            from assistant.search import build_stack

            quiet_libraries(settings.verbose)
            return build_stack(settings, corpus, client=client, embeddings=embeddings, prefetch=prefetch)

        holder = PublishedCorpus(VersionStore(settings.published_path), settings.data_dir, default_limits(),
                                 settings.version_follow_seconds)
        service = cls(settings, holder, chat, make_stack, retrieval, log_file)
        if retrieval == "eager":
            service.check_data_folder()
            service.warm_up()
        return service

    def check_data_folder(self) -> None:
        """At start-up: if the data folder does not validate, keep serving the published version and say so
        (in /health and the log). Edits that do validate change nothing until they are published."""
        from assistant.ingest import validate
        from assistant.sources import load_manifest
        from assistant.tables import default_limits

        try:
            reports = validate(load_manifest(self.settings.data_dir), default_limits())
            problems = [str(p) for r in reports for p in r.rejected]
        except ReviewError as exc:
            problems = exc.message.splitlines()
        self.data_folder_problems = problems
        if problems:
            log.warning("the data folder %s does not validate (%d problems, the first: %s); serving the last good "
                        "published version %s", self.settings.data_dir, len(problems), problems[0],
                        self.corpus.version)

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

    def reload(self, rebuild: bool = False) -> Corpus:
        """Switch to the current published version (CorpusHolder: ingest the folder again) and bring the index
        up to date with it (`rebuild`: write it aside and swap, as a publish does, so that readers in other
        processes keep a whole collection); a failure leaves the corpus and index that were serving."""
        from assistant.search import index_corpus

        with self._lock:
            before = self.holder.current
            fresh = self.holder.reload()
            if fresh is before:
                return fresh
            with self._stack_lock:
                if self._stack is not None:
                    index_corpus(self._stack, fresh, rebuild)
                    self._synced = True
            self.assistant = Assistant(fresh, self._search_tools, self.chat)
            return fresh

    # ---- what the front ends ask -------------------------------------------------------------------

    def follow(self) -> None:
        """Take a version another process published (looked at most every version_follow_seconds)."""
        follow = getattr(self.holder, "follow_seconds", None)
        if follow is None:
            return
        holder: PublishedCorpus = self.holder  # type: ignore[assignment]
        if holder.changed():
            self.reload()

    def ask(self, question: str, filters: dict[str, Any] | None = None, history: list[str] | None = None,
            front_end: str = "python", extra: dict[str, Any] | None = None) -> Answer:
        """The answer, recorded in the audit log (AuditWriteFailed when it cannot be: no unrecorded answer)."""
        self.follow()
        answer = self.assistant.ask(question, history=history, filters=filters)
        if self.audit is not None:
            self.audit.record(answer, front_end, history, {"filters": filters, **(extra or {})} if filters
                              else extra)
        return answer

    # ---- published versions ------------------------------------------------------------------------

    def _published(self) -> PublishedCorpus:
        from assistant.versions import PublishedCorpus

        if not isinstance(self.holder, PublishedCorpus):
            raise NotFound("this service reads a data folder directly: it has no published versions", field="version")
        return self.holder

    def publish(self, uploads: list[Upload], by: str, dry_run: bool = False, folder: bool = False) -> PublishReport:
        """Validate and (unless a dry run) publish: the current version's sources with `uploads` added or
        replacing same-named files (`folder`: the data folder as it stands, with the uploads). On success the
        new version is served at once, the index brought up to date; a failure changes nothing."""
        from assistant.tables import default_limits

        holder = self._published()
        report = holder.store.publish(uploads, by, default_limits(), dry_run,
                                      base_dir=self.settings.data_dir if folder else None)
        if report.version is not None:
            self.reload(rebuild=True)
        return report

    def rollback(self, version: str) -> dict[str, Any]:
        info = self._published().store.rollback(version)
        self.reload(rebuild=True)
        return info

    def versions(self) -> list[dict[str, Any]]:
        return self._published().store.versions()

    def sources(self) -> dict[str, Any]:
        """The sources being served, and every published version."""
        corpus = self.corpus
        counts: dict[str, int] = {}
        for r in corpus.records:
            counts[r.source] = counts.get(r.source, 0) + 1
        sources = [{"file": s.name, "year": s.year, "kind": s.kind, "title": s.title, "records": counts.get(s.name, 0)}
                   for s in corpus.sources]
        versions = self.versions() if not isinstance(self.holder, CorpusHolder) else []
        return {"data_version": corpus.version, "sources": sources, "versions": versions}

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

    def source_line(self, source: str, line: int, version: str | None = None) -> dict[str, Any]:
        """A cited row as it stands in the published copy of the version its answer used (default: the one
        being served), decoded as at ingest, with the record it became."""
        from assistant.tables import decode

        corpus = self.corpus if version is None else self._published().version(version)
        found = corpus.source(source)
        if found is None:
            raise NotFound(f"source {source!r} is not in the data", [s.name for s in corpus.sources], "source")
        record = corpus.record_at(source, line)
        text = None
        if found.path.suffix.lower() in {".txt", ".tsv", ".csv", ".tab"}:
            try:
                lines = decode(found.path.read_bytes(), source, found.encoding).split("\n")
            except (OSError, ReviewError):
                lines = []
            if 1 <= line <= len(lines):
                text = lines[line - 1].rstrip("\r")
        if text is None and record is None:
            raise NotFound(f"line {line} of {source} is not a row of the data", field="line")
        return {"source": source, "line": line, "raw": text, "title": found.title, "year": found.year,
                "kind": found.kind, "record": None if record is None else record.to_json(),
                "data_version": corpus.version}

    def notes(self) -> list[str]:
        notes = []
        if self.data_folder_problems:
            notes.append(f"the data folder {self.settings.data_dir} does not validate "
                         f"({len(self.data_folder_problems)} problems, the first: {self.data_folder_problems[0]}); "
                         f"serving the last good published version {self.corpus.version}")
        if self.audit is not None and self.audit.failure:
            notes.append(self.audit.failure)
        return notes

    def health(self) -> Health:
        self.follow()
        stack = self._stack
        notes = self.notes()
        from index.embeddings import compute_threads

        threads = compute_threads(self.settings.embedding_threads)
        if stack is None:  # lazy and not needed yet: nothing is wrong
            status = "ok" if self.retrieval == "lazy" and not notes else "degraded"
            return Health(status, False, len(self.corpus.records), 0, self.corpus.version, "not loaded",
                          self.chat is not None, notes, os.getpid(), embedding_threads=threads)
        try:
            stack.index.follow()  # another process may have synced or rebuilt it
            indexed = stack.index.count()
            loaded = indexed > 0
        except Exception:  # the store is down: say so, do not fail the probe
            indexed, loaded = 0, False
        return Health("ok" if loaded and not notes else "degraded", loaded, len(self.corpus.records), indexed,
                      self.corpus.version, f"{stack.index.collection.name}@{stack.index.generation}",
                      self.chat is not None, notes, os.getpid(), stack.index.state or "", threads)
