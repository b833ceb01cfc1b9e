"""The executor: one deterministic handler per operation, over all records.

Every number in an answer comes from a handler, every row a handler uses is cited, and a computed figure
says how it was computed (131.20 − 127.05 = 4.15) and cites its inputs. A query that cannot be answered
becomes a refusal that says why. Adding an operation means one handler here, one template in
prompts/ops/ and its tests."""

from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from assistant.content import ContentFinder, NumberIndex, clause_at, content_chars, sentence_statuses
from assistant.contract import Cell, CitationBook, Column, Fact, Table
from assistant.corpus import Corpus
from assistant.facts import DepartmentRow, item_statuses, score_stats
from assistant.lexicon import Lexicon
from assistant.quantities import Quantity, quantities
from assistant.query import FieldIs, NumberInText, Query, Scope, StatusIs, TextAbout, TextContains
from assistant.records import Commitment
from assistant.render import render
from assistant.schema import label, spec

FIELD_MEASURES = ("score", "rank", "coefficient")
PLACES = {"score": 2, "coefficient": 4, "rank": 0}


@dataclass(frozen=True)
class Average:
    values: list[Decimal]
    cites: list[int]
    total: Decimal
    exact: Decimal  # unrounded, for comparisons
    mean: Decimal  # rounded half up to the measure's places, as shown
    method: str


@dataclass
class Result:
    text: str
    mode: str = "facts"  # facts, retrieval or refusal
    table: Table | None = None
    searched: dict[str, Any] = dataclasses.field(default_factory=dict)


def value_of(d: DepartmentRow, measure: str) -> Decimal | int | None:
    if measure not in FIELD_MEASURES:
        raise KeyError(measure)
    return getattr(d, measure)


# Operations over every department of a scope: when the question names no year and the data holds the measure in
# several years, they answer for the newest one (and say so), unless the question asks for every year (历年).
NEWEST_YEAR_OPERATIONS = frozenset({"list", "count", "sum", "mean", "median", "min", "max", "top", "bottom", "nth",
                                    "spread", "ties"})


