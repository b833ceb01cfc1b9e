from __future__ import annotations

import json
import re

from assistant.summary import summarize
from tests.conftest import OUTCOMES, TARGETS


def test_summary_covers_every_item_both_years_and_cites_each_sentence(corpus):
    s = summarize(corpus, "市水利局")
    assert [y.year for y in s.years] == [2022, 2023]
    assert [len(y.items) for y in s.years] == [5, 5]
    md = s.markdown(with_sources=False)
    assert "125.27" in md and "1.1438" in md and "第1至8名不在数据中" in md
    for line in md.splitlines():
        if line.strip() and not line.startswith("#") and not line.startswith("注意"):
            assert re.search(r"\[\d+\]", line), line
    lines = {(c.source, c.line) for c in s.citations}
    assert {(OUTCOMES, n) for n in range(21, 26)} <= lines and {(TARGETS, n) for n in range(66, 71)} <= lines
    statuses = {it.record.item: it.status.label for it in s.years[0].items if it.status}
    assert statuses[2] == "exceeded" and statuses[4] == "exceeded"


def test_summary_formats_from_the_cli():
    from tests.command_line import invoke as cli

    def run(fmt):
        done = cli("summary", "卫健委", "--format", fmt)
        assert done.returncode == 0, done.stderr
        return done.stdout

    data = json.loads(run("json"))
    assert data["department"] == "市卫生健康委" and len(data["years"][0]["items"]) == 5
    assert data["years"][0]["score"] == "132.98"
    assert '<article class="summary"' in run("html")
    assert run("md").startswith("# 市卫生健康委")
