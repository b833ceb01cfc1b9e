"""The joined-text index that set scans use gives exactly what a row-by-row scan gives."""

from __future__ import annotations

import pytest

from assistant.content import TextIndex, norm


@pytest.fixture(scope="module")
def index(corpus):
    return TextIndex(corpus.records)


def naive(records, words, needed):
    return {i for i, r in enumerate(records) if sum(1 for w in set(words) if w in norm(f"{r.title}{r.text}")) >= needed}


@pytest.mark.parametrize(("words", "needed"), [
    (["乡村"], 1), (["服务", "养老"], 2), (["企业", "亿元", "增长"], 2), (["数字", "改革", "平台", "金融"], 3),
    (["不存在的词"], 1), (["湖州", "全市"], 1), (["资产", "总量", "保5", "争4"], 3), (["nonexistent"], 1),
])
def test_rows_with_most_equals_a_row_by_row_scan(corpus, index, words, needed):
    assert index.rows_with_most(words, needed) == naive(corpus.records, words, needed)


def test_a_row_is_found_once_and_never_across_a_row_boundary(corpus, index):
    first, second = norm(corpus.records[0].title + corpus.records[0].text), norm(corpus.records[1].title)
    across = first[-2:] + second[:2]  # the end of one row and the start of the next
    assert all(across in norm(r.title + r.text) for r in (corpus.records[i] for i in index.rows_with(across)))
    assert index.text(0) == first and index.rows_with("") == set()
