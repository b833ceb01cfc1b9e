"""Every operation, predicate and measure of the typed query, asked in Chinese and in English in our own wording
(other departments, thresholds and phrases than the dev sets). Each test checks the parsed operation, the
numbers that must appear (worked out by hand from the fixture rows, see the comments) and the cited rows.

The fixture rows used below (tests/fixtures/data):
  2022 outcomes, 经济建设类 (ranks 9-18 only): 商务局 129.86 #9 (line 6), 金融办 129.48 #10 (11), 城市集团 126.09 #11
  (16), 水利局 125.27 #12 (21), 国资委 124.31 #13 (26), 交通集团 124.27 #14 (33), 产业集团 123.49 #15 (38),
  区域合作办 122.17 #16 (43), 供销社 117.48 #17 (48), 湖州银行 113.78 #18 (53);
  社会发展类: 科技局 135.20 #1 (63), 卫健委 132.98 #2 (68), 文旅局 130.34 #3 (75), 人社局 128.64 #4 (80).
  2023 targets, coefficients: 科协 1.1255 (4), 文联 1.1191 (9), 贸促会 1.1199 (14), 残联 1.1217 (19), 红十字会
  1.1183 (24), 工商联 1.1346 (29), 发改委 1.1599 (34), 经信局 1.1563 (41), 财政局 1.1563 (46), 自规局 1.1539 (51),
  建设局 1.1550 (56), 交通运输局 1.1501 (61), 水利局 1.1438 (66), 农业农村局 1.1544 (71).
Quick tier: facts only, no model. Content lookups and dense set matches are in the `slow` group at the end."""

from __future__ import annotations

import pytest

from assistant.query import MEASURES, OPERATIONS
from tests.conftest import OUTCOMES, TARGETS

OUT, T = OUTCOMES, TARGETS
SCORE_LINES = {"商务局": 6, "金融办": 11, "城市集团": 16, "水利局": 21, "国资委": 26, "交通集团": 33, "产业集团": 38,
               "区域合作办": 43, "供销社": 48, "湖州银行": 53, "科技局": 63, "卫生健康委": 68, "文化广电旅游局": 75,
               "人社社保局": 80}
COEFFICIENT_LINES = {"科协": 4, "文联": 9, "贸促会": 14, "残联": 19, "红十字会": 24, "工商联": 29, "发展改革委": 34,
                     "经信局": 41, "财政局": 46, "自然资源和规划局": 51, "建设局": 56, "交通运输局": 61, "水利局": 66,
                     "农业农村局": 71}


def cited(answer):
    return {(c.source, c.line) for c in answer.citations}


def queries(answer):
    return answer.searched["queries"]


def ops(answer):
    return [q["operation"] for q in queries(answer)]


def check(answer, operation, must, rows, exact=True):
    assert operation in ops(answer), (answer.question, queries(answer))
    for text in must:
        assert text in answer.answer, (answer.question, text, answer.answer)
    if exact:
        assert cited(answer) == rows, (answer.question, sorted(cited(answer)), answer.answer)
    else:
        assert rows <= cited(answer), (answer.question, sorted(cited(answer)), answer.answer)


def scores(*names):
    return {(OUT, SCORE_LINES[n]) for n in names}


def coefficients(*names):
    return {(T, COEFFICIENT_LINES[n]) for n in names}


# ---- value: a department's score, rank, coefficient, number of items -------------------------------------

@pytest.mark.parametrize(("question", "measure", "must", "rows"), [
    ("区域合作办的最终得分是几分?", "score", ["122.17", "16"], scores("区域合作办")),
    ("What score did the Regional Cooperation Office get?", "score", ["122.17"], scores("区域合作办")),
    # rank 18 of the economic category, which holds ranks 9-18 only: the note says so and cites the first of them
    ("湖州银行在类别内排第几名?", "rank", ["18", "第9至18名"], scores("湖州银行", "商务局")),
    ("What is the rank of the Science and Technology Bureau within its category?", "rank", ["No. 1", "135.20"],
     scores("科技局")),
    ("工商联的评定难度系数是多少?", "coefficient", ["1.1346"], coefficients("工商联")),
    ("What is the difficulty coefficient of the Federation of Industry and Commerce?", "coefficient", ["1.1346"],
     coefficients("工商联")),
])
def test_value_of_a_field(facts_only, question, measure, must, rows):
    answer = facts_only.ask(question)
    check(answer, "value", must, rows)
    assert queries(answer)[0]["measure"]["name"] == measure


@pytest.mark.parametrize(("question", "must", "rows"), [
    ("卫健委一共有几项承诺?", ["5项"], {(OUT, n) for n in range(68, 73)}),
    # the Water Resources Bureau has five rows in each year: one count per year, then 5 + 5 = 10
    ("How many commitments does the Water Resources Bureau have?", ["5 commitments", "5 + 5 = 10"],
     {(OUT, n) for n in range(21, 26)} | {(T, n) for n in range(66, 71)}),
    ("市水利局2022年和2023年分别有几项承诺?", ["(2022年)一共有5项", "(2023年)一共有5项", "合计10项"],
     {(OUT, n) for n in range(21, 26)} | {(T, n) for n in range(66, 71)}),
])
def test_count_of_a_departments_items(facts_only, question, must, rows):
    answer = facts_only.ask(question)
    check(answer, "count", must, rows)
    assert queries(answer)[0]["measure"]["name"] == "items"


# ---- FieldIs: =, >, >=, <, <=, between (inclusive) ---------------------------------------------------------

@pytest.mark.parametrize(("question", "operation", "op", "must", "rows"), [
    # > 125 in the economic category: 129.86, 129.48, 126.09, 125.27
    ("经济建设类中得分高于125分的部门有哪些?", "list", ">", ["有4个", "125.27"],
     scores("商务局", "金融办", "城市集团", "水利局")),
    ("分数比125高的部门有哪些?", "list", ">", ["有8个", "125.27"],
     scores("科技局", "卫生健康委", "文化广电旅游局", "商务局", "金融办", "人社社保局", "城市集团", "水利局")),
    # a Chinese numeral for the threshold: 一百三十分 = 130
    ("得分一百三十分以上的部门有哪些?", "list", ">=", ["有3个"], scores("科技局", "卫生健康委", "文化广电旅游局")),
    ("Which departments scored above 130 in 2022?", "list", ">", ["3 of 14"],
     scores("科技局", "卫生健康委", "文化广电旅游局")),
    # >= 126.09 keeps 城市集团 itself: 135.20, 132.98, 130.34, 129.86, 129.48, 128.64, 126.09
    ("得分不低于126.09分的单位有哪些?", "list", ">=", ["有7个", "126.09"],
     scores("科技局", "卫生健康委", "文化广电旅游局", "商务局", "金融办", "人社社保局", "城市集团")),
    # "at least" is a comparison, not "the least"
    ("Which departments have a score of at least 129.48?", "list", ">=", ["5 of 14", "129.48"],
     scores("科技局", "卫生健康委", "文化广电旅游局", "商务局", "金融办")),
    # < 118: 117.48 and 113.78
    ("得分低于118分的部门有几个?", "count", "<", ["共2个"], scores("供销社", "湖州银行")),
    # < 1.13: 1.1255, 1.1217, 1.1199, 1.1191, 1.1183
    ("How many departments have a coefficient below 1.13?", "count", "<", ["5 of 14"],
     coefficients("科协", "残联", "贸促会", "文联", "红十字会")),
    # <= 1.1199 keeps 贸促会 itself
    ("难度系数不高于1.1199的单位有哪些?", "list", "<=", ["有3个", "1.1199"],
     coefficients("贸促会", "文联", "红十字会")),
    ("Which departments have a difficulty coefficient of at most 1.1217?", "list", "<=", ["4 of 14"],
     coefficients("残联", "贸促会", "文联", "红十字会")),
    ("难度系数等于1.1563的单位是哪些?", "list", "=", ["有2个"], coefficients("经信局", "财政局")),
    ("Which departments have a coefficient equal to 1.1501?", "list", "=", ["1 of 14"], coefficients("交通运输局")),
    ("哪些部门的得分刚好是124.27?", "list", "=", ["有1个", "交通集团"], scores("交通集团")),
    # between, both bounds included: 1.1550 is the upper bound itself
    ("难度系数介于1.15和1.155之间的单位有哪些?", "list", "between", ["有4个", "1.1550", "含两端"],
     coefficients("建设局", "农业农村局", "自然资源和规划局", "交通运输局")),
    # points on both ends make a range without 之间: 129.86, 129.48, 128.64, 126.09, 125.27
    ("125分到130分的部门", "list", "between", ["有5个"],
     scores("商务局", "金融办", "人社社保局", "城市集团", "水利局")),
    ("Which departments scored between 122.17 and 124.31 points, inclusive?", "list", "between", ["4 of 14"],
     scores("国资委", "交通集团", "产业集团", "区域合作办")),
])
def test_field_comparisons(facts_only, question, operation, op, must, rows):
    answer = facts_only.ask(question)
    check(answer, operation, must, rows)
    predicates = [p for q in queries(answer) for p in q.get("predicates", [])]
    assert any(p["type"] == "FieldIs" and p["op"] == op for p in predicates), queries(answer)
    assert answer.table is not None and len(answer.table.rows) == len(rows)


# ---- aggregates: sum, mean, min, max, top, bottom --------------------------------------------------------

