"""The record every later stage works on: one commitment row, with the row it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

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
        return "兑现情况" if self.kind == "outcomes" else "年度目标"

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
            "score": number_json(self.score),
            "score_text": None if self.score is None else str(self.score),
            "rank": self.rank,
            "coefficient": number_json(self.coefficient),
            "coefficient_text": None if self.coefficient is None else str(self.coefficient),
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


def number_json(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)


@dataclass(frozen=True)
class Problem:
    """Why a row (or a whole file) could not become records."""

    source: str
    line: int | None
    message: str
    sheet: str | None = None

    def __str__(self) -> str:
        where = self.source
        if self.sheet is not None:
            where += f" [{self.sheet}]"
        if self.line is not None:
            where += f":{self.line}"
        return f"{where}: {self.message}"


class IngestError(ValueError):
    """A source could not be read in full. Carries every problem found, each with file and line."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class IngestReport:
    """What one file gave: every data row is a record or a rejection."""

    source: str
    rows_read: int = 0  # data rows (not blank, header or category lines)
    records: list[Commitment] = field(default_factory=list)
    rejected: list[Problem] = field(default_factory=list)
    skipped: int = 0  # blank lines, titles, repeated headers, category lines

    @property
    def ok(self) -> bool:
        return not self.rejected
