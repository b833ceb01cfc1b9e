"""The domain's word lists come from data/lexicon.toml, not from code."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import IngestError
from assistant.lexicon import load_lexicon
from tests.conftest import DATA


def test_the_city_and_the_categories_come_from_the_data_file(corpus):
    lexicon = load_lexicon(DATA)
    assert lexicon.city == "湖州" and lexicon.city_english == "Huzhou"
    assert lexicon.category_names == ("经济建设类", "社会发展类")
    assert {r.category for r in corpus.records if r.category} == set(lexicon.category_names)
    assert (lexicon.category("经济类"), lexicon.category("Social"), lexicon.category("文化类")) == (
        "经济建设类", "社会发展类", None)
    assert lexicon.find_category("社会发展类里分数最高的是哪个单位") == "社会发展类"
    assert corpus.lexicon == lexicon


def test_another_city_is_a_data_change(tmp_path: Path):
    (tmp_path / "lexicon.toml").write_text('[city]\nname = "嘉兴"\n[[category]]\nname = "党建类"\naliases = ["党建"]\n',
                                           encoding="utf-8")
    lexicon = load_lexicon(tmp_path)
    assert (lexicon.city, lexicon.category("党建"), lexicon.category("经济类")) == ("嘉兴", "党建类", None)


def test_a_folder_without_a_lexicon_uses_the_bundled_one(tmp_path: Path):
    assert load_lexicon(tmp_path).city == "湖州"


@pytest.mark.parametrize(("text", "message"), [
    ('[city]\nname = "湖州"\n[[category]\nname = "x"\n', "invalid TOML"),
    ('[[category]]\nname = "x"\n', "[city] needs a name"),
    ('[city]\nname = "湖州"\n[[category]]\naliases = ["x"]\n', "[[category]] number 1 needs a name"),
    ('[city]\nname = "湖州"\n[[category]]\nname = "x"\naliases = 3\n', "x.aliases must be a string or a list"),
    ('[city]\nname = "湖州"\n[english]\nloan = 3\n', "english.loan must be a string or a list"),
])
def test_a_broken_lexicon_names_the_file(tmp_path: Path, text: str, message: str):
    (tmp_path / "lexicon.toml").write_text(text, encoding="utf-8")
    with pytest.raises(IngestError) as caught:
        load_lexicon(tmp_path)
    assert str(caught.value).startswith(str(tmp_path / "lexicon.toml")) and message in str(caught.value)


def test_english_words_expand_to_the_chinese_terms_of_the_rows(tmp_path: Path):
    (tmp_path / "lexicon.toml").write_text(
        '[city]\nname = "湖州"\n[english]\n"listed company" = "上市公司"\ncompany = ["公司", "企业"]\n'
        'new = "新增"\nfactory = "工厂"\ntotal = ["累计", "总数"]\n', encoding="utf-8")
    lexicon = load_lexicon(tmp_path)
    added = lambda text: lexicon.expand_english(text)[len(text):].split()  # noqa: E731
    assert added("How many listed companies in total?") == ["上市公司", "累计", "总数"]  # not also 公司
    assert sorted(added("new companies and factories")) == sorted(["公司", "企业", "新增", "工厂"])  # plurals
    assert added("They renewed the totalled knewsletter") == []  # whole words only


def test_an_older_lexicon_gets_the_word_lists_of_operations_added_since(data_copy):
    """A published version or a site's copy from before an upgrade lacks the newer operations' lists: the
    bundled ones fill in, and its own lists still win."""
    from assistant.answers import Assistant
    from assistant.corpus import load_corpus

    path = data_copy / "lexicon.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("median = ") for line in lines)
    kept = [line for line in lines if not line.startswith("median = ")]
    kept = [('mean = ["平均数"]' if line.startswith("mean = ") else line) for line in kept]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    lexicon = load_lexicon(data_copy)
    assert "中位数" in lexicon.op("median").words and lexicon.op("mean").words == ("平均数",)
    answer = Assistant(load_corpus(data_copy)).ask("社会发展类得分中位数是多少?")
    assert answer.searched["queries"][0]["operation"] == "median" and "131.66" in answer.answer