@pytest.mark.parametrize(("question", "operation", "must", "rows"), [
    # 135.20 + 132.98 + 130.34 + 128.64 = 527.16
    ("社会发展类四个部门的总分是多少?", "sum", ["527.16"],
     scores("科技局", "卫生健康委", "文化广电旅游局", "人社社保局")),
    # the fourteen 2023 coefficients add up to 15.9688
    ("What is the sum of the difficulty coefficients in 2023?", "sum", ["15.9688"], coefficients(*COEFFICIENT_LINES)),
    # 1236.20 / 10 = 123.62
    ("经济建设类各部门得分的均值是多少?", "mean", ["123.62", "1236.20 / 10"],
     scores(*list(SCORE_LINES)[:10])),
    # 15.9688 / 14 = 1.14063 -> 1.1406
    ("What is the average difficulty coefficient in 2023?", "mean", ["1.1406", "15.9688 / 14"],
     coefficients(*COEFFICIENT_LINES)),
    ("哪个单位的难度系数最高?", "max", ["发展改革委", "1.1599"], coefficients("发展改革委")),
    ("Which department had the lowest final score in the social development category?", "min",
     ["人社社保局", "128.64"], scores("人社社保局")),
    ("社会发展类得分前三的部门是哪些?", "top", ["135.20", "132.98", "130.34"],
     scores("科技局", "卫生健康委", "文化广电旅游局")),
    ("List the top 3 departments by score in the economic construction category.", "top",
     ["129.86", "129.48", "126.09"], scores("商务局", "金融办", "城市集团")),
    ("难度系数最低的三个单位是哪几个?", "bottom", ["1.1183", "1.1191", "1.1199"],
     coefficients("红十字会", "文联", "贸促会")),
    ("Which are the bottom 2 departments by difficulty coefficient?", "bottom", ["1.1183", "1.1191"],
     coefficients("红十字会", "文联")),
    # 1.1599, then the tie 1.1563 twice
    ("In 2023, which three departments have the highest coefficients?", "top", ["1.1599", "1.1563"],
     coefficients("发展改革委", "经信局", "财政局")),
    # a number word: the two lowest of the four social departments are 128.64 and 130.34
    ("Who are the two lowest-scoring departments in the social development category?", "bottom",
     ["128.64", "130.34"], scores("人社社保局", "文化广电旅游局")),
    # every department of a category, and how many there are in a year
    ("经济建设类有哪些部门?", "list", ["有10个"], scores(*list(SCORE_LINES)[:10])),
    ("Which departments are in the social development category?", "list", ["4 departments"],
     scores("科技局", "卫生健康委", "文化广电旅游局", "人社社保局")),
    ("2023年一共有多少个部门?", "count", ["共14个"], coefficients(*COEFFICIENT_LINES)),
    ("How many departments are in the economic construction category?", "count", ["10 departments"],
     scores(*list(SCORE_LINES)[:10])),
])
def test_aggregates_and_extremes(facts_only, question, operation, must, rows):
    check(facts_only.ask(question), operation, must, rows)


# ---- order: the Nth, the next one ---------------------------------------------------------------------

@pytest.mark.parametrize(("question", "n", "ascending", "must", "rows"), [
    ("按得分从高到低,社会发展类第三个是哪个部门?", 3, False, ["文化广电旅游局", "130.34"], scores("文化广电旅游局")),
    ("难度系数倒数第二的是哪家单位?", 2, True, ["文联", "1.1191"],
     coefficients("文联")),
    ("Which department has the second lowest difficulty coefficient?", 2, True, ["文联", "1.1191"],
     coefficients("文联")),
    # 1.1599, then 1.1563 twice: the tie holds places 2 and 3
    ("Which department is third by difficulty coefficient?", 3, False, ["经信局", "财政局", "1.1563"],
     coefficients("经信局", "财政局")),
    ("社会发展类得分第二高的是哪个部门?", 2, False, ["卫生健康委", "132.98"], scores("卫生健康委")),
    # 1.1599, 1.1563, 1.1563, then 建设局's 1.1550 fourth: a coefficient has no rank column, so 排第四 is an order
    ("难度系数从高到低排第四的是哪个单位?", 4, False, ["建设局", "1.1550"], coefficients("建设局")),
    # 113.78, 117.48, then 区域合作办's 122.17
    ("What is the third lowest score in the economic construction category?", 3, True, ["区域合作办", "122.17"],
     scores("区域合作办")),
])
def test_nth_in_an_order_with_its_table(facts_only, question, n, ascending, must, rows):
    answer = facts_only.ask(question)
    check(answer, "nth", must, rows)
    q = queries(answer)[0]
    assert q["n"] == n and q.get("ascending", False) is ascending
    table = answer.table
    assert table is not None and [c.key for c in table.columns][:2] == ["place", "department"]
    assert len(table.rows) == len(rows)
    ids = {c.id: (c.source, c.line) for c in answer.citations}
    for row in table.rows:
        assert all(cell.cite in ids for cell in (row[0], row[1], row[-1]))
        assert ids[row[-1].cite] in rows


@pytest.mark.parametrize(("question", "must", "rows"), [
    # below 建设局's 1.1550 the next is 农业农村局 1.1544
    ("难度系数排在建设局后面紧随其后的是哪个单位?", ["农业农村局", "1.1544"], coefficients("建设局", "农业农村局")),
    # below 金融办's 129.48 in its category the next is 城市集团 126.09
    ("Which department comes right after the Financial Affairs Office by score?", ["城市集团", "126.09"],
     scores("金融办", "城市集团")),
])
def test_next_after_a_department(facts_only, question, must, rows):
    check(facts_only.ask(question), "next", must, rows)


@pytest.mark.parametrize(("question", "must", "rows"), [
    # 卫健委 is 2nd of the social category: above it 科技局 135.20
    ("卫健委排在第几?比它高一名的是谁?", ["第2", "比它高一位的是市科技局", "135.20"], scores("卫生健康委", "科技局")),
    # 国资委 is 13th: above it 水利局 125.27, below it 交通集团 124.27
    ("Who is right above the State-owned Assets Commission by score?", ["水利局", "125.27"],
     scores("国资委", "水利局")),
    ("Who comes right below the Health Commission in the social development ranking?", ["文化广电旅游局", "130.34"],
     scores("卫生健康委", "文化广电旅游局")),
])
def test_next_above_or_below_a_department(facts_only, question, must, rows):
    check(facts_only.ask(question), "next", must, rows)


@pytest.mark.parametrize(("question", "operation", "must", "rows"), [
    # above 水利局's own 125.27: 135.20, 132.98, 130.34, 129.86, 129.48, 128.64, 126.09
    ("哪些部门的得分比市水利局高?", "list", ["高于市水利局(125.27)", "有7个"],
     scores("水利局", "科技局", "卫生健康委", "文化广电旅游局", "商务局", "金融办", "人社社保局", "城市集团")),
    ("Which departments scored higher than the Water Resources Bureau?", "list", ["7 of 14", "125.27"],
     scores("水利局", "科技局", "卫生健康委", "文化广电旅游局", "商务局", "金融办", "人社社保局", "城市集团")),
    # below 农业农村局's 1.1544: nine coefficients
    ("有几个部门的难度系数比农业农村局低?", "count", ["共9个", "1.1544"],
     coefficients("农业农村局", "自然资源和规划局", "交通运输局", "水利局", "工商联", "科协", "残联", "贸促会", "文联",
                  "红十字会")),
])
def test_compared_with_a_departments_own_value(facts_only, question, operation, must, rows):
    answer = facts_only.ask(question)
    check(answer, operation, must, rows)
    assert queries(answer)[0]["predicates"][0]["of"]


# ---- difference (value and rank), spread, ties -----------------------------------------------------------

@pytest.mark.parametrize(("question", "must", "rows"), [
    ("国资委和交通集团的分数差多少?", ["124.31 − 124.27 = 0.04", "靠前1名"], scores("国资委", "交通集团")),
    ("How much higher is the Commerce Bureau's score than the Supply and Marketing Cooperative's?",
     ["129.86 − 117.48 = 12.38"], scores("商务局", "供销社")),
    ("科协和文联的难度系数相差多少?", ["1.1255 − 1.1191 = 0.0064"], coefficients("科协", "文联")),
    # in rank: 卫健委 #2 against 人社局 #4
    ("人社局和卫健委在社会发展类的排名谁靠前?", ["排名第2", "排名第4", "靠前2名"], scores("卫生健康委", "人社社保局")),
    ("Which ranks higher, the Water Resources Bureau or the State-owned Assets Commission?",
     ["No. 12", "No. 13", "125.27 − 124.31 = 0.96"], scores("水利局", "国资委")),
    ("What is the gap between the Commerce Bureau and Huzhou Bank in final score?", ["129.86 − 113.78 = 16.08"],
     scores("商务局", "湖州银行")),
    # places apart: #1 and #4 of the social category, #9 and #18 of the economic one
    ("科技局和人社局差了多少名?", ["排名第1", "排名第4", "靠前3名"], scores("科技局", "人社社保局")),
    ("How many places apart are the Commerce Bureau and Huzhou Bank?", ["9 places ahead"],
     scores("商务局", "湖州银行")),
])
def test_difference_between_two_departments(facts_only, question, must, rows):
    answer = facts_only.ask(question)
    check(answer, "difference", must, rows)
    assert answer.table is not None and len(answer.table.rows) == 2


