"""Answer text comes from prompts/*.j2 through one pure function with StrictUndefined."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from jinja2 import UndefinedError

from assistant.facts import DepartmentRow
from assistant.render import PROMPTS, render

ROW = DepartmentRow(2022, "outcomes", "市水利局", "经济建设类", Decimal("125.27"), 12, None, "a.txt", 21, 5)


def test_lookup_renders_numbers_as_written_with_markers():
    text = render("ops/value.j2", lang="zh", measure="score", d=ROW, c={"score": 1, "rank": 2}, note="")
    assert text == "市水利局2022年最终得分为125.27分[1],在经济建设类中排名第12[2]。"
    text = render("ops/value.j2", lang="en", measure="score", d=ROW, c={"score": 1, "rank": 2}, note="")
    assert text == "The final score (最终得分) of 市水利局 in 2022 is 125.27 [1], ranked No. 12 in 经济建设类 [2]."


def test_a_missing_variable_is_an_error_not_an_empty_string():
    with pytest.raises(UndefinedError):
        render("ops/value.j2", lang="zh", measure="score", d=ROW, c={"score": 1, "rank": 2})


def test_partial_note():
    text = render("partial_note.j2", lang="zh", category="经济建设类", first=9, last=18, missing="1至8", purpose="rank")
    assert text == "注意:本数据中经济建设类只有第9至18名,第1至8名不在数据中,因此现有最好名次并不一定是该类别第一。"


def test_html_summary_escapes_data():
    year = SimpleNamespace(year=2022, kind="outcomes", category="<b>类</b>", note="", status_counts=[], row=ROW,
                           cites={"score": 1, "rank": 1}, items=[])
    html = render("summary.html.j2", department="<script>x</script>", years=[year], citations=[])
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;类&lt;/b&gt;" in html


def test_every_template_is_used_by_the_code():
    code = "".join(p.read_text(encoding="utf-8") for folder in ("assistant", "api") for p in Path(folder).glob("*.py"))
    for template in PROMPTS.rglob("*.j2"):
        name = template.relative_to(PROMPTS).as_posix()
        assert f'"{name}"' in code, name
