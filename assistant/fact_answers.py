"""Answers computed from the facts over all rows: lookups, ranks, superlatives, thresholds, counts,
averages and statuses. Never from retrieved chunks."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from assistant.contract import Answer, CitationBook, Fact
from assistant.corpus import Corpus
from assistant.facts import DepartmentRow, ItemStatus, Stats, item_statuses, score_stats
from assistant.question import Question
from assistant.records import Commitment
from assistant.render import render

MEASURE_FIELD = {"score": "最终得分", "rank": "类别内排名", "coefficient": "评定难度系数"}
MEASURE_EN = {"score": "final score", "coefficient": "difficulty coefficient"}
OPS = {"gt": ("高于", "above", lambda v, b: v > b), "ge": ("不低于", "at least", lambda v, b: v >= b),
       "lt": ("低于", "below", lambda v, b: v < b), "le": ("不高于", "at most", lambda v, b: v <= b)}


@dataclass(frozen=True)
class Valued:
    """A department row with the value being compared (score or coefficient)."""

    department: str
    value: Decimal
    rank: int | None
    row: DepartmentRow


class FactAnswerer:
    def __init__(self, corpus: Corpus, question: Question):
        self.corpus = corpus
        self.q = question
        self.book = CitationBook()
        self.facts: list[Fact] = []

    # ---- citing --------------------------------------------------------------------------------

    def anchor(self, d: DepartmentRow) -> Commitment:
        record = self.corpus.record_at(d.source, d.line)
        assert record is not None, (d.source, d.line)
        return record

    def cite_measure(self, d: DepartmentRow, measure: str) -> int:
        """Cite a department's score, rank or coefficient on the row where it is written, and note the fact."""
        field = MEASURE_FIELD[measure]
        value: Any = {"score": d.score, "rank": d.rank, "coefficient": d.coefficient}[measure]
        cite = self.book.cite(self.anchor(d), field, str(value), line=d.line)
        unit = {"score": "分", "rank": "名", "coefficient": ""}[measure]
        fact = Fact(field, value, (cite,), d.department, d.year, unit)
        if fact not in self.facts:
            self.facts.append(fact)
        return cite

    def answer(self, text: str, filters: dict[str, Any], mode: str = "facts") -> Answer:
        return Answer(self.q.text, text, mode, self.book.citations, self.facts,  # type: ignore[arg-type]
                      {"rows": len(self.corpus.records), "filters": filters, "method": "facts over all rows"},
                      self.q.intent)

    # ---- scope ---------------------------------------------------------------------------------

    def rows(self, measure: str) -> list[DepartmentRow]:
        attr = "coefficient" if measure == "coefficient" else "score"
        rows = [d for d in self.corpus.departments if getattr(d, attr) is not None]
        if self.q.years:
            rows = [d for d in rows if d.year in self.q.years]
        if self.q.category and measure != "coefficient":
            rows = [d for d in rows if d.category == self.q.category]
        return rows

    def scope_filters(self, measure: str) -> dict[str, Any]:
        filters: dict[str, Any] = {}
        if self.q.years:
            filters["year"] = self.q.years[0] if len(self.q.years) == 1 else self.q.years
        if self.q.category and measure != "coefficient":
            filters["category"] = self.q.category
        filters["measure"] = MEASURE_FIELD.get(measure, measure)
        return filters

    def partial_note(self, stats: Stats, purpose: str = "rank") -> str:
        if not stats.missing_ranks or stats.category is None:
            return ""
        missing = stats.missing_ranks
        missing_text = f"{missing[0]}至{missing[-1]}" if len(missing) > 1 else str(missing[0])
        self.facts.append(Fact("类别内已有排名", f"{stats.ranks_present[0]}–{stats.ranks_present[-1]}",
                               tuple(self.cite_measure(d, "rank") for d in stats.rows[:1]), None, stats.year,
                               method=f"ranks present in the data for {stats.category}; missing: {missing_text}"))
        return render("partial_note.j2", lang=self.q.lang, category=stats.category, first=stats.ranks_present[0],
                      last=stats.ranks_present[-1], missing=missing_text, purpose=purpose)

    def stats_for(self, d: DepartmentRow) -> Stats | None:
        found = score_stats(self.corpus.departments, d.year, d.category)
        return found[0] if found else None

    # ---- intents -------------------------------------------------------------------------------

    def lookup(self, department: str) -> str | None:
        """Score, rank, coefficient or category of one department. None when the data lacks it."""
        measure = self.q.measure or "score"
        wanted = "coefficient" if measure == "coefficient" else "score"
        rows = [d for d in self.corpus.departments if d.department == department
                and getattr(d, wanted) is not None and (not self.q.years or d.year in self.q.years)]
        if not rows:
            return None
        d = rows[0]
        cites: dict[str, int] = {}
        if measure == "coefficient":
            cites["coefficient"] = self.cite_measure(d, "coefficient")
        else:
            cites["score"] = self.cite_measure(d, "score")
            if d.rank is not None:
                cites["rank"] = self.cite_measure(d, "rank")
        note = ""
        stats = self.stats_for(d)
        if measure in ("rank", "category") and stats is not None:
            note = self.partial_note(stats)
        return render("lookup.j2", lang=self.q.lang, measure=measure, d=d, c=cites, partial_note=note)

    def compare(self, department: str) -> Answer:
        """A department across the years: score and rank, coefficient, and the items of each year."""
        years: list[dict[str, Any]] = []
        for d in sorted((d for d in self.corpus.departments if d.department == department
                         and (not self.q.years or d.year in self.q.years)), key=lambda d: d.year):
            cites = {m: self.cite_measure(d, m) for m in ("score", "rank", "coefficient")
                     if getattr(d, m) is not None}
            items = [(r, self.book.cite(r, "承诺事项", f"{r.item}.{r.title}"))
                     for r in self.corpus.records_of(department, d.year)]
            years.append({"kind": d.kind, "row": d, "cites": cites, "rows": items})
        text = render("compare.j2", department=department, years=years)
        return self.answer(text, {"department": department, "years": [y["row"].year for y in years]})

    def rank_of(self) -> Answer:
        """Who holds rank N (in a category, or in each category)."""
        rank = self.q.rank_n
        groups = []
        for stats in score_stats(self.corpus.departments, self.q.year, self.q.category):
            rows = [(d, self.cite_measure(d, "rank")) for d in stats.rows if d.rank == rank]
            for d, _ in rows:
                self.cite_measure(d, "score")
            present = f"{stats.ranks_present[0]}至{stats.ranks_present[-1]}" if stats.ranks_present else "-"
            if not rows and stats.ranks_present:
                self.facts.append(Fact("类别内已有排名", f"{stats.ranks_present[0]}–{stats.ranks_present[-1]}",
                                       (self.cite_measure(stats.rows[0], "rank"),), None, stats.year))
            groups.append({"category": stats.category, "year": stats.year, "rows": rows, "present": present})
        text = render("rank_of.j2", lang=self.q.lang, rank=rank, groups=groups)
        mode = "facts" if any(g["rows"] for g in groups) else "refusal"
        return self.answer(text, {**self.scope_filters("rank"), "rank": rank}, mode)

    def _valued(self, rows: list[DepartmentRow], measure: str) -> list[Valued]:
        found = []
        for d in rows:
            value = d.coefficient if measure == "coefficient" else d.score
            if value is not None:
                found.append(Valued(d.department, value, d.rank, d))
        return found

    def _groups(self, measure: str) -> list[tuple[int, str | None, list[DepartmentRow]]]:
        """Departments grouped as they are ranked: per year and category (coefficients: per year)."""
        groups: dict[tuple[int, str | None], list[DepartmentRow]] = {}
        for d in self.rows(measure):
            key = (d.year, None if measure == "coefficient" else d.category)
            groups.setdefault(key, []).append(d)
        return [(year, category, rows) for (year, category), rows in groups.items()]

    def superlative(self) -> Answer:
        measure = self.q.measure if self.q.measure in ("score", "coefficient") else "score"
        direction = self.q.superlative or "max"
        n = self.q.top_n or 1
        groups: list[dict[str, Any]] = []
        rank_cites: dict[str, int] = {}
        for year, category, rows in self._groups(measure):
            valued = sorted(self._valued(rows, measure), key=lambda v: v.value, reverse=direction == "max")
            if not valued:
                continue
            cutoff = valued[min(n, len(valued)) - 1].value
            chosen = [v for v in valued if (v.value >= cutoff if direction == "max" else v.value <= cutoff)]
            cited = []
            for v in chosen:
                cite = self.cite_measure(v.row, measure)
                if measure == "score" and v.rank is not None:
                    rank_cites[f"{v.department}{v.row.year}"] = self.cite_measure(v.row, "rank")
                cited.append((v, cite))
            note = ""
            if measure == "score" and category is not None:
                stats = self.stats_for(rows[0])
                if stats is not None and stats.missing_ranks and direction == "max":
                    note = self.partial_note(stats)
            groups.append({"year": year, "category": category, "rows": cited, "count": len(valued), "note": note})
        self.facts.append(Fact("比较范围", sum(g["count"] for g in groups), tuple(c for g in groups
                                                                              for _, c in g["rows"]),
                               method=f"{'max' if direction == 'max' else 'min'} of {MEASURE_FIELD[measure]} "
                                      "per year and category, ties included"))
        text = render("superlative.j2", lang=self.q.lang, groups=groups, direction=direction, top_n=n > 1,
                      measure_label=MEASURE_FIELD[measure], measure_label_en=MEASURE_EN[measure],
                      unit="分" if measure == "score" else "", rank_cites=rank_cites)
        return self.answer(text, self.scope_filters(measure))

    def threshold(self) -> Answer:
        assert self.q.comparison is not None
        measure = self.q.measure if self.q.measure in ("score", "coefficient") else "score"
        op, bound = self.q.comparison
        zh, en, test = OPS[op]
        rows = self._valued(self.rows(measure), measure)
        chosen = sorted((v for v in rows if test(v.value, bound)), key=lambda v: v.value, reverse=True)
        cited = [(v, self.cite_measure(v.row, measure)) for v in chosen]
        self.facts.append(Fact("符合条件的部门数", len(chosen), tuple(c for _, c in cited),
                               method=f"count of departments with {MEASURE_FIELD[measure]} {op} {bound} "
                                      f"among {len(rows)} compared"))
        self.facts.append(Fact("比较的部门数", len(rows), ()))
        scope = f"{self.q.years[0]}年" if len(self.q.years) == 1 else ""
        scope += self.q.category or "" if measure != "coefficient" else ""
        text = render("threshold.j2", lang=self.q.lang, rows=cited, compared=len(rows), bound=bound,
                      op_zh=zh, op_en=en, measure_label=MEASURE_FIELD[measure], measure_label_en=MEASURE_EN[measure],
                      unit="分" if measure == "score" else "", scope=scope + ("中" if scope else ""),
                      scope_en=f" in {self.q.category}" if self.q.category and measure != "coefficient" else "")
        return self.answer(text, {**self.scope_filters(measure), "condition": f"{op} {bound}"},
                           "facts" if chosen else "refusal")

    def aggregate(self) -> Answer:
        what = self.q.aggregate or "mean"
        measure = self.q.measure if self.q.measure in ("score", "coefficient") else "score"
        groups: list[dict[str, Any]] = []
        scopes = self._groups(measure)
        if what != "count" and not self.q.category and measure == "score" and len(scopes) > 1:
            by_year: dict[int, list[DepartmentRow]] = {}
            for year, _, rows in scopes:
                by_year.setdefault(year, []).extend(rows)
            scopes = scopes + [(year, None, rows) for year, rows in by_year.items()]
        for year, category, rows in scopes:
            valued = self._valued(rows, measure)
            if not valued:
                continue
            cites = [self.cite_measure(v.row, measure) for v in valued]
            values = [v.value for v in valued]
            label = category or ("全部部门" if self.q.lang == "zh" else "all departments")
            places = 4 if measure == "coefficient" else 2
            if what == "mean":
                total = sum(values, Decimal(0))
                value = (total / len(values)).quantize(Decimal(1).scaleb(-places))
                inputs = " + ".join(str(v) for v in values)
                method = f"({inputs}) / {len(values)} = {total} / {len(values)},保留{places}位小数"
                if self.q.lang == "en":
                    method = f"arithmetic mean of {len(values)} values, rounded to {places} places"
            elif what == "sum":
                value = sum(values, Decimal(0))
                method = " + ".join(str(v) for v in values)
            else:
                value = Decimal(len(values))
                method = f"count of departments with a {MEASURE_FIELD[measure]}"
            fact_label = {"mean": "平均", "sum": "合计", "count": "部门数"}[what]
            self.facts.append(Fact(f"{label}{fact_label}{MEASURE_FIELD[measure] if what != 'count' else ''}",
                                   value if what != "count" else len(values), tuple(cites), None, year,
                                   "分" if measure == "score" and what != "count" else "", method))
            if what == "mean":
                self.facts.append(Fact(f"{label}{MEASURE_FIELD[measure]}合计", sum(values, Decimal(0)), tuple(cites),
                                       None, year, method="sum of the inputs"))
            note = ""
            if category and measure == "score":
                stats = self.stats_for(rows[0])
                if stats is not None and stats.missing_ranks:
                    note = self.partial_note(stats, purpose="aggregate")
            groups.append({"label": label, "year": year, "count": len(values), "value": value, "method": method,
                           "cites": "".join(f"[{c}]" for c in cites), "note": note})
        text = render("aggregate.j2", lang=self.q.lang, groups=groups, what=what,
                      measure_label=MEASURE_FIELD[measure], measure_label_en=MEASURE_EN[measure],
                      unit="分" if measure == "score" else "")
        return self.answer(text, {**self.scope_filters(measure), "aggregate": what})

    def status(self) -> Answer:
        wanted = self.q.status or "exceeded"
        labels = {"exceeded": {"exceeded"}, "met": {"met", "exceeded"}, "not_met": {"partial"}}[wanted]
        records = [r for r in self.corpus.records if r.kind == "outcomes"
                   and (not self.q.departments or r.department in self.q.departments)
                   and (not self.q.years or r.year in self.q.years)
                   and (not self.q.category or r.category == self.q.category)]
        if not records:
            return self.no_outcomes()
        statuses = item_statuses(records)
        chosen: list[ItemStatus] = [s for s in statuses if s.status.label in labels]
        cited = [(s, self.book.cite(s.record, s.record.text_field, s.status.evidence,
                                    (s.status.start, s.status.end))) for s in chosen]
        for s, cite in cited:
            self.facts.append(Fact("状态", s.status.label, (cite,), s.record.department, s.record.year,
                                   method=s.status.reason))
        departments = sorted({s.record.department for s in chosen})
        self.facts.append(Fact("符合的承诺数", len(chosen), tuple(c for _, c in cited),
                               method=f"items whose status is {'/'.join(sorted(labels))} among {len(statuses)}"))
        not_stated = sum(1 for s in statuses if s.status.label == "not_stated") if wanted != "met" else 0
        if not_stated:
            self.facts.append(Fact("未写明是否达标的承诺数", not_stated, ()))
        self.facts.append(Fact("核对的兑现情况条数", len(statuses), ()))
        scope = "".join(self.q.departments) or (self.q.category or "")
        label_zh = {"exceeded": "超额完成(超过目标)", "met": "已完成或超额完成",
                    "not_met": "尚未完成(部分完成或进行中)"}[wanted]
        label_en = {"exceeded": "exceeded their targets", "met": "met or exceeded their targets",
                    "not_met": "are not yet complete"}[wanted]
        text = render("status.j2", lang=self.q.lang, items=cited, departments=departments, checked=len(statuses),
                      not_stated=not_stated, scope=scope, scope_en=f" of {scope}" if scope else "",
                      label_zh=label_zh, label_en=label_en)
        filters: dict[str, Any] = {"kind": "outcomes", "status": wanted}
        if self.q.departments:
            filters["department"] = self.q.departments[0] if len(self.q.departments) == 1 else self.q.departments
        if self.q.years:
            filters["year"] = self.q.years[0]
        return self.answer(text, filters, "facts" if chosen else "refusal")

    def no_outcomes(self) -> Answer:
        self.facts.append(Fact("检索的记录数", len(self.corpus.records), (), method="every row of every source"))
        years = sorted({r.year for r in self.corpus.records if r.kind == "outcomes"})
        text = render("refusal.j2", lang=self.q.lang, searched_rows=len(self.corpus.records), filters_text="",
                      reason=f"所问范围内没有兑现情况(只有年度目标);有兑现情况的年份是{'、'.join(map(str, years))}年。",
                      reason_en=f"there are no outcomes in that scope; outcomes exist for {years}.",
                      candidates=[], nearest=[])
        return self.answer(text, {"kind": "outcomes"}, "refusal")