class Executor:
    def __init__(self, corpus: Corpus, lexicon: Lexicon, book: CitationBook, facts: list[Fact],
                 content: ContentFinder | None):
        self.corpus, self.lex, self.book, self.facts, self.content = corpus, lexicon, book, facts, content
        self._noted = set(facts)  # the facts already noted, for a constant-time check (a mean over 10k rows)
        self.handlers: dict[str, Callable[[Query], Result]] = {
            "value": self.value, "check": self.check, "list": self.select, "count": self.select, "sum": self.aggregate,
            "mean": self.aggregate, "median": self.aggregate, "min": self.extreme, "max": self.extreme,
            "top": self.extreme, "bottom": self.extreme, "nth": self.nth, "next": self.next,
            "difference": self.difference, "spread": self.spread, "ties": self.ties, "intersect": self.intersect,
            "only_in": self.intersect, "items": self.items, "summary": self.summary, "content": self.lookup,
            "status_of": self.status_of, "place": self.place, "from_mean": self.from_mean, "refuse": self.refuse,
        }

    def run(self, q: Query) -> Result:
        return self.handlers[q.operation](q)

    def newest_year(self, q: Query) -> tuple[Query, str]:
        """A question over every department or every row that names no year, over data of several years: the
        query for the newest table of each kind (the newest year holding the measure; for rows, the newest
        outcomes and the newest targets), and a note that says so and names the other years. An answer over
        decades of tables at once would list every year's rows; 历年 (every_year) asks for that."""
        if q.operation not in NEWEST_YEAR_OPERATIONS or q.every_year or q.scope.years or q.scope.departments \
                or any(isinstance(p, FieldIs) and p.of for p in q.predicates):
            return q, ""
        over_rows = any(not isinstance(p, FieldIs) for p in q.predicates) or \
            (q.measure is not None and q.measure.name in ("items", "items_with_status", "quantity"))
        if over_rows:
            if q.operation not in ("list", "count"):
                return q, ""
            kinds = self.corpus.kinds_by_year
            wanted = set(q.scope.kinds) or {k for ks in kinds.values() for k in ks}
            years = [y for y, ks in kinds.items() if ks & wanted]
            newest = {k: max((y for y in years if k in kinds[y]), default=None) for k in wanted}
            chosen = sorted({y for y in newest.values() if y is not None})
            name = ""
        else:
            measure = q.measure.name if q.measure is not None and q.measure.name in FIELD_MEASURES else \
                "coefficient" if q.operation == "ties" else "score"
            if q.operation in ("sum", "mean", "median", "min", "max", "top", "bottom", "nth", "spread") \
                    and measure == "rank":
                measure = "score"
            years = [y for y in self.corpus.departments_by_year
                     if self.rows(q, measure, q.scope, predicates=False, years=(y,), first=True)]
            chosen = [max(years)] if years else []
            name = measure
        if not chosen or len(years) <= len(chosen):
            return q, ""
        others = sorted(y for y in years if y not in chosen)
        note = render("ops/newest_year.j2", lang=q.lang, years=chosen, others=others,
                      label=label(name) if name else "", label_en=spec(name).english if name else "")
        return q.with_scope(years=tuple(chosen)), note

    # ---- citing ------------------------------------------------------------------------------------

    def cite(self, d: DepartmentRow, measure: str) -> int:
        """Cite a department's score, rank or coefficient on the row that writes it, and note the fact."""
        record = self.corpus.record_at(d.source, d.line)
        assert record is not None, (d.source, d.line)
        value = value_of(d, measure)
        cite = self.book.cite(record, label(measure), str(value), line=d.line)
        fact = Fact(label(measure), value if value is not None else "", (cite,), d.department, d.year,
                    spec(measure).unit)
        if fact not in self._noted:
            self._noted.add(fact)
            self.facts.append(fact)
        return cite

    def computed(self, name: str, value: Decimal | int | str, cites: list[int], method: str,
                 department: str | None = None, year: int | None = None, unit: str = "") -> None:
        self.facts.append(Fact(name, value, tuple(dict.fromkeys(cites)), department, year, unit, method))

    def average(self, group: list[DepartmentRow], measure: str, name: str, year: int) -> Average:
        """The average of a group's values, each input cited, noted as a computed figure with its sum written out
        and rounded half up to the measure's places; `exact` (unrounded) is for comparisons."""
        values = [Decimal(value_of(d, measure) or 0) for d in group]
        cites = [self.cite(d, measure) for d in group]
        total = sum(values, Decimal(0))
        exact = total / len(values)
        mean = exact.quantize(Decimal(1).scaleb(-PLACES[measure]), rounding=ROUND_HALF_UP)
        method = f"({' + '.join(map(str, values))}) / {len(values)} = {total} / {len(values)}"
        self.computed(f"{name}平均{label(measure)}", mean, cites, method, year=year, unit=spec(measure).unit)
        return Average(values, cites, total, exact, mean, method)

    def median(self, group: list[DepartmentRow], measure: str, name: str,
               year: int) -> tuple[list[Decimal], list[int], Decimal, str]:
        """The middle of a group's values from the lowest (the mean of the two middle ones for an even count,
        rounded half up to the measure's places), each input cited, noted as a computed figure with the
        ordered values written out."""
        ordered = sorted(group, key=lambda d: value_of(d, measure) or 0)
        values = [Decimal(value_of(d, measure) or 0) for d in ordered]
        cites = [self.cite(d, measure) for d in ordered]
        middle = len(values) // 2
        chain = " ≤ ".join(map(str, values))
        if len(values) % 2:
            value, method = values[middle], f"{chain} → {values[middle]}"
        else:
            low, high = values[middle - 1], values[middle]
            value = ((low + high) / 2).quantize(Decimal(1).scaleb(-PLACES[measure]), rounding=ROUND_HALF_UP)
            method = f"{chain} → ({low} + {high}) / 2 = {value}"
        self.computed(f"{name}{label(measure)}中位数", value, cites, method, year=year, unit=spec(measure).unit)
        return values, cites, value, method

    def compared(self, count: int, what: str, year: int | None = None) -> None:
        """A count the answer states of what it compared or scanned (共比较14个部门), as a computed figure."""
        self.computed("比较的部门数" if what == "departments" else "扫描的记录数", count, [], f"{what} in scope",
                      year=year)

    def refusal(self, q: Query, reason: str, **params: Any) -> Result:
        self.computed("检索的记录数", len(self.corpus.records), [], "every row of every source")
        defaults: dict[str, Any] = {"nearest": [], "suggestions": [], "department": "", "years": (), "have": (),
                                    "measure_years": (), "scanned": 0, "detail": "", "name": "", "phrase": "",
                                    "above": False, "first": None, "phrases": (), "every": False}
        text = render("refusal.j2", lang=q.lang, reason=reason, p={**defaults, **params},
                      searched_rows=len(self.corpus.records),
                      scope=_scope_text(q.scope, q.lang))
        return Result(text, "refusal")

    def refuse(self, q: Query) -> Result:
        assert q.refusal is not None
        return self.refusal(q, q.refusal.reason, **dict(q.refusal.params))

    # ---- scope -------------------------------------------------------------------------------------

    def rows(self, q: Query, measure: str, scope: Scope | None = None, predicates: bool = True,
             years: tuple[int, ...] = (), first: bool = False) -> list[DepartmentRow]:
        """Department rows in scope that have the measure and pass the query's field predicates (`years`: only
        those years of the scope; `first`: stop at the first row found)."""
        scope = scope or q.scope
        found: list[DepartmentRow] = []
        by_year = self.corpus.departments_by_year
        wanted = years or scope.years
        in_years = [y for y in by_year if y in wanted] if wanted else list(by_year)
        field_predicates = [p for p in q.predicates if isinstance(p, FieldIs)] if predicates else []
        for d in (d for y in in_years for d in by_year[y]):
            if getattr(d, measure) is None:
                continue
            if scope.categories and measure != "coefficient" and d.category not in scope.categories:
                continue
            if scope.departments and d.department not in scope.departments:
                continue
            if field_predicates and not all(p.test(value_of(d, p.field)) for p in field_predicates):
                continue
            found.append(d)
            if first:
                break
        return found

    def groups(self, rows: list[DepartmentRow], measure: str, combined: bool) -> list[tuple[int, str | None,
                                                                                                list[DepartmentRow]]]:
        """As the tables rank them: per year and category for scores and ranks, per year for coefficients."""
        grouped: dict[tuple[int, str | None], list[DepartmentRow]] = defaultdict(list)
        for d in rows:
            key = (d.year, None if combined or measure == "coefficient" else d.category)
            grouped[key].append(d)
        return [(year, category, group) for (year, category), group in grouped.items()]

    def partial_note(self, q: Query, year: int, category: str | None, purpose: str = "rank") -> str:
        """Say when a category is an excerpt: ranks 1–8 absent means the best present is not first."""
        if category is None:
            return ""
        stats = self.corpus.score_stats_of(year, category)
        if not stats or not stats[0].missing_ranks:
            return ""
        present, missing = stats[0].ranks_present, stats[0].missing_ranks
        missing_text = (f"{missing[0]}至{missing[-1]}" if q.lang == "zh" else f"{missing[0]}–{missing[-1]}") \
            if len(missing) > 1 else str(missing[0])
        cite = self.cite(stats[0].rows[0], "rank")
        self.computed("类别内已有排名", f"{present[0]}–{present[-1]}", [cite], f"ranks present for {category}; "
                      f"missing: {missing_text}", year=year)
        return render("partial_note.j2", lang=q.lang, category=category, first=present[0], last=present[-1],
                      missing=missing_text, purpose=purpose)

    def unavailable(self, q: Query, measure: str, department: str | None = None) -> Result:
        """The measure is not in the data for this department or year: say where it is."""
        have = sorted({(d.year, d.kind) for d in self.corpus.departments
                       if department is None or d.department == department})
        measure_years = sorted({d.year for d in self.corpus.departments if value_of(d, measure) is not None})
        return self.refusal(q, "no_measure", department=department or "", measure=label(measure),
                            measure_en=spec(measure).english, years=q.scope.years, have=have,
                            measure_years=measure_years)

    # ---- handlers over departments -------------------------------------------------------------------

    def each_named(self, q: Query, measure: str, show: Callable[[DepartmentRow], str],
                   scope: Scope | None = None) -> tuple[list[str], str]:
        """Each department the question names, in its order: `show` of each of its rows that have the measure (in
        `scope`, the query's by default), or the refusal for a department the data lacks; and the answer's mode,
        a refusal when every named department was refused."""
        rows = self.rows(q, measure, scope, predicates=False)
        texts, refused = [], 0
        for department in q.scope.departments:
            own = [d for d in rows if d.department == department]
            if not own:
                refused += 1
                texts.append(self.unavailable(q, measure, department).text)
            texts += [show(d) for d in own]
        return texts, "refusal" if refused == len(q.scope.departments) else "facts"

    def value(self, q: Query) -> Result:
        assert q.measure is not None
        measure = q.measure.name
        if measure == "quantity":
            return self.lookup(q)
        if measure == "items":
            return self.select(dataclasses.replace(q, operation="count"))

        def show(d: DepartmentRow) -> str:
            cites = {m: self.cite(d, m) for m in FIELD_MEASURES if value_of(d, m) is not None and
                     (m == measure or (measure == "rank" and m == "score") or (measure == "score" and m == "rank"))}
            note = self.partial_note(q, d.year, d.category) if measure == "rank" else ""
            return render("ops/value.j2", lang=q.lang, measure=measure, d=d, c=cites, note=note,
                          intersect=q.anchor == "intersect")

        texts, mode = self.each_named(q, measure, show)
        return Result("\n".join(texts), mode)

    def check(self, q: Query) -> Result:
        """Whether each named department's value meets the condition (是否高于125分): a verdict per department and
        year, with the value cited."""
        conditions = [p for p in q.predicates if isinstance(p, FieldIs)]
        measure = conditions[0].field
        rows = self.rows(q, measure, predicates=False)
        if not rows:
            return self.unavailable(q, measure, q.scope.departments[0] if q.scope.departments else None)
        verdicts = [{"row": d, "value": value_of(d, measure), "cite": self.cite(d, measure),
                     "passes": all(p.test(value_of(d, p.field)) for p in conditions)} for d in rows]
        condition = (" 且 " if q.lang == "zh" else " and ").join(_predicate_text(p, q.lang) for p in conditions)
        text = render("ops/check.j2", lang=q.lang, verdicts=verdicts, condition=condition, measure=measure,
                      label=label(measure), label_en=spec(measure).english, unit=spec(measure).unit)
        return Result(text)

    def place(self, q: Query) -> Result:
        """Where a department stands in a year's order of a measure the tables do not rank (the coefficient),
        from the highest (or the lowest when asked): computed, ties sharing a place, citing every value compared."""
        assert q.measure is not None
        measure = q.measure.name
        placed: list[tuple[int, DepartmentRow, int]] = []

        def show(d: DepartmentRow) -> str:
            peers = self.rows(q, measure, dataclasses.replace(q.scope, departments=()), predicates=False,
                              years=(d.year,))
            ordered = sorted(peers, key=lambda x: value_of(x, measure) or 0, reverse=not q.ascending)
            places = _competition_places(ordered, measure)
            where = next(p for x, p in places if x is d)
            own_cite = self.cite(d, measure)
            cites = [self.cite(x, measure) for x in ordered]
            tied = [(x, self.cite(x, measure)) for x, p in places if p == where and x is not d]
            self.computed("排序位置", where, cites, f"{label(measure)} of {len(peers)} departments in {d.year}, "
                          f"from the {'lowest' if q.ascending else 'highest'}; ties share a place", d.department,
                          d.year)
            placed.append((where, d, own_cite))
            self.compared(len(peers), "departments", d.year)
            return render("ops/place.j2", lang=q.lang, d=d, value=value_of(d, measure), cite=own_cite,
                          place=where, compared=len(peers), tied=tied, ascending=q.ascending,
                          label=label(measure), label_en=spec(measure).english, unit=spec(measure).unit,
                          highest=ordered[0], highest_cite=self.cite(ordered[0], measure),
                          highest_value=value_of(ordered[0], measure))

        texts, mode = self.each_named(q, measure, show)
        return Result("\n".join(texts), mode, self.placed_table(placed, measure, q) if placed else None)

    def select(self, q: Query) -> Result:
        anchored = [p for p in q.predicates if isinstance(p, FieldIs) and p.of]
        if anchored:
            return self.relative(q, anchored[0])
        versus = [p for p in q.predicates if isinstance(p, FieldIs) and p.against == "mean"]
        if versus:
            return self.versus_mean(q, versus[0])
        return self.select_resolved(q)

    def select_resolved(self, q: Query) -> Result:
        if any(isinstance(p, StatusIs) for p in q.predicates):
            return self.status_list(q)
        if any(isinstance(p, TextContains | TextAbout) for p in q.predicates):
            return self.matches(q)
        if any(isinstance(p, NumberInText) for p in q.predicates):
            return self.numbers(q)
        measure = q.measure.name if q.measure else "score"
        if measure == "items":
            return self.item_count(q)
        if measure == "rank" and any(isinstance(p, FieldIs) and p.field == "rank" for p in q.predicates):
            return self.rank_list(q)
        ordered = measure if measure in ("score", "coefficient") else "score"
        if not any(isinstance(p, FieldIs) for p in q.predicates):  # every department in scope: what it holds
            ordered = self._held(q, ordered, q.scope)
        everything = self.rows(q, ordered, predicates=False)
        if not everything:
            return self.unavailable(q, ordered)
        chosen = sorted(self.rows(q, ordered), key=lambda d: value_of(d, ordered) or 0, reverse=True)
        cited = [(d, self.cite(d, ordered)) for d in chosen]
        self.compared(len(everything), "departments")
        condition = " 且 ".join(_predicate_text(p, q.lang) for p in q.predicates if isinstance(p, FieldIs))
        self.computed("符合条件的部门数", len(chosen), [c for _, c in cited],
                      f"departments with {condition} among {len(everything)} compared")
        text = render("ops/list.j2", lang=q.lang, rows=cited, compared=len(everything), condition=condition,
                      measure=ordered, label=label(ordered), label_en=spec(ordered).english,
                      unit=spec(ordered).unit, count=q.operation == "count", scope=_scope_text(q.scope, q.lang))
        return Result(text, "facts" if chosen else "refusal", self.table(cited, ordered, q))

    def relative(self, q: Query, p: FieldIs) -> Result:
        """Departments above (or below) one department's own value, in the same year: its value, cited, is
        the threshold."""
        assert p.of is not None
        anchor = [d for d in self.rows(q, p.field, dataclasses.replace(q.scope, departments=(p.of,)), predicates=False)]
        if not anchor:
            return self.unavailable(q, p.field, p.of)
        base = anchor[0]
        self.cite(base, p.field)
        threshold = FieldIs(p.field, p.op, Decimal(value_of(base, p.field) or 0), of=p.of)
        others = tuple(x for x in q.predicates if x is not p)
        scope = dataclasses.replace(q.scope, years=(base.year,))
        return self.select_resolved(dataclasses.replace(q, predicates=(threshold, *others), scope=scope))

    def versus_mean(self, q: Query, p: FieldIs) -> Result:
        """Departments above (or below) the average of their group (a year's category for scores, a year for
        coefficients): each average computed and cited with its inputs, then compared exactly (unrounded)."""
        measure = p.field
        others = [x for x in q.predicates if isinstance(x, FieldIs) and x is not p]
        rows = self.rows(q, measure, predicates=False)
        if not rows:
            return self.unavailable(q, measure)
        out, chosen_all = [], list[tuple[DepartmentRow, int]]()
        for year, category, group in self.groups(rows, measure, combined=q.combined and not q.scope.categories):
            name = category or ("全部部门" if q.lang == "zh" else "all departments")
            average = self.average(group, measure, name, year)
            threshold = FieldIs(measure, p.op, average.exact)
            chosen = sorted((d for d in group if threshold.test(value_of(d, measure))
                             and all(o.test(value_of(d, o.field)) for o in others)),
                            key=lambda d: value_of(d, measure) or 0, reverse=p.op in (">", ">="))
            cited = [(d, self.cite(d, measure)) for d in chosen]
            chosen_all += cited
            self.computed("符合条件的部门数", len(cited), [c for _, c in cited],
                          f"departments with {label(measure)} {p.op} the average {average.exact} of {len(group)}",
                          year=year)
            out.append({"year": year, "name": name, "count": len(group), "mean": average.mean,
                        "method": average.method, "cites": average.cites, "rows": cited,
                        "note": self.partial_note(q, year, category, "aggregate") if measure == "score" else ""})
        text = render("ops/versus_mean.j2", lang=q.lang, groups=out, op=p.op, label=label(measure),
                      label_en=spec(measure).english, unit=spec(measure).unit, count=q.operation == "count")
        return Result(text, "facts", self.table(chosen_all, measure, q) if chosen_all else None)

    def rank_list(self, q: Query) -> Result:
        """Who holds rank N, or each rank from N to M: from the rank column, per category; ranks the excerpt
        lacks are said (all of them refused)."""
        p = next(p for p in q.predicates if isinstance(p, FieldIs) and p.field == "rank")
        low = int(p.value)
        high = int(p.upper) if p.op == "between" and p.upper is not None else low
        groups = []
        for stats in score_stats(self.corpus.departments, q.scope.years[0] if len(q.scope.years) == 1 else None,
                                 q.scope.categories[0] if len(q.scope.categories) == 1 else None):
            held = sorted((d for d in stats.rows if d.rank is not None and low <= d.rank <= high),
                          key=lambda d: d.rank or 0)
            rows = [(d, self.cite(d, "rank"), self.cite(d, "score")) for d in held]
            present = stats.ranks_present
            absent = [n for n in range(low, high + 1) if n not in present]
            if absent and present:
                self.computed("类别内已有排名", f"{present[0]}–{present[-1]}", [self.cite(stats.rows[0], "rank")],
                              f"ranks present for {stats.category}", year=stats.year)
            groups.append({"category": stats.category, "year": stats.year, "rows": rows,
                           "first": present[0] if present else None, "last": present[-1] if present else None,
                           "absent": _span_text(absent, q.lang)})
        found = any(g["rows"] for g in groups)
        text = render("ops/rank.j2", lang=q.lang, rank=low, upper=high, groups=groups)
        return Result(text, "facts" if found else "refusal")

    def table(self, cited: list[tuple[DepartmentRow, int]], measure: str, q: Query,
              extra: dict[str, str] | None = None, order: tuple[Column, list[Cell]] | None = None) -> Table:
        """Departments with the measure, each cell cited. `order`: a first column that says where each stands
        (the rank the table gives, or the position in this answer's order), then the category when the rows
        span several."""
        zh = q.lang == "zh"
        several = order is not None and len({(d.year, d.category) for d, _ in cited}) > 1
        columns = ([order[0]] if order is not None else []) + \
            ([Column("category", "类别" if zh else "category")] if several else []) + \
            [Column("department", label("department") if zh else spec("department").english),
             Column("year", "年份" if zh else "year"),
             Column(measure, label(measure) if zh else spec(measure).english, True)]
        rows = []
        for i, (d, cite) in enumerate(cited):
            value = value_of(d, measure)
            rows.append(([order[1][i]] if order is not None else [])
                        + ([Cell(d.category or "")] if several else [])
                        + [Cell(d.department, cite=cite), Cell(str(d.year)),
                           Cell(str(value), float(value) if value is not None else None, cite)])
        title = render("ops/table_title.j2", lang=q.lang, operation=q.operation, label=label(measure),
                       label_en=spec(measure).english, scope=_scope_text(q.scope, q.lang))
        return Table(columns, rows, title, measure if q.operation in ("list", "max", "min", "top", "bottom",
                                                                     "count", "nth") else None)

    def aggregate(self, q: Query) -> Result:
        assert q.measure is not None
        if q.measure.name == "quantity":
            return self.quantity_sum(q)
        measure = q.measure.name if q.measure.name in ("score", "coefficient") else "score"
        rows = self.rows(q, measure)
        if not rows:
            return self.unavailable(q, measure)
        groups = self.groups(rows, measure, combined=bool(q.combined and not q.scope.categories))
        if q.operation in ("mean", "median") and measure == "score" and not q.scope.categories and len(groups) > 1 \
                and not q.n:
            groups += self.groups(rows, measure, combined=True)
        if q.n:  # 最低的两个单位平均分: the N first of each group in the order asked, ties at the cut included
            kept = []
            for year, category, group in groups:
                ordered = sorted(group, key=lambda d: value_of(d, measure) or 0, reverse=not q.ascending)
                cut = value_of(ordered[min(q.n, len(ordered)) - 1], measure) or 0
                kept.append((year, category, [d for d in ordered if (value_of(d, measure) or 0) <= cut] if q.ascending
                             else [d for d in ordered if (value_of(d, measure) or 0) >= cut]))
            groups = kept
        out = []
        for year, category, group in groups:
            name = category or ("全部部门" if q.lang == "zh" else "all departments")
            if q.operation == "mean":
                average = self.average(group, measure, name, year)
                values, cites, value, method = average.values, average.cites, average.mean, average.method
            elif q.operation == "median":
                values, cites, value, method = self.median(group, measure, name, year)
            else:
                values = [Decimal(value_of(d, measure) or 0) for d in group]
                cites = [self.cite(d, measure) for d in group]
                value, method = sum(values, Decimal(0)), " + ".join(map(str, values))
                self.computed(f"{name}合计{label(measure)}", value, cites, method, year=year, unit=spec(measure).unit)
            note = self.partial_note(q, year, category, "aggregate") if measure == "score" else ""
            out.append({"name": name, "year": year, "count": len(values), "value": value, "method": method,
                        "cites": cites, "note": note, "every": category is None})
        versus = None
        if q.versus and len(out) == 2:  # 社会发展类平均分比经济建设类高多少: the two figures' difference
            named: dict[str, dict[str, Any]] = {str(g["name"]): g for g in out}
            a, b = (named.get(c) for c in q.scope.categories[:2])
            if a is not None and b is not None:
                diff = Decimal(a["value"]) - Decimal(b["value"])
                self.computed(f"{a['name']}与{b['name']}之差", diff, [*a["cites"], *b["cites"]],
                              f"{a['value']} − {b['value']} = {diff}", unit=spec(measure).unit)
                versus = {"a": a, "b": b, "diff": diff}
        condition = " 且 ".join(_predicate_text(p, q.lang) for p in q.predicates if isinstance(p, FieldIs))
        text = render("ops/aggregate.j2", lang=q.lang, groups=out, operation=q.operation, label=label(measure),
                      label_en=spec(measure).english, unit=spec(measure).unit, condition=condition, n=q.n,
                      ascending=q.ascending, versus=versus)
        return Result(text)

    def quantity_sum(self, q: Query) -> Result:
        """Amounts in the rows' texts added up (三类贷款新增合计多少亿元). Each part the question names is the
        amount in the asked unit whose clause before it (with its item's title) holds most of the part's
        characters, the clause alone breaking ties, among the named
        departments' rows (the part's own department when it names one). Unless every part is found, the
        question is a content lookup, as before."""
        assert q.measure is not None
        parts = _sum_parts(q.text, self.lex, q.scope.departments)
        records = self.records(q)
        found: list[tuple[str, Any, Quantity, str]] = []
        for part, department in parts:
            wanted = content_chars(part)
            best: tuple[tuple[float, float], Any, Quantity, str] | None = None
            for r in records:
                if department and r.department != department:
                    continue
                for amount in quantities(r.text):
                    if amount.unit != q.measure.unit:
                        continue
                    clause = clause_at(r.text, amount.start)
                    before = content_chars(clause[: clause.find(amount.raw)] if amount.raw in clause else clause)
                    score = (len(wanted & (before | content_chars(r.title))) / len(wanted),
                             len(wanted & before) / len(wanted)) if wanted else (0.0, 0.0)
                    if best is None or score > best[0]:
                        best = (score, r, amount, clause)
            if best is None or best[0][0] < 0.6:
                return self.lookup(q)
            found.append((part, best[1], best[2], best[3]))
        if len(found) < 2 or len({(r.source, r.line, a.start) for _, r, a, _ in found}) < len(found):
            return self.lookup(q)
        cited = [{"part": part, "record": r, "amount": a.value, "clause": clause,
                  "cite": self.book.cite_text(r, clause)} for part, r, a, clause in found]
        for c in cited:  # each quoted clause, with its department and year, as a content lookup notes it
            self.facts.append(Fact(c["record"].text_field, c["clause"], (c["cite"],), c["record"].department,
                                   c["record"].year))
        total = sum((c["amount"] for c in cited), Decimal(0))
        method = " + ".join(str(c["amount"]) for c in cited) + f" = {total}"
        self.computed("合计", total, [c["cite"] for c in cited], method, unit=q.measure.unit)
        text = render("ops/quantity_sum.j2", lang=q.lang, parts=cited, total=total, method=method,
                      unit=q.measure.unit)
        return Result(text)

    def ordered(self, q: Query, measure: str) -> list[tuple[int, str | None, list[DepartmentRow]]]:
        rows = self.rows(q, measure)
        groups = self.groups(rows, measure, combined=q.combined or bool(q.scope.departments))
        descending = not q.ascending
        return [(y, c, sorted(g, key=lambda d: value_of(d, measure) or 0, reverse=descending)) for y, c, g in groups]

    def extreme(self, q: Query) -> Result:
        assert q.measure is not None
        measure = q.measure.name if q.measure.name in ("score", "coefficient") else "score"
        if not self.rows(q, measure):
            return self.unavailable(q, measure)
        want_max = q.operation in ("max", "top")
        whole = q.operation in ("top", "bottom") and q.n == 0  # a whole ranking
        q = dataclasses.replace(q, ascending=not want_max)
        n = q.n or 1
        out, cited_all, ranks, places = [], [], list[Cell](), list[Cell]()
        for year, category, group in self.ordered(q, measure):
            cutoff = value_of(group[len(group) - 1 if whole else min(n, len(group)) - 1], measure)
            chosen = [d for d in group if (value_of(d, measure) or 0) >= (cutoff or 0)] if want_max else \
                [d for d in group if (value_of(d, measure) or 0) <= (cutoff or 0)]
            cited = [(d, self.cite(d, measure), self.cite(d, "rank") if d.rank is not None else None)
                     for d in chosen]
            cited_all += [(d, c) for d, c, _ in cited]
            ranks += [Cell(str(d.rank), d.rank, rc) for d, _, rc in cited]
            places += [Cell(str(p), p) for p in _places([value_of(d, measure) for d in chosen])]
            others = [(d, self.cite(d, measure)) for d in group if d not in chosen] if q.scope.departments else []
            note = self.partial_note(q, year, category) if want_max and measure == "score" else ""
            out.append({"year": year, "category": category, "rows": cited, "count": len(group), "note": note,
                        "others": others})
            self.computed("比较范围", len(group), [c for _, c, _ in cited],
                          f"{'max' if want_max else 'min'} of {label(measure)}, ties included", year=year)
        text = render("ops/extreme.j2", lang=q.lang, groups=out, top=want_max, whole=whole,
                      n=n if q.operation in ("top", "bottom") and not whole else None, label=label(measure),
                      label_en=spec(measure).english, unit=spec(measure).unit, named=bool(q.scope.departments))
        order: tuple[Column, list[Cell]] | None = None
        if q.operation in ("top", "bottom"):  # the table's own rank where every row has one, never an invented 1st
            zh = q.lang == "zh"
            order = (Column("rank", label("rank") if zh else spec("rank").english, True), ranks) \
                if measure == "score" and all(c.value is not None for c in ranks) else \
                (Column("position", "顺序" if zh else "position", True), places)
        return Result(text, table=self.table(cited_all, measure, q, order=order))

    def nth(self, q: Query) -> Result:
        """The Nth from the top (or the bottom), with ties sharing a place; honest about excerpts."""
        assert q.measure is not None and q.n is not None
        measure = q.measure.name if q.measure.name in ("score", "coefficient") else "score"
        out = []
        placed: list[tuple[int, DepartmentRow, int]] = []
        for year, category, group in self.ordered(q, measure):
            note = ""
            if not q.ascending and measure == "score" and category is not None:
                note = self.partial_note(q, year, category)
                if note:
                    out.append({"year": year, "category": category, "rows": [], "count": len(group), "note": note})
                    continue
            self.compared(len(group), "departments", year)
            places = _competition_places(group, measure)
            held = max((place for _, place in places if place <= q.n), default=None) if q.n <= len(group) else None
            rows = [(d, self.cite(d, measure)) for d, place in places if place == held]  # a tie spans the Nth
            out.append({"year": year, "category": category, "rows": rows, "count": len(group), "note": ""})
            placed += [(held or q.n, d, c) for d, c in rows]
            if rows:
                self.computed("排序位置", q.n, [c for _, c in rows], f"ordered by {label(measure)} "
                              f"{'ascending' if q.ascending else 'descending'}; ties share a place", year=year)
        found = any(g["rows"] for g in out)
        text = render("ops/nth.j2", lang=q.lang, groups=out, n=q.n, ascending=q.ascending, label=label(measure),
                      label_en=spec(measure).english, unit=spec(measure).unit)
        return Result(text, "facts" if found else "refusal", self.placed_table(placed, measure, q) if found else None)

    def placed_table(self, placed: list[tuple[int, DepartmentRow, int]], measure: str, q: Query) -> Table:
        """Rows with their place in the order the answer counted (from the top, or from the bottom when the
        query counts from the lowest), the department and the value, each cell cited."""
        columns = [Column("place", "位次" if q.lang == "zh" else "place", True),
                   Column("department", label("department")), Column("year", "年份" if q.lang == "zh" else "year"),
                   Column(measure, label(measure) if q.lang == "zh" else spec(measure).english, True)]
        rows = []
        for place, d, cite in placed:
            value = value_of(d, measure)
            rows.append([Cell(str(place), place, cite), Cell(d.department, cite=cite), Cell(str(d.year)),
                         Cell(str(value), float(value) if value is not None else None, cite)])
        title = render("ops/table_title.j2", lang=q.lang, operation=q.operation, label=label(measure),
                       label_en=spec(measure).english, scope=_scope_text(q.scope, q.lang))
        return Table(columns, rows, title, measure)

    def next(self, q: Query) -> Result:
        """The department(s) right after the anchor in the order of a measure (仅次于)."""
        assert q.measure is not None and q.anchor is not None
        measure = q.measure.name if q.measure.name in ("score", "coefficient") else "score"
        anchor_rows = [d for d in self.rows(q, measure) if d.department == q.anchor]
        if not anchor_rows:
            return self.unavailable(q, measure, q.anchor)
        anchor = anchor_rows[0]
        peers = [d for d in self.rows(q, measure) if d.year == anchor.year and
                 (measure == "coefficient" or d.category == anchor.category)]
        v = value_of(anchor, measure) or 0
        below = [d for d in peers if (value_of(d, measure) or 0) < v] if not q.ascending else \
            [d for d in peers if (value_of(d, measure) or 0) > v]
        if not below:
            ranks = sorted(d.rank for d in peers if d.rank is not None) if measure == "score" else []
            return self.refusal(q, "nothing_next", department=q.anchor, measure=label(measure), above=q.ascending,
                                first=ranks[0] if ranks else None)
        target = max(value_of(d, measure) or 0 for d in below) if not q.ascending else \
            min(value_of(d, measure) or 0 for d in below)
        chosen = [(d, self.cite(d, measure)) for d in below if value_of(d, measure) == target]
        anchor_cite = self.cite(anchor, measure)
        self.computed("紧随其后", str(target), [anchor_cite, *(c for _, c in chosen)],
                      f"{'smallest' if q.ascending else 'largest'} {label(measure)} "
                      f"{'above' if q.ascending else 'below'} {v} among {len(peers)}", year=anchor.year)
        text = render("ops/next.j2", lang=q.lang, anchor=anchor, anchor_cite=anchor_cite, rows=chosen,
                      measure=measure, label=label(measure), label_en=spec(measure).english, value=v,
                      above=q.ascending)
        return Result(text)

    def from_mean(self, q: Query) -> Result:
        """A department against the average of its group (its year's category for scores, or the category the
        question names; the year's departments for coefficients): the average computed and cited with its inputs,
        the difference computed (value − average), above or below decided unrounded."""
        assert q.measure is not None
        measure = q.measure.name
        extreme = ""
        if not q.scope.departments and q.n == 1:  # the highest (lowest) of each group `max` compares, ties included
            firsts = [d.department for _, _, group in self.ordered(q, measure) for d in group
                      if value_of(d, measure) == value_of(group[0], measure)]
            if not firsts:
                return self.refusal(q, "no_content")
            q = dataclasses.replace(q, scope=dataclasses.replace(q.scope, departments=tuple(dict.fromkeys(firsts))))
            extreme = "min" if q.ascending else "max"

        def show(d: DepartmentRow) -> str:
            categories = () if measure == "coefficient" or q.combined else (q.scope.categories or (d.category,))
            group = self.rows(q, measure, Scope(years=(d.year,), categories=tuple(c for c in categories if c)),
                              predicates=False)
            name = "、".join(c for c in categories if c) or ("全部部门" if q.lang == "zh" else "all departments")
            average = self.average(group, measure, name, d.year)
            value = Decimal(value_of(d, measure) or 0)
            own_cite = self.cite(d, measure)
            diff = value - average.mean
            self.computed(f"与平均{label(measure)}之差", diff, [own_cite, *average.cites],
                          f"{value} − {average.mean} = {diff}", d.department, d.year, spec(measure).unit)
            side = "above" if value > average.exact else "below" if value < average.exact else "equal"
            return render("ops/from_mean.j2", lang=q.lang, d=d, value=value, cite=own_cite, name=name,
                          count=len(group), mean=average.mean, method=average.method, cites=average.cites,
                          diff=diff, side=side, extreme=extreme,
                          label=label(measure), label_en=spec(measure).english, unit=spec(measure).unit,
                          note=self.partial_note(q, d.year, d.category, "aggregate")
                          if measure == "score" and d.category in categories else "")

        texts, mode = self.each_named(q, measure, show, dataclasses.replace(q.scope, categories=()))
        return Result("\n".join(texts), mode)

    def difference(self, q: Query) -> Result:
        """Two departments: who is higher, by how much (a − b = d), and their ranks when comparable."""
        assert q.measure is not None
        names = q.scope.departments[:2]
        measure = q.measure.name if q.measure.name in FIELD_MEASURES else "score"
        ordered = "score" if measure == "rank" else measure
        rows = []
        for name in names:
            found = [d for d in self.rows(q, ordered, predicates=False) if d.department == name]
            if not found:
                return self.unavailable(q, ordered, name)
            rows.append(found[-1])
        extreme = None
        if q.second is not None:  # 比社会发展类最低分高多少: the other one is the group's lowest (highest), that year
            group = self.rows(q, ordered, scope=q.second, predicates=False, years=(rows[0].year,))
            if not group:
                return self.unavailable(q, ordered)
            other = (min if q.ascending else max)(group, key=lambda d: value_of(d, ordered) or 0)
            category = q.second.categories[0] if q.second.categories else None
            extreme = {"department": other.department, "category": category, "lowest": q.ascending,
                       "compared": len(group),  # the best of an excerpt is not the category's first: said
                       "note": "" if q.ascending else self.partial_note(q, other.year, category)}
            self.compared(len(group), "departments", other.year)
            rows.append(other)
        a, b = sorted(rows, key=lambda d: value_of(d, ordered) or 0, reverse=True)
        va, vb = Decimal(value_of(a, ordered) or 0), Decimal(value_of(b, ordered) or 0)
        diff = va - vb
        ca, cb = self.cite(a, ordered), self.cite(b, ordered)
        self.computed(f"{label(ordered)}之差", diff, [ca, cb], f"{va} − {vb} = {diff}", unit=spec(ordered).unit)
        ranks = None
        if a.rank is not None and b.rank is not None:
            ra, rb = self.cite(a, "rank"), self.cite(b, "rank")
            same = a.category == b.category and a.year == b.year and a.category is not None
            ranks = {"a": a.rank, "b": b.rank, "ca": ra, "cb": rb, "same": same, "gap": abs(a.rank - b.rank)}
            if same:
                self.computed("名次之差", abs(a.rank - b.rank), [ra, rb], f"{b.rank} − {a.rank}")
        text = render("ops/difference.j2", lang=q.lang, a=a, b=b, va=va, vb=vb, diff=diff, ca=ca, cb=cb,
                      ranks=ranks, label=label(ordered), label_en=spec(ordered).english, unit=spec(ordered).unit,
                      equal=diff == 0, by_rank=measure == "rank", extreme=extreme)
        table = self.table([(a, ca), (b, cb)], ordered, q)
        return Result(text, table=table)

    def spread(self, q: Query) -> Result:
        assert q.measure is not None
        measure = q.measure.name if q.measure.name in ("score", "coefficient") else "score"
        rows = self.rows(q, measure)
        if not rows:
            return self.unavailable(q, measure) if not self.rows(q, measure, predicates=False) else \
                self.refusal(q, "empty_set", condition=" 且 ".join(_predicate_text(p, q.lang) for p in q.predicates
                                                              if isinstance(p, FieldIs)))
        out = []
        placed: list[tuple[int, DepartmentRow, int]] = []
        for year, category, group in self.groups(rows, measure, combined=q.combined):
            high = max(group, key=lambda d: value_of(d, measure) or 0)
            low = min(group, key=lambda d: value_of(d, measure) or 0)
            vh, vl = Decimal(value_of(high, measure) or 0), Decimal(value_of(low, measure) or 0)
            ch, cl = self.cite(high, measure), self.cite(low, measure)
            self.computed(f"{label(measure)}极差", vh - vl, [ch, cl], f"{vh} − {vl} = {vh - vl}", year=year,
                          unit=spec(measure).unit)
            self.compared(len(group), "departments", year)
            out.append({"year": year, "category": category, "high": high, "low": low, "vh": vh, "vl": vl,
                        "ch": ch, "cl": cl, "spread": vh - vl, "count": len(group)})
            places = dict((d.department, place) for d, place in _competition_places(
                sorted(group, key=lambda d: value_of(d, measure) or 0, reverse=True), measure))
            placed += [(places[high.department], high, ch), (places[low.department], low, cl)]
        condition = " 且 ".join(_predicate_text(p, q.lang) for p in q.predicates if isinstance(p, FieldIs))
        text = render("ops/spread.j2", lang=q.lang, groups=out, label=label(measure), label_en=spec(measure).english,
                      unit=spec(measure).unit, condition=condition)
        return Result(text, table=self.placed_table(placed, measure, q))

    def ties(self, q: Query) -> Result:
        """Departments sharing a value. With a named department, the ties that include it; with an extreme
        (最高的有没有并列, n=1), the ties at the highest (lowest) value. Where there is none, the department's (the
        extreme's) own value is told and cited, with the count of the others it was compared with."""
        assert q.measure is not None
        measure = q.measure.name if q.measure.name in ("score", "coefficient") else "coefficient"
        named = set(q.scope.departments)  # 财政局跟哪个部门并列: its peers in scope, the ties that include it
        if named and not self.rows(q, measure):
            return self.unavailable(q, measure, q.scope.departments[0])
        rows = self.rows(q, measure, dataclasses.replace(q.scope, departments=()))
        if not rows:
            return self.unavailable(q, measure)
        out, alone = [], []
        for year, category, group in self.groups(rows, measure, combined=False):
            by_value: dict[Decimal, list[DepartmentRow]] = defaultdict(list)
            for d in group:
                by_value[Decimal(value_of(d, measure) or 0)].append(d)
            values = sorted(by_value.items(), reverse=True)
            if q.n == 1:  # only the extreme value
                values = [values[-1] if q.ascending else values[0]]
            for value, same in values:
                if len(same) > 1 and (not named or named & {d.department for d in same}):
                    cites = [(d, self.cite(d, measure)) for d in same]
                    out.append({"year": year, "category": category, "value": value, "rows": cites})
                    self.computed("相同取值", str(value), [c for _, c in cites], f"{len(same)} departments share it",
                                  year=year)
                elif len(same) == 1 and (q.n == 1 or same[0].department in named):
                    alone.append({"year": year, "category": category, "value": value, "d": same[0],
                                  "cite": self.cite(same[0], measure), "others": len(group) - 1})
        self.compared(len(rows), "departments")
        if not out and not alone:
            return self.refusal(q, "no_ties", measure=label(measure), compared=len(rows),
                                department="、".join(q.scope.departments))
        text = render("ops/ties.j2", lang=q.lang, groups=out, alone=alone, label=label(measure),
                      label_en=spec(measure).english, compared=len(rows),
                      extreme=("min" if q.ascending else "max") if q.n == 1 else "")
        return Result(text)

    def intersect(self, q: Query) -> Result:
        """Departments in both scopes (years or kinds), or in the first only, with a value from each."""
        assert q.second is not None and q.measure is not None
        second = q.second
        first_name = self._held(q, q.measure.name, q.scope)
        second_name = self._held(q, q.second_measure.name if q.second_measure else q.measure.name, second)
        q = dataclasses.replace(q, measure=dataclasses.replace(q.measure, name=first_name))
        first_rows = {d.department: d for d in self.rows(q, first_name, predicates=False)}
        second_rows = {d.department: d for d in self.rows(q, second_name, second, predicates=False)}
        if q.operation == "intersect":
            names = [n for n in first_rows if n in second_rows]
        else:
            names = [n for n in first_rows if n not in second_rows]
        rows: list[dict[str, Any]] = []
        for name in names:
            a = first_rows[name]
            b = second_rows.get(name)
            rows.append({"department": name, "a": a, "ca": self.cite(a, first_name),
                         "b": b, "cb": self.cite(b, second_name) if b is not None else None})
        self.computed("两个范围都有的部门数" if q.operation == "intersect" else "只在第一个范围的部门数", len(names),
                      [r["ca"] for r in rows], f"{len(first_rows)} departments with {label(first_name)} in "
                      f"{_scope_text(q.scope, 'en')}, {len(second_rows)} with {label(second_name)} in "
                      f"{_scope_text(second, 'en')}")
        text = render("ops/intersect.j2", lang=q.lang, rows=rows, first=_scope_text(q.scope, q.lang),
                      second=_scope_text(second, q.lang), n_first=len(first_rows), n_second=len(second_rows),
                      only=q.operation == "only_in", la=label(first_name), lb=label(second_name),
                      la_en=spec(first_name).english, lb_en=spec(second_name).english,
                      ma=first_name, mb=second_name)
        return Result(text, "facts" if names else "refusal")

    def _held(self, q: Query, measure: str, scope: Scope) -> str:
        """The measure asked for, or (when the scope holds none of it) the first field measure it does hold:
        a department is in a year's data whatever the table records of it."""
        if self.rows(q, measure, scope, predicates=False):
            return measure
        return next((m for m in ("score", "coefficient") if self.rows(q, m, scope, predicates=False)), measure)

    # ---- handlers over rows --------------------------------------------------------------------------

    def records(self, q: Query, scope: Scope | None = None) -> list[Any]:
        scope = scope or q.scope
        return [r for r in self.corpus.records_in(scope.years, scope.departments)
                if (not scope.years or r.year in scope.years) and (not scope.kinds or r.kind in scope.kinds)
                and (not scope.categories or r.category in scope.categories)
                and (not scope.departments or r.department in scope.departments)
                and (not scope.items or r.item in scope.items)]

    def items(self, q: Query) -> Result:
        out: list[dict[str, Any]] = []
        for department in q.scope.departments:
            rows = self.records(q, dataclasses.replace(q.scope, departments=(department,)))
            if not rows and q.scope.items:  # 第9项 of a department that has 6: say how many it has
                every = self.records(q, dataclasses.replace(q.scope, departments=(department,), items=()))
                if every:
                    return self.refusal(q, "no_item", department=department, years=q.scope.years,
                                        detail="、".join(map(str, q.scope.items)),
                                        first=max(r.item or 0 for r in every))
            if not rows:
                return self.unavailable(q, "score", department)
            for year in sorted({r.year for r in rows}):  # one group per year: a year's table is one kind
                cited = [(r, self.book.cite(r, label("title"), f"{r.item}.{r.title}"),
                          *self._first_clause(r)) for r in rows if r.year == year]
                out.append({"department": department, "rows": cited})
                self.computed("承诺事项数", len(cited), [c for _, c, _, _ in cited], "rows of the department",
                              department, year, "项")
        text = render("ops/items.j2", lang=q.lang, groups=out, chosen=q.scope.items)
        quote_label = "引文" if q.lang == "zh" else "quote"
        table = Table([Column("department", label("department")), Column("year", "年份" if q.lang == "zh" else "year"),
                       Column("item", label("title")), Column("quote", quote_label)],
                      [[Cell(r.department, cite=tc), Cell(str(r.year)), Cell(f"{r.item}.{r.title}", cite=tc),
                        Cell(quote, cite=qc)] for g in out for r, tc, quote, qc in g["rows"]],
                      "、".join(q.scope.departments))
        return Result(text, table=table)

    def _first_clause(self, r: Any) -> tuple[str, int]:
        from assistant.content import first_quote

        quote = first_quote(r)
        return quote, self.book.cite_text(r, quote)

    def item_count(self, q: Query) -> Result:
        """How many commitments a department has (or, with no department named, every row in scope), per year,
        then their total."""
        out = []
        everyone = "、".join(q.scope.categories) or ("全部部门" if q.lang == "zh" else "all departments")
        named = bool(q.scope.departments)  # else every row in scope, counted under `everyone`
        for department in q.scope.departments or (everyone,):
            rows = self.records(q, dataclasses.replace(q.scope, departments=(department,) if named else ()))
            if not rows:
                return self.unavailable(q, "score", department if named else None)
            years = sorted({r.year for r in rows})
            per_year: list[list[int]] = []
            for year in years:  # one count per year, then their total
                cites = [self.book.cite(r, label("title"), f"{r.item}.{r.title}") for r in rows if r.year == year]
                how = "count of the department's rows" if named else "count of the rows in scope"
                self.computed("承诺事项数", len(cites), cites, how, department if named else None, year, "项")
                out.append({"department": department, "count": len(cites), "cites": cites, "years": [year],
                            "total": None})
                per_year.append(cites)
            if len(years) > 1:
                counts = [len(cites) for cites in per_year]
                self.computed("承诺事项数", len(rows), [c for cites in per_year for c in cites],
                              " + ".join(map(str, counts)), department if named else None, unit="项")
                out.append({"department": department, "count": len(rows), "cites": [], "years": years,
                            "total": " + ".join(map(str, counts))})
        return Result(render("ops/item_count.j2", lang=q.lang, groups=out))

    def status_list(self, q: Query) -> Result:
        """Items with a status: the row's own, or (for met and partial) that of one of its sentences, so that
        "项目投资完成率100%" counts as met inside a row whose other figures beat their targets."""
        from assistant.facts import ItemStatus

        wanted = next(p.statuses for p in q.predicates if isinstance(p, StatusIs))
        rows = [r for r in self.records(q) if r.kind == "outcomes"]
        if not rows:
            years = sorted({r.year for r in self.corpus.records if r.kind == "outcomes"})
            return self.refusal(q, "no_outcomes", years=years)
        statuses = item_statuses(rows)
        chosen: list[ItemStatus] = []
        for s in statuses:
            if s.status.label in wanted:
                chosen.append(s)
                continue
            if "exceeded" in wanted or "not_stated" in wanted:
                continue
            for _sentence, status, start, _ in sentence_statuses(s.record):
                if status is not None and status.label in wanted:
                    at = start + status.start
                    chosen.append(ItemStatus(s.record, dataclasses.replace(status, start=at,
                                                                           end=at + len(status.evidence))))
                    break
        cited = [(s, self.book.cite(s.record, s.record.text_field, s.status.evidence, (s.status.start, s.status.end))
                  if s.status.evidence else
                  self.book.cite(s.record, label("title"), f"{s.record.item}.{s.record.title}"))
                 for s in chosen]  # a row that states no status is cited by its title
        for s, cite in cited:
            self.facts.append(Fact("状态", s.status.label, (cite,), s.record.department, s.record.year,
                                   method=s.status.reason))
        self.computed("符合的承诺数", len(chosen), [c for _, c in cited],
                      f"items whose status is {'/'.join(wanted)} among {len(statuses)} checked")
        not_stated = sum(1 for s in statuses if s.status.label == "not_stated")
        text = render("ops/status_list.j2", lang=q.lang, items=cited, wanted=wanted, checked=len(statuses),
                      departments=sorted({s.record.department for s in chosen}), not_stated=not_stated,
                      count=q.operation == "count", scope=_scope_text(q.scope, q.lang))
        return Result(text, "facts" if chosen else "refusal")

    def status_of(self, q: Query) -> Result:
        """The sentences of the rows that hold a quoted phrase (or of a department's item by its number), each
        with its status and why."""
        phrases = [p.phrase for p in q.predicates if isinstance(p, TextContains)]
        if not phrases and q.scope.items:  # 水利局第2项完成了吗: that item's rows, of each year
            matched = self.records(q)
            if not matched:
                return self.items(q)  # the refusal that names the items there are
        else:
            matched = [r for r, _ in self.content.phrase_rows(self.records(q), phrases[0])] \
                if self.content and phrases else []
        if not matched:
            return self.refusal(q, "no_match", phrase=phrases[0] if phrases else "", scanned=len(self.records(q)))
        out = []
        for r in matched[:3]:
            parts = []
            for sentence, status, _start, _end in sentence_statuses(r):
                cite = self.book.cite_text(r, sentence)
                parts.append({"sentence": sentence, "status": status, "cite": cite,
                              "has_phrase": any(p in sentence for p in phrases)})
                if status is not None:
                    self.facts.append(Fact("状态", status.label, (cite,), r.department, r.year, method=status.reason))
            false_signs = [m.group(0) for m in self.lex.status["false_signs"].finditer(r.text + "".join(phrases))]
            more_than = [p for p in phrases if _more_than(p, self.lex)]
            out.append({"record": r, "sentences": parts, "false_signs": sorted(set(false_signs)),
                        "more_than": more_than})
        text = render("ops/status_of.j2", lang=q.lang, rows=out, phrases=phrases)
        return Result(text)

    def matches(self, q: Query) -> Result:
        """Set questions: every row in scope, matched exactly, by tokens and (with retrieval) densely. Several
        phrases (“创历史新高”或“历史新高”, 减碳、低碳) are alternatives: a row that holds any of them; with
        the lexicon's `all_of` words (同时, both) a row must hold each. A concept that no row holds as it is
        said (企业上市) is looked for by its most specific word (上市), and the answer names that word."""
        assert self.content is not None
        predicates = [p for p in q.predicates if isinstance(p, TextContains | TextAbout)]
        scope = q.scope
        rows = self.records(q, scope)
        found: dict[tuple[str, int], tuple[Commitment, str, str]] = {}  # row -> (record, how, the phrase it holds)
        said: list[str] = []  # the phrases looked for, as the answer names them
        each: list[set[tuple[str, int]]] = []
        for predicate in predicates:
            phrase = predicate.phrase if isinstance(predicate, TextContains) else predicate.concept
            hits = self.content.match(rows, phrase, exact_only=isinstance(predicate, TextContains),
                                      filters=_filters(scope))
            if not hits and isinstance(predicate, TextAbout):
                word = self.content.specific_word(phrase)
                if word is not None:
                    phrase = word
                    hits = [(r, "word") for r, _ in self.content.match(rows, word, True, _filters(scope))]
            said.append(phrase)
            each.append({(r.source, r.line) for r, _ in hits})
            for record, how in hits:
                found.setdefault((record.source, record.line), (record, how, phrase))
        every = len(each) > 1 and bool(self.lex.op("all_of").search(q.text))
        if every:
            keep = set.intersection(*each)
            found = {key: value for key, value in found.items() if key in keep}
        if not found:
            return self.refusal(q, "no_match", phrases=said, every=every, scanned=len(rows))
        out: list[dict[str, Any]] = []
        position = self.content.position
        for record, how, phrase in sorted(found.values(), key=lambda v: position(v[0])):
            quote = self.content.quote_for(record, phrase, q.measure) if q.measure else \
                self.content.phrase_clause(record, phrase)
            cite = self.book.cite_text(record, quote) if quote in record.text else \
                self.book.cite(record, label("title"), f"{record.item}.{record.title}")
            out.append({"record": record, "quote": quote, "cite": cite, "how": how})
        phrase = " / ".join(said)
        departments = list(dict.fromkeys(o["record"].department for o in out))
        self.compared(len(rows), "rows")
        self.computed("匹配的记录数", len(out), [o["cite"] for o in out],
                      f"{len(rows)} rows scanned; matched by " + ", ".join(sorted({o['how'] for o in out})))
        text = render("ops/matches.j2", lang=q.lang, rows=out, phrases=said, every=every, scanned=len(rows),
                      departments=departments, count=q.operation == "count", quantity=q.measure is not None,
                      scope=_scope_text(scope, q.lang))
        table = Table([Column("department", label("department")), Column("item", label("title")),
                       Column("quote", "引文" if q.lang == "zh" else "quote")],
                      [[Cell(o["record"].department, cite=o["cite"]), Cell(f"{o['record'].item}.{o['record'].title}"),
                        Cell(o["quote"], cite=o["cite"])] for o in out], phrase)
        return Result(text, table=table, searched={"scanned": len(rows), "phrase": phrase})

    def numbers(self, q: Query) -> Result:
        """Rows whose text holds a number in the asked unit that passes the comparison (超过1000家): every
        row in scope, each matching number cited with its clause."""
        from assistant.content import clause_at

        assert self.content is not None
        predicates = [p for p in q.predicates if isinstance(p, NumberInText)]
        noun = q.measure.noun if q.measure else ""
        rows = self.records(q)
        in_scope = {id(r) for r in rows}
        index = self.content.numbers()
        out: list[dict[str, Any]] = []
        others = [(p, _asked(p)) for p in predicates[1:]]
        for row, quantity in _number_candidates(index, predicates[0]):  # the first narrows, the others test
            r = index.records[row]
            if id(r) not in in_scope or not all(_number_passes(p, asked, quantity) for p, asked in others):
                continue
            clause = clause_at(r.text, quantity.start) or quantity.raw
            if noun and not _mentions(clause, noun):
                continue
            cite = self.book.cite_text(r, clause.strip())
            self.facts.append(Fact(r.text_field, quantity.raw, (cite,), r.department, r.year, quantity.unit))
            out.append({"record": r, "quantity": quantity, "quote": clause.strip(), "cite": cite})
        condition = " 且 ".join(_number_text(p, q.lang) for p in predicates)
        if not out:
            return self.refusal(q, "no_match", phrase=f"{noun}{condition}", scanned=len(rows))
        departments = list(dict.fromkeys(o["record"].department for o in out))
        self.compared(len(rows), "rows")
        self.computed("符合条件的数字", len(out), [o["cite"] for o in out],
                      f"{len(rows)} rows scanned for numbers with {condition}")
        text = render("ops/numbers.j2", lang=q.lang, rows=out, condition=condition, noun=noun, scanned=len(rows),
                      departments=departments, count=q.operation == "count", scope=_scope_text(q.scope, q.lang))
        quote_label = "引文" if q.lang == "zh" else "quote"
        table = Table([Column("department", label("department")), Column("item", label("title")),
                       Column("value", "数字" if q.lang == "zh" else "number", True),
                       Column("quote", quote_label)],
                      [[Cell(o["record"].department, cite=o["cite"]), Cell(f"{o['record'].item}.{o['record'].title}"),
                        Cell(o["quantity"].raw, float(o["quantity"].value), o["cite"]),
                        Cell(o["quote"], cite=o["cite"])]
                       for o in out], f"{noun}{condition}", "value")
        return Result(text, table=table, searched={"scanned": len(rows), "condition": condition})

    def lookup(self, q: Query) -> Result:
        """A content question: the clause of the best row that holds the asked quantity."""
        if self.content is None or not self.content.can_search:
            return self.refusal(q, "no_retrieval")
        found = self.content.lookup(q)
        if not found:
            nearest = self.content.nearest(q)
            cited = [(r, quote, self.book.cite_text(r, quote)) for r, quote in nearest]
            return Result(self.refusal(q, "no_content", nearest=cited).text, "refusal",
                          searched=self.content.last_search)
        cited = [(r, quote, self.book.cite_text(r, quote)) for r, quote in found]
        for r, quote, cite in cited:
            self.facts.append(Fact(r.text_field, quote, (cite,), r.department, r.year))
        text = render("ops/content.j2", lang=q.lang, rows=cited)
        return Result(text, "retrieval", searched=self.content.last_search)

    def summary(self, q: Query) -> Result:
        from assistant.summary import summarize_into

        texts = [summarize_into(self, q, name) for name in q.scope.departments]
        return Result("\n\n".join(texts))


