"""The errors both front ends map the same way: the CLI prints them (exit 1), the API answers 422/404/503.

Each carries what a person needs to act: the problems with file, line and cell, or the names nearest to a
name that was not found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """Why a row (or a whole file) could not become records: file, line (xlsx: sheet and row), cell, reason.

    `column` is the header name of the cell at fault (最终得分 …) and `cell` its spreadsheet reference (D5),
    given for xlsx only. Rendered as `file:line: column 最终得分: reason`, or for xlsx
    `file [sheet]:row, cell D5: column 最终得分: reason`.
    """

    source: str
    line: int | None
    message: str
    sheet: str | None = None
    column: str | None = None
    cell: str | None = None

    def __str__(self) -> str:
        where = self.source
        if self.sheet is not None:
            where += f" [{self.sheet}]"
        if self.line is not None:
            where += f":{self.line}"
        if self.cell is not None:
            where += f", cell {self.cell}"
        what = f"column {self.column}: " if self.column else ""
        return f"{where}: {what}{self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.source, "line": self.line, "sheet": self.sheet, "cell": self.cell,
                "column": self.column, "message": self.message, "text": str(self)}


class ReviewError(Exception):
    """The base of the errors a front end shows to its user as they are (never a traceback)."""

    status = 400  # the HTTP status the API answers with

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class IngestError(ReviewError, ValueError):
    """A source could not be read in full. Carries every problem found, each with file and line."""

    status = 422

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class NotFound(ReviewError, LookupError):
    """A department, source or line that the data does not hold, with the nearest names."""

    status = 404

    def __init__(self, message: str, suggestions: list[str] | None = None, field: str | None = None):
        super().__init__(message)
        self.suggestions = suggestions or []
        self.field = field


class ModelBuildError(ReviewError, RuntimeError):
    """The embedding model could not be built or loaded from the installed packages."""

    status = 503
