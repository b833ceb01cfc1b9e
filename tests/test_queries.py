"""The query layer in our own wording: one test per operation and predicate, other departments, thresholds and
phrases than the dev sets, Chinese and English. Facts only (no model): every figure from a handler, cited."""

from __future__ import annotations

import pytest

from tests.conftest import OUTCOMES, TARGETS


def cited(answer):
    return {(c.source, c.line) for c in answer.citations}


def ops(answer):
    return [q["operation"] for q in answer.searched["queries"]]


@pytest.mark.parametrize(("question", "operation", "must", "rows"), [
    # difference, in value and in rank
    ("金融办和国资委谁的得分高?高多少?", "difference", ["129.48", "124.31", "5.17"], {(OUTCOMES, 11), (OUTCOMES, 26)}),
    ("Compare the final scores of the Commerce Bureau and the Water Bureau", "difference", ["129.86", "125.27"],
     {(OUTCOMES, 6), (OUTCOMES, 21)}),
    ("发改委的难度系数比残联高多少?", "difference", ["1.1599", "1.1217", "0.0382"], {(TARGETS, 34), (TARGETS, 19)}),
    # ranges, inclusive at both ends
    ("最终得分介于124.31和126.09之间的部门", "list", ["国资委", "城市集团", "水利局"],
     {(OUTCOMES, 26), (OUTCOMES, 16)}),
    # spread
    ("2022年社会发展类得分的极差是多少?", "spread", ["135.20", "128.64", "6.56"], {(OUTCOMES, 80)}),
    # Nth from the top and from the bottom, a rank asked by its number
    ("社会发展类排名第四的是哪个部门?", "list", ["人社社保局", "128.64"], {(OUTCOMES, 80)}),
    ("难度系数倒数第一的单位是哪个?", "nth", ["红十字会", "1.1183"], set()),
    # ties, top-N, mean
    ("社会发展类得分最高的前两名是谁?", "top", ["132.98"], {(OUTCOMES, 68)}),
    # items of a department, counts of items
    ("科协2023年的承诺事项有哪些?", "items", ["科协"], {(TARGETS, 4), (TARGETS, 5)}),
    ("供销社一共有几项承诺?", "count", ["5项"], {(OUTCOMES, 48)}),
    # sets over every row: an exact phrase
    ("哪些部门的兑现情况提到了“乡村博物馆”?", "list", ["文化广电旅游局"], {(OUTCOMES, 78)}),
    # statuses
    ("市水利局有哪些承诺超额完成了?", "list", ["127%"], {(OUTCOMES, 22)}),
    # cross-year intersection
    ("哪个单位两年都有数据?既有2022年的得分又有2023年的系数", "intersect", ["水利局"], {(OUTCOMES, 21), (TARGETS, 66)}),
])
def test_operations_in_our_own_wording(facts_only, question, operation, must, rows):
    answer = facts_only.ask(question)
    assert operation in ops(answer), (question, answer.searched["queries"])
    for text in must:
        assert text in answer.answer, (question, answer.answer)
    assert rows <= cited(answer), (question, answer.answer)
    assert answer.mode != "refusal", answer.answer


@pytest.mark.parametrize(("question", "why"), [
    ("杭州的市场监管局得分是多少?", "杭州"),  # another city's department
    ("市统计局的难度系数是多少?", "市统计局"),  # a department not in the data
    ("文联2022年的最终得分是多少?", "最终得分"),  # a measure the department lacks that year
    ("经济建设类排名第三的是谁?", "第9至18名"),  # a rank the excerpt lacks
    ("2019年科技局得分多少?", "2019"),  # a year not in the data
])
def test_honest_refusals_say_why(facts_only, question, why):
    answer = facts_only.ask(question)
    assert answer.mode == "refusal" and "未找到" in answer.answer and why in answer.answer, answer.answer


def test_a_computed_figure_names_its_inputs(facts_only):
    answer = facts_only.ask("商务局比金融办多几分?")
    assert "129.86 − 129.48 = 0.38" in answer.answer
    fact = next(f for f in answer.facts if f.method and "−" in f.method)
    assert len(fact.citations) == 2