def _competition_places(group: list[DepartmentRow], measure: str) -> list[tuple[DepartmentRow, int]]:
    places, previous, place = [], None, 0
    for i, d in enumerate(group, start=1):
        value = value_of(d, measure)
        if value != previous:
            place, previous = i, value
        places.append((d, place))
    return places


def _more_than(phrase: str, lex: Lexicon) -> bool:
    import re

    marks = "|".join(re.escape(m) for m in lex.status["more_than_marks"].words)
    return bool(marks) and re.search(rf"(?:{marks})\d", phrase) is not None


def _asked(p: NumberInText) -> tuple[tuple[str, bool], Decimal, Decimal | None] | None:
    """The predicate's unit key and its bounds in base units (1万亩 -> 10000亩)."""
    from assistant.content import number_key
    from assistant.quantities import quantities

    asked = quantities(f"{p.value}{p.unit}")
    if not asked:
        return None
    factor = asked[0].scaled() / p.value if p.value else Decimal(1)
    return number_key(asked[0]), asked[0].scaled(), p.upper * factor if p.upper is not None else None


def _number_candidates(index: NumberIndex, p: NumberInText) -> list[tuple[int, Quantity]]:
    """The numbers of the index in the predicate's unit and range, in row order."""
    asked = _asked(p)
    if asked is None:
        return []
    unit, value, upper = asked
    low, high, low_open, high_open = {
        ">": (value, None, True, False), ">=": (value, None, False, False), "<": (None, value, False, True),
        "<=": (None, value, False, False), "=": (value, value, False, False),
        "between": (value, upper, False, False)}[p.op]
    return index.between(unit, low, high, low_open, high_open)


