"""An outcomes table without categories (or without ranks) never shows "None" in an answer or a summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.corpus import load_corpus
from assistant.summary import summarize

TABLE = ("部门\t承诺事项\t兑现情况\t最终得分\t类别内排名\n"
         "市甲局\t1.招商引资\t完成率120%\t120.5\t3\n\t2.稳外贸\t完成\t\t\n"
         "市乙局\t1.防汛\t完成\t99.5\t4\n")
NO_RANK = "部门\t承诺事项\t兑现情况\t最终得分\n市丙局\t1.招商\t完成\t101.25\n"


@pytest.fixture
def corpus(tmp_path: Path):
    (tmp_path / "a.txt").write_text(TABLE, encoding="utf-8")
    (tmp_path / "b.txt").write_text(NO_RANK, encoding="utf-8")
    (tmp_path / "sources.toml").write_text(
        '[[source]]\nfile = "a.txt"\nyear = 2024\nkind = "outcomes"\n\n'
        '[[source]]\nfile = "b.txt"\nyear = 2024\nkind = "outcomes"\n', encoding="utf-8")
    return load_corpus(tmp_path)


def test_summaries_without_category_or_rank(corpus):
    for name in ("市甲局", "市丙局"):
        summary = summarize(corpus, name)
        for text in (summary.markdown(), summary.html()):
            assert "None" not in text and "在中" not in text
    assert "排名第3" in summarize(corpus, "市甲局").markdown()
    assert "101.25" in summarize(corpus, "市丙局").markdown()


@pytest.mark.parametrize("question", ["市甲局得分多少?", "市甲局排名第几?", "市甲局属于哪一类?", "类别内排名第3的是谁?",
                                      "What is the final score of 市甲局?", "市丙局得分多少?"])
def test_answers_without_category(corpus, question):
    from assistant.answers import Assistant

    answer = Assistant(corpus).ask(question)
    assert "None" not in answer.answer, answer.answer
