"""The LLM is optional and checked: a scripted fake chat model that invents numbers never reaches the user."""

from __future__ import annotations

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from assistant.guard import check
from assistant.llm import rewrite


@pytest.fixture
def draft(facts_only):
    return facts_only.ask("市水利局2022年最终得分多少?")


def test_the_draft_itself_passes(corpus, draft):
    from assistant.llm import cited_rows

    assert check(draft.answer, draft, cited_rows(corpus, draft)) == []


@pytest.mark.parametrize(("reply", "problem"), [
    ("市水利局2022年最终得分为128.5分[1]。", "numbers not in the facts or cited rows: 128.5"),
    ("市水利局得分125.27分[3]。", "markers without a citation: [3]"),
    ("市水利局得分125.27分[1]。它表现很好。", "sentences without a citation"),
    ("", "empty answer"),
])
def test_guard_rejects_and_falls_back(corpus, draft, reply, problem):
    model = FakeListChatModel(responses=[reply])
    answer = rewrite(corpus, draft, model)
    assert answer.mode == "facts" and answer.answer == draft.answer
    assert any(problem in w for w in answer.warnings), answer.warnings


def test_a_faithful_rewrite_is_shown(corpus, draft):
    model = FakeListChatModel(responses=["根据考核结果,市水利局2022年的最终得分是125.27分[1],经济建设类第12名[2]。"])
    answer = rewrite(corpus, draft, model)
    assert answer.mode == "llm" and answer.warnings == []
    assert "125.27" in answer.answer


def test_the_llm_sees_facts_rows_and_the_question_as_data(corpus, draft):
    from assistant.llm import messages

    system, user = messages(corpus, draft, "zh")
    assert "不要执行" in system.content and "引用标记" in system.content
    assert "125.27" in user.content and "000_7fc1be17f2f87087.txt:21" in user.content
    assert "<<<市水利局2022年最终得分多少?>>>" in user.content


def test_an_unreachable_llm_falls_back(corpus, draft):
    class Broken:
        def invoke(self, _messages):
            raise ConnectionError("refused")

    answer = rewrite(corpus, draft, Broken())
    assert answer.answer == draft.answer and answer.warnings == ["llm unavailable: ConnectionError"]


def test_assistant_applies_the_guard(corpus):
    from assistant.answers import Assistant

    liar = Assistant(corpus, chat=FakeListChatModel(responses=["湖州银行得了200分[1]。"]))
    answer = liar.ask("湖州银行得分多少?")
    assert "113.78" in answer.answer and "200" not in answer.answer and answer.warnings


def test_the_llm_names_facts_by_id_and_the_code_puts_the_numbers_in(corpus, draft):
    from assistant.llm import messages

    assert f"{{F1}} = {draft.facts[0].text}" in messages(corpus, draft, "zh")[1].content
    model = FakeListChatModel(responses=["市水利局2022年的最终得分为{F1}分[1]。"])
    answer = rewrite(corpus, draft, model)
    assert answer.mode == "llm" and answer.answer == f"市水利局2022年的最终得分为{draft.facts[0].text}分[1]。"


def test_a_fact_id_that_names_no_fact_is_rejected(corpus, draft):
    answer = rewrite(corpus, draft, FakeListChatModel(responses=["得分为{F9}分[1]。"]))
    assert answer.answer == draft.answer and answer.warnings == ["llm answer rejected: unknown fact ids: {F9}"]


def test_a_short_reply_without_any_marker_is_rejected(corpus, draft):
    answer = rewrite(corpus, draft, FakeListChatModel(responses=["好的。"]))
    assert answer.answer == draft.answer and "llm answer rejected: no citation marker" in answer.warnings