@pytest.mark.parametrize(("question", "must", "rows", "places"), [
    # 1.1599 (发改委, 1st of 14) − 1.1183 (红十字会, 14th) = 0.0416
    ("2023年难度系数的最高和最低差多少?", ["1.1599 − 1.1183 = 0.0416"],
     coefficients("发展改革委", "红十字会"), [1, 14]),
    # 129.86 (商务局, 1st of the 10 present) − 113.78 (湖州银行, 10th) = 16.08
    ("What is the spread of final scores in the economic construction category?", ["129.86 − 113.78 = 16.08"],
     scores("商务局", "湖州银行"), [1, 10]),
    # 135.20 (科技局) − 128.64 (人社局) = 6.56; 最高分与最低分, not only the lexicon's 和
    ("社会发展类最高分与最低分差多少?", ["135.20 − 128.64 = 6.56"], scores("科技局", "人社社保局"), [1, 4]),
    # the ends said as places (第一名和最后一名, 榜首与末位, first and last place), or as max minus min
    ("社会发展类的头名跟末位差了几分?", ["135.20 − 128.64 = 6.56"], scores("科技局", "人社社保局"), [1, 4]),
    ("经济建设类第一名和最后一名之间相差多少?", ["129.86 − 113.78 = 16.08"], scores("商务局", "湖州银行"), [1, 10]),
    ("2023年各单位难度系数最大值减去最小值等于多少?", ["1.1599 − 1.1183 = 0.0416"],
     coefficients("发展改革委", "红十字会"), [1, 14]),
    ("Between first and last place in social development, how many points?", ["135.20 − 128.64 = 6.56"],
     scores("科技局", "人社社保局"), [1, 4]),
])
def test_spread_with_its_table(facts_only, question, must, rows, places):
    answer = facts_only.ask(question)
    check(answer, "spread", must, rows)
    table = answer.table
    assert table is not None and [c.key for c in table.columns][:2] == ["place", "department"]
    assert [row[0].value for row in table.rows] == places
    ids = {c.id: (c.source, c.line) for c in answer.citations}
    assert {ids[row[-1].cite] for row in table.rows} == rows


@pytest.mark.parametrize("question", ["哪些单位的系数是并列的?",
                                      "Are there departments with the same difficulty coefficient?"])
def test_ties(facts_only, question):
    check(facts_only.ask(question), "ties", ["经信局", "财政局", "1.1563"], coefficients("经信局", "财政局"))


def test_no_ties_is_an_honest_refusal(facts_only):
    answer = facts_only.ask("有没有得分相同的部门?")
    assert ops(answer) == ["ties"] and answer.mode == "refusal" and "14个部门" in answer.answer


# ---- sets across years: intersect, only_in ---------------------------------------------------------------

@pytest.mark.parametrize("question", ["哪些部门2022年和2023年都有数据?",
                                      "Which departments appear in both 2022 and 2023?"])
def test_intersection_of_years(facts_only, question):
    answer = facts_only.ask(question)
    check(answer, "intersect", ["水利局", "125.27", "1.1438"], scores("水利局") | coefficients("水利局"))
    # the years in the answer's language: 2022年 in Chinese, "in 2022" in English (not "in 2022年")
    assert ("2022年" in answer.answer) != question.isascii() and "2023" in answer.answer


@pytest.mark.parametrize(("question", "rows", "absent"), [
    ("哪些部门只有2023年的数据、2022年没有?", coefficients(*COEFFICIENT_LINES) - coefficients("水利局"), "1.1438"),
    ("Which departments are only in 2022 and not in 2023?", scores(*SCORE_LINES) - scores("水利局"), "125.27"),
    # the year the departments must not be in, said before or after it (但不在2022年, 2022年没有)
    ("有多少个单位出现在2023年的名单里但不在2022年的名单里?", coefficients(*COEFFICIENT_LINES) - coefficients("水利局"),
     "1.1438"),
    ("2022年有而2023年没有的部门有几个?", scores(*SCORE_LINES) - scores("水利局"), "125.27"),
    ("Which units appear in 2023 but are absent from 2022?", coefficients(*COEFFICIENT_LINES) - coefficients("水利局"),
     "1.1438"),
    ("Which departments have data in 2022 but nothing in 2023?", scores(*SCORE_LINES) - scores("水利局"), "125.27"),
    ("How many units were not listed in 2022 yet appear in 2023?",
     coefficients(*COEFFICIENT_LINES) - coefficients("水利局"), "1.1438"),
])
def test_departments_only_in_one_year(facts_only, question, rows, absent):
    answer = facts_only.ask(question)
    check(answer, "only_in", ["13"], rows)
    assert absent not in answer.answer
    assert ("年" in answer.answer.split("\n")[0]) != question[:5].isascii()


# ---- a department's items, a summary -----------------------------------------------------------------------

@pytest.mark.parametrize(("question", "must", "rows"), [
    ("产业集团的承诺事项有哪些?", ["5项", "全力打造高质高效实力产投"], {(OUT, n) for n in range(38, 43)}),
    ("List the commitments of the Red Cross Society for 2023.", ["5 commitments"], {(T, n) for n in range(24, 29)}),
    # the list asked as "which N are they" (是哪五个, 是哪几项)
    ("产投集团去年那五件事是哪五件?", ["5项", "全力打造高质高效实力产投"], {(OUT, n) for n in range(38, 43)}),
    ("红十字会2023年的重点工作是哪几项?", ["5项"], {(T, n) for n in range(24, 29)}),
])
def test_items_of_a_department(facts_only, question, must, rows):
    check(facts_only.ask(question), "items", must, rows)


def test_items_over_two_years_are_told_per_year_with_a_table(facts_only):
    """The Water Resources Bureau has five outcomes (2022, lines 21-25) and five targets (2023, lines 66-70)."""
    answer = facts_only.ask("列出水利局的全部承诺")
    rows = {(OUT, n) for n in range(21, 26)} | {(T, n) for n in range(66, 71)}
    check(answer, "items", ["市水利局2022年共有5项", "市水利局2023年共有5项"], rows)
    assert answer.table is not None and [row[1].text for row in answer.table.rows] == ["2022"] * 5 + ["2023"] * 5
    ids = {c.id: (c.source, c.line) for c in answer.citations}
    assert {ids[row[2].cite] for row in answer.table.rows} == rows


def test_a_departments_items_that_contain_a_phrase(facts_only):
    """Huzhou Bank's rows that say 贷款: items 2 to 5 (lines 54-57), not the other two."""
    answer = facts_only.ask('Which of Huzhou Bank\'s commitments mention "贷款"?')
    check(answer, "list", ["4 row"], {(OUT, 54), (OUT, 55), (OUT, 56), (OUT, 57)})


@pytest.mark.parametrize(("question", "must", "rows"), [
    ("给我一个市财政局的概述", ["1.1563", "重构一健快兑新机制"], {(T, n) for n in range(46, 51)}),
    ("Give me an overview of the Commerce Bureau.", ["129.86", "招大引强"], {(OUT, n) for n in range(6, 11)}),
    ("科协的基本情况介绍一下", ["1.1255", "举办2023国际绿色低碳创新大会"], {(T, n) for n in range(4, 9)}),
])
def test_summary_of_a_department(facts_only, question, must, rows):
    check(facts_only.ask(question), "summary", must, rows, exact=False)


# ---- StatusIs: exceeded, met, partial, not stated (items_with_status) ----------------------------------------

@pytest.mark.parametrize(("question", "operation", "status", "must", "rows"), [
    ("区域合作办哪些承诺超额完成了?", "list", "exceeded", ["共1项", "提前超额完成"], {(OUT, 45)}),
    # 科技局 promised 100 core technologies and delivered 134
    ("Which of the Science and Technology Bureau's commitments beat their targets?", "list", "exceeded",
     ["突破核心技术134项"], {(OUT, 67)}),
    ("社会发展类有几项承诺超额完成?", "count", "exceeded", ["共1项", "134项"], {(OUT, 67)}),
    ("水利局哪些承诺只是完成了目标?", "list", "met", ["全面完成"], {(OUT, 21)}),
    ("Which of the State-owned Assets Commission's commitments met their targets?", "list", "met",
     ["完成率100%"], {(OUT, 28)}),
    ("交通集团有哪些承诺还没完成?", "list", "partial", ["共2项"], {(OUT, 33), (OUT, 35)}),
    ("Which commitments are still in progress?", "list", "partial", ["3 commitment"],
     {(OUT, 10), (OUT, 33), (OUT, 35)}),
    ("Which commitments fell short of their targets?", "list", "partial", ["3 commitment"],
     {(OUT, 10), (OUT, 33), (OUT, 35)}),
    ("湖州银行的承诺里哪些没有写明是否完成?", "list", "not_stated", ["共6项"], {(OUT, n) for n in range(53, 59)}),
    ("How many of the Financial Affairs Office's outcomes do not state a status?", "count", "not_stated",
     ["5 commitment"], {(OUT, n) for n in range(11, 16)}),
])
def test_items_with_a_status(facts_only, question, operation, status, must, rows):
    answer = facts_only.ask(question)
    check(answer, operation, must, rows)
    q = queries(answer)[0]
    assert q["measure"] == {"name": "items_with_status", "status": status}
    assert q["predicates"] == [{"type": "StatusIs", "statuses": [status]}]


@pytest.mark.parametrize(("question", "must", "rows"), [
    ("卫健委“湖有善育”这条算是超额完成吗?", ["未写明是否达到目标"], {(OUT, 71)}),
    ('Does "超承诺271家" mean the Commerce Bureau exceeded its target?', ["exceeded"], {(OUT, 7)}),
])
def test_status_of_a_quoted_commitment(facts_only, question, must, rows):
    check(facts_only.ask(question), "status_of", must, rows)


def test_a_false_sign_of_exceeding_in_the_question_is_judged_on_its_row(facts_only):
    """行使了超额配售权 offered as evidence of 超额完成: the row that says it, judged, and the word explained."""
    answer = facts_only.ask("湖州燃气上市行使了超额配售权,能说明城市集团这项承诺超额完成了吗?")
    check(answer, "status_of", ["“超额配售权”不是超额完成的标志", "未写明是否达到目标"], {(OUT, 17)})


