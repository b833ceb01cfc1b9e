"""The typed query: every answer is computed from one or more of these.

A query has a scope (years, kinds, categories, departments, items), predicates over rows or departments, a
measure and an operation. The parser builds queries from slots; the executor has one handler per operation.
A query that cannot be answered carries a `Refusal` that says why, instead of raising."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

Op = Literal["=", ">", ">=", "<", "<=", "between"]
STATUSES = ("exceeded", "met", "partial", "not_stated")
MEASURES: tuple[str, ...] = ("score", "rank", "coefficient", "items", "items_with_status", "quantity")
OPERATIONS: tuple[str, ...] = (
    "value", "check", "list", "count", "sum", "mean", "median", "min", "max", "top", "bottom", "nth", "next",
    "difference", "spread", "ties", "intersect", "only_in", "items", "summary", "content", "status_of",
    "place", "from_mean", "refuse",
)
StatusName = str  # one of STATUSES
MeasureName = str  # one of MEASURES
Operation = str  # one of OPERATIONS: the executor has a handler for each


@dataclass(frozen=True)
class Scope:
    """Which rows: empty means all of them."""

    years: tuple[int, ...] = ()
    kinds: tuple[str, ...] = ()  # outcomes, targets
    categories: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    items: tuple[int, ...] = ()


@dataclass(frozen=True)
class FieldIs:
    """A department's field compared with a value: score > 120, rank = 13, coefficient between a and b."""

    field: str  # score, rank, coefficient
    op: Op
    value: Decimal
    upper: Decimal | None = None  # for between; both bounds count
    of: str | None = None  # compared with this department's own value (比水利局高): the executor fills value
    against: str | None = None  # "mean": compared with the average of the department's group (高于平均分)

    def test(self, value: Decimal | int | None) -> bool:
        if value is None:
            return False
        v = Decimal(value)
        return {"=": v == self.value, ">": v > self.value, ">=": v >= self.value, "<": v < self.value,
                "<=": v <= self.value,
                "between": self.upper is not None and self.value <= v <= self.upper}[self.op]


@dataclass(frozen=True)
class StatusIs:
    statuses: tuple[StatusName, ...]


@dataclass(frozen=True)
class TextContains:
    """The row's title or text holds the phrase (exactly, after normalisation)."""

    phrase: str


@dataclass(frozen=True)
class TextAbout:
    """The row is about a concept: exact, token and (where retrieval exists) dense matches."""

    concept: str


@dataclass(frozen=True)
class NumberInText:
    unit: str
    op: Op
    value: Decimal
    upper: Decimal | None = None


Predicate = FieldIs | StatusIs | TextContains | TextAbout | NumberInText


@dataclass(frozen=True)
class Measure:
    name: MeasureName
    status: StatusName | None = None  # for items_with_status
    noun: str = ""  # for quantity: the words of the question that name it (新增各项贷款)
    unit: str = ""  # for quantity: the unit asked for (家, 亿, 亩), "" when any


@dataclass(frozen=True)
class Refusal:
    """Why a query cannot be answered; rendered by refusal.j2 with its parameters."""

    reason: str  # unknown_department, other_city, no_year, no_measure, missing_rank, empty, no_match, …
    params: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.params).get(key, default)


@dataclass(frozen=True)
class Query:
    operation: Operation
    scope: Scope = field(default_factory=Scope)
    predicates: tuple[Predicate, ...] = ()
    measure: Measure | None = None
    n: int | None = None  # top/bottom N (0: every one, a whole ranking), the Nth
    ascending: bool = False  # order from the lowest (倒数, 从低往高)
    anchor: str | None = None  # for next: the department the order counts from
    text: str = ""  # the words of the question this query answers (content lookups search with them)
    lang: str = "zh"
    refusal: Refusal | None = None
    combined: bool = False  # spread/aggregate over the whole scope rather than per category
    every_year: bool = False  # asked over every year (历年): no newest-year default when no year is named
    versus: bool = False  # two groups' aggregates compared (社会发展类平均分比经济建设类高多少): their difference too
    second: Scope | None = None  # the other set of intersect/only_in
    second_measure: Measure | None = None  # what to show of the departments in the other set
    confidence: float = 1.0
    parser: str = "rules"  # who built it: the rules, or the optional LLM ("llm")

    def with_scope(self, **changes: Any) -> Query:
        return replace(self, scope=replace(self.scope, **changes))

    def to_json(self) -> dict[str, Any]:
        """A readable form, for `searched` in the answer and for the LLM's structured output."""
        out: dict[str, Any] = {"operation": self.operation,
                               "scope": {k: list(v) for k, v in vars(self.scope).items() if v}}
        if self.predicates:
            out["predicates"] = [_predicate_json(p) for p in self.predicates]
        if self.measure is not None:
            out["measure"] = {k: v for k, v in vars(self.measure).items() if v}
        for key in ("n", "anchor"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.ascending:
            out["ascending"] = True
        if self.every_year:
            out["every_year"] = True
        if self.second is not None:
            out["second"] = {k: list(v) for k, v in vars(self.second).items() if v}
        if self.refusal is not None:
            out["refusal"] = self.refusal.reason
        if self.parser != "rules":
            out["parser"] = self.parser
        return out


def _predicate_json(p: Predicate) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(p).__name__}
    for k, v in vars(p).items():
        if k == "value" and (getattr(p, "of", None) or getattr(p, "against", None)):
            continue  # filled from the department named in `of` when the query runs
        if v is not None:
            out[k] = str(v) if isinstance(v, Decimal) else list(v) if isinstance(v, tuple) else v
    return out


def refuse(reason: str, text: str = "", lang: str = "zh", **params: Any) -> Query:
    return Query("refuse", text=text, lang=lang, refusal=Refusal(reason, tuple(params.items())))
