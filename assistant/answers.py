"""The assistant: question -> intent -> evidence -> an `Answer` in the contract's shape.

Questions about numbers and sets are answered from the facts over all rows; content questions from
retrieved rows; what the data does not hold is refused, saying what was searched."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from assistant.contract import Answer, Fact
from assistant.corpus import Corpus
from assistant.fact_answers import MEASURE_FIELD, FactAnswerer
from assistant.question import Question, decide_intent, is_english, parse
from assistant.render import render
from assistant.row_answers import RowAnswerer, Search
from assistant.summary import summary_answer

MAX_QUESTION = 1000
REFERENCE = re.compile(r"它|其|该部门|该单位|这个部门|那个部门|这家|那家|他们|同一|"
                       r"\b(?:it|its|they|their|that department)\b", re.I)


def refers_back(q: Question) -> bool:
    """A follow-up about the department just discussed: "那它2023年的难度系数呢?" or a bare "难度系数呢?"."""
    if REFERENCE.search(q.text):
        return True
    return q.measure is not None and not (q.category or q.superlative or q.top_n or q.comparison or q.aggregate
                                          or q.rank_n)


class Assistant:
    """Answers questions over one corpus. Retrieval and the LLM are optional and built on first use."""

    def __init__(self, corpus: Corpus, make_search: Callable[[], tuple[Search, Callable[[str], list[str]]]]
                 | None = None, chat: Any = None):
        self.corpus = corpus
        self._make_search = make_search
        self._search: tuple[Search, Callable[[str], list[str]]] | None = None
        self.chat = chat
        self.categories = sorted({r.category for r in corpus.records if r.category})
        self.years = sorted({r.year for r in corpus.records})

    def search_tools(self) -> tuple[Search, Callable[[str], list[str]]]:
        if self._search is None:
            if self._make_search is None:
                raise RuntimeError("this assistant has no retrieval configured")
            self._search = self._make_search()
        return self._search

    def parse(self, text: str, history: list[str] | None = None, filters: dict[str, Any] | None = None) -> Question:
        q = parse(text[:MAX_QUESTION], self.corpus.directory, self.categories)
        if not q.departments and not q.unknown_departments and history and refers_back(q):
            for earlier in reversed(history):  # "那它2023年的难度系数呢?" after a question about 市水利局
                found = self.corpus.directory.find(earlier)
                if found:
                    q = parse(f"{found[0].department} {text[:MAX_QUESTION]}", self.corpus.directory, self.categories)
                    q.text = text[:MAX_QUESTION].strip()
                    break
        for key, value in (filters or {}).items():
            if key == "year" and value:
                q.years = [int(value)]
            elif key == "department" and value:
                name = self.corpus.directory.resolve(str(value))
                q.departments = [name] if name else q.departments
            elif key == "category" and value:
                q.category = str(value)
        if filters:
            q.intent = decide_intent(q)
        return q

    def ask(self, text: str, history: list[str] | None = None, filters: dict[str, Any] | None = None) -> Answer:
        q = self.parse(text, history, filters)
        parts = self._parts(q, history, filters)
        answer = merge(q, [self._route(p) for p in parts]) if parts else self._route(q)
        if self.chat is not None and answer.mode != "refusal":
            from assistant.llm import rewrite

            answer = rewrite(self.corpus, answer, self.chat, q.lang)
        answer.data_version = self.corpus.version
        return answer

    def _parts(self, q: Question, history: list[str] | None, filters: dict[str, Any] | None) -> list[Question]:
        """Questions of two kinds in one (…得分多少,…难度系数多少?) are answered part by part."""
        pieces = [p for p in re.split(r"[,，;；?？]", q.text) if p.strip()]
        if len(pieces) < 2 or q.intent in ("summary", "unanswerable"):
            return []
        context = [*(history or []), q.text]
        parts = [self.parse(p, context, filters) for p in pieces]
        if sum(1 for p in parts if p.intent != "content") < 2:
            return []
        return parts

    def _route(self, q: Question) -> Answer:
        facts = FactAnswerer(self.corpus, q)
        if not q.text:
            return self._refuse(q, "问题是空的。", "the question is empty.")
        missing_years = [y for y in q.years if y not in self.years]
        if missing_years and not [y for y in q.years if y in self.years]:
            have = "、".join(f"{y}年" for y in self.years)
            return self._refuse(q, f"没有{missing_years[0]}年的数据(数据只包含{have})。",
                                f"there is no data for {missing_years[0]} (the data covers {self.years}).",
                                filters={"year": missing_years[0]})
        if q.intent == "unanswerable":
            name = q.unknown_departments[0]
            return self._refuse(q, f"数据中没有{name}(未收录该部门)。", f"{name} is not in the data.",
                                candidates=self.corpus.directory.suggest(name) or list(self.corpus.directory.names[:5]),
                                filters={"department": name})
        if q.intent == "summary":
            return summary_answer(self.corpus, q, q.departments[0])
        if q.intent == "status":
            return facts.status()
        if q.intent == "threshold":
            return facts.threshold()
        if q.intent == "rank_of":
            return facts.rank_of()
        if q.intent == "superlative":
            return facts.superlative()
        if q.intent == "aggregate":
            return facts.aggregate()
        if q.intent == "lookup":
            return self._lookup(q, facts)
        if q.intent == "compare" and len(q.departments) == 1:
            return facts.compare(q.departments[0])
        return self._rows(q).content()

    def _rows(self, q: Question) -> RowAnswerer:
        search, tokenize = self.search_tools()
        return RowAnswerer(self.corpus, q, search, tokenize)

    def _lookup(self, q: Question, facts: FactAnswerer) -> Answer:
        texts, missing = [], []
        for department in q.departments:
            text = facts.lookup(department)
            if text is None:
                missing.append(department)
            else:
                texts.append(text)
        if missing:
            facts.facts.append(Fact("检索的记录数", len(self.corpus.records), (), method="every row of every source"))
            measure = MEASURE_FIELD.get(q.measure or "score", "所问指标")
            for department in missing:
                have = sorted({(r.year, r.kind) for r in self.corpus.records if r.department == department})
                what = "、".join(f"{y}年{'兑现情况' if k == 'outcomes' else '年度目标'}" for y, k in have)
                when = f"{q.years[0]}年" if q.years else ""
                texts.append(render("refusal.j2", lang=q.lang, searched_rows=len(self.corpus.records),
                                    filters_text=f"department={department}",
                                    reason=f"数据中没有{department}{when}的{measure}:该部门只出现在{what}中。",
                                    reason_en=f"the data has no {measure} for {department}; it appears only in "
                                              f"{', '.join(f'{y} {k}' for y, k in have)}.",
                                    candidates=[], nearest=[]))
        filters: dict[str, Any] = {"department": q.departments[0] if len(q.departments) == 1 else q.departments,
                                   "measure": MEASURE_FIELD.get(q.measure or "score", q.measure)}
        if q.years:
            filters["year"] = q.years[0]
        return facts.answer("\n".join(texts), filters, "refusal" if len(missing) == len(q.departments) else "facts")

    def _refuse(self, q: Question, reason: str, reason_en: str, candidates: list[str] | None = None,
                filters: dict[str, Any] | None = None) -> Answer:
        text = render("refusal.j2", lang=q.lang, reason=reason, reason_en=reason_en,
                      searched_rows=len(self.corpus.records),
                      filters_text=", ".join(f"{k}={v}" for k, v in (filters or {}).items()),
                      candidates=candidates or [], nearest=[])
        searched = Fact("检索的记录数", len(self.corpus.records), (), method="every row of every source")
        return Answer(q.text, text, "refusal", [], [searched], {"rows": len(self.corpus.records),
                                                                "filters": filters or {},
                                                                "method": "facts over all rows"}, "unanswerable")


def make_search_for(settings: Any, corpus: Corpus, client: Any = None, embeddings: Any = None
                    ) -> Callable[[], tuple[Search, Callable[[str], list[str]]]]:
    """Build the retrieval stack on first use, and bring the index up to date with the corpus."""

    def build() -> tuple[Search, Callable[[str], list[str]]]:
        from assistant.search import build_stack, index_corpus

        stack = build_stack(settings, corpus, client=client, embeddings=embeddings)
        index_corpus(stack, corpus)

        def search(query: str, k: int, filters: dict[str, Any]) -> list[Any]:
            # English words never match Chinese rows in BM25 (only stray numbers do): dense alone, cross-lingual
            retriever = stack.dense if is_english(query) else stack.hybrid
            return retriever.search(query, k, filters)

        return search, stack.index.tokenizer

    return build


MARKER = re.compile(r"\[(\d+)\]")


def renumber(text: str, mapping: dict[int, int]) -> str:
    return MARKER.sub(lambda m: f"[{mapping.get(int(m.group(1)), int(m.group(1)))}]", text)


def merge(q: Question, answers: list[Answer]) -> Answer:
    """One answer from the answers to the parts of a question, with the citations numbered anew."""
    citations: list[Any] = []
    seen: dict[tuple[str, int, str, str], int] = {}
    texts, facts, filters = [], [], []
    for a in answers:
        mapping: dict[int, int] = {}
        for c in a.citations:
            key = (c.source, c.line, c.field, c.quote)
            if key not in seen:
                seen[key] = len(citations) + 1
                citations.append(dataclasses.replace(c, id=seen[key]))
            mapping[c.id] = seen[key]
        texts.append(renumber(a.answer, mapping))
        facts += [dataclasses.replace(f, citations=tuple(mapping[i] for i in f.citations)) for f in a.facts]
        filters.append(a.searched.get("filters", {}))
    modes = {a.mode for a in answers}
    mode = "refusal" if modes == {"refusal"} else "retrieval" if "retrieval" in modes else "facts"
    return Answer(q.text, "\n".join(texts), mode, citations, list(dict.fromkeys(facts)),  # type: ignore[arg-type]
                  {"rows": answers[0].searched.get("rows"), "filters": filters, "parts": len(answers)},
                  "+".join(a.intent for a in answers))