@pytest.mark.parametrize(("question", "phrase", "must", "rows"), [
    # the commitment in the question's own words, after 承诺/提出/目标是, before 兑现了没有/做到了吗/实现了吗
    # (the question is normalised, 前三 -> 前3; the row says 前三 and is found near-exactly)
    ("交通集团承诺全年完成投资100亿元,最后兑现了没有?", "全年完成投资100亿元", ["109.65亿元", "超额完成"], {(OUT, 37)}),
    ("区域合作办的目标是资金数居全省前三,实现了吗?", "资金数居全省前3", ["第3", "完成目标"], {(OUT, 43)}),
    ("金融办提出的绿色贷款占比位居全省第1做到了吗?", "绿色贷款占比位居全省第1", ["26.9%"], {(OUT, 12)}),
    ("交投集团说要完成投资100亿元,做到没有?", "完成投资100亿元", ["109.65亿元", "超额完成"], {(OUT, 37)}),
])
def test_status_of_a_commitment_in_the_questions_own_words(facts_only, question, phrase, must, rows):
    answer = facts_only.ask(question)
    check(answer, "status_of", must, rows, exact=False)
    assert queries(answer)[0]["predicates"] == [{"type": "TextContains", "phrase": phrase}]


# ---- TextContains (exact phrase), NumberInText (a number in a unit) ------------------------------------------

@pytest.mark.parametrize(("question", "must", "rows"), [
    # 商务局 2022 item 3 (line 8): its first sentence says 超额完成省市全年目标
    ("市商务局2022年第3项目标是否完成?", ["稳外资", "超额完成"], {(OUT, 8)}),
    # 水利局 2022 item 1 (line 21): 全面完成 -> met
    ("Was item 1 of 市水利局 met in 2022?", ["sentence by sentence", "met"], {(OUT, 21)}),
    ("市科协第1项承诺完成了吗?", ["这是年度目标,不是兑现情况"], {(T, 4)}),
])
def test_the_status_of_an_item_by_its_number(facts_only, question, must, rows):
    answer = facts_only.ask(question)
    check(answer, "status_of", must, rows, exact=False)
    assert queries(answer)[0]["scope"]["items"], queries(answer)


def test_the_status_of_an_item_a_department_lacks_names_the_items_it_has(facts_only):
    answer = facts_only.ask("湖州银行第9项完成了吗?")
    assert answer.mode == "refusal" and "1至6" in answer.answer, answer.answer


@pytest.mark.parametrize(("question", "phrase", "must", "rows"), [
    ("哪些部门的兑现情况提到了“数字化改革”?", "数字化改革", ["金融办"], {(OUT, 14)}),
    ('Which departments mention "无废工地"?', "无废工地", ["交通集团", "141 rows scanned"], {(OUT, 35)}),
])
def test_rows_that_contain_a_phrase(facts_only, question, phrase, must, rows):
    answer = facts_only.ask(question)
    check(answer, "list", must, rows)
    assert queries(answer)[0]["predicates"] == [{"type": "TextContains", "phrase": phrase}]
    assert answer.table is not None and len(answer.table.rows) == len(rows)


def test_several_quoted_phrases_are_alternatives_unless_each_is_asked(facts_only):
    """“A”或“B”: rows holding either; 同时…“A”和“B” (the lexicon's all_of): rows holding both."""
    either = facts_only.ask("哪些单位写了“创历史新高”或者“历史新高”?")
    # 历史新高 alone: 金融办 (创下历史新高), 水利局, 科技局, 文广旅局; 创历史新高 adds no department
    check(either, "list", ["“创历史新高”或“历史新高”", "金融办", "水利局", "科技局", "文化广电旅游局"],
          {(OUT, n) for n in (11, 22, 66, 67, 75)})
    assert len(queries(either)[0]["predicates"]) == 2
    both = facts_only.ask("哪些部门同时提到了“绿色”和“金融”?")
    assert "同时提到“绿色”和“金融”" in both.answer
    assert {(c.source, c.line) for c in both.citations} == {(OUT, 12), (OUT, 14), (T, 47), (T, 58)}
    english = facts_only.ask('Which departments mention "新高" or "首个"?')
    assert english.mode != "refusal" and '"新高" or "首个"' in english.answer
    # none found: the refusal names every phrase, joined as the question joined them
    none = facts_only.ask("哪些部门同时提到了“碳达峰”和“新高”?")
    assert none.mode == "refusal" and "没有记录同时提到“碳达峰”和“新高”" in none.answer, none.answer
    assert '"碳达峰" or "无此词"' in facts_only.ask('Which departments mention "碳达峰" or "无此词"?').answer


def test_a_concept_listed_with_enumeration_commas_is_each_of_its_parts(facts_only):
    """跟减碳、低碳有关: two concepts (、 lists them; it does not end a clause), rows about either."""
    answer = facts_only.ask("2023年哪些单位的目标跟减碳、低碳有关?")
    assert [p["concept"] for p in queries(answer)[0]["predicates"]] == ["减碳", "低碳"]
    assert "“减碳”或“低碳”" in answer.answer
    assert {(c.source, c.line) for c in answer.citations} == {(T, 4), (T, 6), (T, 43), (T, 65)}


@pytest.mark.parametrize(("question", "unit", "op", "must", "rows"), [
    # numbers in 家 above 1000 in a clause about 新增…企业: only 科技局's 新增国家科技型企业2471家
    # (服务企业数2940家, 为农服务网点2183家 and 走访企业8812家 are not 新增企业)
    ("哪些部门有新增企业超过1000家的记录?", "家", ">", ["科技局", "2471家"], {(OUT, 66)}),
    # outcome numbers of at least 300亿: 1548, 3346.45, 310, 437, 727.7, 1173.24, 450
    ("Which outcomes report at least 300亿元?", "亿元", ">=", ["7 number", "3346.45亿元", "310亿元"],
     {(OUT, 11), (OUT, 26), (OUT, 38), (OUT, 40), (OUT, 44), (OUT, 53), (OUT, 75)}),
    # an English unit, written 公里 in the rows: 交通运输局's 农村公路355公里 is the only 2023 distance above 100
    ("Which 2023 targets involve more than 100 km?", "公里", ">", ["355公里"], {(T, 62)}),
    ("Which 2023 targets mention at least 1000 households?", "户", ">=", ["6000户"], {(T, 60)}),
    # areas (面积) of at least 1万亩 = 10000亩 in 2023: 耕地面积60000亩 and 播种面积…120.3万亩; 腾出低效用地10000亩
    # and 1.5万亩新增建设用地 are numbers in 亩 too, but not of an area (面积)
    ("2023年哪些目标的面积在1万亩以上?", "万亩", ">=", ["60000亩", "120.3万亩"], {(T, 53), (T, 71)}),
])
def test_numbers_in_the_text(facts_only, question, unit, op, must, rows):
    answer = facts_only.ask(question)
    check(answer, "list", must, rows)
    q = queries(answer)[0]
    assert q["predicates"][0]["type"] == "NumberInText" and q["predicates"][0]["unit"] == unit
    assert q["predicates"][0]["op"] == op and q["measure"]["name"] == "quantity"
    numbers = [f for f in answer.facts if f.method is None]  # the computed counts have a method
    assert answer.table is not None and len(answer.table.rows) == len(numbers)  # one cell per number


# ---- several parts, follow-ups ---------------------------------------------------------------------------

@pytest.mark.parametrize(("question", "operations", "must", "rows"), [
    ("产业集团得了多少分?它的名次呢?", ["value"], ["123.49", "第15"], scores("产业集团", "商务局")),  # one answer
    ("工商联的难度系数是多少?红十字会呢?", ["value", "value"], ["1.1346", "1.1183"],
     coefficients("工商联", "红十字会")),
    ("区域合作办的得分、排名和承诺数分别是多少?", ["value", "count"], ["122.17", "第16", "5项"],
     scores("商务局") | {(OUT, n) for n in range(43, 48)}),
    ("What was the Commerce Bureau's score and its rank?", ["value"], ["129.86", "No. 9"], scores("商务局")),
    # the second part asks the other end of the same order
    ("系数最大的是谁?最小的呢?", ["max", "min"], ["发展改革委", "1.1599", "红十字会", "1.1183"],
     coefficients("发展改革委", "红十字会")),
    ("Which department has the highest score, and which has the lowest?", ["max", "min"], ["135.20", "113.78"],
     scores("商务局", "科技局", "湖州银行", "人社社保局")),
    # each measure with its own year: said before it in Chinese, after it in English
    ("水利局2022年的得分和2023年的难度系数分别是多少?", ["value", "value"], ["125.27", "1.1438"],
     scores("水利局") | coefficients("水利局")),
    ("What were the Water Resources Bureau's score in 2022 and coefficient in 2023?", ["value", "value"],
     ["125.27", "1.1438"], scores("水利局") | coefficients("水利局")),
    # the second part asks the same comparison again: one answer
    ("人社局和文旅局谁的分数高?高几分?", ["difference"], ["130.34 − 128.64 = 1.70"],
     scores("人社社保局", "文化广电旅游局")),
])
def test_parts_of_one_question_share_context(facts_only, question, operations, must, rows):
    answer = facts_only.ask(question)
    assert ops(answer) == operations, queries(answer)
    check(answer, operations[0], must, rows)


