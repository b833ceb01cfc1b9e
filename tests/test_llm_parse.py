"""The optional LLM as a parser, with scripted fake chat models: it is asked only about questions the rules
cannot parse with confidence, its JSON is validated against the data, and a bad reply keeps the rules' query.
The real llama.cpp server's constrained output is tested in test_llm_local.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage

from assistant.answers import Assistant
from assistant.llm_parse import QUERY_SCHEMA, request_query, to_query

VAGUE = "管水的那个部门考得咋样?"  # no department name the rules know: a content question for them


def llm_query(**fields: Any) -> str:
    return json.dumps(fields, ensure_ascii=False)


class Refusing:
    """A chat model whose server refuses some response formats, as llama-cpp-python refuses json_schema."""

    def __init__(self, reply: str, refused: set[str]):
        self.reply, self.refused, self.asked = reply, refused, list[str]()
        self.format: str = "prompt"

    def bind(self, response_format: dict[str, Any]) -> Refusing:
        bound = Refusing(self.reply, self.refused)
        bound.asked, bound.format = self.asked, response_format["type"]
        return bound

    def invoke(self, _messages: Any) -> AIMessage:
        self.asked.append(self.format)
        if self.format in self.refused:
            raise ValueError(f"response_format type {self.format} is not supported")
        return AIMessage(self.reply)


def test_the_rules_are_unsure_so_the_llm_query_is_answered_by_the_handlers(corpus, records):
    reply = llm_query(operation="value", departments=["水利局"], years=[2022], measure="score")
    answer = Assistant(corpus, chat=FakeListChatModel(responses=[reply, "不改写。"])).ask(VAGUE)
    query = answer.searched["queries"][0]
    assert query["parser"] == "llm" and query["operation"] == "value"
    score = next(r.score for r in records if r.department == "市水利局" and r.year == 2022 and r.score is not None)
    assert f"{score}" in answer.answer and answer.citations  # the number comes from the row, cited


def test_a_confident_rules_parse_never_asks_the_llm(corpus):
    class Silent:
        def bind(self, **_: Any) -> Silent:
            raise AssertionError("the LLM was asked")

        def invoke(self, _messages: Any) -> AIMessage:
            return AIMessage("不改写。")  # the rewrite step may still call it; the guard decides

    answer = Assistant(corpus, chat=Silent()).ask("市发改委2023年的难度系数是多少?")
    assert "parser" not in answer.searched["queries"][0] and "1.1599" in answer.answer


@pytest.mark.parametrize("reply", [
    "我觉得是水利局",  # no JSON at all
    llm_query(operation="value", departments=["市气象局"], measure="score"),  # a department not in the data
    llm_query(operation="value", departments=["水利局"], years=[2019]),  # a year not in the data
    llm_query(operation="explode"),  # an operation the executor does not have
    llm_query(operation="list", field="score", op=">", value="很高"),  # a value that is not a number
])
def test_an_invalid_llm_query_keeps_the_rules_query(corpus, reply):
    rules = Assistant(corpus).ask(VAGUE)
    answer = Assistant(corpus, chat=FakeListChatModel(responses=[reply, "不改写。"])).ask(VAGUE)
    assert [q for q in answer.searched["queries"] if q.get("parser") == "llm"] == []
    assert answer.answer == rules.answer


def test_a_refused_response_format_falls_back_to_the_next(corpus):
    lexicon = Assistant(corpus).lexicon
    chat = Refusing(llm_query(operation="count", categories=["社会发展类"]), refused={"json_schema"})
    data, used = request_query(chat, "社会发展类有几个?", lexicon, corpus)  # type: ignore[misc]
    assert used == "json_object" and chat.asked == ["json_schema", "json_object"]
    assert to_query(data, "社会发展类有几个?", corpus) is not None
    nothing = Refusing("{}", refused={"json_schema", "json_object", "prompt"})
    assert request_query(nothing, "x", lexicon, corpus) is None


def test_the_prompt_carries_the_schema_and_the_known_names(corpus):
    seen: list[Any] = []

    class Recording(FakeListChatModel):
        def invoke(self, messages: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            seen.append(messages)
            return super().invoke(messages, *args, **kwargs)

    request_query(Recording(responses=["{}"]), VAGUE, Assistant(corpus).lexicon, corpus)
    system = seen[0][0].content
    assert json.dumps(QUERY_SCHEMA["properties"]["operation"]["enum"], ensure_ascii=False)[1:-1] in system
    assert "市水利局" in system and "2022" in system and seen[0][1].content == VAGUE
