"""Question -> queries. The splitter cuts a question into the parts that each ask something; the extractors
(slots.py) fill each part's slots; the composer builds one query per ask, with the context the parts share
(departments, years, category, a leading topic) and, for a follow-up, the department of earlier messages."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from decimal import Decimal

from assistant.departments import Directory
from assistant.lexicon import Lexicon
from assistant.query import FieldIs, Measure, NumberInText, Query, Scope, StatusIs, TextAbout, TextContains, refuse
from assistant.slots import ASK, Slots, extract, normalise, relative_to

MAX_QUESTION = 1000
CONTINUATION = re.compile(r"^\s*(?:又|并且|而且|且|同时|以及)")
REFERS_BACK = re.compile(r"它|其|该部门|该单位|这个部门|那个部门|这家|那家|他们|同一|\b(?:it|its|they|their)\b", re.I)


@dataclass(frozen=True)
class Part:
    text: str  # the part's own words
    topic: str  # leading words of its sentence that ask nothing themselves ("圩区整治方面")


def _enumerated(clause: str) -> list[str]:
    """A clause cut at 、 only between pieces that each ask something (排第几、一共几项承诺、签约了多少个): 、
    otherwise lists things inside one ask (减碳、低碳有关; 商务局、水利局的得分)."""
    pieces = clause.split("、")
    out = [pieces[0]]
    for piece in pieces[1:]:
        if ASK.search(out[-1]) and ASK.search(piece):
            out.append(piece)
        else:
            out[-1] += "、" + piece
    return out


def split(text: str) -> list[Part]:
    """Parts that each ask something: sentences, then clauses that carry their own question word."""
    parts: list[Part] = []
    for sentence in re.split(r"(?<=[?？;；。!！])", text):
        subs = [p for clause in re.split(r"[,，]", sentence) for p in _enumerated(clause) if p.strip()]
        if not subs:
            continue
        groups: list[list[str]] = []
        current: list[str] = []
        for sub in subs:
            if not current and CONTINUATION.match(sub) and groups:
                groups[-1].append(sub)
                continue
            current.append(sub)
            if ASK.search(sub) or sub.rstrip().endswith(("?", "？")):
                groups.append(current)
                current = []
        if current:
            if groups:
                groups[-1].extend(current)
            else:
                groups.append(current)
        lead = []
        for sub in subs:
            if ASK.search(sub):
                break
            lead.append(sub)
        topic = ",".join(lead)
        for group in groups:
            own = ",".join(group)
            parts.append(Part(own, "" if own.startswith(topic) else topic))
    return parts or [Part(text, "")]


class Parser:
    def __init__(self, lexicon: Lexicon, directory: Directory, years: list[int], categories: list[str]):
        self.lex, self.directory, self.years, self.categories = lexicon, directory, sorted(years), categories

    def slots(self, text: str) -> Slots:
        return extract(text, self.lex, self.directory, self.years)

    def parse(self, question: str, history: list[str] | None = None, filters: dict | None = None
              ) -> tuple[list[Query], list[Slots]]:
        question = question[:MAX_QUESTION].strip()
        if not question:
            return [refuse("empty", question)], []
        parts = split(normalise(question))
        slots: list[Slots] = []
        for part in parts:
            s = self.slots(part.text)
            if slots and self._continues(slots[-1], s, part.text):
                slots[-1] = self.slots(f"{slots[-1].text},{part.text}")
                continue
            named = any(x.departments for x in slots)  # later parts take these departments (shared context)
            orders = bool(s.extreme or s.top or s.bottom or s.nth) and bool(slots) \
                and bool(slots[-1].measures or s.measures) and bool(
                    slots[-1].extreme or slots[-1].top or slots[-1].bottom or slots[-1].nth)  # "最大的是谁?最小的呢?"
            by_how_much = "difference" in s.ops and s.ops <= {"difference", "count"} and not s.measures  # "高多少?"
            if slots and not s.own_entities() and not orders and (by_how_much or not named or not (
                    s.measures or s.ops or s.wants_quantity or s.status)):
                merged = self.slots(f"{slots[-1].text},{part.text}")  # "…是谁,得了多少分?": one ask, said twice
                slots[-1] = merged
                continue
            if part.topic:
                s.text = f"{part.topic},{s.text}"
                topic = self.slots(part.topic)
                s.phrases = s.phrases or topic.phrases
                s.concept = s.concept or topic.concept
            slots.append(s)
        self._share_measures(slots, history or [])
        self._share_context(slots, history or [])
        self._share_subject(slots)
        for i, s in enumerate(slots):
            if s.relative is None:  # "比它高的有哪些?": the department the pronoun stands for is known now
                relative_to(s, s.text, self.lex, REFERS_BACK)
            if s.relative and not s.measures:  # …and the measure is the one asked before
                earlier = [*reversed(slots[:i]), *(self.slots(normalise(h)) for h in reversed(history or []))]
                s.measures = next(([(m, 0)] for e in earlier for m, _ in e.measures if m in ("score", "coefficient")),
                                  [])
        self._take_filters(slots, filters or {})
        queries: list[Query] = []
        for s in slots:
            for q in self.compose(s):
                _add(queries, q)
        return queries, slots

    def _share_measures(self, slots: list[Slots], history: list[str]) -> None:
        """A part that names a department and asks nothing of its own ("红十字会呢?", "and the Water Bureau?")
        asks what the part before it asked, or (for a follow-up) what the latest earlier message asked."""
        earlier = [self.slots(normalise(h)) for h in history[-1:]]
        for i, s in enumerate(slots):
            bare = s.departments and not (s.measures or s.ops or s.status or s.phrases or s.concept or s.comparisons
                                          or s.wants_quantity or s.extreme or s.nth or s.rank_eq or s.rank_range
                                          or s.top
                                          or s.bottom or s.listing)
            order = not s.measures and bool(s.extreme or s.top or s.bottom or s.nth)  # "最小的呢?"
            before = slots[i - 1] if i else (earlier[0] if earlier else None)
            if (bare or order) and before is not None and before.measures:
                s.measures = [(name, 0) for name, _ in before.measures]

    def _continues(self, previous: Slots, s: Slots, text: str) -> bool:
        """A part that only completes the one before: the departments a bare question asks about ("which
        ranks higher, A or B?"), or the other year of a set difference ("只有2023年有、2022年没有")."""
        if not previous.own_entities() and s.departments and not ASK.search(text):
            return True
        if not previous.departments and s.departments and not (previous.measures and s.measures) and not s.years \
                and (previous.extreme or "difference" in previous.ops | s.ops) and re.search(r"\bor\b|还是|或", text):
            return True  # "Which has the higher 2023 coefficient, the Finance Bureau or the Transport Bureau"
        return "only_in" in previous.ops and bool(s.years) and not s.departments and \
            bool(self.lex.op("absent").search(text))

    def _share_context(self, slots: list[Slots], history: list[str]) -> None:
        """Later parts take the departments, years and category of earlier parts when they name none;
        a follow-up takes the department of the latest earlier message that named one."""
        for i, s in enumerate(slots):
            previous = slots[i - 1] if i else None
            if previous is not None and not s.departments and not s.unknown and previous.departments:
                s.departments = list(previous.departments)
            elif previous is not None and "difference" in s.ops and len(s.departments) == 1 \
                    and len(previous.departments) == 1 and previous.departments[0][0] != s.departments[0][0]:
                # "卫健委多少分?比文旅局高多少?": the difference of the earlier department and this one
                s.departments = [(previous.departments[0][0], -1), *s.departments]
                s.relative = None
            if previous is not None and not s.years and previous.years:
                s.years = list(previous.years)
            if previous is not None and not s.categories and previous.categories:
                s.categories = list(previous.categories)
        first = slots[0] if slots else None
        if first is None or first.departments or first.unknown or not history:
            return
        follow_up = REFERS_BACK.search(first.text) or (first.measures and not (
            first.categories or first.extreme or first.top
            or first.ops & {"mean", "median", "sum", "count", "spread", "ties"} or first.comparisons
            or first.rank_eq or first.rank_range or first.nth or first.listing))
        if not follow_up:
            return
        for earlier in reversed(history):
            found = self.directory.find(normalise(earlier))
            if found:
                for s in slots:
                    if not s.departments:
                        s.departments = [(found[0].department, 0)]
                return

    def _share_subject(self, slots: list[Slots]) -> None:
        """A later part that asks an amount or a content question and names no subject of its own (…完成了多少,
        2023年目标定的多少?; 湖杭高速2022年建到什么程度了,2023年的目标是什么?) asks about the subject of the part
        before: it is looked up with those words."""
        from assistant.content import content_chars

        for previous, s in itertools.pairwise(slots):
            if not (s.wants_quantity or s.asks) or s.measures or s.phrases or s.concept or s.ops or s.status \
                    or s.departments != previous.departments:
                continue
            own = self.lex.kinds["targets"].pattern.sub("", self.lex.kinds["outcomes"].pattern.sub("", s.text))
            own = re.sub(r"(?:19|20)\d\d年?|定的|定了|是|\b(?:what|how|much|many|the|and|in|for|of)\b", "", own,
                         flags=re.I)
            if len(content_chars(own)) <= 2 and len(content_chars(previous.text)) > len(content_chars(s.text)):
                s.text = f"{previous.text},{s.text}"

    def _take_filters(self, slots: list[Slots], filters: dict) -> None:
        """A front end's filters fill the slots a question leaves empty (a contradiction is warned of later)."""
        name = self.directory.resolve(str(filters.get("department") or ""))
        year = filters.get("year")
        for s in slots:
            if name and not s.departments and not s.unknown:
                s.departments = [(name, 0)]
            if year and not s.years and str(year).isdigit() and int(year) in self.years:
                s.years = [(int(year), 0)]
            if filters.get("category") in self.categories and not s.categories:
                s.categories = [str(filters["category"])]

    # ---- the composer ---------------------------------------------------------------------------------

    def compose(self, s: Slots) -> list[Query]:
        lang, text = s.lang, s.text
        if s.other_city:
            return [refuse("other_city", text, lang, city=s.other_city, name=s.unknown[0] if s.unknown else
                           (s.names[0] if s.names else ""))]
        if s.unknown and not s.departments:
            return [refuse("unknown_department", text, lang, name=s.unknown[0],
                           suggestions=tuple(self.directory.suggest(s.unknown[0])))]
        years = [y for y in s.year_values if y in self.years]
        if s.missing_years and not years:
            return [refuse("no_year", text, lang, year=s.missing_years[0], have=tuple(self.years))]
        names = tuple(s.names)
        if names and s.item_no is not None and (s.status or self.lex.op("status_question").search(text)):
            # 水利局第2项承诺完成了吗: that item's sentences, each with its status
            return [Query("status_of", Scope(years=tuple(y for y in s.year_values if y in self.years),
                                             departments=names, items=(s.item_no,)), lang=lang, text=text)]
        if names and s.item_no is not None and not s.status:  # 科技局第3项承诺是什么: that item, of each year
            return [Query("items", Scope(years=tuple(y for y in s.year_values if y in self.years), departments=names,
                                         items=(s.item_no,)), lang=lang, text=text)]
        if names and "items" in s.ops and (s.listing or s.asks) and not s.status and not s.phrases and not s.relative \
                and not [m for m, _ in s.measures if m != "items_count"] \
                and not s.wants_quantity_noun() \
                and not ("count" in s.ops and any(m == "items_count" for m, _ in s.measures)
                         and not self.lex.op("list").search(text)):  # 列一下…几项工作: the items themselves
            return [Query("items", Scope(years=tuple(y for y in s.year_values if y in self.years),
                                         departments=names), lang=lang, text=text)]
        scope = Scope(years=tuple(years), categories=tuple(c for c in s.categories if c in self.categories),
                      departments=names, kinds=(s.kind,) if s.kind and not names else ())
        measure = self._measure(s)
        base = Query("value", scope, (), measure, lang=lang, text=text, every_year=s.every_year, combined=s.combined)

        if s.ops & {"summary"} and names and not s.wants_quantity and not s.measures:
            return [replace(base, operation="summary", measure=None)]
        phrase_predicates: tuple[TextContains | TextAbout, ...] = tuple(TextContains(p) for p in s.phrases)
        if s.phrases and (s.status or self.lex.op("status_question").search(text)) and "count" not in s.ops:
            return [replace(base, operation="status_of", predicates=phrase_predicates, measure=None)]
        if s.concept and not s.phrases:  # 减碳、低碳: alternatives, each a concept
            phrase_predicates = tuple(TextAbout(c) for c in dict.fromkeys(
                re.split(r"\s*(?:、|或者|或是|或|/|\bor\b)\s*", s.concept)) if len(c) >= 2) \
                or (TextAbout(s.concept),)
        if phrase_predicates and (s.concept or s.listing or self.lex.mentions.search(text)):
            quantity = Measure("quantity", unit=s.quantity_unit or ("亿" if s.money else ""), noun=s.concept or "") \
                if (s.wants_quantity and "count" not in s.ops and not re.search(r"几项|几条|多少项|多少条", text)) \
                else None
            op = "count" if ("count" in s.ops or re.search(r"几项|几条|多少项|多少条", text)) else "list"
            return [replace(base, operation=op, predicates=phrase_predicates, measure=quantity,
                            scope=replace(scope, departments=names))]
        if "intersect" in s.ops and len(years) < 2 and len(self.years) >= 2 and not names:
            years = self._two_years(years)  # "两年都有": the newest two, or the one named and the newest other
        if "only_in" in s.ops and len(years) == 1 and len(self.years) >= 2 and not names:
            years = self._two_years(years)  # "只出现在2023年": against the newest other year
        if "intersect" in s.ops and len(years) >= 2:
            first_measure, second_measure = self._paired_measures(s, years)
            return [replace(base, operation="intersect", scope=replace(scope, years=(years[0],), kinds=()),
                            second=replace(scope, years=(years[1],), kinds=()), measure=Measure(first_measure),
                            second_measure=Measure(second_measure))]
        if s.status and not [m for m, _ in s.measures if m != "items_count"] and not s.comparisons:
            wanted = tuple(dict.fromkeys(s.status))
            op = "count" if "count" in s.ops or s.wants_quantity else "list"
            return [replace(base, operation=op, predicates=(StatusIs(wanted),),
                            measure=Measure("items_with_status", status=wanted[0]),
                            scope=replace(scope, kinds=("outcomes",)))]
        numbers = self._number_predicates(s)
        if numbers and (not names or s.listing or "count" in s.ops):  # 城市集团哪些项目完成率超过了100%: its rows
            op = "count" if "count" in s.ops and not s.listing else "list"
            first = numbers[0]
            return [replace(base, operation=op, predicates=tuple(numbers),
                            measure=Measure("quantity", unit=first.unit, noun=self._noun_before(s, first)))]
        if "only_in" in s.ops and len(years) >= 2:
            only = self._only_year(s, years)
            other = next(y for y in years if y != only)
            return [replace(base, operation="only_in", scope=replace(scope, years=(only,), kinds=()),
                            second=replace(scope, years=(other,), kinds=()), measure=Measure("score"),
                            second_measure=Measure("score"))]
        field_measure = measure.name if measure and measure.name in ("score", "rank", "coefficient") else None
        predicates = tuple(self._field_predicates(s, field_measure))
        if len(names) == 1 and len(scope.categories) == 1 and "difference" in s.ops and (s.extreme or s.rank_eq == 1):
            # 商务局比社会发展类最低分高多少: the department against that category's lowest (highest) one
            return [replace(base, operation="difference", scope=replace(scope, categories=()),
                            second=Scope(years=scope.years, categories=scope.categories),
                            ascending=s.extreme == "min", measure=Measure(field_measure or "score"))]
        if names and s.whether and not s.listing and not s.who and not s.relative:
            # 国资委得分是否超过124.5分, 供销社进入前15了吗: each named department's verdict, with its value
            checked = [p for p in predicates if p.field in ("score", "coefficient")] or (
                [FieldIs("rank", "<=", Decimal(s.top))] if s.top else [])
            if checked:
                return [replace(base, operation="check", predicates=tuple(checked),
                                measure=Measure(checked[0].field))]
        if "ties" in s.ops and not (names and "difference" in s.ops) and not any(p.op == "=" for p in predicates):
            return [replace(base, operation="ties", measure=Measure(field_measure or "coefficient"),
                            predicates=predicates, n=1 if s.extreme else None, ascending=s.extreme == "min")]
        if s.relative and len(names) == 1 and (s.listing or s.who or "count" in s.ops) and "next_to" not in s.ops \
                and "next_above" not in s.ops:  # 哪些部门比水利局高: the department's own value is the threshold
            op, name = s.relative
            relative_field = field_measure if field_measure in ("score", "coefficient") else "score"
            return [replace(base, operation="count" if "count" in s.ops and not s.listing else "list",
                            predicates=(FieldIs(relative_field, op, Decimal(0), of=name),),  # type: ignore[arg-type]
                            measure=Measure(relative_field), scope=replace(scope, departments=()))]
        if s.versus_mean and not names and not s.relative:  # 高于平均分的部门: each group's average is the threshold
            against = field_measure if field_measure in ("score", "coefficient") else "score"
            return [replace(base, operation="count" if "count" in s.ops and not s.listing else "list",
                            predicates=(FieldIs(against, s.versus_mean, Decimal(0), against="mean"),  # type: ignore[arg-type]
                                        *predicates),
                            measure=Measure(against))]
        if ("next_to" in s.ops or "next_above" in s.ops) and names:
            return [replace(base, operation="next", anchor=names[0], measure=Measure(field_measure or "score"),
                            scope=replace(scope, departments=()),
                            ascending=s.ascending or "next_above" in s.ops)]
        if "spread" in s.ops and len(names) < 2:
            return [replace(base, operation="spread", measure=Measure(self._ordered_measure(field_measure, s)),
                            predicates=predicates, combined=not scope.categories)]
        if len(names) >= 2 and ("difference" in s.ops or s.extreme or s.who or field_measure == "rank"):
            if (s.extreme and len(names) > 2) or (s.extreme and "difference" not in s.ops):
                return [replace(base, operation=s.extreme, measure=Measure(self._ordered_measure(field_measure, s)),
                                combined=True)]
            return [replace(base, operation="difference", measure=Measure(field_measure or "score"))]
        if s.rank_eq is not None and not names and field_measure == "coefficient":  # 系数…排第4: an order, no rank
            return [replace(base, operation="nth", n=s.rank_eq, ascending=s.ascending, measure=Measure("coefficient"),
                            predicates=predicates)]
        if s.rank_eq is not None and not names:
            return [replace(base, operation="list", predicates=(FieldIs("rank", "=", Decimal(s.rank_eq)),),
                            measure=Measure("rank"))]
        if s.rank_range is not None and not names:  # 第3到第5名: who holds each rank of the range
            low, high = s.rank_range
            return [replace(base, operation="list", predicates=(FieldIs("rank", "between", Decimal(low),
                                                                        Decimal(high)),), measure=Measure("rank"))]
        if s.nth is not None and not names:
            return [replace(base, operation="nth", n=s.nth, ascending=s.ascending,
                            measure=Measure(self._ordered_measure(field_measure, s)), predicates=predicates)]
        aggregate = next((op for op in ("median", "mean", "sum") if op in s.ops), None)
        if (s.top or s.bottom) and not names and aggregate:  # 最低的两个单位平均分
            return [replace(base, operation=aggregate, n=s.top or s.bottom,
                            ascending=bool(s.bottom), measure=Measure(self._ordered_measure(field_measure, s)),
                            predicates=predicates)]
        if (s.top or s.bottom) and not names:
            op = "top" if s.top else "bottom"
            return [replace(base, operation=op, n=s.top or s.bottom, measure=Measure(
                self._ordered_measure(field_measure, s)), predicates=predicates)]
        if not names and s.extreme and "mean" in s.ops and (s.relative_mean or "difference" in s.ops):
            # 社会发展类的最高分比该类平均分高出多少: the highest (or lowest) department against the average
            return [replace(base, operation="from_mean", n=1, ascending=s.extreme == "min", measure=Measure(
                field_measure if field_measure in ("score", "coefficient") else "score"))]
        if s.extreme and not names and (measure or scope.categories or s.who or s.listing or "部门" in text):
            return [replace(base, operation=s.extreme, measure=Measure(self._ordered_measure(field_measure, s)),
                            predicates=predicates)]
        if "ranking" in s.ops and not names and not predicates and not s.phrases and not s.concept:
            return [replace(base, operation="bottom" if s.ascending else "top", n=0,  # n=0: all of them
                            measure=Measure(self._ordered_measure(field_measure, s)))]
        if predicates and not names and aggregate and not s.listing:
            # 得分在120分以上的部门平均分: the aggregate over the departments that pass
            return [replace(base, operation=aggregate, predicates=predicates,
                            measure=Measure(predicates[0].field))]
        if predicates and not names:
            op = "count" if "count" in s.ops and not s.listing else "list"
            return [replace(base, operation=op, predicates=predicates,
                            measure=Measure(predicates[0].field if isinstance(predicates[0], FieldIs) else "score"))]
        if aggregate and not names:
            versus = "difference" in s.ops and len(scope.categories) == 2
            ordered = tuple(sorted(scope.categories, key=lambda c: min(  # in the order the question names them
                (m.start() for cat in self.lex.categories if cat.name == c for m in cat.spellings.finditer(text)),
                default=0)))
            return [replace(base, operation=aggregate, versus=versus,
                            scope=replace(scope, categories=ordered) if versus else scope,
                            measure=Measure(self._ordered_measure(field_measure, s)))]
        if not names and self._counts_items(s):  # 2023年一共有多少项承诺: every row in scope, counted
            return [replace(base, operation="count", measure=Measure("items"), predicates=())]
        counts_departments = ("count" in s.ops and not names and (
            (re.search(r"部门|单位|department", text, re.I) and not s.wants_quantity)
            or (measure is not None and measure.name != "quantity"))) or (
            not names and not s.concept and not s.phrases and bool(self.lex.op("count_departments").search(text)))
        if counts_departments:
            return [replace(base, operation="count", measure=Measure(field_measure or "score"))]
        if not names and scope.categories and (s.listing or s.who) and not s.concept and not s.phrases \
                and not s.wants_quantity:  # the departments of a category
            return [replace(base, operation="list", measure=Measure(field_measure or "score"))]
        if names and measure and measure.name == "items":
            return [replace(base, operation="count", measure=Measure("items"))]
        if names and (s.versus_mean or ("mean" in s.ops and (s.relative_mean or "difference" in s.ops))):
            # 湖州银行比本类平均分低多少: the department against its group's average
            return [replace(base, operation="from_mean", measure=Measure(
                field_measure if field_measure in ("score", "coefficient") else "score"))]
        if names and self._rank_by_coefficient(s):  # 水利局的难度系数排第几: a place computed in that order
            return [replace(base, operation="place", measure=Measure("coefficient"), ascending=s.ascending)]
        if names and s.measures:
            return self._values(s, base, years)
        if names and "items" in s.ops and not s.wants_quantity:
            return [replace(base, operation="items", measure=None)]
        if names and "summary" in s.ops:
            return [replace(base, operation="summary", measure=None)]
        if not names and not s.measures and not s.wants_quantity and not s.status:
            did = self._what_departments_did(s)  # 哪些单位做了混改: the rows that say so, over every row
            if did:
                return [replace(base, operation="list", predicates=(TextAbout(did),), measure=None)]
        if "sum" in s.ops and s.lang == "zh" and s.quantity_unit and not s.measures:
            # 普惠小微、制造业、民营企业贷款新增合计多少亿元: each amount found in the rows' texts, then added
            return [replace(base, operation="sum", measure=Measure("quantity", unit=s.quantity_unit),
                            scope=replace(scope, kinds=(s.kind,) if s.kind else ()))]
        return [replace(base, operation="content", measure=Measure(
            "quantity", unit=s.quantity_unit or ("亿" if s.money else ""), noun=s.concept or ""),
            scope=replace(scope, kinds=(s.kind,) if s.kind else ()))]

    def _measure(self, s: Slots) -> Measure | None:
        names = [m for m, _ in s.measures]
        if "items_count" in names and s.departments and not {"score", "rank", "coefficient"} & set(names) \
                and self._items_count_only(s):
            return Measure("items")
        for name in ("coefficient", "rank", "score"):
            if name in names:
                return Measure(name)
        if s.wants_quantity:
            return Measure("quantity", unit=s.quantity_unit or "")
        return None

    def _ordered_measure(self, field_measure: str | None, s: Slots) -> str:
        if field_measure in ("score", "coefficient"):
            return field_measure
        if field_measure == "rank":
            return "score"
        values = [c[1] for c in s.comparisons]
        return "coefficient" if values and max(values) < 5 else "score"

    def _field_predicates(self, s: Slots, field_measure: str | None) -> list[FieldIs]:
        found = []
        for op, value, upper, unit, _ in s.comparisons:
            if unit and unit not in ("分",):
                continue  # a quantity in a row's text, not a department's field
            name = field_measure if field_measure in ("score", "coefficient") else \
                "coefficient" if value < 5 and (upper is None or upper < 5) else "score"
            symbol = {"ge": ">=", "le": "<=", "gt": ">", "lt": "<", "eq": "=", "between": "between"}[op]
            found.append(FieldIs(name, symbol, value, upper))  # type: ignore[arg-type]
        return found

    def _number_predicates(self, s: Slots) -> list[NumberInText]:
        """A comparison in a unit other than points is about a number in a row's text (超过1000家, above 50亿元)."""
        symbols = {"ge": ">=", "le": "<=", "gt": ">", "lt": "<", "eq": "=", "between": "between"}
        return [NumberInText(self._chinese_unit(unit), symbols[op], value, upper)  # type: ignore[arg-type]
                for op, value, upper, unit, _ in s.comparisons if unit and unit != "分"]

    def _chinese_unit(self, unit: str) -> str:
        """An English unit (km) as the rows write it (公里), through the lexicon."""
        terms = (self.lex.english.get(unit.lower()) or self.lex.english.get(unit.lower().removesuffix("s"), ())) \
            if unit.isascii() else ()
        return terms[0] if terms else unit

    def _noun_before(self, s: Slots, p: NumberInText) -> str:
        """The words just before the compared number name what is counted (新增企业超过1000家): they narrow
        which numbers count. Generic words (金额, the question's frame) are not a noun."""
        at = next(pos for op, value, upper, unit, pos in s.comparisons
                  if value == p.value and self._chinese_unit(unit) == p.unit)
        before = re.split(r"[,?。;的]", s.text[:at])[-1]  # the words after the last 的 (目标的面积在…)
        before = self.directory.without(before, " ")  # 城市集团哪些项目完成率…: the department is not the noun
        before = re.split(self.lex.op("list").pattern.pattern + "|" + self.lex.op("who").pattern.pattern, before,
                          flags=re.I)[-1]
        if "item_nouns" in self.lex.operations:  # 项目完成率: the rate, of the items
            before = re.sub(rf"^\s*(?:{self.lex.op('item_nouns').pattern.pattern})", "", before)
        words = re.findall(r"[\u4e00-\u9fff]+", before)
        noun = words[-1] if words else ""
        for pattern in (self.lex.text_noise.pattern, self.lex.money.pattern, ASK, self.lex.mentions.pattern,
                        self.lex.every_year.pattern):
            noun = pattern.sub("", noun)
        for word in self.lex.comparators.values():
            noun = word.pattern.sub("", noun)
        noun = re.sub(r"^[年月]|[在为是达有要]$", "", noun)  # 2023年…, …在1万亩以上
        return noun if len(noun) >= 2 else ""

    def _two_years(self, named: list[int]) -> list[int]:
        """The named year (if any) first, then the newest other years of the data, two in all."""
        others = [y for y in sorted(self.years, reverse=True) if y not in named]
        return sorted([*named, *others][:2])

    def _only_year(self, s: Slots, years: list[int]) -> int:
        """The year said right after "only" (只有2023年 / only in 2023) is the one the departments must be in; a
        year said not to hold them (但不在2022年, 2022年没有) leaves the other."""
        if s.excluded_year in years:
            return next(y for y in years if y != s.excluded_year)
        marks = [m.end() for m in self.lex.op("only_in").finditer(s.text)]
        for year, pos in s.years:
            if year in years and any(0 <= pos - end <= 3 for end in marks):
                return year
        return years[0]

    def _paired_measures(self, s: Slots, years: list[int]) -> tuple[str, str]:
        """"2022年的考核得分,又有2023年的难度系数": each measure goes with the year said before it."""
        pairs = self._measure_years(s)
        by_year = {y: m for m, y in pairs}
        return by_year.get(years[0], "score"), by_year.get(years[1], "coefficient")

    def _measure_years(self, s: Slots) -> list[tuple[str, int | None]]:
        out = []
        for name, pos in s.measures:
            if name == "items_count":
                continue
            before = [y for y, p in s.years if p <= pos]
            after = [y for y, p in s.years  # "score in 2022": English says the year after the measure
                     if p > pos and re.fullmatch(r"[A-Za-z' ]{0,25}\b(?:in|for) ", s.text[pos:p])]
            out.append((name, after[0] if s.lang == "en" and after else before[-1] if before else None))
        return out

    def _counts_items(self, s: Slots) -> bool:
        """How many commitments (in a year, a category, a kind), asked of no department: the count word for items,
        followed by nothing but the lexicon's words for a commitment (2022年一共有多少条承诺事项, 2023年共有多少项).
        "全市突破了多少项核心技术" asks for a number in a row's text instead."""
        if s.status or s.phrases or s.concept or s.comparisons:
            return False
        return self._items_count_only(s)

    def _what_departments_did(self, s: Slots) -> str:
        """"哪些单位做了混改", "哪些部门招引了大学生": a listing of departments followed by what they did. The words
        after the listing (了 dropped) are a concept to match in every row; "" when the question is not one."""
        m = re.search(r"(?:哪些|哪几个|哪几家|哪个|哪家)(?:部门|单位)(?:都|还|也)?(.+)$", s.text)
        if not m or re.search(r"的\s*[??]?\s*$", s.text):
            return ""  # "…公司是哪个单位组建的": asked of a thing named before, a content question
        prefix = re.sub(r"(?:19|20)\d\d年?|[在的,,\s]", "", s.text[:m.start()])
        for category in self.lex.categories:
            prefix = category.spellings.pattern.sub("", prefix)
        if prefix:
            return ""
        rest = re.sub(r"[了过着]|[,,。??!!]|吗|呢|啊|(?:19|20)\d\d年?", "", m.group(1)).strip()
        if "light_verbs" in self.lex.operations:  # 做混改: the thing done, not the doing
            rest = re.sub(rf"^(?:{self.lex.op('light_verbs').pattern.pattern})", "", rest)
        rest = re.sub(r"^(?:有|在|是|都|还)+", "", rest)
        left = self.lex.op("item_nouns").pattern.sub("", rest) if "item_nouns" in self.lex.operations else rest
        for words in self.lex.kinds.values():  # 在2023年有目标: nothing asked beyond the tables themselves
            left = words.pattern.sub("", left)
        if len(re.findall(r"[\u4e00-\u9fff]", re.sub(r"^(?:有|在|是)+|[有的]", "", left))) < 2 or len(rest) > 16:
            return ""
        return rest

    def _items_count_only(self, s: Slots) -> bool:
        """A count word for items followed by nothing but the words for a commitment (几项承诺, 多少项): the
        number of rows. "突破了多少项核心技术" asks for a number in a row's text."""
        for m in self.lex.measures["items_count"].finditer(s.text):
            rest = self.directory.without(s.text[m.end():])
            if "item_nouns" in self.lex.operations:
                rest = self.lex.op("item_nouns").pattern.sub("", rest)
            rest = re.sub(r"(?:19|20)\d\d年?|[吗呢啊呀吧了的]", "", rest)
            if not re.search(r"[\u4e00-\u9fff]|[A-Za-z]{2,}", rest):
                return True
        return False

    def _rank_by_coefficient(self, s: Slots) -> bool:
        """A rank word next to the coefficient (难度系数排第几, rank by difficulty coefficient), no score named and
        no joiner between them (难度系数和排名 asks for two values)."""
        names = [m for m, _ in s.measures]
        if "coefficient" not in names or "rank" not in names or "score" in names:
            return False
        for (a, pa), (b, pb) in ((x, y) for x in s.measures for y in s.measures):
            if (a, b) == ("coefficient", "rank") and abs(pb - pa) <= 24:
                between = s.text[min(pa, pb):max(pa, pb)]
                if not re.search(r"[和与及、,;]|以及|\band\b", between):
                    return True
        return False

    def _values(self, s: Slots, base: Query, years: list[int]) -> list[Query]:
        """One value query per measure asked, each with the year said nearest before it."""
        pairs = self._measure_years(s)
        if not pairs:
            return [base]
        queries: list[Query] = []
        counts = [pos for name, pos in s.measures if name == "items_count"]
        for name, year in dict.fromkeys(pairs):
            if year is not None and year not in self.years:
                continue
            scope = replace(base.scope, years=(year,) if year is not None else base.scope.years)
            _add(queries, replace(base, measure=Measure(name), scope=scope))
        if counts and queries:  # "得分、排名和承诺数": the number of items is one of the values asked
            queries.append(replace(base, operation="count", measure=Measure("items")))
        if len({q.measure for q in queries}) < len(queries):  # the same measure in two years: keep each
            return queries
        return queries or [base]


def _add(queries: list[Query], query: Query) -> None:
    """Add a query unless an earlier one answers it; a rank answer replaces a score answer of the same scope
    (it states the score too, and says when the category's ranks are partial)."""
    for i, earlier in enumerate(queries):
        if _same(query, earlier):
            if query.measure and earlier.measure and (earlier.measure.name, query.measure.name) == ("score", "rank"):
                queries[i] = query
            return
    queries.append(query)


def _same(a: Query, b: Query) -> bool:
    if a.operation == b.operation == "difference" and a.scope.departments == b.scope.departments:
        return True
    if a.operation == b.operation == "value" and a.scope == b.scope and a.measure and b.measure and \
            {a.measure.name, b.measure.name} <= {"score", "rank"}:
        return True  # a department's score answer states its rank, and its rank answer its score
    if a.operation == b.operation == "status_of" and a.predicates == b.predicates:
        return True
    return a == b or (replace(a, text="") == replace(b, text=""))
