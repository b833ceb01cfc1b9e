"""The answer in the OpenAI Chat Completions shapes: content with the table in markdown and a numbered sources
list at the end (so any front end shows the citations), a structured `citations` field, and server-sent event
chunks. `max_tokens` and `stop` cut the answer text, never the sources of what is left."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.contract import Answer, Table

SOURCES_HEADING = "来源 Sources:"
SENTENCE_END = re.compile(r"[。!?!?;;]|\.(?=\s|$)|\n")
MARKER = re.compile(r"\[(\d+)\]")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table_markdown(table: Table) -> str:
    """A GitHub-flavoured markdown table; each cell carries its citation marker."""
    head = "| " + " | ".join(_cell(c.label) for c in table.columns) + " |"
    rule = "|" + "|".join("---:" if c.numeric else "---" for c in table.columns) + "|"
    rows = ["| " + " | ".join(_cell(cell.text) + (f" [{cell.cite}]" if cell.cite else "") for cell in row) + " |"
            for row in table.rows]
    title = f"**{_cell(table.title)}**\n\n" if table.title else ""
    return title + "\n".join([head, rule, *rows])


NUMBER_CHAR = re.compile(r"[\d.,%]")


def cut(text: str, limit: int) -> str:
    """The text cut at the last sentence end within `limit` characters; when none is, at the limit, moved back so
    that it never splits a number (a score of 135.20 must not read as 13) or a citation marker, and marked …"""
    if len(text) <= limit:
        return text
    ends = [m.end() for m in SENTENCE_END.finditer(text, 0, limit + 1) if m.end() <= limit]
    if ends:
        return text[: ends[-1]].rstrip()
    at = limit
    while at > 0 and NUMBER_CHAR.match(text[at - 1]) and NUMBER_CHAR.match(text[at]):
        at -= 1
    opened = text.rfind("[", 0, at)
    if opened > text.rfind("]", 0, at):
        at = opened  # not half a marker
    return text[:at].rstrip() + "…"


def stop_at(text: str, stops: list[str]) -> tuple[str, bool]:
    """The text before the first stop sequence, and whether one was found."""
    found = [i for i in (text.find(s) for s in stops if s) if i >= 0]
    return (text[: min(found)].rstrip(), True) if found else (text, False)


@dataclass
class Reply:
    """What the client receives: the content, why it ended, and the citations it still refers to."""

    text: str
    finish_reason: str
    citations: list[dict[str, Any]] = field(default_factory=list)
    answer: dict[str, Any] | None = None


def reply(answer: Answer, titles: dict[str, str], max_tokens: int | None = None,
          stops: list[str] | None = None) -> Reply:
    """The content for an answer. A token here is a character: Chinese text has about one per character.
    A stop sequence ends the generated text (the answer and its table) wherever it first occurs, as in OpenAI's
    API; the sources list follows and keeps only the citations the remaining text still refers to."""
    body = answer.answer
    table = table_markdown(answer.table) if answer.table is not None and answer.table.rows else ""
    text, finish, stopped = body + (f"\n\n{table}" if table else ""), "stop", False
    if stops:
        text, stopped = stop_at(text, stops)
    if max_tokens is not None and len(text) > max_tokens:
        text, finish = cut(text[: len(body)], max_tokens), "length"  # the table never ends half-way
    used = {int(n) for n in MARKER.findall(text)}
    citations = [with_title(c.to_json(), titles) for c in answer.citations]
    kept = [c for c in citations if c["id"] in used] if finish == "length" or stopped else citations
    parts = [text]
    if kept:
        sources = "\n".join(f"[{c['id']}] {c['source']}:{c['line']} {c['department']} · {c['field']}:“{c['quote']}”"
                            for c in kept)
        parts.append(f"{SOURCES_HEADING}\n{sources}")
    answer_json = answer.to_json()
    answer_json["citations"] = [with_title(c, titles) for c in answer_json["citations"]]
    return Reply("\n\n".join(parts), finish, kept, answer_json)


def with_title(citation: dict[str, Any], titles: dict[str, str]) -> dict[str, Any]:
    return {**citation, "title": titles.get(citation["source"]) or citation["source"]}


def content(answer: Answer, titles: dict[str, str] | None = None) -> str:
    return reply(answer, titles or {}).text


def conversation(messages: list[Any], context: int) -> tuple[str, list[str]]:
    """The last user message is the question; the user messages among the `context` before it are its context."""
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users:
        return "", []
    last = users[-1]
    window = messages[max(0, last - context) : last]
    return messages[last].text(), [m.text() for m in window if m.role == "user" and m.text().strip()]


def usage(prompt: str, text: str) -> dict[str, int]:
    return {"prompt_tokens": len(prompt), "completion_tokens": len(text), "total_tokens": len(prompt) + len(text)}


def completion(result: Reply, model: str, prompt: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": result.text},
                     "finish_reason": result.finish_reason}],
        "usage": usage(prompt, result.text),
        "citations": result.citations,
        "answer": result.answer,
    }


def pieces(text: str, size: int = 24) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def stream(result: Reply, model: str, prompt: str, include_usage: bool = False) -> Iterator[str]:
    """Server-sent events in the OpenAI chunk format, ending with `data: [DONE]`; with include_usage, a last
    chunk with empty choices carries the usage, as OpenAI sends it."""
    ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())

    def event(body: dict[str, Any]) -> str:
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        if include_usage:
            body["usage"] = None
        return event(body)

    yield chunk({"role": "assistant", "content": ""})
    for piece in pieces(result.text):
        yield chunk({"content": piece})
    yield chunk({}, result.finish_reason, citations=result.citations, answer=result.answer)
    if include_usage:
        yield event({"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                     "choices": [], "usage": usage(prompt, result.text)})
    yield "data: [DONE]\n\n"
