"""The authoritative numbers: pure functions over all records. Every answer's figures come from here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from assistant.quantities import Quantity, quantities
from assistant.records import Commitment, Kind
from assistant.schema import label
from assistant.status import Status, outcome_status


@dataclass(frozen=True)
class DepartmentRow:
    """A department in one year's table: its score, rank or coefficient, and the row that states them."""

    year: int
    kind: Kind
    department: str
    category: str | None
    score: Decimal | None
    rank: int | None
    coefficient: Decimal | None
    source: str
    line: int  # the department's first row, where its score, rank or coefficient are written
    items: int


def department_rows(records: Iterable[Commitment]) -> list[DepartmentRow]:
    """One row per department and year, in the order of the sources."""
    grouped: dict[tuple[int, str, str], list[Commitment]] = {}
    for r in records:
        grouped.setdefault((r.year, r.source, r.department), []).append(r)
    rows = []
    for (year, source, department), recs in grouped.items():
        first = recs[0]
        rows.append(
            DepartmentRow(year, first.kind, department, first.category, first.score, first.rank,
                          first.coefficient, source, first.anchor_line, len(recs))
        )
    return rows


def mean(values: Sequence[Decimal], places: int = 2) -> Decimal:
    exact = sum(values, Decimal(0)) / len(values)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _ties(rows: Sequence[DepartmentRow], key: Callable[[DepartmentRow], Decimal | None]) -> list[list[DepartmentRow]]:
    groups: dict[Decimal, list[DepartmentRow]] = defaultdict(list)
    for row in rows:
        value = key(row)
        if value is not None:
            groups[value].append(row)
    return [g for g in groups.values() if len(g) > 1]


@dataclass(frozen=True)
class Stats:
    """Statistics of one measure (score or coefficient) over a group of departments."""

    year: int
    category: str | None  # None: all categories of the year
    measure: str  # the measure's label (schema): 最终得分 or 评定难度系数
    rows: tuple[DepartmentRow, ...]  # the inputs, each citable
    total: Decimal
    mean: Decimal  # rounded to 2 places for scores, 4 for coefficients
    minimum: tuple[DepartmentRow, ...]  # every department at the minimum (ties included)
    maximum: tuple[DepartmentRow, ...]
    ties: tuple[tuple[DepartmentRow, ...], ...]
    ranks_present: tuple[int, ...]  # scores only: the ranks in the data, to say when it is an excerpt

    @property
    def count(self) -> int:
        return len(self.rows)

    @property
    def missing_ranks(self) -> tuple[int, ...]:
        """Ranks below the largest one present that are not in the data (1-8 of an excerpt)."""
        if not self.ranks_present:
            return ()
        present = set(self.ranks_present)
        return tuple(r for r in range(1, max(present) + 1) if r not in present)


def _stats(rows: Sequence[DepartmentRow], measure: str, value: Callable[[DepartmentRow], Decimal | None],
           places: int) -> Stats | None:
    with_value = [r for r in rows if value(r) is not None]
    if not with_value:
        return None
    values = [v for r in with_value if (v := value(r)) is not None]
    low, high = min(values), max(values)
    return Stats(
        year=with_value[0].year,
        category=with_value[0].category if len({r.category for r in with_value}) == 1 else None,
        measure=measure,
        rows=tuple(with_value),
        total=sum(values, Decimal(0)),
        mean=mean(values, places),
        minimum=tuple(r for r in with_value if value(r) == low),
        maximum=tuple(r for r in with_value if value(r) == high),
        ties=tuple(tuple(g) for g in _ties(with_value, value)),
        ranks_present=tuple(sorted(r.rank for r in with_value if r.rank is not None)),
    )


def score_stats(rows: Iterable[DepartmentRow], year: int | None = None, category: str | None = None) -> list[Stats]:
    """Score statistics per year and category (or for the one asked for)."""
    groups: dict[tuple[int, str | None], list[DepartmentRow]] = defaultdict(list)
    for r in rows:
        if r.score is not None and (year is None or r.year == year) and (category is None or r.category == category):
            groups[(r.year, r.category)].append(r)
    found = [_stats(g, label("score"), lambda r: r.score, 2) for g in groups.values()]
    return [s for s in found if s is not None]


def coefficient_stats(rows: Iterable[DepartmentRow], year: int | None = None) -> list[Stats]:
    groups: dict[int, list[DepartmentRow]] = defaultdict(list)
    for r in rows:
        if r.coefficient is not None and (year is None or r.year == year):
            groups[r.year].append(r)
    found = [_stats(g, label("coefficient"), lambda r: r.coefficient, 4) for g in groups.values()]
    return [s for s in found if s is not None]


@dataclass(frozen=True)
class ItemStatus:
    record: Commitment
    status: Status


def item_statuses(records: Iterable[Commitment]) -> list[ItemStatus]:
    """The status of every outcome row against its target (targets have none)."""
    found = []
    for r in records:
        status = outcome_status(r)
        if status is not None:
            found.append(ItemStatus(r, status))
    return found


def numbers(record: Commitment) -> list[Quantity]:
    """Numbers in a record's text, with units, qualifiers and spans (dates included, marked)."""
    return quantities(record.text)


def across_years(records: Iterable[Commitment]) -> dict[str, dict[int, list[Commitment]]]:
    """Departments that appear in more than one year, with their rows per year."""
    by_department: dict[str, dict[int, list[Commitment]]] = defaultdict(lambda: defaultdict(list))
    for r in records:
        by_department[r.department][r.year].append(r)
    return {d: dict(years) for d, years in by_department.items() if len(years) > 1}
