"""The answer contract shared by the CLI (--json/--jsonl), the HTTP API and the quality scorer."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from assistant.records import Commitment, number_json

Mode = Literal["facts", "retrieval", "llm", "refusal"]


@dataclass(frozen=True)
class Citation:
    id: int
    source: str
    line: int
    year: int
    kind: str
    department: str
    item: int | None
    field: str  # the column quoted: 最终得分, 类别内排名, 评定难度系数, 兑现情况, 年度目标, 承诺事项
    quote: str  # exactly as the source writes it
    span: tuple[int, int] | None = None  # where the quote stands in that field's text
    sheet: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "source": self.source, "line": self.line, "year": self.year, "kind": self.kind,
            "department": self.department, "item": self.item, "field": self.field, "quote": self.quote,
            "span": None if self.span is None else list(self.span), "sheet": self.sheet,
        }


@dataclass(frozen=True)
class Fact:
    label: str
    value: Decimal | int | str
    citations: tuple[int, ...]
    department: str | None = None
    year: int | None = None
    unit: str = ""
    method: str | None = None  # how a computed figure was computed

    @property
    def text(self) -> str:
        return str(self.value)

    def to_json(self) -> dict[str, Any]:
        value: Any = number_json(self.value) if isinstance(self.value, Decimal) else self.value
        out: dict[str, Any] = {"label": self.label, "department": self.department, "year": self.year,
                               "value": value, "value_text": self.text, "unit": self.unit,
                               "citations": list(self.citations)}
        if self.method:
            out["method"] = self.method
        return out


class CitationBook:
    """Numbers citations in the order they are first used; the same quote of the same row gets one number."""

    def __init__(self) -> None:
        self.citations: list[Citation] = []
        self._ids: dict[tuple[str, int, str, str], int] = {}

    def cite(self, record: Commitment, field: str, quote: str, span: tuple[int, int] | None = None,
             line: int | None = None) -> int:
        line = line if line is not None else record.line
        key = (record.source, line, field, quote)
        if key not in self._ids:
            self._ids[key] = len(self.citations) + 1
            self.citations.append(Citation(self._ids[key], record.source, line, record.year, record.kind,
                                           record.department, record.item, field, quote, span, record.sheet))
        return self._ids[key]

    def cite_text(self, record: Commitment, quote: str) -> int:
        """A quote from the row's outcome or target text, with its span."""
        start = record.text.find(quote)
        span = (start, start + len(quote)) if start >= 0 else None
        return self.cite(record, record.text_field, quote, span)


@dataclass(frozen=True)
class Column:
    key: str  # department, year, score, rank, coefficient, value, difference, status, item, quote …
    label: str  # what a reader sees: 部门, 最终得分 …
    numeric: bool = False


@dataclass(frozen=True)
class Cell:
    text: str  # as the source writes it (129.86), or as computed (4.59)
    value: float | int | None = None  # for sorting and charts; None for text cells
    cite: int | None = None  # the citation id of the row the cell comes from


@dataclass
class Table:
    """What a list, ranking, comparison or range operation yields, cell by cell with its citation."""

    columns: list[Column]
    rows: list[list[Cell]]
    title: str = ""
    ranked_by: str | None = None  # the key of the column the rows are ranked by: the page draws a bar chart

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "ranked_by": self.ranked_by,
            "columns": [{"key": c.key, "label": c.label, "numeric": c.numeric} for c in self.columns],
            "rows": [[{"text": cell.text, "value": cell.value, "cite": cell.cite} for cell in row]
                     for row in self.rows],
        }


@dataclass
class Answer:
    question: str
    answer: str
    mode: Mode
    citations: list[Citation] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    searched: dict[str, Any] = field(default_factory=dict)
    intent: str = ""
    warnings: list[str] = field(default_factory=list)
    data_version: str = ""
    table: Table | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "mode": self.mode,
            "citations": [c.to_json() for c in self.citations],
            "facts": [f.to_json() for f in self.facts],
            "searched": self.searched,
            "intent": self.intent,
            "warnings": self.warnings,
            "data_version": self.data_version,
            "table": None if self.table is None else self.table.to_json(),
        }
