"""Independent extractors: each reads one kind of slot from a piece of a question.

Entities (known departments, unknown organisations in a department's position, another city), years
(absolute, Chinese, relative to the newest year in the data), categories, kinds, measures, comparators and
ranges, order (top/bottom N, the Nth, a rank asked by number), aggregations, text predicates (quoted phrases,
concepts), statuses and the quantity asked for. The composer (parse.py) turns slots into queries."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from assistant.departments import Directory
from assistant.lexicon import Lexicon
from assistant.quantities import CN_DIGITS, cn_to_int

CN_NUMBER = "[零〇一二两三四五六七八九十百]+"
NUMBER = r"\d+(?:\.\d+)?"
QUOTED = re.compile(r"[“\"「『‘](.{1,40}?)[”\"」』’]|(?<![A-Za-z])'([^']{2,40})'(?![A-Za-z])")
ASK = re.compile(r"多少|几|哪|什么|谁|吗|是否|有没有|算不算|是不是|怎样|如何|呢|\bhow\b|\bwhat\b|\bwhich\b|\bwho\b|"
                 r"\bis\b|\bare\b|\bdoes\b|\bdid\b|\blist\b", re.I)
ORG_SUFFIX = re.compile(r"[\u4e00-\u9fa5]{1,10}?(?:委员会|办公室|局|委|办|集团|银行|公司|中心|社|联|厅|署|院|会)")
FILLER = re.compile(r"^(?:请问|请|告诉我|查询|查一下|我想知道|那么|那|麻烦|帮我看看|帮我查|给我|\d{4}年|的|在)+")


def normalise(text: str) -> str:
    """NFKC (full-width digits and punctuation), and Chinese numerals where they count or order things."""
    text = unicodedata.normalize("NFKC", text).strip()

    def digits(m: re.Match[str]) -> str:
        value = cn_to_int(m.group(2))
        return m.group(1) + (str(value) if value is not None else m.group(2)) + m.group(3)

    pieces = re.split(r"([“\"「『‘][^”\"」』’]{1,40}[”\"」』’])", text)  # quoted phrases stay as written
    for i in range(0, len(pieces), 2):
        piece = re.sub(rf"(第|前|后|倒数第?|名次[为是]|排名|名列|位列|排)({CN_NUMBER})()", digits, pieces[i])
        piece = re.sub(rf"()({CN_NUMBER})([名个位项家条件所座])", digits, piece)
        pieces[i] = re.sub(r"()([零〇一二两三四五六七八九十百]{2,})(分)", digits, piece)  # 一百三十分; not 十分
    return "".join(pieces)


@dataclass
class Slots:
    text: str
    lang: str = "zh"
    departments: list[tuple[str, int]] = field(default_factory=list)  # (canonical name, position)
    unknown: list[str] = field(default_factory=list)
    other_city: str | None = None
    years: list[tuple[int, int]] = field(default_factory=list)  # (year, position)
    missing_years: list[int] = field(default_factory=list)
    every_year: bool = False  # 历年: every year, not the newest one
    categories: list[str] = field(default_factory=list)
    kind: str | None = None
    measures: list[tuple[str, int]] = field(default_factory=list)
    comparisons: list[tuple[str, Decimal, Decimal | None, str, int]] = field(default_factory=list)  # op, v, upper, unit, pos  # noqa: E501
    rank_eq: int | None = None
    rank_range: tuple[int, int] | None = None  # 第3到第5名, ranked 2nd to 4th: the ranks from, to (both held)
    nth: int | None = None
    top: int | None = None
    bottom: int | None = None
    extreme: str | None = None  # max, min
    ascending: bool = False
    ops: set[str] = field(default_factory=set)  # mean, sum, count, spread, difference, ties, next_to, intersect, …
    relative: tuple[str, str] | None = None  # (">" or "<", department): compared with that department's value
    item_no: int | None = None  # 第3项承诺: a department's item by its number
    combined: bool = False  # 所有部门放一起: every department in one order, not per category
    versus_mean: str | None = None  # ">", ">=", "<" or "<=": compared with the average of the group (高于平均分)
    relative_mean: bool = False  # 比平均分高还是低, than the average: a comparison with the average, no comparator
    phrases: list[str] = field(default_factory=list)
    concept: str | None = None
    status: list[str] = field(default_factory=list)
    quantity_unit: str | None = None
    wants_quantity: bool = False
    money: bool = False
    asks: bool = False
    who: bool = False
    listing: bool = False
    whether: bool = False  # a yes-or-no question (是否, 吗?, did …)
    excluded_year: int | None = None  # 但不在2022年, 2023年没有: the departments must not be in this year

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self.departments))

    @property
    def year_values(self) -> list[int]:
        return list(dict.fromkeys(year for year, _ in self.years))

    def wants_quantity_noun(self) -> bool:
        """多少家/几个 asks for a number from a row; 哪几件事 asks for the rows themselves."""
        return self.wants_quantity and self.quantity_unit not in (None, "项", "件", "条")

    def own_entities(self) -> bool:
        """Does the piece name something of its own (a department, category, year, phrase or concept)?"""
        return bool(self.departments or self.categories or self.years or self.phrases or self.concept
                    or self.unknown or self.other_city)


def is_english(text: str) -> bool:
    letters = sum(ch.isascii() and ch.isalpha() for ch in text)
    han = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
    return letters > 3 * han


def _outside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return not any(s < end and start < e for s, e in spans)


def extract(text: str, lex: Lexicon, directory: Directory, years_in_data: list[int]) -> Slots:
    t = normalise(text)
    s = Slots(t, "en" if is_english(t) else "zh")
    if s.lang == "en" and lex.cardinals:  # "the two lowest": a count, as digits
        words = "|".join(re.escape(w) for w in sorted(lex.cardinals, key=len, reverse=True))
        t = s.text = re.sub(rf"\b({words})\b", lambda m: str(lex.cardinals[m.group(1).lower()]), t, flags=re.I)
    quoted = [(m.start(), m.end()) for m in QUOTED.finditer(t)]
    s.phrases = [next(g for g in m.groups() if g) for m in QUOTED.finditer(t)]
    if s.lang == "en":  # "mention the Yangtze River Delta (长三角)": Chinese words in English are the rows' own
        for m in re.finditer(r"[\u4e00-\u9fff]{2,}", t):
            unit = m.group(0) in lex.units or re.search(r"\d\s*$", t[:m.start()])  # "at least 300亿元": a unit
            if directory.resolve(m.group(0)) is None and not unit and not lex.category_in(m.group(0)) \
                    and _outside(quoted, m.start(), m.end()):
                s.phrases.append(m.group(0))
                quoted.append((m.start(), m.end()))
    search_text = lex.expand_english(t) if s.lang == "en" else t
    _entities(s, search_text, lex, directory, quoted)
    _years(s, t, lex, years_in_data)
    s.categories = lex.category_in(t)
    _kind(s, t, lex)
    # a glossary term of several words (first aid, childcare place) names a thing, not a measure or an order
    words = lex.without_english_phrases(t) if s.lang == "en" else t
    s.measures = sorted({(name, m.start()) for name in ("score", "rank", "coefficient", "items_count")
                         for m in lex.measures[name].finditer(words) if _outside(quoted, m.start(), m.end())},
                        key=lambda p: p[1])
    _order(s, words, lex)
    _comparisons(s, t, lex, quoted)
    relative_to(s, t, lex)
    for name in ("mean", "median", "sum", "count", "spread", "difference", "ties", "next_to", "next_above",
                 "intersect", "only_in", "items", "summary", "ranking"):
        if any(_outside(quoted, m.start(), m.end()) for m in lex.op(name).finditer(t)):
            s.ops.add(name)
    versus_mean(s, t, lex)
    s.combined = "combined" in lex.operations and bool(lex.op("combined").search(t))
    s.status = _statuses(t, lex, quoted)
    _commitment(s, t, lex)
    _concept(s, t, lex, quoted)
    if s.concept and directory.find(s.concept):  # "what about the Red Cross Society?": a department, no concept
        s.concept = None
    _quantity(s, t, lex)
    s.asks = bool(ASK.search(t)) or t.rstrip().endswith(("?", "?"))
    s.who = bool(lex.op("who").search(t))
    s.listing = bool(lex.op("list").search(t))
    s.whether = "whether" in lex.operations and bool(lex.op("whether").search(t))
    return s


def _entities(s: Slots, t: str, lex: Lexicon, directory: Directory, quoted: list[tuple[int, int]]) -> None:
    mentions = [m for m in directory.find(t) if _outside(quoted, m.start, m.start + len(m.matched))]
    s.departments = [(m.department, m.start) for m in mentions]
    spans = [(m.start, m.start + len(m.matched)) for m in mentions]
    city = lex.other_cities.search(t)
    if city:
        after = t[city.end():city.end() + 14]
        if re.match(r"^市?(?:的)?", after) and (ORG_SUFFIX.match(re.sub(r"^市?的?", "", after))
                                                or any(city.end() <= st <= city.end() + 3 for _, st in
                                                       s.departments)):
            s.other_city = city.group(0)
    _english_organisations(s, t, lex, directory, spans)
    # a category's name is never part of an organisation's: 列出社会发展类 holds no "列出社"
    categories = [(c.start(), c.end()) for category in lex.categories for c in category.spellings.finditer(t)]
    for m in ORG_SUFFIX.finditer(t):
        name = FILLER.sub("", m.group(0))
        if len(name) < 3 or not _outside(spans, m.start(), m.end()) or not _outside(quoted, m.start(), m.end()) \
                or not _outside(categories, m.start(), m.end()):
            continue
        if directory.resolve(name) or lex.whole_city.search(t[max(0, m.start() - 4):m.start() + 2]):
            continue
        if re.search(r"(?:类|方面|项目|企业|学校|工厂|农场|网点)$", name):
            continue
        prefix = FILLER.sub("", t[:m.start()])
        follows = t[m.end():m.end() + 12]
        at_start = not prefix.strip(" ,、")
        asks_department = re.match(r"^(?:在|的|今年|去年|\d{4}年)*(?:的)?(?:最终得分|得分|分数|排名|名次|难度系数|系数|"
                                   r"承诺|目标|概况|情况|拿了|得了|考)", follows)
        measured = any(lex.measures[m].search(t) for m in ("score", "rank", "coefficient"))
        content_ask = lex.quantity_asks.search(follows) and not measured  # "产业农联合达到了多少家": a content noun
        # "美信佳公司签署了什么协议", "国家乡村振兴局评选的…是哪个": what an organisation did, asked of a row's text
        did_something = re.match(r"^[\u4e00-\u9fff]{1,6}?(?:了|的|过)", follows) \
            and re.search(r"什么|哪|啥|多少|几", t[m.end():]) and not measured \
            and not lex.op("items").search(follows) and not lex.op("summary").search(t)
        content_ask = content_ask or did_something
        if (at_start and not content_ask) or asks_department or re.search(r"[和与、跟比]$", prefix):
            s.unknown.append(name)


def relative_to(s: Slots, t: str, lex: Lexicon, pronouns: re.Pattern[str] | None = None) -> None:
    """"比水利局高", "higher than the Water Resources Bureau": one department whose value is the threshold.
    With `pronouns` (a follow-up, once the department is known), "比它高" / "higher than it" count too."""
    if len(s.names) != 1:
        return
    for op, words in ((">", "above_than"), ("<", "below_than")):
        for m in lex.op(words).finditer(t):
            after = m.end() if "dept" not in m.re.groupindex or m.group("dept") is None else m.start("dept")
            named = any(after <= pos <= after + 5 for _, pos in s.departments)
            if named or (pronouns is not None and pronouns.match(re.sub(r"^\s*(?:the\s+)?", "", t[after:after + 12]))):
                s.relative = (op, s.names[0])
                return


def _english_organisations(s: Slots, t: str, lex: Lexicon, directory: Directory, spans: list[tuple[int, int]]
                           ) -> None:
    """"the Audit Bureau": capitalised words ending in an organisation's word, not a known department's name."""
    for m in lex.org_suffixes_english.finditer(t):
        if not m.group(0)[:1].isupper() or not _outside(spans, m.start(), m.end()):
            continue
        words = re.search(r"((?:[A-Z][\w&'-]*\s+(?:(?:of|and|for|the)\s+)?){1,5})$", t[:m.start()])
        if not words:
            continue
        name = (words.group(1) + m.group(0)).strip()
        name = re.split(r"\bthe\s+", name, flags=re.I)[-1]  # "Summarize the Housing … Bureau": after "the"
        name = re.sub(r"^(?:What|Which|Who|How|Is|Did|Does|List|Compare|Give)\s+", "", name)
        if len(name) > len(m.group(0)) and directory.resolve(name) is None and not (
                s.other_city is None and lex.other_cities.search(name)):
            s.unknown.append(name)


def _years(s: Slots, t: str, lex: Lexicon, years_in_data: list[int]) -> None:
    found: list[tuple[int, int]] = [(int(m.group(1)), m.start()) for m in re.finditer(r"(?<!\d)(20\d\d|19\d\d)(?!\d)", t)]  # noqa: E501
    for m in re.finditer(r"([二〇零一三四五六七八九]{4})年", t):
        found.append((int("".join(str(CN_DIGITS[ch]) for ch in m.group(1))), m.start()))
    newest = max(years_in_data) if years_in_data else None
    if newest is not None:
        for word, offset in lex.relative_years.items():
            for m in re.finditer(re.escape(word), t, re.I):
                found.append((newest + offset, m.start()))
    s.years = sorted(set(found), key=lambda p: p[1])
    s.missing_years = [y for y in s.year_values if years_in_data and y not in years_in_data]
    s.every_year = bool(lex.every_year.search(t))
    if len(s.year_values) >= 2 and "not_in_before" in lex.operations and "not_in_after" in lex.operations:
        before = [m.end() for m in lex.op("not_in_before").finditer(t)]
        after = lex.op("not_in_after").pattern
        for year, pos in s.years:
            rest = re.sub(r"^\d{4}\s*年?(?:的?(?:表|数据|名单|考核)(?:里|中|上)?)?\s*", "", t[pos:])
            if any(0 <= pos - end <= 2 for end in before) or after.match(rest):
                s.excluded_year = year
                s.ops.add("only_in")  # a set difference of two years, said the other way round
                break


def _kind(s: Slots, t: str, lex: Lexicon) -> None:
    targets = lex.kinds["targets"].search(t)
    outcomes = lex.kinds["outcomes"].search(t)
    if targets and not outcomes:
        s.kind = "targets"
    elif outcomes and not targets:
        s.kind = "outcomes"


def _rank_range(t: str, lex: Lexicon) -> tuple[int, int] | None:
    """Ranks from one to another (第3到第5名, 排名12至14, ranked 2nd to 4th, places 2-4), the joiners from the
    lexicon; None when the question names one rank or none."""
    joiners = "|".join(re.escape(j) for j in sorted(lex.between_joiners, key=len, reverse=True))
    th = r"(?:st|nd|rd|th)?"
    m = re.search(rf"第(\d+)\s*(?:名|位)?\s*(?:{joiners})\s*第?(\d+)\s*(?:名|位)"
                  rf"|(?:排名|名次|排在|位列|排)(?:在|为|是)?\s*第?(\d+)\s*(?:名|位)?\s*(?:{joiners})\s*第?(\d+)"
                  rf"|\b(?:rank(?:ed|s|ing)?|placed|came|finished)\s+(?:between\s+|from\s+)?(?:no\.?\s*)?(\d+){th}\s*"
                  rf"(?:{joiners})\s*(\d+){th}\b"
                  rf"|\bplaces?\s+(\d+)\s*(?:{joiners})\s*(\d+)\b"
                  rf"|\b(\d+){th}\s*(?:{joiners})\s*(\d+){th}\s+(?:place|position|rank)", t, re.I)
    if m is None:
        return None
    low, high = sorted(int(g) for g in m.groups() if g)
    return (low, high) if low < high else None


def _order(s: Slots, t: str, lex: Lexicon) -> None:
    s.ascending = bool(lex.op("from_low").search(t))
    if (ranks := _rank_range(t, lex)) is not None:
        s.rank_range = ranks
        return
    if m := re.search(r"(?:名次|排名|类别内排名)(?:为|是|等于)\s*第?(\d+)|(?:名列|位列|排在|排名|排)第(\d+)"
                      r"|(?<!倒数)第(\d+)名|ranked\s*(?:no\.?\s*)?(\d+)", t, re.I):
        s.rank_eq = int(next(g for g in m.groups() if g))
        if re.match(r"(?:st|nd|rd|th)?\s+from\s+(?:the\s+)?(?:bottom|last|end)\b", t[m.end():], re.I):
            s.rank_eq = None  # "ranked 3rd from the bottom": an order from the lowest, read below
    nouns = "|".join(re.escape(w) for w in lex.operations["item_nouns"].words if not w.isascii()) \
        if "item_nouns" in lex.operations else "承诺|目标"
    if m := re.search(rf"第(\d+)(?:项|条|件)|第(\d+)个(?={nouns})|\bitem\s*(?:no\.?\s*)?(\d+)\b"
                      rf"|\b(\d+)(?:st|nd|rd|th)\s+(?:commitment|item|target)\b", t, re.I):
        s.item_no = int(next(g for g in m.groups() if g))
        return
    if m := re.search(r"倒数第(\d+)", t):
        s.nth, s.ascending = int(m.group(1)), True
    elif m := re.search(r"第(\d+)(?:个|位|家)", t):
        s.nth = int(m.group(1))
    elif m := re.search(r"第(\d+)(高|低|大|小|好|差|多|少)", t):  # 得分第二高, 系数第三低
        s.nth = int(m.group(1))
        s.ascending = s.ascending or bool(lex.op("min").search("最" + m.group(2)))
    highs = _alternatives([w for w in lex.op("max").words if not w.isascii() and not w.startswith("re:")])
    lows = _alternatives([w for w in lex.op("min").words if not w.isascii() and not w.startswith("re:")])
    if m := re.search(rf"(?:前|top\s*)(\d+)\s*(?:名|个|位|家)?|(?:{highs})的?(\d+)(?:个|家|名|位)"
                      r"|\b(?:highest|best)\s+(\d+)\b|\b(\d+)\s+(?:highest|best)\b"
                      r"|\b(\d+)\s+(?:departments|units|ones)\b.{0,30}?\b(?:highest|best)\b", t, re.I):
        s.top = int(next(g for g in m.groups() if g))
    if m := re.search(rf"(?:后|倒数)(\d+)\s*(?:名|个|位|家)|(?:{lows})的?(\d+)(?:个|家|名|位)"
                      r"|\b(?:bottom|lowest|worst)\s+(\d+)\b|\b(\d+)\s+(?:lowest|worst)\b"
                      r"|\b(\d+)\s+(?:departments|units|ones)\b.{0,30}?\b(?:lowest|worst)\b", t, re.I):
        s.bottom = int(next(g for g in m.groups() if g))
    compared = [(w.start(), w.end()) for words in lex.comparators.values() for w in words.finditer(t)]
    has_max = any(_outside(compared, m.start(), m.end()) for m in lex.op("max").finditer(t))  # not "at most"
    has_min = any(_outside(compared, m.start(), m.end()) for m in lex.op("min").finditer(t))  # not "at least"
    _english_ordinal(s, t, lex)
    if has_max != has_min:
        s.extreme = "max" if has_max else "min"
    if s.rank_eq == 1 and not s.categories:  # "排名第一" without a category: the best one
        s.rank_eq, s.extreme = None, s.extreme or "max"


def _english_ordinal(s: Slots, t: str, lex: Lexicon) -> None:
    """"the third highest", "second lowest", "5th by score": the Nth in an order; "17th place": a rank."""
    if s.nth is not None or s.rank_eq is not None or not lex.ordinals:
        return
    words = "|".join(re.escape(w) for w in sorted(lex.ordinals, key=len, reverse=True))
    for m in re.finditer(rf"\b(?:({words})|(\d+)(?:st|nd|rd|th))\b[\s-]*(\w+)?", t, re.I):
        n = lex.ordinals[m.group(1).lower()] if m.group(1) else int(m.group(2))
        after = (m.group(3) or "").lower()
        if after in ("only", "to"):  # "second only to": the next one, not an ordinal
            continue
        if re.match(r"[\s-]*(?:place\s+|position\s+)?(?:from\s+(?:the\s+)?(?:bottom|last|end)|to\s+last)\b",
                    t[m.start(3) if m.group(3) else m.end():], re.I):  # "3rd from the bottom": counted from the lowest
            s.nth, s.ascending = n, True
            return
        if after == "place" or re.search(r"\b(?:rank(?:ed|s)?|placed|came|finished)\s+(?:no\.?\s*)?$", t[:m.start()],
                                         re.I):
            s.rank_eq = n
            return
        s.nth = n
        s.ascending = s.ascending or bool(after and lex.op("min").search(after))
        return


def _comparisons(s: Slots, t: str, lex: Lexicon, quoted: list[tuple[int, int]]) -> None:
    joiners = "|".join(re.escape(j) for j in sorted(lex.between_joiners, key=len, reverse=True))
    units = "|".join(re.escape(u) for u in sorted({*lex.units, "分", "亿元", "万元"}, key=len, reverse=True))
    unit = rf"(?:{units})?"
    between = re.compile(rf"(?:在|介于|处在|处于|落在|位于|between|from)?\s*({NUMBER})\s*{unit}\s*(?:{joiners})\s*"
                         rf"({NUMBER})\s*({unit})\s*(之间|区间|范围|以内)?", re.I)
    taken: list[tuple[int, int]] = []
    for m in between.finditer(t):
        prefix = t[max(0, m.start() - 8):m.start() + 8].lower()
        if not (m.group(4) or m.group(3) == "分" or any(w in prefix for w in ("在", "介于", "处", "落", "between",
                                                                              "from"))):
            continue  # "125分到130分": points on both ends are a range too
        low, high = sorted((Decimal(m.group(1)), Decimal(m.group(2))))
        s.comparisons.append(("between", low, high, m.group(3) or "", m.start()))
        taken.append((m.start(), m.end()))
    for op, words in lex.comparators.items():
        for w in words.finditer(t):
            if not _outside(quoted, w.start(), w.end()) or not _outside(taken, w.start(), w.end()):
                continue
            after = re.match(rf"\s*了?\s*({NUMBER})\s*({unit})", t[w.end():])
            before = re.search(rf"({NUMBER})\s*({unit})\s*(?:及|or|and)?\s*$", t[:w.start()])
            word = w.group(0).lower()
            suffix_word = word in ("以上", "及以上", "以下", "及以下", "or more", "and above", "or less", "and below")
            if suffix_word and before:
                s.comparisons.append((op, Decimal(before.group(1)), None, before.group(2), before.start()))
                taken.append((before.start(), w.end()))
            elif not suffix_word and after:
                s.comparisons.append((op, Decimal(after.group(1)), None, after.group(2), w.start()))
                taken.append((w.start(), w.end() + len(after.group(0))))
    for name in ("score", "coefficient"):  # 难度系数是1.1563, 得分为124.27: a measure said to be a value is "="
        for w in lex.measures[name].finditer(t):
            after = re.match(rf"\s*(?:是|为|of|is|was)\s*({NUMBER})\s*({unit})(?!\s*(?:{joiners}))", t[w.end():], re.I)
            end = w.end() + len(after.group(0)) if after else 0
            if after and _outside(quoted, w.start(), w.end()) and _outside(taken, w.end(), end):
                s.comparisons.append(("eq", Decimal(after.group(1)), None, after.group(2), w.end()))
                taken.append((w.end(), w.end() + len(after.group(0))))


def versus_mean(s: Slots, t: str, lex: Lexicon) -> None:
    """A comparator right before the average word (高于平均分, 低于本类平均值, above the average): the group's average
    is the threshold. The average is then not what the question asks for."""
    symbols = {"ge": ">=", "le": "<=", "gt": ">", "lt": "<"}
    fillers = lex.operations.get("versus_mean_fillers")
    for m in lex.op("mean").finditer(t):
        before = t[max(0, m.start() - 24):m.start()]
        if fillers is not None:
            before = fillers.pattern.sub("", before)
        for category in lex.categories:  # 高于经济建设类(的)平均分: the group named between them
            before = category.spellings.pattern.sub("", before)
        before = before.rstrip()
        relative = lex.operations.get("versus_mean_relative")
        joined = _alternatives(list(relative.words)) if relative else ""
        if joined and re.search(rf"(?:{joined})\s*(?:[\u4e00-\u9fff]{{0,8}}?类)?\s*$", before, re.I):
            s.relative_mean = True  # 比(经济建设类)平均分…, than the average
        for op, words in lex.comparators.items():
            if op in symbols and any(w.end() == len(before) for w in words.finditer(before)):
                s.versus_mean = symbols[op]
                s.ops.discard("mean")
                return


def _statuses(t: str, lex: Lexicon, quoted: list[tuple[int, int]]) -> list[str]:
    """Status words outside quotes; a word inside a longer one of another status does not count
    (完成了目标 inside 超额完成了目标)."""
    found = [(name, m.start(), m.end()) for name in ("exceeded", "met", "partial", "not_stated") if name in lex.status
             for m in lex.status[name].finditer(t) if _outside(quoted, m.start(), m.end())]
    kept = [f for f in found if not any(o[0] != f[0] and o[1] <= f[1] and f[2] <= o[2] and (o[2] - o[1]) >
                                        (f[2] - f[1]) for o in found)]
    if any(name == "exceeded" for name, _, _ in kept):  # 超额完成了目标: "完成了目标" is part of the same ask
        spans = [(b, e) for name, b, e in kept if name == "exceeded"]
        kept = [f for f in kept if f[0] != "met" or not any(f[1] <= e and b <= f[2] for b, e in spans)]
    return list(dict.fromkeys(name for name, _, _ in kept))


def _commitment(s: Slots, t: str, lex: Lexicon) -> None:
    """A department's commitment said in the question's own words before a status question (交通集团承诺全年完成
    投资100亿元,兑现了没有?; 城市集团承诺的湖州燃气H股上市实现了吗): the words after the lexicon's lead
    (承诺, 目标是, 提出) up to a comma or the status question, as a phrase of that department's rows."""
    if s.phrases or not s.departments or "commitment_lead" not in lex.operations \
            or "status_question" not in lex.operations:
        return
    asked = lex.op("status_question").search(t)
    false_sign = lex.status["false_signs"].search(t) if "false_signs" in lex.status else None
    if asked is not None and false_sign is not None:  # 行使了超额配售权,能说明超额完成了吗: the row that says it
        s.phrases.append(false_sign.group(0))
        return
    lead = lex.op("commitment_lead").search(t)
    if asked is None or lead is None or lead.end() >= asked.start():
        return
    words = re.split(r"[,，;；?？]", t[lead.end() : asked.start()])[0]
    words = re.sub(r"^(?:的|了|要|说)+|(?:最后|最终|到底|究竟|是否|有没有|都|也|还)+$", "", words.strip())
    if 4 <= len(words) <= 40 and not ASK.search(words) and not lex.op("list").search(t):  # 承诺里哪些…: a set
        s.phrases.append(words)