def test_a_whole_city_noun_is_not_a_department(facts_only):
    queries, _ = facts_only.parse("全市上市公司一共有多少家?")
    assert queries[0].operation == "content"


def test_multi_part_questions_keep_every_part(facts_only):
    answer = facts_only.ask("交通运输局的难度系数多少?它一共几项目标?")
    assert "1.1501" in answer.answer and "5项" in answer.answer


def test_a_filter_that_names_nothing_is_a_warning(facts_only):
    answer = facts_only.ask("水利局得分多少?", filters={"department": "市气象局"})
    assert "125.27" in answer.answer and any("市气象局" in w for w in answer.warnings)


@pytest.mark.parametrize(("question", "operation", "first", "last", "rows"), [
    ("把经济建设类的部门按最终得分由高到低排一下", "top", "市商务局", "湖州银行", 10),
    ("2023年各部门评定难度系数由低到高排列", "bottom", "市红十字会", "市发展改革委", 14),
    ("Ranking of the economic construction departments by final score", "top", "市商务局", "湖州银行", 10),
])
def test_a_whole_ranking_lists_every_department_in_order(facts_only, question, operation, first, last, rows):
    answer = facts_only.ask(question)
    assert ops(answer) == [operation], answer.searched["queries"]
    assert answer.table is not None and len(answer.table.rows) == rows
    at = [c.key for c in answer.table.columns].index("department")
    names = [row[at].text for row in answer.table.rows]
    assert names[0] == first and names[-1] == last
    assert answer.answer.index(first) < answer.answer.index(last)
    assert len(cited(answer)) >= rows  # every department's value is cited


def test_a_category_name_is_never_read_as_an_unknown_organisation(facts_only):
    answer = facts_only.ask("请列出社会发展类的部门")  # 列出 + 社会…: not an organisation called 列出社
    assert answer.mode != "refusal" and ops(answer) == ["list"], answer.answer
    assert all(d in answer.answer for d in ("市科技局", "市卫生健康委", "市文化广电旅游局", "市人社社保局"))


@pytest.mark.parametrize(("question", "must"), [
    ("排在市国资委后面的是哪个单位?", ["市交通集团"]),  # 124.31, then the next lower score in 经济建设类
    ("排在市文化广电旅游局前面的是谁?", ["市卫生健康委", "132.98"]),
    ("排在市商务局前面的是谁?", ["第9名", "不在数据中"]),  # the excerpt starts at rank 9: no invented "first"
])
def test_the_neighbour_before_or_after_a_department(facts_only, question, must):
    answer = facts_only.ask(question)
    assert ops(answer) == ["next"], answer.searched["queries"]
    assert all(m in answer.answer for m in must), answer.answer


@pytest.mark.parametrize(("question", "operation", "count"), [
    ("两个年度都有记录的部门有哪些?", "intersect", 1),  # no year named: the two newest years of the data
    ("哪些单位只出现在2022年?", "only_in", 13),  # one year named: against the other year
])
def test_two_year_sets_without_both_years_named(facts_only, question, operation, count):
    answer = facts_only.ask(question)
    assert ops(answer) == [operation], answer.searched["queries"]
    assert f"共{count}个" in answer.answer, answer.answer


def test_a_top_n_table_shows_the_rank_the_data_gives_never_an_invented_first(facts_only):
    table = facts_only.ask("2022年经济建设类得分最高的两个部门").table
    assert table is not None and [c.label for c in table.columns][:2] == ["类别内排名", "部门"]
    assert [(r[0].text, r[1].text) for r in table.rows] == [("9", "市商务局"), ("10", "市金融办")]
    assert all(r[0].cite for r in table.rows)  # the rank cell cites the row that writes it
    order = facts_only.ask("Which three departments have the lowest difficulty coefficients in 2023?").table
    assert order is not None and order.columns[0].label == "position"  # coefficients have no rank column
    assert [r[0].text for r in order.rows] == ["1", "2", "3"]
