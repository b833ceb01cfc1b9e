"""The record every later stage works on: one commitment row, with the row it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from assistant.errors import IngestError, Problem
from assistant.schema import FIELDS, label
from assistant.schema import text_field as text_field_of

__all__ = ["KINDS", "Commitment", "IngestError", "IngestReport", "Kind", "Problem", "measures_json", "number_json"]

Kind = Literal["outcomes", "targets"]
KINDS: tuple[Kind, ...] = ("outcomes", "targets")


@dataclass(frozen=True)
class Commitment:
    """One 承诺事项 row. Numbers keep the exact text of the source (135.20 stays 135.20)."""

    source: str  # file name inside data/ (or the path given on the command line)
    line: int  # 1-based line of the row in the file (for xlsx: the sheet row)
    year: int
    kind: Kind
    category: str | None
    department: str
    item: int
    title: str
    text: str  # 兑现情况 for outcomes, 年度目标 for targets
    score: Decimal | None = None
    rank: int | None = None
    coefficient: Decimal | None = None
    sheet: str | None = None
    row: int | None = None
    first_line: int | None = None  # line of the department's first row, where score/rank/coefficient stand

    @property
    def text_field(self) -> str:
        """The label of the column the text comes from: 兑现情况 for outcomes, 年度目标 for targets."""
        return label(text_field_of(self.kind))

    @property
    def anchor_line(self) -> int:
        """The line that carries the department's score, rank and coefficient."""
        return self.first_line if self.first_line is not None else self.line

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "line": self.line,
            "sheet": self.sheet,
            "row": self.row,
            "year": self.year,
            "kind": self.kind,
            "category": self.category,
            "department": self.department,
            "item": self.item,
            "title": self.title,
            "text": self.text,
            **measures_json(self),
            "first_line": self.anchor_line,
        }

    def content_key(self) -> tuple[Any, ...]:
        """Everything but provenance: what must agree across TSV, CSV and xlsx."""
        return (
            self.year,
            self.kind,
            self.category,
            self.department,
            self.item,
            self.title,
            self.text,
            self.score,
            self.rank,
            self.coefficient,
        )


def measures_json(row: Any) -> dict[str, Any]:
    """A department's measures (the schema's per-department numbers: score, rank, coefficient) as JSON; a decimal
    also as the text the source writes (135.20 stays "135.20")."""
    found: dict[str, Any] = {}
    for f in FIELDS:
        if f.per_department and f.kind in ("decimal", "int") and hasattr(row, f.name):
            value = getattr(row, f.name)
            if f.kind == "decimal":
                found[f.name] = number_json(value)
                found[f"{f.name}_text"] = None if value is None else str(value)
            else:
                found[f.name] = value
    return found


def number_json(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)


@dataclass
class IngestReport:
    """What one file gave: every data row is a record or a rejection."""

    source: str
    rows_read: int = 0  # data rows (not blank, header or category lines)
    records: list[Commitment] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    skipped: int = 0  # blank lines, titles, repeated headers, category lines
    warnings: list[Problem] = field(default_factory=list)  # e.g. hidden sheets that were not read
    unreadable: bool = False  # the file as a whole could not be read; `rejected` says why

    @property
    def ok(self) -> bool:
        return not self.rejected
