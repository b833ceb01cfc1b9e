"""Each outcome against its own target, traps included."""

from __future__ import annotations

import pytest

from assistant.records import Commitment
from assistant.status import outcome_status
from tests.conftest import record

CASES = [
    # department, item, status, words the evidence must hold
    ("市商务局", 1, "exceeded", "均超额完成全年目标"),
    ("市商务局", 2, "exceeded", "超承诺271家"),
    ("市商务局", 3, "exceeded", "超额完成省市全年目标"),
    ("市商务局", 5, "met", "已全部到位"),
    ("市城市集团", 1, "exceeded", "完成率103.5%"),
    ("市城市集团", 2, "not_stated", ""),  # 超额配售权 is an IPO over-allotment option, not exceeding
    ("市城市集团", 3, "exceeded", "完成年度目标104%"),
    ("市城市集团", 5, "met", "完成率100%"),
    ("市水利局", 2, "exceeded", "年度计划完成率127%"),
    ("市水利局", 4, "exceeded", "综合完成率137%"),
    ("市国资委", 3, "met", "完成率100%"),  # 超8200户 means "more than 8200", not exceeding
    ("市交通集团", 5, "exceeded", "109.65亿元"),  # the title promised 全年完成投资100亿元
    ("市交通集团", 3, "partial", "待一季度正式发文"),
    ("市区域合作办", 3, "exceeded", "提前超额完成"),
    ("市科技局", 5, "exceeded", "突破核心技术134项"),  # the title promised 破冰关键技术100项
    ("市科技局", 1, "not_stated", ""),  # 奋力争取 is not 力争 (a plan), and 居全省第3 is a rank
    ("市卫生健康委", 4, "not_stated", ""),  # 完成率位居全省第1 is a rank, not a rate
    ("市金融办", 2, "not_stated", ""),
]


@pytest.mark.parametrize(("department", "item", "label", "evidence"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_status_of_seed_rows(records, department, item, label, evidence):
    status = outcome_status(record(records, department, item))
    assert status is not None
    assert status.label == label, status.reason
    assert evidence in status.evidence
    r = record(records, department, item)
    assert r.text[status.start:status.end] == status.evidence


def test_promise_reason_names_both_numbers(records):
    status = outcome_status(record(records, "市科技局", 5))
    assert status is not None and "100项" in status.reason and "134项" in status.reason


def test_targets_have_no_status(records):
    assert outcome_status(record(records, "市水利局", 1, year=2023)) is None


def _outcome(title: str, text: str) -> Commitment:
    return Commitment("t.txt", 1, 2022, "outcomes", None, "市甲局", 1, title, text)


@pytest.mark.parametrize(("title", "text", "label"), [
    ("新建公园10个", "新建公园8个,其余在建", "partial"),
    ("新建公园10个", "新建公园10个", "met"),
    ("新建公园10个", "新建公园12个", "exceeded"),
    ("引进人才1万人", "引进人才12000人", "exceeded"),  # same unit after scaling 万
    ("引进人才1万人", "新建公园12000个", "not_stated"),  # another unit and another subject
    ("某项目", "完成率95%", "partial"),
    ("某项目", "于8月行使超额配售权", "not_stated"),
    ("某项目", "服务用户超8200户", "not_stated"),
    # a promised place against the place given about the same thing (全省, 全国, 排名)
    ("绿色贷款占比进入全省前五", "绿色贷款占比达26.9%,位居全省第2", "met"),
    ("营商环境评价保持全国前10名", "营商环境评价位列全国第12名", "partial"),
    ("争创全省第二", "考核结果居全省第一", "exceeded"),
    ("综合考核保持全市第1", "综合考核继续保持全市第1位", "met"),
    ("出口增速进入全省前三", "出口增速居全省前四", "partial"),
    ("招商引资排名全省前3", "前三季度新引进项目42个,居全市第一批次", "not_stated"),  # 前三季度, 第一批: not places
    ("专利授权量居全国前十", "发明专利授权量居全省第1", "not_stated"),  # another region: not the same ranking
])
def test_status_rules_on_own_wording(title, text, label):
    status = outcome_status(_outcome(title, text))
    assert status is not None and status.label == label, status.reason