def _number_passes(p: NumberInText, asked: tuple[tuple[str, bool], Decimal, Decimal | None] | None,
                   quantity: Quantity) -> bool:
    """The text's number is in the predicate's unit (after scaling 万 and 亿) and passes its comparison."""
    from assistant.content import number_key

    if asked is None:
        return False
    unit, scaled, upper = asked
    have = number_key(quantity)
    if unit[0] != have[0] or (not unit[0] and not (unit[1] and have[1])):
        return False  # another unit, or a bare number where a sum of money or count was asked
    return FieldIs("score", p.op, scaled, upper).test(quantity.scaled())


def _mentions(clause: str, noun: str) -> bool:
    """Most of the noun's characters are in the clause (新增企业 in 新增国家科技型企业2471家)."""
    chars = set(noun)
    return len(chars & set(clause)) / len(chars) >= 0.75


def _number_text(p: NumberInText, lang: str) -> str:
    if p.op == "between":
        return f"在{p.value}至{p.upper}{p.unit}之间" if lang == "zh" else f"between {p.value} and {p.upper} {p.unit}"
    words = {">": ("超过", "more than"), ">=": ("不少于", "at least"), "<": ("少于", "less than"),
             "<=": ("不超过", "at most"), "=": ("等于", "equal to")}[p.op]
    return f"{words[0]}{p.value}{p.unit}" if lang == "zh" else f"{words[1]} {p.value} {p.unit}"


