"""Question -> intent and entities, by rules (no LLM): department (alias, short name, fuzzy), category,
year, kind, thresholds, superlatives, counts and averages, status, summaries, Chinese numerals, English."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from assistant.departments import Directory
from assistant.records import Kind

Intent = Literal["lookup", "rank_of", "superlative", "threshold", "aggregate", "status", "summary", "compare",
                 "content", "unanswerable"]
Measure = Literal["score", "rank", "coefficient", "category"]

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_NUMBER = r"[零〇一二两三四五六七八九十百]+"


def cn_to_int(text: str) -> int | None:
    """Chinese numerals up to 999 (三 -> 3, 十四 -> 14, 二十 -> 20, 一百零五 -> 105); digits pass through."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in CN_DIGITS and ch not in "十百" for ch in text):
        return None
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = CN_DIGITS[ch]
    return total + current


CATEGORY_WORDS = {
    "经济建设类": ("经济建设类", "经济建设", "经济类", "economic"),
    "社会发展类": ("社会发展类", "社会发展", "社会类", "social"),
}
MEASURE_WORDS: list[tuple[Measure, re.Pattern[str]]] = [
    ("coefficient", re.compile(r"难度系数|系数|coefficient|difficulty", re.I)),
    ("rank", re.compile(r"排名|名次|第几名?|排第|排在|\brank", re.I)),
    ("score", re.compile(r"得分|分数|多少分|最终得分|几分|考核分|\bscores?\b|\bpoints?\b", re.I)),
    ("category", re.compile(r"(?:属于|哪个|哪一)类别?|什么类别|which category", re.I)),
]
COMPARATORS = [
    ("ge", r"不低于|不少于|至少|大于等于|>=|≥|at least|no less than"),
    ("le", r"不高于|不超过|至多|小于等于|<=|≤|at most|no more than"),
    ("gt", r"高于|超过|大于|多于|超出|>|above|over|more than|higher than|greater than"),
    ("lt", r"低于|小于|少于|不足|不到|<|below|under|less than|lower than"),
]
NUMBER = r"(\d+(?:\.\d+)?)"
SUPERLATIVE_MAX = re.compile(r"最高|最好|最优|最多|最大|最前|第一名|排名第一|头名|榜首|"
                             r"highest|best|top|largest|most", re.I)
SUPERLATIVE_MIN = re.compile(r"最低|最差|最少|最小|最后一名|倒数第一|垫底|末位|"
                             r"lowest|worst|bottom|least|smallest", re.I)
TOP_N = re.compile(rf"(?:前|top\s*)({CN_NUMBER}|\d+)\s*名?|(?:最高|最低|最好|最差|最多|最少|最大|最小)的?\s*"
                   rf"({CN_NUMBER}|\d+)\s*(?:个|家|名)", re.I)
RANK_N = re.compile(rf"(?:排名|排在|排|位列|名列)第\s*({CN_NUMBER}|\d+)|第\s*({CN_NUMBER}|\d+)\s*(?:名|位)|"
                    r"ranked\s*(?:no\.?\s*)?(\d+)|rank\s*(\d+)", re.I)