def _concept(s: Slots, t: str, lex: Lexicon, quoted: list[tuple[int, int]]) -> None:
    if s.phrases or not lex.mentions.search(t):
        return
    chinese = [w for w in lex.mentions.words if not w.isascii() and w not in ("有关", "相关", "字样")]
    english = [w for w in lex.mentions.words if w.isascii()]
    patterns = [r"(?:跟|和|与|同)([^,?。;跟和与]{1,14}?)(?:有关|相关)",
                rf"(?:{_alternatives(chinese)})了?([^,?。;的吗呢了]{{1,16}})",
                rf"\b(?:{_alternatives(english)})\s+([A-Za-z' -]{{3,40}})"]
    for pattern in patterns:
        m = re.search(pattern, t, re.I)
        if m:
            # noise words at the edges only (目标里…, …方面), and of one character only 的: inside a concept and
            # as its own first or last character they are its own (碳中和, 和美乡村, 或 between alternatives)
            noise = _alternatives([w for w in lex.text_noise.words if len(w) > 1 or w == "的"]) or "的"
            concept = re.sub(rf"^(?:{noise}|\s)+|(?:{noise}|\s)+$", "", m.group(1)).strip(" ?'\"()\uff08\uff09")
            kinds = _alternatives([w for words in lex.kinds.values() for w in words.words if w.isascii()])
            if kinds:  # "AED in their targets": where to look, not part of the concept
                concept = re.split(rf"\s+(?:in|for|of|among)\s+(?:the\s+|their\s+|its\s+)?(?:{kinds}|(?:19|20)\d\d)\b",
                                   concept, flags=re.I)[0].strip()
                concept = re.sub(r"\s+(?:in|for|of|among|during)\s*$", "", concept, flags=re.I)
            for words in lex.comparators.values():  # "involve more than 100 km": a number, not a concept
                concept = words.pattern.sub("", concept)
            if re.search(NUMBER, concept):
                concept = re.sub(rf"\s*{NUMBER}\s*\S*", "", concept).strip(" ?'\"")
            if len(concept) >= 2:
                s.concept = concept
                return


def _alternatives(words: list[str]) -> str:
    """Words as one regular-expression alternation, the longest first."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _quantity(s: Slots, t: str, lex: Lexicon) -> None:
    units = "|".join(re.escape(u) for u in sorted(lex.units, key=len, reverse=True))
    asks = _alternatives([w for w in lex.quantity_asks.words if not w.isascii()]) or "多少|几"
    m = re.search(rf"(?:{asks})\s*({units})?", t)
    if m:
        s.wants_quantity = True
        s.quantity_unit = m.group(1)
    if re.search(r"\bhow (?:many|much)\b", t, re.I):
        s.wants_quantity = True
    s.money = bool(lex.money.search(t))
    if s.money:
        s.wants_quantity = True