def _predicate_text(p: FieldIs, lang: str) -> str:
    name = label(p.field) if lang == "zh" else spec(p.field).english
    if p.op == "between":
        return f"{name}在{p.value}至{p.upper}之间(含两端)" if lang == "zh" else \
            f"{name} between {p.value} and {p.upper} (inclusive)"
    words = {">": ("高于", "above"), ">=": ("不低于", "at least"), "<": ("低于", "below"), "<=": ("不高于", "at most"),
             "=": ("等于", "equal to")}[p.op]
    if p.field == "rank" and p.op == "<=" and not p.of:  # a rank number at most N: among the first N
        return f"{name}在前{p.value}名以内" if lang == "zh" else f"{name} within the first {p.value}"
    if p.of:  # the threshold is a department's own value
        return f"{name}{words[0]}{p.of}({p.value})" if lang == "zh" else f"{name} {words[1]} {p.of}'s ({p.value})"
    return f"{name}{words[0]}{p.value}" if lang == "zh" else f"{name} {words[1]} {p.value}"


def _scope_text(scope: Scope, lang: str = "zh") -> str:
    """A scope as a phrase of the answer's language: 2022年社会发展类, or "2022 社会发展类" (the names stay
    the data's own)."""
    if lang == "en":
        return " ".join(p for p in (" and ".join(map(str, scope.years)), ", ".join(scope.categories),
                                    ", ".join(scope.departments)) if p)
    parts = [f"{'、'.join(map(str, scope.years))}年" if scope.years else "",
             "、".join(scope.categories), "、".join(scope.departments)]
    return "".join(parts)