@pytest.mark.parametrize(("history", "question", "operation", "must", "rows"), [
    (["区域合作办的最终得分是几分?"], "它一共有几项承诺?", "count", ["5项"], {(OUT, n) for n in range(43, 48)}),
    (["区域合作办的最终得分是几分?", "它排第几?"], "那卫健委呢?", "value", ["第2", "132.98"], scores("卫生健康委")),
    (["What is the difficulty coefficient of the Federation of Industry and Commerce?"], "What about the Red Cross "
     "Society?", "value", ["1.1183"], coefficients("红十字会")),
    # "it" is the department asked about before, and its coefficient (1.1501) is the threshold: six are above it
    (["交通运输局的系数是多少?"], "比它高的有哪些?", "list", ["高于市交通运输局(1.1501)", "有6个"],
     coefficients("交通运输局", "发展改革委", "经信局", "财政局", "建设局", "农业农村局", "自然资源和规划局")),
    (["What is the Finance Bureau's difficulty coefficient?"], "Which departments have a higher coefficient than it?",
     "list", ["1 of 14", "1.1599"], coefficients("财政局", "发展改革委")),
])
def test_follow_ups_take_the_earlier_context(facts_only, history, question, operation, must, rows):
    check(facts_only.ask(question, history=history), operation, must, rows)


# ---- refusals that say why -------------------------------------------------------------------------------

@pytest.mark.parametrize(("question", "why"), [
    ("经济建设类排名第五的是谁?", ["第9至18名"]),  # a missing rank names the ranks present
    ("Which department ranked 3rd in the economic construction category?", ["9–18"]),
    ("Which department ranked first in the economic construction category?", ["9–18"]),
    ("市审计局得分多少?", ["市审计局"]),  # a department not in the data
    ("What is the score of the Audit Bureau?", ["Audit Bureau"]),
    ("Summarize the Housing Security Office.", ["Not found: Housing Security Office is not in the data"]),
    ("温州市水利局的难度系数是多少?", ["温州"]),  # another city's department, though 水利局 exists here
    ("What was the score of the Hangzhou Commerce Bureau?", ["Hangzhou"]),
    ("2021年文联的难度系数是多少?", ["2021", "2022年、2023年"]),  # a year not in the data
    ("What was the Commerce Bureau's score in 2020?", ["2020", "2022, 2023"]),
])
def test_refusals_say_why(facts_only, question, why):
    answer = facts_only.ask(question)
    assert answer.mode == "refusal", answer.answer
    assert "125.27" not in answer.answer and "129.86" not in answer.answer  # no figure of another department
    for text in why:
        assert text in answer.answer, (question, answer.answer)


@pytest.mark.parametrize("question", ["经济建设类得分最高的是哪个部门?", "Which department scored best in the economic "
                                      "construction category?"])
def test_no_first_when_the_top_ranks_are_absent(facts_only, question):
    """The best score present in an excerpt (ranks 9-18) is not called first: the answer says which ranks
    are there."""
    answer = facts_only.ask(question)
    assert ops(answer) == ["max"] and "129.86" in answer.answer
    assert "第1至8名不在数据中" in answer.answer or "ranks 1–8 are not loaded" in answer.answer
    assert "排名第一" not in answer.answer and "No. 1" not in answer.answer


# ---- FieldIs against the group's average: each average computed and cited, then compared unrounded --------------

@pytest.mark.parametrize(("question", "operation", "must", "rows", "chosen"), [
    # economic 2022: 1236.20 / 10 = 123.62; below it: 产业集团 123.49, 区域合作办 122.17, 供销社 117.48, 湖州银行 113.78
    ("经济建设类里哪些单位的得分低于本类平均分?", "list", ["123.62", "1236.20 / 10", "有4个"],
     scores(*list(SCORE_LINES)[:10]),
     ["产业集团", "区域合作办", "供销社", "湖州银行"]),
    # social 2022: 527.16 / 4 = 131.79; above it: 科技局 135.20, 卫健委 132.98
    ("社会发展类中分数超过平均水平的有几个部门?", "count", ["131.79", "共2个"],
     scores("科技局", "卫生健康委", "文化广电旅游局", "人社社保局"), ["科技局", "卫生健康委"]),
    ("Which social development departments scored below the average?", "list", ["131.79", "2 departments are below"],
     scores("科技局", "卫生健康委", "文化广电旅游局", "人社社保局"), ["文化广电旅游局", "人社社保局"]),
    # coefficients 2023, one group: 15.9688 / 14 = 1.1406 (1.14062…); at or above it: 8 departments
    ("难度系数不低于平均值的部门有几个?", "count", ["1.1406", "15.9688 / 14", "共8个"],
     coefficients(*COEFFICIENT_LINES), ["发展改革委", "经信局", "财政局", "建设局", "农业农村局", "自然资源和规划局",
                                         "交通运输局", "水利局"]),
])
def test_a_field_against_the_average_of_its_group(facts_only, question, operation, must, rows, chosen):
    answer = facts_only.ask(question)
    check(answer, operation, must, rows, exact=False)
    predicate = queries(answer)[0]["predicates"][0]
    assert predicate["against"] == "mean" and "value" not in predicate
    assert {c.department.removeprefix("市") for c in answer.citations if c.department.removeprefix("市") in chosen} \
        == set(chosen)
    listed = answer.answer.split("个:" if "个:" in answer.answer else "below it:")[-1]
    for name in COEFFICIENT_LINES.keys() | SCORE_LINES.keys():
        assert (name in listed) == (name in chosen) or name not in listed, (name, listed)


# ---- place: where a department stands in an order the tables do not rank (the coefficient) ---------------------

@pytest.mark.parametrize(("question", "must", "ascending"), [
    # descending: 1.1599 发改委, 1.1563 经信局 = 财政局, 1.1550 建设局, 1.1544 农业农村局, 1.1539 自规局,
    # 1.1501 交通运输局, 1.1438 水利局 -> the 8th place
    ("水利局的难度系数在全市排第几?", ["1.1438", "14个部门中由高到低排第8位", "1.1599"], False),
    # a tie: 财政局 and 经信局 share the 2nd place
    ("Where does the Finance Bureau rank by difficulty coefficient?", ["1.1563", "place 2 of 14", "tied with 市经信局"],
     False),
    # ascending: 1.1183 红十字会, 1.1191 文联 -> the 2nd from the lowest
    ("文联的难度系数从低到高排第几位?", ["1.1191", "由低到高排第2位", "1.1183"], True),
])
def test_the_place_of_a_department_by_coefficient(facts_only, question, must, ascending):
    answer = facts_only.ask(question)
    check(answer, "place", must, coefficients(*COEFFICIENT_LINES))
    assert queries(answer)[0].get("ascending", False) == ascending
    place = next(f for f in answer.facts if f.label == "排序位置")
    assert len(place.citations) == 14 and place.method and "ties share a place" in place.method


def test_a_coefficient_and_a_rank_joined_by_and_are_two_values(facts_only):
    answer = facts_only.ask("水利局的难度系数和排名分别是多少?")
    assert ops(answer) == ["value", "value"] and "1.1438" in answer.answer and "12" in answer.answer


# ---- from_mean: a department against its group's average ------------------------------------------------------

@pytest.mark.parametrize(("question", "must", "rows"), [
    # 国资委 124.31 against the economic average 123.62: above by 0.69
    ("国资委的得分与经济建设类平均分相比高多少?", ["124.31", "123.62", "高于平均值0.69分", "124.31 − 123.62 = 0.69"],
     scores(*list(SCORE_LINES)[:10])),
    # 文旅局 130.34 against the social average 131.79: below by 1.45
    ("How does the Culture and Tourism Bureau's score compare with the average of its category?",
     ["130.34", "131.79", "below the average by 1.45"], scores("科技局", "卫生健康委", "文化广电旅游局", "人社社保局")),
    # 文联 1.1191 against the mean of all 14 coefficients, 1.1406: below by 0.0215
    ("市文联的难度系数比全市平均水平低多少?", ["1.1191", "1.1406", "低于平均值0.0215"],
     coefficients(*COEFFICIENT_LINES)),
])
def test_a_department_against_the_average_of_its_group(facts_only, question, must, rows):
    answer = facts_only.ask(question)
    check(answer, "from_mean", must, rows)
    assert any(f.method and "−" in f.method for f in answer.facts if f.label.startswith("与平均"))


# ---- the Nth from the bottom, said with 名 or in English ----------------------------------------------------------

@pytest.mark.parametrize(("question", "must", "rows"), [
    ("社会发展类倒数第一名是哪个部门?", ["市人社社保局", "128.64"], scores("人社社保局")),
    ("经济建设类倒数第3名是谁?", ["市区域合作办", "122.17"], scores("区域合作办")),
    # coefficients from the lowest: 1.1183 红十字会, 1.1191 文联
    ("Which department is 2nd from the bottom by difficulty coefficient?", ["市文联", "1.1191"], coefficients("文联")),
])
def test_the_nth_from_the_bottom_is_not_a_rank(facts_only, question, must, rows):
    answer = facts_only.ask(question)
    check(answer, "nth", must, rows)
    assert queries(answer)[0]["ascending"] is True


# ---- a measure said to be a value (是, 为, of): equality -------------------------------------------------------------

@pytest.mark.parametrize(("question", "field", "must", "rows"), [
    ("评定难度系数为1.1501的是哪个部门?", "coefficient", ["市交通运输局"], coefficients("交通运输局")),
    ("Which department had a final score of 129.48?", "score", ["市金融办"], scores("金融办")),
    ("难度系数是1.1563的有哪些单位?", "coefficient", ["市经信局", "市财政局"], coefficients("经信局", "财政局")),
])
def test_a_measure_said_to_be_a_value_is_an_equality(facts_only, question, field, must, rows):
    answer = facts_only.ask(question)
    check(answer, "list", must, rows)
    assert queries(answer)[0]["predicates"] == [{"type": "FieldIs", "field": field, "op": "=",
                                                  "value": queries(answer)[0]["predicates"][0]["value"]}]


def test_dou_you_shei_asks_who_not_both_years(facts_only):
    """都有谁 ("who are they all") is a listing, not 都有 ("both have")."""
    answer = facts_only.ask("得分低于120分的都有谁?")
    check(answer, "list", ["市供销社", "湖州银行"], scores("供销社", "湖州银行"))