AVERAGE = re.compile(r"平均|均值|average|mean", re.I)
TOTAL = re.compile(r"总分|合计|总和|\bsum\b|\btotal\b", re.I)
COUNT = re.compile(r"多少个|几个|多少家|多少项|几项|多少条|数量|个数|how many|number of", re.I)
SUMMARY = re.compile(r"总结|概况|汇总|综述|小结|概述|整体情况|summar|overview", re.I)
COMPARE = re.compile(r"对比|比较|变化|相比|两年|compare|versus|\bvs\b|change", re.I)
STATUS_WORDS: list[tuple[str, re.Pattern[str]]] = [
    ("exceeded", re.compile(r"超额|超过了?(?:年度|全年)?(?:目标|承诺|计划)|超出(?:目标|承诺)|超目标|超承诺|"
                            r"exceed|surpass|beat|overachiev", re.I)),
    ("not_met", re.compile(r"未完成|没有完成|没完成|未达到|未达标|没达标|落后于目标|not (?:met|meet|achiev|complet)|"
                           r"\bmiss(?:ed)?\b|fall short|fell short", re.I)),
    ("met", re.compile(r"完成了?(?:年度|全年)?(?:目标|承诺|任务|计划)|达标|达到(?:了)?目标|如期完成|"
                       r"\bmet\b|\bmeet\b|achiev|complet|fulfil", re.I)),
]
TARGET_HINT = re.compile(r"年度目标|目标是|计划|要在|要发放|要完成|将要|打算|target|plan|goal|aim", re.I)
OUTCOME_HINT = re.compile(r"完成了|完成率|兑现|实际|已经|达到了|实现了|delivered|achieved|completed|actual", re.I)
YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)\s*年?")
CN_YEAR = re.compile(r"([二〇零一三四五六七八九]{4})年")
UNKNOWN_DEPARTMENT = re.compile(
    r"(?:湖州)?市?[\u4e00-\u9fa5]{1,10}?(?:局|委员会|委|办公室|办|集团|银行|公司|院|中心|社|联|会|所|厅|署|队)"
)
NOT_DEPARTMENT = {"委员会", "全市", "市委", "市政府", "省委", "省政府", "国务院", "社会", "联合会", "协会", "都市",
                  "哪个局", "哪个部门", "哪些部门", "哪个单位", "各部门", "部门", "单位", "委", "办", "会", "社"}
WANTS_NUMBER = re.compile(r"多少|几|多大|什么水平|how many|how much|what (?:is|was) the (?:number|amount|total)", re.I)


@dataclass
class Question:
    text: str
    lang: Literal["zh", "en"] = "zh"
    departments: list[str] = field(default_factory=list)
    unknown_departments: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    category: str | None = None
    kind_hint: Kind | None = None
    measure: Measure | None = None
    comparison: tuple[str, Decimal] | None = None
    superlative: Literal["max", "min"] | None = None
    top_n: int | None = None
    rank_n: int | None = None
    aggregate: Literal["mean", "count", "sum"] | None = None
    status: str | None = None
    summary: bool = False
    compare: bool = False
    wants_number: bool = False
    intent: Intent = "content"

    @property
    def year(self) -> int | None:
        return self.years[0] if len(self.years) == 1 else None

    def entities(self) -> dict[str, object]:
        return {k: v for k, v in {
            "departments": self.departments, "unknown_departments": self.unknown_departments, "years": self.years,
            "category": self.category, "kind": self.kind_hint, "measure": self.measure,
            "comparison": None if self.comparison is None else [self.comparison[0], str(self.comparison[1])],
            "superlative": self.superlative, "top_n": self.top_n, "rank": self.rank_n,
            "aggregate": self.aggregate, "status": self.status,
        }.items() if v}


def is_english(text: str) -> bool:
    letters = sum(ch.isascii() and ch.isalpha() for ch in text)
    han = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    return letters > 3 * han


def _years(text: str) -> list[int]:
    years = [int(m.group(1)) for m in YEAR.finditer(text)]
    for m in CN_YEAR.finditer(text):
        digits = "".join(str(CN_DIGITS[ch]) for ch in m.group(1))
        years.append(int(digits))
    return list(dict.fromkeys(years))


def _comparison(text: str) -> tuple[str, Decimal] | None:
    for op, words in COMPARATORS:
        m = re.search(rf"(?:{words})\s*{NUMBER}", text, re.I)
        if m:
            return op, Decimal(m.group(1))
    m = re.search(rf"{NUMBER}\s*分?\s*(及以上|以上|及以下|以下|or more|or less|and above|and below)", text, re.I)
    if m:
        word = m.group(2)
        op = "ge" if ("以上" in word or "more" in word or "above" in word) else "le"
        return op, Decimal(m.group(1))
    return None


