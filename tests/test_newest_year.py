"""A question over every department (or every row) that names no year, over data of several years, is answered for
the newest table of each kind, and says so; naming a year, or asking for every year (历年, every year), changes that.

The corpus: the fixture rows (2022 outcomes, 2023 targets) plus a copy of them two years earlier (2020 outcomes,
2021 targets), every score 10 lower and every coefficient 0.1000 higher in the copy, at other line numbers, so that
which year an answer used shows in its numbers and citations. Quick tier: no model."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from assistant.answers import Assistant
from assistant.corpus import Corpus
from assistant.departments import load_directory

OFFSET = 1000  # the copy's line numbers: line + OFFSET


@pytest.fixture(scope="module")
def archive(corpus: Corpus) -> Assistant:
    older = [dataclasses.replace(r, year=r.year - 2, line=r.line + OFFSET,
                                 first_line=r.first_line + OFFSET if r.first_line is not None else None,
                                 score=r.score - 10 if r.score is not None else None,
                                 coefficient=r.coefficient + Decimal("0.1000") if r.coefficient is not None else None)
             for r in corpus.records]
    records = (*older, *corpus.records)  # the older tables first, as an archive's sources would list them
    directory = load_directory(corpus.data_dir, known=dict.fromkeys(r.department for r in records))
    return Assistant(dataclasses.replace(corpus, records=records, directory=directory, version="archive"))


def lines(answer) -> set[int]:
    return {c.line for c in answer.citations}


def scope(answer) -> dict:
    return answer.searched["queries"][0]["scope"]


@pytest.mark.parametrize("question", ["社会发展类平均分是多少?",
                                      "What is the average score of the social development departments?"])
def test_an_aggregate_without_a_year_is_for_the_newest_year_and_says_so(archive, question):
    answer = archive.ask(question)
    # 2022 社会发展类: 135.20, 132.98, 130.34, 128.64 -> 527.16 / 4 = 131.79; the 2020 copy would give 121.79
    assert "131.79" in answer.answer and "121.79" not in answer.answer, answer.answer
    assert scope(answer)["years"] == [2022]
    assert all(line < OFFSET for line in lines(answer))
    assert ("2022年回答" in answer.answer and "2020年" in answer.answer) if answer.question[0] != "W" else \
        ("for 2022" in answer.answer and "2020 is also there" in answer.answer), answer.answer


@pytest.mark.parametrize("question", ["历年社会发展类平均分是多少?", "社会发展类每年的平均分分别是多少?",
                                      "What was the average score of the social development departments every year?"])
def test_every_year_asked_gives_every_year(archive, question):
    answer = archive.ask(question)
    assert "131.79" in answer.answer and "121.79" in answer.answer, answer.answer
    assert "years" not in scope(answer)
    assert "未指定年份" not in answer.answer and "names no year" not in answer.answer


def test_a_named_year_is_kept(archive):
    answer = archive.ask("2020年社会发展类平均分是多少?")
    assert "121.79" in answer.answer and "131.79" not in answer.answer
    assert "未指定年份" not in answer.answer
    assert all(line > OFFSET for line in lines(answer))


def test_the_newest_year_is_per_measure(archive):
    """Coefficients are in the targets (2023, 2021), scores in the outcomes (2022, 2020): each its newest."""
    lowest = archive.ask("难度系数最低的是哪个部门?")
    assert "1.1183" in lowest.answer and "1.2183" not in lowest.answer  # 市红十字会, 2023
    assert scope(lowest)["years"] == [2023] and "2021年" in lowest.answer
    top = archive.ask("Which department scored highest?")
    assert "135.20" in top.answer and scope(top)["years"] == [2022]


def test_a_named_department_keeps_every_year(archive):
    answer = archive.ask("市科技局得分多少?")
    assert "135.20" in answer.answer and "125.20" in answer.answer, answer.answer
    assert "未指定年份" not in answer.answer


def test_a_count_over_a_threshold_counts_the_newest_year(archive):
    # 2022: 商务局 129.86, 金融办 129.48, 科技局 135.20, 卫健委 132.98, 文旅局 130.34 are above 129;
    # in 2020 none is (the copy is 10 lower); across both years the count would still be 5, so check the scope
    answer = archive.ask("有几个部门得分超过129分?")
    assert scope(answer)["years"] == [2022] and "5" in answer.answer
    assert {c.line for c in answer.citations} == {6, 11, 63, 68, 75}


def test_a_set_scan_reads_the_newest_outcomes_and_the_newest_targets(archive):
    answer = archive.ask("哪些部门的承诺提到了“数字化”?")
    assert scope(answer)["years"] == [2022, 2023]
    assert answer.citations and all(line < OFFSET for line in lines(answer))
    assert "2020–2021年" in answer.answer or ("2020" in answer.answer and "2021" in answer.answer)
    every = archive.ask("历年哪些部门的承诺提到了“数字化”?")
    assert {line - OFFSET for line in lines(every) if line > OFFSET} == lines(answer)


def test_one_year_of_data_changes_nothing(facts_only):
    answer = facts_only.ask("社会发展类平均分是多少?")
    assert "131.79" in answer.answer and "未指定年份" not in answer.answer
    assert "years" not in scope(answer)
