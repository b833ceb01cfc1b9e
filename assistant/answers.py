"""The assistant: question -> queries (parse.py) -> one handler per operation (execute.py) -> an `Answer`.

Questions about numbers and sets are answered from all rows; content questions from retrieved rows; what
the data does not hold is refused, saying why and what was searched. The optional LLM may parse what the
rules cannot (llm_parse.py) and may reword an answer; it never computes a number."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.content import ContentFinder, Search, TextIndex, Tokenize
from assistant.contract import Answer, CitationBook, Fact
from assistant.corpus import Corpus, keep_out_of_full_collections
from assistant.execute import Executor, Result
from assistant.lexicon import Lexicon, load_lexicon
from assistant.parse import MAX_QUESTION, Parser
from assistant.query import Query, refuse
from assistant.slots import Slots

log = logging.getLogger(__name__)

# make_search() -> (search, tokenize) or (search, tokenize, dense): built on the first content question.
SearchTools = tuple[Search, Tokenize] | tuple[Search, Tokenize, Search]


def default_lexicon(corpus: Corpus) -> Lexicon:
    return load_lexicon(Path(corpus.data_dir))


class Assistant:
    """Answers questions over one corpus. Retrieval and the LLM are optional and built on first use."""

    def __init__(self, corpus: Corpus, make_search: Callable[[], SearchTools] | None = None, chat: Any = None,
                 lexicon: Lexicon | None = None):
        self.corpus = corpus
        self._make_search = make_search
        self._tools: SearchTools | None = None
        self._text_index: TextIndex | None = None  # every row's normalised text, for set scans; built once
        self.chat = chat
        self.lexicon = lexicon or getattr(corpus, "lexicon", None) or default_lexicon(corpus)
        self.parser = Parser(self.lexicon, corpus.directory, sorted({r.year for r in corpus.records}),
                             sorted({r.category for r in corpus.records if r.category}))

    def tools(self) -> SearchTools | None:
        if self._tools is None and self._make_search is not None:
            self._tools = self._make_search()
        return self._tools

    def finder(self, needs_search: bool) -> ContentFinder:
        tools = self.tools() if needs_search else None
        if tools is None:
            return ContentFinder(self.corpus, self.lexicon, text_index=self.text_index)
        dense = tools[2] if len(tools) > 2 else None
        return ContentFinder(self.corpus, self.lexicon, tools[1], tools[0], dense, self.text_index)

    def text_index(self) -> TextIndex:
        if self._text_index is None:
            self._text_index = TextIndex(self.corpus.records)
            keep_out_of_full_collections()
        return self._text_index

    def parse(self, text: str, history: list[str] | None = None, filters: dict[str, Any] | None = None
              ) -> tuple[list[Query], list[Slots]]:
        queries, slots = self.parser.parse(text, history, filters)
        if self.chat is not None and _unsure(queries):
            from assistant.llm_parse import parse_with_llm

            found = parse_with_llm(self.chat, text, self.lexicon, self.corpus)
            if found is not None:
                queries = found
        return queries, slots

    def ask(self, text: str, history: list[str] | None = None, filters: dict[str, Any] | None = None) -> Answer:
        text = text[:MAX_QUESTION]
        queries, _ = self.parse(text, history, filters)
        warnings: list[str] = []
        if filters:
            queries, warnings = apply_filters(queries, filters, self.corpus)
        needs_search = any(_needs_search(q) for q in queries)
        book, facts = CitationBook(), list[Fact]()
        executor = Executor(self.corpus, self.lexicon, book, facts, self.finder(needs_search))
        notes: dict[int, str] = {}
        for i, q in enumerate(queries):  # no year named, the measure in several years: the newest, said so
            queries[i], notes[i] = executor.newest_year(q)
        results: list[Result] = []
        for i, q in enumerate(queries):
            try:
                result = executor.run(q)
                if notes[i]:
                    result.text = notes[i] + "\n" + result.text
                results.append(result)
            except LookupError as exc:  # a query over data that is not there: an honest refusal, not a 500
                results.append(executor.run(refuse("not_answerable", q.text, q.lang, detail=str(exc))))
            except Exception as exc:  # a handler's bug: logged with its query, answered as a refusal, never a 500
                log.exception("handler %s failed on %s", q.operation, q.to_json())
                results.append(executor.run(refuse("not_answerable", q.text, q.lang, detail=type(exc).__name__)))
        answer = assemble(text.strip(), queries, results, book, facts, len(self.corpus.records))
        answer.warnings += warnings
        if self.chat is not None and answer.mode != "refusal":
            from assistant.llm import rewrite

            answer = rewrite(self.corpus, answer, self.chat, queries[0].lang if queries else "zh")
        answer.data_version = self.corpus.version
        return answer


def _needs_search(q: Query) -> bool:
    from assistant.query import TextAbout

    return q.operation == "content" or (q.measure is not None and q.measure.name == "quantity"
                                        and q.operation in ("value", "sum")) or \
        any(isinstance(p, TextAbout) for p in q.predicates)


def _unsure(queries: list[Query]) -> bool:
    return not queries or all(q.operation == "content" or q.confidence < 0.5 for q in queries)


def apply_filters(queries: list[Query], filters: dict[str, Any], corpus: Corpus) -> tuple[list[Query], list[str]]:
    """Filters from a front end narrow the queries' scope. One that names nothing known, or contradicts the
    question, is not applied and becomes a warning."""
    warnings: list[str] = []
    out = []
    years = {r.year for r in corpus.records}
    known = {r.category for r in corpus.records if r.category}
    for q in queries:
        scope = q.scope
        for key, value in filters.items():
            if value in (None, ""):
                continue
            if key == "year":
                year = int(value)
                if year not in years:
                    warnings.append(f"filter year={value} names no year in the data; not applied")
                elif scope.years and year not in scope.years:
                    warnings.append(f"filter year={value} contradicts the question ({scope.years}); not applied")
                else:
                    scope = dataclasses.replace(scope, years=(year,))
            elif key == "department":
                name = corpus.directory.resolve(str(value))
                if name is None:
                    warnings.append(f"filter department={value} names no department in the data; not applied")
                elif scope.departments and name not in scope.departments:
                    warnings.append(f"filter department={value} contradicts the question; not applied")
                else:
                    scope = dataclasses.replace(scope, departments=(name,))
            elif key == "category":
                if value not in known:
                    warnings.append(f"filter category={value} names no category in the data; not applied")
                else:
                    scope = dataclasses.replace(scope, categories=(str(value),))
            elif key == "kind":
                if value not in ("outcomes", "targets"):
                    warnings.append(f"filter kind={value} is not outcomes or targets; not applied")
                else:
                    scope = dataclasses.replace(scope, kinds=(str(value),))
        out.append(q if scope == q.scope else dataclasses.replace(q, scope=scope))
    return out, list(dict.fromkeys(warnings))


def assemble(question: str, queries: list[Query], results: list[Result], book: CitationBook, facts: list[Fact],
             rows: int) -> Answer:
    modes = {r.mode for r in results}
    mode = "refusal" if modes == {"refusal"} else "retrieval" if "retrieval" in modes else "facts"
    tables = [r.table for r in results if r.table is not None]
    searched: dict[str, Any] = {"rows": rows, "queries": [q.to_json() for q in queries],
                                "filters": _filters_of(queries)}
    retrieval = [r.searched for r in results if r.searched]
    if retrieval:
        searched["retrieval"] = retrieval
    searched["method"] = "hybrid retrieval (dense + BM25), top 8 per part" if "retrieval" in modes else \
        "facts over all rows"
    return Answer(question, "\n".join(r.text for r in results if r.text), mode, book.citations,  # type: ignore[arg-type]
                  list(dict.fromkeys(facts)), searched, "+".join(q.operation for q in queries),
                  table=tables[0] if tables else None)


def _filters_of(queries: list[Query]) -> dict[str, Any]:
    if not queries:
        return {}
    scope = queries[0].scope
    out: dict[str, Any] = {}
    if scope.years:
        out["year"] = scope.years[0] if len(scope.years) == 1 else list(scope.years)
    if scope.departments:
        out["department"] = scope.departments[0] if len(scope.departments) == 1 else list(scope.departments)
    if scope.categories:
        out["category"] = scope.categories[0] if len(scope.categories) == 1 else list(scope.categories)
    if scope.kinds:
        out["kind"] = scope.kinds[0]
    return out