def _unknown_departments(text: str, directory: Directory, known_spans: list[tuple[int, int]]) -> list[str]:
    found = []
    for m in UNKNOWN_DEPARTMENT.finditer(text):
        name = m.group(0)
        if any(s < m.end() and m.start() < e for s, e in known_spans):
            continue
        core = re.sub(r"^(?:湖州|请问|告诉我|查询|那么|那|的|和|与|及)+", "", name)
        if core in NOT_DEPARTMENT or len(core) < 3 or directory.resolve(core):
            continue
        if not core.startswith("市") and not re.search(r"局|委|办|集团|银行", core):
            continue
        found.append(core)
    return found


def parse(text: str, directory: Directory, categories: list[str] | None = None) -> Question:
    q = Question(text=text.strip(), lang="en" if is_english(text) else "zh")
    t = q.text
    mentions = directory.find(t)
    q.departments = list(dict.fromkeys(m.department for m in mentions))
    spans = [(m.start, m.start + len(m.matched)) for m in mentions]
    q.unknown_departments = _unknown_departments(t, directory, spans)
    q.years = _years(t)
    for category, words in CATEGORY_WORDS.items():
        if any(w.lower() in t.lower() for w in words) and (categories is None or category in categories):
            q.category = category
    for measure, pattern in MEASURE_WORDS:
        if pattern.search(t):
            q.measure = measure
            break
    q.comparison = _comparison(t)
    if SUPERLATIVE_MAX.search(t):
        q.superlative = "max"
    if SUPERLATIVE_MIN.search(t):
        q.superlative = "min"
    top = TOP_N.search(t)
    if top:
        q.top_n = cn_to_int(next(g for g in top.groups() if g))
        q.superlative = q.superlative or "max"
    rank = RANK_N.search(t)
    if rank and not q.departments:
        value = next(g for g in rank.groups() if g)
        q.rank_n = cn_to_int(value)
        if q.rank_n == 1 and not q.category:
            q.rank_n = None
            q.superlative = q.superlative or "max"
    if AVERAGE.search(t):
        q.aggregate = "mean"
    elif TOTAL.search(t):
        q.aggregate = "sum"
    elif COUNT.search(t) and re.search(r"部门|单位|departments?|承诺|事项|项目|items?|commitments?", t, re.I):
        q.aggregate = "count"
    for status, pattern in STATUS_WORDS:
        if pattern.search(t):
            q.status = status
            break
    q.summary = bool(SUMMARY.search(t))
    q.compare = bool(COMPARE.search(t)) or len(q.years) > 1
    if TARGET_HINT.search(t) and not OUTCOME_HINT.search(t):
        q.kind_hint = "targets"
    elif OUTCOME_HINT.search(t):
        q.kind_hint = "outcomes"
    q.wants_number = bool(WANTS_NUMBER.search(t))
    q.intent = decide_intent(q)
    return q


def decide_intent(q: Question) -> Intent:
    if q.unknown_departments and not q.departments:
        return "unanswerable"
    if q.summary and q.departments:
        return "summary"
    if q.status in ("exceeded", "not_met") or (q.status == "met" and (q.aggregate or not q.wants_number)
                                              and not q.measure):
        return "status"
    if q.comparison is not None and q.measure in (None, "score", "coefficient") and not q.departments:
        if q.measure is None:
            q.measure = "coefficient" if q.comparison[1] < 5 else "score"
        return "threshold"
    if q.rank_n is not None and not q.departments:
        return "rank_of"
    if (q.superlative or q.top_n) and not q.departments and (q.measure or q.category or "部门" in q.text
                                                             or "department" in q.text.lower()):
        q.measure = q.measure if q.measure in ("score", "coefficient") else "score"
        return "superlative"
    if q.aggregate in ("mean", "sum") and not q.departments:
        q.measure = q.measure if q.measure in ("score", "coefficient") else "score"
        return "aggregate"
    if q.aggregate == "count" and not q.departments and (q.measure or re.search(r"部门|单位|department", q.text)):
        return "aggregate"
    if q.departments and q.measure:
        return "lookup"
    if q.departments and q.compare and not q.wants_number:
        return "compare"
    return "content"
