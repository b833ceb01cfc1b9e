"""The OpenAI content built from an Answer: tables in markdown, max_tokens and stop, the context window, and
Open WebUI's task prompts. Narrow unit tests on constructed Answers and a copy of the data."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from api import openai_format, openwebui_tasks
from assistant.contract import Answer, Cell, Citation, Column, Table
from tests.openwebui import task_prompt

TITLES = {"a.txt": "湖州市2022年度兑现情况"}


def citation(n: int, department: str, quote: str) -> Citation:
    return Citation(n, "a.txt", 10 + n, 2022, "outcomes", department, None, "最终得分", quote)


def ranking() -> Answer:
    table = Table([Column("rank", "排名", True), Column("department", "部门"), Column("score", "最终得分", True)],
                  [[Cell("1", 1, 1), Cell("市卫生健康委"), Cell("132.98", 132.98, 1)],
                   [Cell("2", 2, 2), Cell("市科技局|x"), Cell("131.50", 131.5, 2)]],
                  title="社会发展类最终得分排名", ranked_by="score")
    text = "社会发展类得分最高的是市卫生健康委,132.98分[1]。其次是市科技局,131.50分[2]。共2个部门。"
    return Answer("排名", text, "facts", [citation(1, "市卫生健康委", "132.98"), citation(2, "市科技局", "131.50")],
                  table=table)


def test_the_table_renders_in_markdown_before_the_sources():
    reply = openai_format.reply(ranking(), TITLES)
    assert reply.finish_reason == "stop"
    table = reply.text.index("| 排名 | 部门 | 最终得分 |")
    assert reply.text.index("共2个部门。") < table < reply.text.index("来源 Sources:")
    assert "|---:|---|---:|" in reply.text
    assert "| 1 [1] | 市卫生健康委 | 132.98 [1] |" in reply.text
    assert "市科技局\\|x" in reply.text  # a pipe in a cell does not break the row
    assert [c["title"] for c in reply.citations] == [TITLES["a.txt"]] * 2


def test_max_tokens_cuts_at_a_sentence_end_and_keeps_the_sources_of_what_is_left():
    reply = openai_format.reply(ranking(), TITLES, max_tokens=30)
    assert reply.finish_reason == "length"
    body, sources = reply.text.split("\n\n来源 Sources:\n")
    assert body == "社会发展类得分最高的是市卫生健康委,132.98分[1]。"
    assert sources.startswith("[1] a.txt:11") and "[2]" not in sources
    assert [c["id"] for c in reply.citations] == [1]
    assert reply.answer is not None and len(reply.answer["citations"]) == 2  # the full answer stays available
    assert openai_format.reply(ranking(), TITLES, max_tokens=5000).finish_reason == "stop"


def test_cut_without_a_sentence_end_marks_the_cut():
    assert openai_format.cut("一二三四五六七八九十", 4) == "一二三四…"
    score = "市文化广电旅游局2022年最终得分为130.34分[1]"
    assert openai_format.cut(score, 20) == "市文化广电旅游局2022年最终得分为…"  # not "13…"
    assert openai_format.cut("得分为130.34分[12],排名第3", 13) == "得分为130.34分…"  # not half a marker
    assert openai_format.cut("It was 125.27 points. Then more text", 25) == "It was 125.27 points."


def test_stop_ends_the_text_before_the_sequence():
    reply = openai_format.reply(ranking(), TITLES, stops=["其次"])
    assert reply.finish_reason == "stop"
    assert reply.text.startswith("社会发展类得分最高的是市卫生健康委,132.98分[1]。\n\n")
    assert "[2] a.txt" not in reply.text.split("来源 Sources:")[1]


def test_a_stop_sequence_found_only_in_the_table_ends_the_text_there():
    reply = openai_format.reply(ranking(), TITLES, stops=["| 2 [2]"])
    body = reply.text.split("\n\n来源 Sources:")[0]
    assert reply.finish_reason == "stop" and body.endswith("| 1 [1] | 市卫生健康委 | 132.98 [1] |")
    assert "市科技局\\|x" not in body
    assert [c["id"] for c in reply.citations] == [1, 2]  # the body above the table still cites both
    unmatched = openai_format.reply(ranking(), TITLES, stops=["不在文中"])
    assert unmatched.text == openai_format.reply(ranking(), TITLES).text


def message(role: str, content: str) -> SimpleNamespace:
    return SimpleNamespace(role=role, text=lambda: content)


def test_the_context_is_the_user_messages_among_the_last_n():
    messages = [message("user", "a"), message("assistant", "b"), message("user", "c"), message("assistant", "d"),
                message("user", "q")]
    assert openai_format.conversation(messages, 20) == ("q", ["a", "c"])
    assert openai_format.conversation(messages, 2) == ("q", ["c"])
    assert openai_format.conversation([message("system", "s")], 20) == ("", [])


@pytest.fixture(scope="module")
def corpus_copy(tmp_path_factory):
    import shutil

    from assistant.corpus import load_corpus
    from tests.conftest import DATA

    target = tmp_path_factory.mktemp("tasks") / "data"
    shutil.copytree(DATA, target)
    return load_corpus(target)


CHAT = [{"role": "user", "content": "水利局2022年得分多少?"},
        {"role": "assistant", "content": "市水利局2022年最终得分125.27分[1],在经济建设类中排名第12[2]。"}]


@pytest.mark.parametrize("name", ["title", "title_2024", "tags", "follow_ups"])
def test_task_prompts_are_recognised(name):
    kind = openwebui_tasks.task_kind(task_prompt(name, CHAT))
    assert kind == name.split("_2024")[0]
    assert openwebui_tasks.task_kind("水利局2022年得分多少? ### Task: title") is None
    history = openwebui_tasks.chat_history(task_prompt(name, CHAT))
    assert history == [("user", CHAT[0]["content"]), ("assistant", CHAT[1]["content"])]


def test_task_answers_come_from_the_conversation_and_the_data(corpus_copy):
    title = openwebui_tasks.answer_task("title", task_prompt("title", CHAT), corpus_copy)["title"]
    assert "市水利局" in title and len(title) <= 30
    tags = openwebui_tasks.answer_task("tags", task_prompt("tags", CHAT), corpus_copy)["tags"]
    assert {"市水利局", "经济建设类", "2022年"} <= set(tags)
    follow = openwebui_tasks.answer_task("follow_ups", task_prompt("follow_ups", CHAT), corpus_copy)["follow_ups"]
    assert 3 <= len(follow) <= 5 and len(set(follow)) == len(follow)
    assert any("经济建设类" in q and "排名" in q for q in follow)  # a ranking of the department's category
    assert any("市水利局" in q and "系数" in q for q in follow)  # its other year
    assert not any("得分是多少" in q and "市水利局" in q for q in follow)  # the score was already asked
    json.dumps(follow, ensure_ascii=False)


def test_task_answers_for_a_conversation_without_a_department(corpus_copy):
    chat = [{"role": "user", "content": "Which departments exceeded their targets?"}]
    follow = openwebui_tasks.answer_task("follow_ups", task_prompt("follow_ups", chat), corpus_copy)["follow_ups"]
    assert follow and all(q.isascii() or "类" in q for q in follow)  # English, category names as the data writes them
    assert "Which departments exceeded their targets?" not in follow
    assert openwebui_tasks.answer_task("title", task_prompt("title", chat), corpus_copy)["title"]