# ---- items: other words for them, one item by its number, a number the department lacks ------------------------

@pytest.mark.parametrize(("question", "items", "rows"), [
    ("工商联都承诺了些啥?", [1, 2, 3, 4, 5], {(T, n) for n in range(29, 34)}),
    ("市贸促会第4项承诺是什么?", [4], {(T, 17)}),
    ("What is item 2 of the Red Cross Society?", [2], {(T, 25)}),
])
def test_a_departments_items_by_other_words_and_by_number(facts_only, question, items, rows):
    answer = facts_only.ask(question)
    check(answer, "items", [f"{n}." for n in items], rows)
    assert {c.item for c in answer.citations} == set(items)


def test_an_item_number_a_department_lacks_is_refused_with_its_numbers(facts_only):
    answer = facts_only.ask("市残联第8项承诺是什么?")
    assert answer.mode == "refusal" and "没有第8项" in answer.answer and "1至5" in answer.answer


# ---- counts of every row in scope ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("question", "count", "kind"), [
    ("2022年总共有多少项承诺事项?", "71项", OUT),
    ("How many commitments are there in 2023 in total?", "70 commitments", T),
])
def test_how_many_commitments_in_a_year(facts_only, question, count, kind):
    answer = facts_only.ask(question)
    assert ops(answer) == ["count"] and queries(answer)[0]["measure"]["name"] == "items"
    assert count in answer.answer and {c.source for c in answer.citations} == {kind}
    assert len(answer.citations) == int(count.split("项")[0].split(" ")[0])


def test_a_count_of_a_number_in_the_text_is_not_a_count_of_rows(facts_only):
    assert ops(facts_only.ask("全市新建了多少项重点工程?")) != ["count"]


# ---- an aggregate over the departments that pass a condition -------------------------------------------------------

@pytest.mark.parametrize(("question", "operation", "must", "rows"), [
    # economic above 125: 129.86, 129.48, 126.09, 125.27 -> 510.70 / 4 = 127.675 -> 127.68
    ("经济建设类得分超过125分的单位平均分是多少?", "mean", ["510.70 / 4", "127.68", "高于125"],
     scores("商务局", "金融办", "城市集团", "水利局")),
    # coefficients above 1.15: 8.0859 / 7 = 1.15513 -> 1.1551
    ("What is the average difficulty coefficient of departments above 1.15?", "mean", ["8.0859 / 7", "1.1551"],
     coefficients("发展改革委", "经信局", "财政局", "自然资源和规划局", "建设局", "交通运输局", "农业农村局")),
    ("社会发展类得分不低于130分的部门总分是多少?", "sum", ["135.20 + 132.98 + 130.34", "398.52"],
     scores("科技局", "卫生健康委", "文化广电旅游局")),
])
def test_an_aggregate_over_the_departments_that_pass(facts_only, question, operation, must, rows):
    answer = facts_only.ask(question)
    check(answer, operation, must, rows)
    assert queries(answer)[0]["predicates"][0]["type"] == "FieldIs"


@pytest.mark.parametrize(("question", "operation", "must", "rows"), [
    # the two lowest of the social category: 128.64 + 130.34 = 258.98 -> / 2 = 129.49
    ("社会发展类得分最低的两个部门平均分是多少?", "mean", ["258.98 / 2", "129.49", "最低的2个部门"],
     scores("人社社保局", "文化广电旅游局")),
    # the three highest coefficients: 1.1599 + 1.1563 + 1.1563 = 3.4725 -> / 3 = 1.1575
    ("What is the average coefficient of the 3 highest departments?", "mean", ["3.4725 / 3", "1.1575", "3 highest"],
     coefficients("发展改革委", "经信局", "财政局")),
    ("经济建设类前3名的总分是多少?", "sum", ["129.86 + 129.48 + 126.09", "385.43"],
     scores("商务局", "金融办", "城市集团")),
])
def test_an_aggregate_of_the_first_n(facts_only, question, operation, must, rows):
    answer = facts_only.ask(question)
    check(answer, operation, must, rows)


@pytest.mark.parametrize(("question", "must"), [
    # economic 123.62, social 131.79: 123.62 − 131.79 = −8.17, in the order the question names them
    ("经济建设类的平均分比社会发展类低多少?", ["经济建设类比社会发展类低8.17分", "123.62 − 131.79 = -8.17"]),
    ("How much higher is the average score of social development than economic construction?",
     ["社会发展类 is higher by 8.17", "131.79 − 123.62 = 8.17"]),
])
def test_two_groups_averages_compared(facts_only, question, must):
    answer = facts_only.ask(question)
    check(answer, "mean", must, scores(*SCORE_LINES), exact=False)
    assert any(f.label.endswith("之差") and len(f.citations) == 14 for f in answer.facts)


def test_a_count_of_items_with_a_noun_after_it_asks_for_a_number_in_the_text(facts_only):
    """科技局…突破了多少项核心技术: a quantity in the department's rows, not how many rows it has."""
    answer = facts_only.ask("科技局突破了多少项核心技术?")
    assert queries(answer)[0]["measure"]["name"] == "quantity"
    assert queries(facts_only.ask("科技局一共有几项承诺?"))[0]["measure"]["name"] == "items"


@pytest.mark.parametrize("question", ["某某建材公司签订了什么合同?", "国家发展改革委评选的试点是哪个?"])
def test_an_organisation_that_did_something_asks_about_the_rows(facts_only, question):
    """An organisation not in the data, followed by what it did and a question about a thing, is content
    (retrieval), not a department the data lacks."""
    assert ops(facts_only.ask(question)) == ["content"]


@pytest.mark.parametrize("question", ["市教育局做了哪些工作?", "市审计局怎么样?", "市体育局的得分是多少"])
def test_an_unknown_department_asked_about_as_one_is_still_refused(facts_only, question):
    answer = facts_only.ask(question)
    assert ops(answer) == ["refuse"] and "未收录该部门" in answer.answer


def test_a_number_in_the_rows_of_one_department(facts_only):
    # 水利局 2022: 年度计划完成率127% (line 22), 综合完成率137% (line 24); nothing else of its rows above 100%
    answer = facts_only.ask("水利局哪些项目的完成率超过了100%?")
    check(answer, "list", ["127%", "137%"], {(OUT, 22), (OUT, 24)})
    assert queries(answer)[0]["scope"]["departments"] == ["市水利局"]
    assert queries(answer)[0]["measure"]["noun"] == "完成率"


def test_chinese_words_in_an_english_question_are_a_phrase(facts_only):
    answer = facts_only.ask("Which departments mention 乡村振兴?")
    assert queries(answer)[0]["predicates"] == [{"type": "TextContains", "phrase": "乡村振兴"}]
    assert answer.citations and all("乡村振兴" in c.quote for c in answer.citations), answer.answer


# ---- every department in one order (所有部门放一起), not per category ------------------------------------------------

@pytest.mark.parametrize(("question", "operation", "must", "rows"), [
    # all 14 scores of 2022, descending: 135.20, 132.98, 130.34, 129.86 (商务局, rank 9 of its own category)
    ("不分类别,2022年得分第四高的部门是哪个?", "nth", ["市商务局", "129.86", "共14个部门"], scores("商务局")),
    ("Which 3 departments scored lowest overall?", "bottom", ["湖州银行", "市供销社", "市区域合作办"],
     scores("湖州银行", "供销社", "区域合作办")),
])
def test_an_order_over_every_department_together(facts_only, question, operation, must, rows):
    answer = facts_only.ask(question)
    check(answer, operation, must, rows, exact=False)
    cited_scores = {(c.source, c.line) for c in answer.citations if c.field == "最终得分"}
    assert cited_scores == rows, answer.answer  # one order: no per-category winners beside them


def test_ties_of_a_named_department_are_with_its_peers(facts_only):
    answer = facts_only.ask("经信局的难度系数和谁一样?")
    check(answer, "ties", ["市经信局", "市财政局", "1.1563"], coefficients("经信局", "财政局"))
    # no tie: the department's own value told and cited, with the others it was compared with (not a refusal)
    alone = facts_only.ask("市残联的难度系数有和它相同的吗?")
    check(alone, "ties", ["1.1217", "其他13个部门", "没有并列"], coefficients("残联"))


@pytest.mark.parametrize(("question", "must", "rows"), [
    # the highest 2023 coefficient (发改委 1.1599) is held alone; the lowest (红十字会 1.1183) too
    ("难度系数最高的单位是独一家还是有并列?", ["最高的是市发展改革委", "1.1599", "没有并列"],
     coefficients("发展改革委")),
    ("Is the lowest 2023 coefficient tied with anyone?", ["市红十字会", "1.1183", "not tied"],
     coefficients("红十字会")),
    ("Is the highest 2023 difficulty coefficient shared by more than one unit?", ["市发展改革委", "not tied"],
     coefficients("发展改革委")),
    ("建设局的难度系数有没有和别的单位并列?", ["1.1550", "没有并列"], coefficients("建设局")),
])
def test_ties_at_an_extreme_or_of_one_department_say_its_value(facts_only, question, must, rows):
    check(facts_only.ask(question), "ties", must, rows)


@pytest.mark.parametrize(("question", "concept", "rows"), [
    # 新增混改企业16家 (国资委, line 29) and 交通集团's 混改 (line 36)
    ("哪些单位搞了混改?", "混改", {(OUT, 29), (OUT, 36)}),
    ("哪些部门开展了数字化改革?", "数字化改革", {(OUT, 14)}),
])
def test_what_departments_did_is_a_set_question(facts_only, question, concept, rows):
    answer = facts_only.ask(question)
    check(answer, "list", [concept], rows)
    assert queries(answer)[0]["predicates"] == [{"type": "TextAbout", "concept": concept}]


