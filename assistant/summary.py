"""A reviewer's summary of one department: every item with its status and evidence, the score, rank and
coefficient, and the other year when it exists. Every sentence cites its row. Markdown, HTML or JSON."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.content import first_quote
from assistant.contract import Citation, CitationBook, Fact
from assistant.corpus import Corpus
from assistant.facts import DepartmentRow
from assistant.records import Commitment
from assistant.render import render
from assistant.status import LABELS, Status, outcome_status

if TYPE_CHECKING:
    from assistant.execute import Executor
    from assistant.query import Query


@dataclass
class SummaryItem:
    record: Commitment
    status: Status | None
    quote: str
    cite: int


@dataclass
class SummaryYear:
    year: int
    kind: str
    category: str | None
    row: DepartmentRow
    cites: dict[str, int]
    items: list[SummaryItem] = field(default_factory=list)
    note: str = ""
    status_counts: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Summary:
    department: str
    years: list[SummaryYear]
    citations: list[Citation]
    facts: list[Fact]

    def context(self) -> dict[str, Any]:
        return {"department": self.department, "years": self.years, "citations": self.citations}

    def markdown(self, with_sources: bool = True) -> str:
        return render("summary.md.j2", with_sources=with_sources, **self.context())

    def html(self) -> str:
        return render("summary.html.j2", **self.context())

    def to_json(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "years": [{
                "year": y.year, "kind": y.kind, "category": y.category,
                "score": None if y.row.score is None else str(y.row.score), "rank": y.row.rank,
                "coefficient": None if y.row.coefficient is None else str(y.row.coefficient),
                "citations": y.cites, "note": y.note or None,
                "items": [{"item": it.record.item, "title": it.record.title, "line": it.record.line,
                           "status": None if it.status is None else it.status.label,
                           "reason": None if it.status is None else it.status.reason,
                           "quote": it.quote, "citation": it.cite} for it in y.items],
            } for y in self.years],
            "citations": [c.to_json() for c in self.citations],
            "facts": [f.to_json() for f in self.facts],
            "markdown": self.markdown(),
        }


def summarize(corpus: Corpus, department: str, lang: str = "zh", executor: Executor | None = None,
              years: tuple[int, ...] = ()) -> Summary:
    """Every year of the department (or the years asked), cited through the executor's citation book."""
    if executor is None:
        from assistant.execute import Executor
        from assistant.lexicon import load_lexicon

        executor = Executor(corpus, load_lexicon(corpus.data_dir), CitationBook(), [], None)
    from assistant.query import Query, Scope

    q = Query("summary", Scope(departments=(department,)), lang=lang)
    out = []
    for row in sorted((d for d in corpus.departments if d.department == department), key=lambda d: d.year):
        if years and row.year not in years:
            continue
        cites: dict[str, int] = {}
        note = ""
        if row.score is not None:
            cites["score"] = executor.cite(row, "score")
        if row.rank is not None:
            cites["rank"] = executor.cite(row, "rank")
            note = executor.partial_note(q, row.year, row.category)
        if row.coefficient is not None:
            cites["coefficient"] = executor.cite(row, "coefficient")
        year = SummaryYear(row.year, row.kind, row.category, row, cites, note=note)
        for record in corpus.records_of(department, row.year):
            status = outcome_status(record)
            quote = status.evidence if status and status.evidence else first_quote(record)
            cite = executor.book.cite_text(record, quote)
            year.items.append(SummaryItem(record, status, quote, cite))
            if status is not None:
                executor.facts.append(Fact("状态", status.label, (cite,), department, row.year, method=status.reason))
        counts = Counter(it.status.label for it in year.items if it.status is not None)
        year.status_counts = [(label, counts[label]) for label in LABELS if counts[label]]
        out.append(year)
    return Summary(department, out, executor.book.citations, executor.facts)


def summarize_into(executor: Executor, q: Query, department: str) -> str:
    """The summary as an answer's text, its citations in the answer's book."""
    summary = summarize(executor.corpus, department, q.lang, executor, q.scope.years)
    if not summary.years:
        summary = summarize(executor.corpus, department, q.lang, executor)
    return summary.markdown(with_sources=False)
