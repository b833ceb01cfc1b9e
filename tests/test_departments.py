from __future__ import annotations

from pathlib import Path

import pytest

from assistant.departments import load_directory
from assistant.records import IngestError


def test_aliases_resolve(corpus):
    d = corpus.directory
    for alias, name in [("卫健委", "市卫生健康委"), ("文旅局", "市文化广电旅游局"), ("人社局", "市人社社保局"),
                        ("发改委", "市发展改革委"), ("经信局", "市经信局"), ("自然资源局", "市自然资源和规划局"),
                        ("交通局", "市交通运输局"), ("农业农村局", "市农业农村局"), ("商务局", "市商务局"),
                        ("水利局", "市水利局"), ("湖州银行", "湖州银行"), ("Bank of Huzhou", "湖州银行")]:
        assert d.resolve(alias) == name, alias
    assert d.resolve("市教育局") is None


def test_find_mentions_prefers_the_longest_name(corpus):
    found = corpus.directory.find("市交通运输局和交通集团2022年得分?")
    assert [(m.department, m.matched) for m in found] == [("市交通运输局", "市交通运输局"), ("市交通集团", "交通集团")]
    assert [m.department for m in corpus.directory.find("What is the score of sasac?")] == ["市国资委"]


def test_without_cuts_every_mention_and_nothing_else(corpus):
    d = corpus.directory
    assert d.without("市交通运输局和交通集团2022年得分?") == "和2022年得分?"
    assert d.without("城市集团哪些项目完成率超过了100%", " ") == " 哪些项目完成率超过了100%"
    assert d.without("全市新增上市公司多少家?") == "全市新增上市公司多少家?"


def test_every_department_in_the_data_is_in_the_department_file(corpus):
    assert {r.department for r in corpus.records} <= set(corpus.directory.names)
    assert len(corpus.directory.names) == 27  # 市水利局 is in both years


def test_conflicting_alias_is_an_error(tmp_path: Path):
    (tmp_path / "departments.toml").write_text(
        '[[department]]\nname = "市甲局"\naliases = ["甲"]\n[[department]]\nname = "市乙局"\naliases = ["甲"]\n',
        encoding="utf-8")
    with pytest.raises(IngestError, match="alias '甲' names both 市甲局 and 市乙局"):
        load_directory(tmp_path)