@pytest.mark.parametrize("question", ["哪些部门在2023年有目标?", "哪些单位有承诺?"])
def test_a_listing_with_nothing_done_is_not_a_set_question(facts_only, question):
    assert not any(p.get("type") == "TextAbout" for q in queries(facts_only.ask(question))
                   for p in q.get("predicates", []))


def test_a_range_with_inclusive_said_in_brackets(facts_only):
    # 128.64 to 132.98 inclusive: 卫健委 132.98, 文旅局 130.34, 商务局 129.86, 金融办 129.48, 人社局 128.64
    answer = facts_only.ask("得分介于128.64和132.98之间(含端点)的单位?")
    check(answer, "list", ["有5个"], scores("卫生健康委", "文化广电旅游局", "商务局", "金融办", "人社社保局"))


@pytest.mark.parametrize(("question", "concept"), [
    ("Which departments mention AED in their targets?", "AED"),
    ("Which departments mention green finance in 2022?", "green finance"),
])
def test_where_to_look_is_not_part_of_an_english_concept(facts_only, question, concept):
    assert queries(facts_only.ask(question))[0]["predicates"] == [{"type": "TextAbout", "concept": concept}]


def test_the_departments_of_a_comparison_said_after_it_in_english(facts_only):
    # coefficients 2023: 财政局 1.1563, 交通运输局 1.1501 -> 0.0062
    answer = facts_only.ask("Which has the higher difficulty coefficient, the Finance Bureau or the Transport "
                            "Bureau, and by how much?")
    check(answer, "difference", ["1.1563 − 1.1501 = 0.0062"], coefficients("财政局", "交通运输局"))


# ---- more words from the lexicon: summaries, mentions, short names, 分差 ----------------------------------------

@pytest.mark.parametrize(("question", "operation"), [
    ("说说市金融办的大致情况", "summary"), ("谈谈贸促会的情况", "summary"),
    ("哪些部门讲到了人才?", "list"), ("哪些单位的承诺里有养老?", "list"),
    ("市产投比市城投少几分?", "difference"), ("水利局和交通运输局系数分差多少", "difference"),
    ("科协与文联的难度系数差值?", "difference"), ("湖银考了第几?", "value"), ("财政局系数在全市排老几?", "place"),
    ("社会发展类垫底的两家是?", "bottom"), ("市残联2023年的目标清单", "items"), ("目标里写有“共富”的单位", "list"),
])
def test_more_wordings_from_the_lexicon(facts_only, question, operation):
    answer = facts_only.ask(question)
    assert ops(answer) == [operation], (question, queries(answer))
    assert answer.citations, answer.answer


# ---- a department against another category's lowest or highest ------------------------------------------------

@pytest.mark.parametrize(("question", "must", "rows"), [
    # 社会发展类's lowest is 人社局 128.64: 金融办 129.48 − 128.64 = 0.84
    ("市金融办比社会发展类最低分高多少?", ["最低的是市人社社保局", "129.48 − 128.64 = 0.84"],
     scores("金融办", "人社社保局")),
    # 社会发展类's first is 科技局 135.20: 135.20 − 117.48 = 17.72
    ("供销社比社会发展类第一名低多少分?", ["最高的是市科技局", "135.20 − 117.48 = 17.72"], scores("供销社", "科技局")),
    # 经济建设类's highest present is 商务局 129.86 (an excerpt: said); 文旅局 130.34 − 129.86 = 0.48
    ("文旅局和经济建设类最高分相差多少?", ["最高的是市商务局", "130.34 − 129.86 = 0.48", "第1至8名不在数据中"],
     scores("文化广电旅游局", "商务局")),
    ("How much lower is 市交通集团 than the highest in the social development category?",
     ["highest final score in 社会发展类", "135.20 − 124.27 = 10.93"], scores("交通集团", "科技局")),
])
def test_a_department_against_another_categorys_extreme(facts_only, question, must, rows):
    answer = facts_only.ask(question)
    check(answer, "difference", must, rows, exact=False)


# ---- amounts in the rows' texts added up -----------------------------------------------------------------------

@pytest.mark.parametrize(("question", "must", "rows"), [
    # 湖州银行 2022 item 2 (line 54): 新增各项贷款120.41亿元; item 4 (line 56): 新增投放涉农贷款50.12亿元
    ("湖州银行新增各项贷款加上涉农贷款一共合计多少亿元?", ["170.53亿元", "120.41 + 50.12 = 170.53"],
     {(OUT, 54), (OUT, 56)}),
    # 筹集各类资金144.01亿元 (line 54) and 净利润9.33亿元 (line 53)
    ("湖州银行筹集的各类资金与净利润合计多少亿元", ["144.01 + 9.33 = 153.34"], {(OUT, 53), (OUT, 54)}),
])
def test_amounts_in_the_texts_added_up(facts_only, question, must, rows):
    answer = facts_only.ask(question)
    check(answer, "sum", must, rows)


def test_a_sum_with_a_part_the_texts_lack_is_not_added(facts_only):
    """Unless every part is found, the question is a content lookup (here, without retrieval, a refusal)."""
    answer = facts_only.ask("湖州银行普惠小微贷款和航天发射补贴合计多少亿元?")
    assert "合计" not in answer.answer and "51.32 +" not in answer.answer, answer.answer


# ---- yes or no: a named department against a threshold ---------------------------------------------------------

@pytest.mark.parametrize(("question", "verdict", "rows"), [
    ("市城市集团得分是否高于126分?", "是。市城市集团2022年的最终得分为126.09分", scores("城市集团")),  # 126.09 > 126
    ("产业集团的得分有没有超过124分?", "否。市产业集团2022年的最终得分为123.49分", scores("产业集团")),  # 123.49
    ("Did the Science and Technology Bureau score at least 135.2?", "Yes: 市科技局's final score", scores("科技局")),
    ("市残联的难度系数是否低于1.12?", "否。市残联2023年的评定难度系数为1.1217", coefficients("残联")),  # 1.1217 > 1.12
    ("Is 市贸促会's difficulty coefficient below 1.12?", "Yes: 市贸促会's difficulty coefficient in 2023 is 1.1199",
     coefficients("贸促会")),
    ("区域合作办进入前15名了吗?", "否。市区域合作办2022年的类别内排名在经济建设类中为第16名", {(OUT, 43)}),  # rank 16
])
def test_whether_a_department_meets_a_threshold(facts_only, question, verdict, rows):
    answer = facts_only.ask(question)
    check(answer, "check", [verdict], rows)


# ---- the median of a group; ranks from one to another ---------------------------------------------------------------

@pytest.mark.parametrize(("question", "must", "rows"), [
    # 10 scores, even: (124.27 + 124.31) / 2 = 124.29
    ("经济建设类最终得分的中位数是多少?", ["中位数为124.29", "(124.27 + 124.31) / 2"], scores(*list(SCORE_LINES)[:10])),
    # 4 scores: (130.34 + 132.98) / 2 = 131.66
    ("What is the median final score of the social development category?", ["median", "131.66"],
     scores("科技局", "卫生健康委", "文化广电旅游局", "人社社保局")),
    # the 3 lowest of 经济建设类 (113.78, 117.48, 122.17): odd, the middle one
    ("经济建设类得分最低的三个部门中位值", ["117.48"], scores("湖州银行", "供销社", "区域合作办")),
    # 14 coefficients: (1.1438 + 1.1501) / 2 = 1.14695 -> 1.1470 (half up)
    ("2023年评定难度系数的中间值", ["全部14个部门", "1.1470", "(1.1438 + 1.1501) / 2"],
     coefficients(*COEFFICIENT_LINES)),
])
def test_median_of_a_group(facts_only, question, must, rows):
    answer = facts_only.ask(question)
    check(answer, "median", must, rows, exact=False)  # with the rank row a note on the excerpt cites


@pytest.mark.parametrize(("question", "must", "absent", "rows"), [
    ("经济建设类排名第12至第14的是哪些部门?", ["第12名市水利局", "第13名市国资委", "第14名市交通集团"], None,
     {(OUT, 21), (OUT, 26), (OUT, 33)}),
    ("社会发展类第二名到第四名是谁?", ["市卫生健康委", "市文化广电旅游局", "市人社社保局"], "市科学技术局",
     {(OUT, 68), (OUT, 75), (OUT, 80)}),
    ("Which units placed 15th to 17th in the economic category?", ["市产业集团", "市区域合作办", "市供销社"],
     "湖州银行", {(OUT, 38), (OUT, 43), (OUT, 48)}),
    ("Which departments rank between 9 and 10 in 经济建设类?", ["市商务局", "市金融办"], "市城市集团",
     {(OUT, 6), (OUT, 11)}),
    # ranks 7 and 8 are not in the excerpt: said, and 9-10 listed
    ("经济建设类第7到第10名", ["市商务局", "市金融办", "第9至18名", "第7至8名不在其中"], None, {(OUT, 6), (OUT, 11)}),
])
def test_departments_ranked_from_one_rank_to_another(facts_only, question, must, absent, rows):
    answer = facts_only.ask(question)
    check(answer, "list", must, rows, exact=False)
    assert queries(answer)[0]["predicates"][0]["op"] == "between", queries(answer)
    assert absent is None or absent not in answer.answer


def test_a_range_of_ranks_the_excerpt_lacks_is_refused_with_the_ranks_it_has(facts_only):
    answer = facts_only.ask("经济建设类第3到第5名是哪些部门?")
    assert answer.mode == "refusal" and "第3至5名" in answer.answer and "第9至18名" in answer.answer, answer.answer


