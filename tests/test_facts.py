from __future__ import annotations

from decimal import Decimal

from assistant.facts import across_years, coefficient_stats, item_statuses, numbers, score_stats
from assistant.quantities import quantities
from tests.conftest import record


def test_category_statistics(corpus):
    social = score_stats(corpus.departments, 2022, "社会发展类")[0]
    assert social.count == 4
    assert social.mean == Decimal("131.79")  # (135.20 + 132.98 + 130.34 + 128.64) / 4 = 131.79
    assert social.total == Decimal("527.16")
    assert [r.department for r in social.minimum] == ["市人社社保局"]
    assert [(r.department, str(r.score), r.line) for r in social.maximum] == [("市科技局", "135.20", 63)]
    assert social.ranks_present == (1, 2, 3, 4) and social.missing_ranks == ()


def test_an_excerpt_says_which_ranks_are_present(corpus):
    economic = score_stats(corpus.departments, 2022, "经济建设类")[0]
    assert economic.count == 10
    assert economic.ranks_present == tuple(range(9, 19))
    assert economic.missing_ranks == tuple(range(1, 9))
    assert [r.department for r in economic.maximum] == ["市商务局"]
    assert [r.department for r in economic.minimum] == ["湖州银行"]
    assert economic.ties == ()


def test_coefficients_with_ties(corpus):
    stats = coefficient_stats(corpus.departments, 2023)[0]
    assert stats.count == 14
    assert [sorted(r.department for r in tie) for tie in stats.ties] == [["市经信局", "市财政局"]]
    assert [r.department for r in stats.maximum] == ["市发展改革委"]
    assert [r.department for r in stats.minimum] == ["市红十字会"]
    low = sorted(r.department for r in stats.rows if r.coefficient is not None and r.coefficient < Decimal("1.12"))
    assert low == ["市文联", "市红十字会", "市贸促会"]


def test_numbers_in_text_keep_units_and_spans(records):
    r = record(records, "市商务局", 3)
    found = {q.raw: q for q in numbers(r)}
    assert found["15.6亿美元"].unit == "亿美元" and found["15.6亿美元"].value == Decimal("15.6")
    q = found["50.9%"]
    assert r.text[q.start:q.end] == "50.9%"
    units = {q.unit for q in quantities("新增就业7万人,培训14.55万人次,收窄18.1个百分点,1020万元,15.6亿,168亩,"
                                        "4.2公里,36座,8812家,2565户,1.53万套,134项,711名,5个,3.58亿元")}
    assert {"万人", "万人次", "个百分点", "万元", "亿", "亩", "公里", "座", "家", "户", "万套", "项", "名", "个",
            "亿元"} <= units
    q = quantities("招引外资不少于1亿美元")[0]
    assert (q.qualifier, q.unit, q.raw) == ("不少于", "亿美元", "不少于1亿美元")
    assert quantities("建成60家以上")[0].qualifier == "以上"
    assert quantities("超8200户")[0].qualifier == "超"


def test_statuses_over_all_rows(records):
    statuses = item_statuses(records)
    assert len(statuses) == 71  # outcomes only
    exceeded = {(s.record.department, s.record.item) for s in statuses if s.status.label == "exceeded"}
    assert {("市商务局", 2), ("市商务局", 3), ("市科技局", 5)} <= exceeded
    assert ("市城市集团", 2) not in exceeded


def test_links_across_years(records):
    linked = across_years(records)
    assert set(linked) == {"市水利局"}
    assert sorted(linked["市水利局"]) == [2022, 2023]
    assert [r.line for r in linked["市水利局"][2023]] == [66, 67, 68, 69, 70]