def _filters(scope: Scope) -> dict[str, Any]:
    f: dict[str, Any] = {}
    if len(scope.years) == 1:
        f["year"] = scope.years[0]
    if len(scope.departments) == 1:
        f["department"] = scope.departments[0]
    if len(scope.kinds) == 1:
        f["kind"] = scope.kinds[0]
    if len(scope.categories) == 1:
        f["category"] = scope.categories[0]
    return f


def _sum_parts(text: str, lex: Lexicon, departments: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """The parts a sum names, each with the department it belongs to (one named inside it, else the nearest
    named before it, else any of the named): the question without its years, its sum and amount words and unit,
    cut at the lexicon's joiners. 三类, 两项 and the like are dropped."""
    ask = lex.quantity_asks.pattern.pattern
    body = lex.op("sum").pattern.split(text)[0] if lex.op("sum").search(text) else text
    body = re.sub(rf"(?:{ask}).*$", "", body)
    body = re.sub(r"(?:19|20)\d\d\s*年?|[一二两三四五六七八九十\d]+\s*(?:类|项|个|种|笔|部分)", "", body)
    joiners = "|".join(re.escape(j) for j in sorted(lex.op("sum_joiners").words, key=len, reverse=True)) \
        if "sum_joiners" in lex.operations else "、|和|与"
    parts: list[tuple[str, str | None]] = []
    current: str | None = None
    for piece in re.split(joiners, body):
        owner = next((d for d in departments if d in piece or d.removeprefix("市") in piece), None)
        current = owner or current
        for d in departments:
            piece = piece.replace(d, "").replace(d.removeprefix("市"), "")
        piece = re.sub(r"^[的之\s]+|[的\s,,]+$", "", piece)
        if piece:
            parts.append((piece, current if len(departments) > 1 else None))
    return parts


def _span_text(numbers: list[int], lang: str) -> str:
    """Consecutive numbers as spans: [3, 4, 5, 8] -> "3至5、8" ("3–5, 8" in English)."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    joiner, dash = ("、", "至") if lang == "zh" else (", ", "–")
    return joiner.join(str(a) if a == b else f"{a}{dash}{b}" for a, b in spans)


def _places(values: list[Any]) -> list[int]:
    """Places in an ordered list, ties sharing one (1, 2, 2, 4)."""
    out: list[int] = []
    for i, v in enumerate(values, 1):
        out.append(out[-1] if out and v == values[i - 2] else i)
    return out