def test_every_operation_and_measure_is_covered_here():
    """Keeps this file honest: a new operation or measure needs its tests here."""
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    for operation in OPERATIONS:
        if operation in ("refuse", "content"):
            continue  # refusals have their own tests; content lookups are in the slow group below
        assert f'"{operation}"' in source, operation
    for measure in MEASURES:
        assert f'"{measure}"' in source, measure


# ---- with the real model: content lookups (quantity), concepts (TextAbout) ------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("question", "must", "row"), [
    ("湖州银行绿色贷款占比是多少?", "28.51%", (OUT, 57)),
    ("What share of Huzhou Bank's loans are green loans?", "28.51%", (OUT, 57)),
    ("How many new joint-stock companies were added in 2022?", "139", (OUT, 13)),  # joint-stock: 股份制 (lexicon)
])
def test_content_lookup_quotes_the_clause(assistant, question, must, row):
    answer = assistant.ask(question)
    assert ops(answer) == ["content"] and must in answer.answer, answer.answer
    assert row in cited(answer)


@pytest.mark.slow
@pytest.mark.parametrize(("question", "row"), [
    ("2023年哪些单位的目标涉及无障碍?", (T, 19)),
    ("Which 2023 targets are about disabled people?", (T, 19)),
])
def test_rows_about_a_concept(assistant, question, row):
    answer = assistant.ask(question)
    assert ops(answer) == ["list"], queries(answer)
    assert queries(answer)[0]["predicates"][0]["type"] == "TextAbout"
    assert row in cited(answer) and answer.table is not None


def test_a_concept_no_row_says_is_looked_for_by_its_most_specific_word(corpus, tmp_path):
    """企业上市 is in no row; of its words, 上市 is the rarer (企业 is in many rows): the rows with 上市, and the
    answer names the word it used. Whole jieba words, not the index's bigrams (数字化改革 gives 数字化, not 化改)."""
    from assistant.answers import Assistant
    from assistant.content import ContentFinder
    from index.tokenize import JiebaTokenizer

    tokenizer = JiebaTokenizer(dictionary_copy=tmp_path / "jieba.sqlite3")
    finder = ContentFinder(corpus, Assistant(corpus).lexicon, tokenize=tokenizer)
    assert finder.specific_word("企业上市") == "上市"
    assert finder.specific_word("数字化改革") in {"数字化", "改革"}
    assert finder.specific_word("上市") is None  # one word: nothing more specific to fall back on
    assert finder.specific_word("全市完成") is None  # generic words (全市, 完成) never stand for a concept
    without_words = ContentFinder(corpus, Assistant(corpus).lexicon)  # a tokenizer without `words`
    assert without_words.specific_word("企业上市") is None

    assistant = Assistant(corpus, make_search=lambda: (None, tokenizer))  # type: ignore[arg-type,return-value]
    answer = assistant.ask("2022年哪些单位的材料和企业上市有关?")
    assert "提到“上市”" in answer.answer and "企业上市" not in answer.answer.split("\n")[0]
    assert {(c.source, c.line) for c in answer.citations} == {(OUT, 13), (OUT, 17), (OUT, 29), (OUT, 48)}
    assert "按关键词匹配" in answer.answer


@pytest.mark.parametrize(("question", "parts"), [
    ("区域合作办排第几、一共几项承诺、走进湖州活动签约了多少个产业项目?", 3),  # 、 between asks: three parts
    ("商务局、水利局、科技局的得分分别是多少?", 1),  # 、 lists the departments of one ask
    ("哪些单位的目标跟减碳、低碳有关?", 1),
])
def test_enumeration_commas_end_a_part_only_between_asks(question, parts):
    from assistant.parse import split

    assert len(split(question)) == parts
    if parts == 1:
        assert split(question)[0].text == question


@pytest.mark.parametrize(("question", "operations"), [
    # 占比/同比/比重 are not 比…多 (a comparison): the second part is a value of its own, for the same department
    ("金融办类别内排第几?绿色贷款占比达到多少?", ["value", "content"]),
    ("水利局得了多少分?投资同比增长多少?", ["value", "content"]),
    # 比…高多少 still compares: with the department of the part before (卫健委 against 文旅局)
    ("卫健委得分是多少?比文旅局高多少?", ["value", "difference"]),
    ("What did the Water Bureau score? How much lower than the Commerce Bureau?", ["value", "difference"]),
])
def test_a_ratio_word_is_not_a_comparison(facts_only, question, operations):
    parsed, _ = facts_only.parse(question, None, None)
    assert [q.operation for q in parsed] == operations
    assert all(q.scope.departments for q in parsed)
    if "difference" in operations:
        assert len(parsed[-1].scope.departments) == 2
        assert any(s in facts_only.ask(question).answer for s in ("132.98 − 130.34 = 2.64", "129.86 − 125.27 = 4.59"))


@pytest.mark.parametrize(("question", "subject", "year"), [
    ("水利局2022年水利总投资完成了多少,2023年目标定的多少?", "水利总投资", 2023),
    ("科技局2022年新增国家科技型企业多少家?2023年的目标是多少?", "科技型企业", 2023),
    # a content question too, about a project no department name stands for
    ("湖杭高速2022年建到什么程度了,2023年的目标是什么?", "湖杭高速", 2023),
    ("如通苏湖城际铁路2022年进展如何?2023年有什么计划?", "如通苏湖", 2023),
])
def test_an_amount_asked_without_its_subject_takes_the_subject_of_the_part_before(facts_only, question, subject,
                                                                                   year):
    parsed, _ = facts_only.parse(question, None, None)
    assert len(parsed) == 2 and parsed[1].scope.years == (year,)
    assert subject in parsed[1].text  # looked up with the words of the part before


def test_an_amount_with_a_subject_of_its_own_keeps_its_own_words(facts_only):
    parsed, _ = facts_only.parse("金融办类别内排第几?绿色贷款占比达到多少?", None, None)
    assert parsed[1].text.startswith("绿色贷款占比")


SOCIAL_DEVELOPMENT = ("科技局", "卫生健康委", "文化广电旅游局", "人社社保局")


@pytest.mark.parametrize(("question", "must", "rows"), [
    # 科技局 135.20 against 社会发展类's average 131.79 (rows 63, 68, 75, 80): 3.41
    ("社会发展类的最高分比该类平均分高出多少?", ["最高的是市科技局", "135.20 − 131.79 = 3.41"],
     scores(*SOCIAL_DEVELOPMENT)),
    ("How far above its category average is the top score in social development?",
     ["highest", "市科技局", "135.20 − 131.79 = 3.41"], scores(*SOCIAL_DEVELOPMENT)),
    # no category named: the highest of each category, as `max` answers, each against its own category's average
    ("2022年最高分比本类平均分高多少?", ["经济建设类最终得分最高的是市商务局", "129.86 − 123.62 = 6.24",
                                   "社会发展类最终得分最高的是市科技局", "135.20 − 131.79 = 3.41"],
     scores(*SCORE_LINES)),
    # 红十字会 1.1183, the lowest of 2023, against the 14 coefficients' average 1.1406
    ("2023年难度系数最低的单位比全部单位平均值低多少?", ["最低的是市红十字会", "1.1183 − 1.1406 = -0.0223"],
     coefficients(*COEFFICIENT_LINES)),
])
def test_the_highest_or_lowest_against_the_average(facts_only, question, must, rows):
    check(facts_only.ask(question), "from_mean", must, rows)


@pytest.mark.parametrize("question", ["2023年难度系数高于全部单位平均值的有哪些单位?",
                                      "2023年哪些单位的难度系数高于所有单位的平均值?"])
def test_above_the_average_of_every_unit(facts_only, question):
    answer = facts_only.ask(question)
    assert "高于平均值的部门有8个" in answer.answer, answer.answer


@pytest.mark.parametrize(("question", "must", "rows"), [
    # "which … higher" in one part, "A or B" in the next: one difference (金融办 129.48, 水利局 125.27)
    ("Which scored higher in 2022, the Water Resources Bureau or the Financial Affairs Office, and by how many points?",
     ["129.48 − 125.27 = 4.21"], scores("金融办", "水利局")),
    ("谁的得分更高,产业集团还是国资委?", ["124.31 − 123.49 = 0.82"], scores("国资委", "产业集团")),
])
def test_which_is_higher_then_the_two_departments_in_the_next_clause(facts_only, question, must, rows):
    check(facts_only.ask(question), "difference", must, rows, exact=False)


def test_the_spread_among_the_departments_that_pass_a_condition(facts_only):
    # below 125 in 2022: 国资委 124.31 ... 湖州银行 113.78 (six departments)
    answer = facts_only.ask("Among departments that scored below 125 in 2022, what is the difference between the "
                            "highest and the lowest score?")
    check(answer, "spread", ["124.31 − 113.78 = 10.53", "6 departments"], scores("国资委", "湖州银行"), exact=False)


@pytest.mark.parametrize(("question", "first_words"), [
    # "first" and "place" inside the glossary's terms (first aid, childcare place) are not an order or a rank
    ("How many people will receive first aid training?", "first aid"),
    ("How many childcare places per thousand people were reached?", "childcare place"),
])
def test_words_inside_a_glossary_term_are_not_operators(facts_only, question, first_words):
    parsed, slots = facts_only.parse(question, None, None)
    assert not (slots[0].nth or slots[0].rank_eq or slots[0].top or slots[0].extreme), slots[0]
    assert not [m for m, _ in slots[0].measures if m == "rank"]
    assert [q.operation for q in parsed] == ["content"]
    ranked = facts_only.parse("Which department ranked first in social development?", None, None)[0]
    assert ranked[0].operation != "content"  # a plain "first" still orders
